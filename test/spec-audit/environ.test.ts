// SPEC §2 (environ), as an outsider reads it, on every host: serve(), toNodeListener on node:http,
// Express (toExpress), Fastify (toFastify with a prefix), Koa (koa-mount + toKoa).
import http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../support/tls-cert.js';
import { serve, applicationUri, decodeLatin1, requestUri, shiftPathInfo, type App, type Environ } from '@node-wsgi/core';
import { PREFIX, RawClient, closeEverything, describeAuditHosts, head, rawRequest } from './support.js';

afterEach(closeEverything);

function recorder(seen: Environ[]): App {
  return (environ, startResponse) => {
    seen.push(environ);
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['ok'];
  };
}

describeAuditHosts((host) => {
  async function environFor(method: string, target: string, headers: string[] = [], body = '', version = '1.1'): Promise<Environ> {
    const seen: Environ[] = [];
    const started = await host.start(recorder(seen));
    const res = await rawRequest(started.port, method, target, headers, body, version);
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    return seen[0]!;
  }

  it('REQUEST_METHOD is the method as sent (PATCH)', async () => {
    const env = await environFor('PATCH', `${PREFIX}/x`, ['Content-Length: 0']);
    expect(env.REQUEST_METHOD).toBe('PATCH');
  });

  it("SCRIPT_NAME is the mount prefix; PATH_INFO '' for the prefix itself and '/' for prefix + '/'", async () => {
    const bare = await environFor('GET', PREFIX);
    expect([bare.SCRIPT_NAME, bare.PATH_INFO]).toEqual([PREFIX, '']);
    await closeEverything();
    const slash = await environFor('GET', `${PREFIX}/`);
    expect([slash.SCRIPT_NAME, slash.PATH_INFO]).toEqual([PREFIX, '/']);
  });

  it("PATH_INFO is percent-decoded to bytes, one latin-1 code point each: /caf%C3%A9 → '/caf\\u00c3\\u00a9'", async () => {
    const env = await environFor('GET', `${PREFIX}/caf%C3%A9`);
    expect(env.PATH_INFO).toBe('/caf\u00c3\u00a9');
    expect(decodeLatin1(env.PATH_INFO)).toBe('/café');
  });

  it('QUERY_STRING is the raw text after the first ?, not decoded, + kept', async () => {
    const env = await environFor('GET', `${PREFIX}/q?a=b+c&d=%20e?f`);
    expect(env.QUERY_STRING).toBe('a=b+c&d=%20e?f');
  });

  it("QUERY_STRING is '' when there is no query, and REQUEST_URI is the raw target", async () => {
    const env = await environFor('GET', `${PREFIX}/plain`);
    expect(env.QUERY_STRING).toBe('');
    expect(env.REQUEST_URI).toBe(`${PREFIX}/plain`);
  });

  it('REQUEST_URI keeps the request-target exactly, escapes and query included', async () => {
    const env = await environFor('GET', `${PREFIX}/a%20b?x=1&y=%41`);
    expect(env.REQUEST_URI).toBe(`${PREFIX}/a%20b?x=1&y=%41`);
    expect(env.PATH_INFO).toBe('/a b');
  });

  it('CONTENT_TYPE and CONTENT_LENGTH are absent when not sent; never HTTP_CONTENT_*', async () => {
    const env = await environFor('GET', `${PREFIX}/`);
    expect('CONTENT_TYPE' in env).toBe(false);
    expect('CONTENT_LENGTH' in env).toBe(false);
    expect('HTTP_CONTENT_TYPE' in env).toBe(false);
    expect('HTTP_CONTENT_LENGTH' in env).toBe(false);
  });

  it('CONTENT_TYPE and CONTENT_LENGTH come from the request headers when sent, as strings', async () => {
    const env = await environFor('POST', `${PREFIX}/`, ['Content-Type: application/x-custom', 'Content-Length: 3'], 'abc');
    expect(env.CONTENT_TYPE).toBe('application/x-custom');
    expect(env.CONTENT_LENGTH).toBe('3');
    expect('HTTP_CONTENT_TYPE' in env).toBe(false);
    expect('HTTP_CONTENT_LENGTH' in env).toBe(false);
  });

  it('SERVER_NAME and SERVER_PORT are the local address and port, as non-empty strings; Host is HTTP_HOST', async () => {
    const seen: Environ[] = [];
    const started = await host.start(recorder(seen));
    await rawRequest(started.port, 'GET', `${PREFIX}/`, []);
    const env = seen[0]!;
    expect(env.SERVER_PORT).toBe(String(started.port));
    expect(typeof env.SERVER_PORT).toBe('string');
    expect(env.SERVER_NAME).toBe('127.0.0.1');
    expect(env.HTTP_HOST).toBe('127.0.0.1');
  });

  it('SERVER_NAME/SERVER_PORT do not follow a Host header naming another host and port', async () => {
    const seen: Environ[] = [];
    const started = await host.start(recorder(seen));
    const client = await RawClient.connect(started.port);
    client.write(`GET ${PREFIX}/ HTTP/1.1\r\nHost: example.org:8080\r\n\r\n`);
    await client.readResponse();
    expect(seen[0]!.SERVER_PORT).toBe(String(started.port));
    expect(seen[0]!.SERVER_NAME).toBe('127.0.0.1');
    expect(seen[0]!.HTTP_HOST).toBe('example.org:8080');
  });

  it("SERVER_PROTOCOL is the request's version (HTTP/1.1 and HTTP/1.0)", async () => {
    const one = await environFor('GET', `${PREFIX}/`);
    expect(one.SERVER_PROTOCOL).toBe('HTTP/1.1');
    await closeEverything();
    const zero = await environFor('GET', `${PREFIX}/`, [], '', '1.0');
    expect(zero.SERVER_PROTOCOL).toBe('HTTP/1.0');
  });

  it('REMOTE_ADDR and REMOTE_PORT are the peer, as strings', async () => {
    const seen: Environ[] = [];
    const started = await host.start(recorder(seen));
    const client = await RawClient.connect(started.port);
    const localPort = client.socket.localPort!;
    client.write(head('GET', `${PREFIX}/`));
    await client.readResponse();
    expect(seen[0]!.REMOTE_ADDR).toBe('127.0.0.1');
    expect(seen[0]!.REMOTE_PORT).toBe(String(localPort));
  });

  it("HTTPS is absent on plain http and wsgi.url_scheme is 'http'", async () => {
    const env = await environFor('GET', `${PREFIX}/`);
    expect('HTTPS' in env).toBe(false);
    expect(env['wsgi.url_scheme']).toBe('http');
  });

  it('HTTP_* keys: uppercase, - → _, repeats joined with ", " in order, Cookie with "; "', async () => {
    const env = await environFor('GET', `${PREFIX}/`, ['X-Multi-Word: one', 'x-multi-word: two', 'Cookie: a=1', 'Cookie: b=2', 'Accept-Language: fr']);
    expect(env.HTTP_X_MULTI_WORD).toBe('one, two');
    expect(env.HTTP_COOKIE).toBe('a=1; b=2');
    expect(env.HTTP_ACCEPT_LANGUAGE).toBe('fr');
  });

  it('repeated User-Agent and Authorization (which req.headers drops) are both kept', async () => {
    const env = await environFor('GET', `${PREFIX}/`, ['User-Agent: a', 'User-Agent: b', 'Authorization: x', 'Authorization: y']);
    expect(env.HTTP_USER_AGENT).toBe('a, b');
    expect(env.HTTP_AUTHORIZATION).toBe('x, y');
  });

  it('a header whose name contains _ is dropped (it cannot spoof the - spelling)', async () => {
    const env = await environFor('GET', `${PREFIX}/`, ['X_Auth_User: admin', 'X-Other: kept']);
    expect(env.HTTP_X_AUTH_USER).toBeUndefined();
    expect(Object.keys(env).some((k) => k.includes('AUTH_USER'))).toBe(false);
    expect(env.HTTP_X_OTHER).toBe('kept');
  });

  it('wsgi.version is [1, 0] and frozen', async () => {
    const env = await environFor('GET', `${PREFIX}/`);
    expect(env['wsgi.version']).toEqual([1, 0]);
    expect(Object.isFrozen(env['wsgi.version'])).toBe(true);
    expect(() => {
      'use strict';
      (env['wsgi.version'] as unknown as number[])[0] = 2;
    }).toThrow(TypeError);
  });

  it('wsgi.multithread true, wsgi.multiprocess false (one process), wsgi.run_once false', async () => {
    const env = await environFor('GET', `${PREFIX}/`);
    expect(env['wsgi.multithread']).toBe(true);
    expect(env['wsgi.multiprocess']).toBe(false);
    expect(env['wsgi.run_once']).toBe(false);
  });

  it('a chunked request has wsgi.input_terminated true and no CONTENT_LENGTH', async () => {
    const env = await environFor('POST', `${PREFIX}/`, ['Transfer-Encoding: chunked'], '3\r\nabc\r\n0\r\n\r\n');
    expect(env['wsgi.input_terminated']).toBe(true);
    expect('CONTENT_LENGTH' in env).toBe(false);
    expect('HTTP_TRANSFER_ENCODING' in env ? env.HTTP_TRANSFER_ENCODING : 'chunked').toBe('chunked');
  });

  it('wsgi.input, wsgi.errors and wsgi.file_wrapper are there', async () => {
    const env = await environFor('GET', `${PREFIX}/`);
    expect(typeof env['wsgi.input'].read).toBe('function');
    expect(typeof env['wsgi.input'].readline).toBe('function');
    expect(typeof env['wsgi.input'].readlines).toBe('function');
    expect(typeof env['wsgi.input'][Symbol.asyncIterator]).toBe('function');
    expect(typeof env['wsgi.errors'].write).toBe('function');
    expect(typeof env['wsgi.errors'].writelines).toBe('function');
    expect(typeof env['wsgi.errors'].flush).toBe('function');
    expect(typeof env['wsgi.file_wrapper']).toBe('function');
  });

  it('every key without a dot is a latin-1 string; no value is undefined; CGI keys that do not apply are absent', async () => {
    const env = await environFor('GET', `${PREFIX}/x?y=1`, ['X-Latin: caf\u00e9']);
    for (const [key, value] of Object.entries(env)) {
      expect(value, key).not.toBeUndefined();
      if (!key.includes('.')) {
        expect(typeof value, key).toBe('string');
        expect(/^[\u0000-\u00ff]*$/.test(value as string), key).toBe(true);
        if (key !== 'SCRIPT_NAME' && key !== 'PATH_INFO' && key !== 'QUERY_STRING') expect(value, key).not.toBe('');
      } else {
        expect(key, 'extension keys are lowercase').toBe(key.toLowerCase());
      }
    }
  });

  it('a new environ object for every request (mutations do not carry over)', async () => {
    const seen: Environ[] = [];
    const app: App = (environ, startResponse) => {
      seen.push(environ);
      (environ as Record<string, unknown>)['test.marker'] = seen.length;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok'];
    };
    const started = await host.start(app);
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/a`));
    await client.readResponse();
    client.write(head('GET', `${PREFIX}/b`));
    await client.readResponse();
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[1]!.PATH_INFO).toBe('/b');
    expect((seen[1] as Record<string, unknown>)['test.marker']).toBe(2);
  });

  it("node.request is the Node IncomingMessage; the host's own extension key is present", async () => {
    const env = await environFor('GET', `${PREFIX}/`);
    const raw = env as Record<string, unknown>;
    expect(raw['node.request']).toBeInstanceOf(http.IncomingMessage);
    const own: Record<string, string | null> = { serve: null, node: null, express: 'express.request', fastify: 'fastify.request', koa: 'koa.context' };
    const key = own[host.name];
    if (key !== null) {
      expect(raw[key!]).toBeDefined();
      if (host.name === 'express') expect((raw[key!] as { originalUrl: string }).originalUrl).toBe(`${PREFIX}/`);
      if (host.name === 'fastify') expect((raw[key!] as { raw: unknown }).raw).toBe(raw['node.request']);
      if (host.name === 'koa') expect((raw[key!] as { req: unknown }).req).toBe(raw['node.request']);
    }
  });

  it('requestUri/applicationUri rebuild the URL from the environ the host built', async () => {
    const seen: Environ[] = [];
    const started = await host.start(recorder(seen));
    await rawRequest(started.port, 'GET', `${PREFIX}/p%20q?x=1`, []);
    const env = seen[0]!;
    expect(applicationUri(env)).toBe(`http://127.0.0.1${PREFIX}`);
    expect(requestUri(env)).toBe(`http://127.0.0.1${PREFIX}/p%20q?x=1`);
    expect(requestUri(env, false)).toBe(`http://127.0.0.1${PREFIX}/p%20q`);
    expect(shiftPathInfo(env)).toBe('p q');
    expect([env.SCRIPT_NAME, env.PATH_INFO]).toEqual([`${PREFIX}/p q`, '']);
  });
});

describeAuditHosts((host) => {
  it("REQUEST_URI keeps %2F: '/mnt/a%2Fb?x=1' arrives as sent", async () => {
    const seen: Environ[] = [];
    const started = await host.start(recorder(seen));
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/a%2Fb?x=1`);
    expect(res.status).toBe(200);
    expect(seen[0]!.REQUEST_URI).toBe(`${PREFIX}/a%2Fb?x=1`);
    expect(seen[0]!.PATH_INFO).toBe('/a/b');
  });
  // The to* adapters answer 404 here by default (their undocumented `strictPaths` option): see the audit report.
}, ['serve', 'node']);

it("HTTPS is 'on' and wsgi.url_scheme 'https' when serve() is given TLS", async () => {
  const seen: Environ[] = [];
  const server = await serve(recorder(seen), { port: 0, host: '127.0.0.1', handleSignals: false, tls: selfSignedCertificate() });
  try {
    const port = (server.address() as AddressInfo).port;
    const client = await RawClient.connect(port, { tls: true });
    client.write(head('GET', '/'));
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
    expect(seen[0]!.HTTPS).toBe('on');
    expect(seen[0]!['wsgi.url_scheme']).toBe('https');
    expect(seen[0]!.SERVER_PORT).toBe(String(port));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
