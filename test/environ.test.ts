// SPEC §2 on the wire: the environ our reference server builds from real requests on loopback.
// Raw sockets wherever the exact bytes matter (repeated headers, non-ASCII, the request line).
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeLatin1 } from '../packages/core/src/index.js';
import type { App, Environ } from '../packages/core/src/index.js';
import { closeAll, head, RawClient, recordingApp, serveApp } from './support/raw-http.js';
import { selfSignedCertificate } from './support/tls-cert.js';

afterEach(closeAll);

/** Serves a recording app, sends `request` on a new raw connection and returns the environ the app saw. */
async function environFor(request: string | Buffer): Promise<Environ> {
  const seen: Environ[] = [];
  const { port } = await serveApp(recordingApp(seen));
  const client = await RawClient.connect(port);
  client.write(request);
  const response = await client.readResponse();
  expect(response.status).toBe(200);
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

/** Every key and value that `addHeaders` added: the HTTP_* and CONTENT_* variables. */
function headerVars(environ: Environ): Record<string, unknown> {
  return Object.fromEntries(Object.entries(environ).filter(([key]) => /^(HTTP_|CONTENT_)/.test(key)));
}

describe('environ: the request line', () => {
  it('§2: REQUEST_METHOD is the method as sent', async () => {
    expect((await environFor(head('PATCH', '/'))).REQUEST_METHOD).toBe('PATCH');
  });

  it('§2: unmounted, SCRIPT_NAME is "" and PATH_INFO is the whole path', async () => {
    const environ = await environFor(head('GET', '/a/b'));
    expect(environ.SCRIPT_NAME).toBe('');
    expect(environ.PATH_INFO).toBe('/a/b');
  });

  it('§2: GET /caf%C3%A9 gives PATH_INFO "/caf\\u00c3\\u00a9" (bytes as latin-1)', async () => {
    const environ = await environFor(head('GET', '/caf%C3%A9'));
    expect(environ.PATH_INFO).toBe('/caf\u00c3\u00a9');
    expect(decodeLatin1(environ.PATH_INFO)).toBe('/café');
  });

  it('§2: GET /%E6%96%87 decodes back to "/文"', async () => {
    const environ = await environFor(head('GET', '/%E6%96%87'));
    expect(environ.PATH_INFO).toBe('/\u00e6\u0096\u0087');
    expect(Buffer.from(environ.PATH_INFO, 'latin1').toString()).toBe('/文');
  });

  it('§2: /a%2Fb gives PATH_INFO "/a/b" while REQUEST_URI keeps "/a%2Fb?x=1"', async () => {
    const environ = await environFor(head('GET', '/a%2Fb?x=1'));
    expect(environ.PATH_INFO).toBe('/a/b');
    expect(environ.REQUEST_URI).toBe('/a%2Fb?x=1');
  });

  it('§2: QUERY_STRING is the raw text after the first "?": "+" kept, %XX not decoded', async () => {
    const environ = await environFor(head('GET', '/q?a=1+2&b=%20c&&d=%E6%96%87&e?f'));
    expect(environ.QUERY_STRING).toBe('a=1+2&b=%20c&&d=%E6%96%87&e?f');
    expect(environ.PATH_INFO).toBe('/q');
  });

  it('§2: QUERY_STRING is "" (present) when the target has no query', async () => {
    const environ = await environFor(head('GET', '/q'));
    expect(environ).toHaveProperty('QUERY_STRING', '');
  });

  it('§2: an absolute-form target gives its path; REQUEST_URI is the target exactly as sent', async () => {
    const environ = await environFor(head('GET', 'http://example.com/a%20b?x=1'));
    expect(environ.PATH_INFO).toBe('/a b');
    expect(environ.QUERY_STRING).toBe('x=1');
    expect(environ.REQUEST_URI).toBe('http://example.com/a%20b?x=1');
  });

  it('§2: "OPTIONS *" gives PATH_INFO "" and REQUEST_URI "*"', async () => {
    const environ = await environFor(head('OPTIONS', '*'));
    expect(environ.PATH_INFO).toBe('');
    expect(environ.REQUEST_URI).toBe('*');
  });

  it('§2: SERVER_PROTOCOL is the version of the request: HTTP/1.0 or HTTP/1.1', async () => {
    expect((await environFor(head('GET', '/', [], '1.0'))).SERVER_PROTOCOL).toBe('HTTP/1.0');
    expect((await environFor(head('GET', '/', [], '1.1'))).SERVER_PROTOCOL).toBe('HTTP/1.1');
  });

  // Node's parser (llhttp) refuses bytes above 0x7F in the request-target before any listener
  // runs, so SPEC's "raw non-ASCII bytes as latin-1" cannot arise on node:http; the encoded form works.
  it('§2: a raw non-ASCII byte in the request line is a clean 400 and the app never runs; %-encoded it works', async () => {
    const seen: Environ[] = [];
    const { port } = await serveApp(recordingApp(seen));
    for (const target of [Buffer.from('/caf\u00c3\u00a9', 'latin1'), Buffer.from('/q?q=\u00e4\u00b8\u00ad', 'latin1')]) {
      const client = await RawClient.connect(port);
      client.write(Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
      const response = await client.readResponse();
      expect(response.status).toBe(400);
      await client.waitForClose();
    }
    expect(seen).toHaveLength(0);

    const client = await RawClient.connect(port);
    client.write(head('GET', '/caf%C3%A9?q=%E4%B8%AD'));
    expect((await client.readResponse()).status).toBe(200);
    expect(seen[0]!.PATH_INFO).toBe('/caf\u00c3\u00a9');
    expect(seen[0]!.QUERY_STRING).toBe('q=%E4%B8%AD');
  });
});

describe('environ: headers', () => {
  it('§2: a header becomes HTTP_ + its name uppercased, "-" → "_"', async () => {
    const environ = await environFor(head('GET', '/', ['Foo-Bar: v', 'accept-language: fr']));
    expect(environ.HTTP_FOO_BAR).toBe('v');
    expect(environ.HTTP_ACCEPT_LANGUAGE).toBe('fr');
  });

  it('§2: repeated Host, Authorization, User-Agent and X-A headers join with ", " in arrival order', async () => {
    const environ = await environFor(
      'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nAuthorization: Basic x\r\nAuthorization: Bearer y\r\n' +
        'User-Agent: one\r\nUser-Agent: two\r\nX-A: 1\r\nx-a: 2\r\n\r\n',
    );
    expect(environ.HTTP_HOST).toBe('a.example, b.example');
    expect(environ.HTTP_AUTHORIZATION).toBe('Basic x, Bearer y');
    expect(environ.HTTP_USER_AGENT).toBe('one, two');
    expect(environ.HTTP_X_A).toBe('1, 2');
  });

  it('§2: repeated Cookie headers join with "; "', async () => {
    const environ = await environFor(head('GET', '/', ['Cookie: a=1', 'Cookie: b=2']));
    expect(environ.HTTP_COOKIE).toBe('a=1; b=2');
  });

  it('§2: a header whose name contains "_" is dropped: X-A: 1 + X_A: 2 gives HTTP_X_A "1"', async () => {
    const environ = await environFor(head('GET', '/', ['X-A: 1', 'X_A: 2', 'X_Only: 3']));
    expect(environ.HTTP_X_A).toBe('1');
    expect(Object.values(environ)).not.toContain('3');
    expect(Object.keys(environ).filter((key) => key.startsWith('HTTP_X_'))).toEqual(['HTTP_X_A']);
  });

  it('§2: CONTENT_TYPE and CONTENT_LENGTH come from the headers, never as HTTP_CONTENT_*', async () => {
    const environ = await environFor(head('POST', '/', ['Content-Type: text/plain; charset=utf-8', 'Content-Length: 3']) + 'abc');
    expect(environ.CONTENT_TYPE).toBe('text/plain; charset=utf-8');
    expect(environ.CONTENT_LENGTH).toBe('3');
    expect(environ).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(environ).not.toHaveProperty('HTTP_CONTENT_LENGTH');
  });

  it('§2: CONTENT_TYPE and CONTENT_LENGTH are absent when not sent', async () => {
    const environ = await environFor(head('GET', '/'));
    expect('CONTENT_TYPE' in environ).toBe(false);
    expect('CONTENT_LENGTH' in environ).toBe(false);
    expect(headerVars(environ)).toEqual({ HTTP_HOST: '127.0.0.1' });
  });

  it('§2: header bytes above 0x7F arrive as latin-1 code points', async () => {
    const environ = await environFor(
      Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf'), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n\r\n')]),
    );
    expect(environ.HTTP_X_NAME).toBe('caf\u00c3\u00a9');
    expect(decodeLatin1(environ.HTTP_X_NAME as string)).toBe('café');
  });
});

describe('environ: the connection', () => {
  it('§2: SERVER_NAME and SERVER_PORT are non-empty strings of the local address, whatever Host says', async () => {
    const seen: Environ[] = [];
    const { port } = await serveApp(recordingApp(seen));
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: elsewhere.example:1234\r\n\r\n');
    await client.readResponse();
    expect(seen[0]!.SERVER_NAME).toBe('127.0.0.1');
    expect(seen[0]!.SERVER_PORT).toBe(String(port));
    expect(seen[0]!.HTTP_HOST).toBe('elsewhere.example:1234');
  });

  it('§2: REMOTE_ADDR and REMOTE_PORT are the peer, as strings, for each connection and each request on it', async () => {
    const seen: Environ[] = [];
    const { port } = await serveApp(recordingApp(seen));
    const clients = [await RawClient.connect(port), await RawClient.connect(port)];
    for (let round = 0; round < 2; round++) {
      for (const client of clients) {
        client.write(head('GET', '/'));
        await client.readResponse();
      }
    }
    const peers = clients.map((client) => String(client.socket.localPort));
    expect(seen.map((environ) => [environ.REMOTE_ADDR, environ.REMOTE_PORT, environ.SERVER_PORT])).toEqual(
      [...peers, ...peers].map((peer) => ['127.0.0.1', peer, String(port)]),
    );
  });

  it('§2: over plain TCP, wsgi.url_scheme is "http" and HTTPS is absent', async () => {
    const environ = await environFor(head('GET', '/'));
    expect(environ['wsgi.url_scheme']).toBe('http');
    expect('HTTPS' in environ).toBe(false);
  });

  it('§2: over TLS, HTTPS is "on" and wsgi.url_scheme is "https"', async () => {
    const seen: Environ[] = [];
    const { port, server } = await serveApp(recordingApp(seen), { tls: selfSignedCertificate() });
    expect(server.address()).toMatchObject({ port });
    const client = await RawClient.connect(port, { tls: true });
    client.write(head('GET', '/secure?x=1'));
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(seen[0]!.HTTPS).toBe('on');
    expect(seen[0]!['wsgi.url_scheme']).toBe('https');
    expect(seen[0]!.SERVER_PORT).toBe(String(port));
    expect(seen[0]!.PATH_INFO).toBe('/secure');
  });
});

describe('environ: the object and its wsgi.* keys', () => {
  it('§2: wsgi.version is a frozen [1, 0]', async () => {
    const environ = await environFor(head('GET', '/'));
    expect(environ['wsgi.version']).toEqual([1, 0]);
    expect(Object.isFrozen(environ['wsgi.version'])).toBe(true);
  });

  it('§2: wsgi.multithread is true, wsgi.multiprocess false (no cluster), wsgi.run_once false', async () => {
    const environ = await environFor(head('GET', '/'));
    expect(environ['wsgi.multithread']).toBe(true);
    expect(environ['wsgi.multiprocess']).toBe(false);
    expect(environ['wsgi.run_once']).toBe(false);
  });

  it('§2: wsgi.multiprocess is true when the server is told it runs in a cluster', async () => {
    const seen: Environ[] = [];
    const { port } = await serveApp(recordingApp(seen), { multiprocess: true });
    const client = await RawClient.connect(port);
    client.write(head('GET', '/'));
    await client.readResponse();
    expect(seen[0]!['wsgi.multiprocess']).toBe(true);
  });

  it('§2: wsgi.input, wsgi.errors and wsgi.file_wrapper are there; node.request is the IncomingMessage', async () => {
    const environ = await environFor(head('GET', '/'));
    expect(typeof environ['wsgi.input'].read).toBe('function');
    expect(typeof environ['wsgi.errors'].write).toBe('function');
    expect(typeof environ['wsgi.file_wrapper']).toBe('function');
    const req = environ['node.request'] as IncomingMessage;
    expect(req.url).toBe('/');
    expect(req.method).toBe('GET');
  });

  it('§2: environ is a new plain object per request: what an app sets does not leak to the next', async () => {
    const seen: Environ[] = [];
    const app: App = (environ, startResponse) => {
      seen.push(environ);
      const leaked = 'x' in environ;
      environ.x = 1;
      environ.PATH_INFO = '/changed';
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [leaked ? 'leaked' : 'clean'];
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('GET', '/one') + head('GET', '/two'));
    expect((await client.readResponse()).body.toString()).toBe('clean');
    expect((await client.readResponse()).body.toString()).toBe('clean');
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(Object.getPrototypeOf(seen[1])).toBe(Object.prototype);
    expect(seen[1]!.PATH_INFO).toBe('/changed');
    expect((seen[1]!['node.request'] as IncomingMessage).url).toBe('/two');
  });

  it('§2: a key that does not apply is absent, never undefined', async () => {
    const environ = await environFor(head('GET', '/'));
    for (const [key, value] of Object.entries(environ)) {
      expect(value, key).not.toBeUndefined();
      expect(value, key).not.toBeNull();
    }
    for (const key of ['CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTPS', 'REMOTE_USER', 'HTTP_CONTENT_TYPE']) {
      expect(key in environ, key).toBe(false);
    }
  });

  it('§2: every key without a "." holds a latin-1 string, and every required key is there', async () => {
    const environ = await environFor(
      Buffer.concat([
        Buffer.from('POST /caf%C3%A9?q=%FF HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nX-Raw: '),
        Buffer.from([0xe9, 0xff]),
        Buffer.from('\r\n\r\nab'),
      ]),
    );
    for (const key of ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL']) {
      expect(environ, key).toHaveProperty(key);
    }
    const cgiKeys = Object.keys(environ).filter((key) => !key.includes('.'));
    expect(cgiKeys.length).toBeGreaterThan(10);
    for (const key of cgiKeys) {
      const value = environ[key];
      expect(typeof value, key).toBe('string');
      expect(value as string, key).toMatch(/^[\u0000-\u00ff]*$/);
    }
    expect(environ.HTTP_X_RAW).toBe('\u00e9\u00ff');
  });
});
