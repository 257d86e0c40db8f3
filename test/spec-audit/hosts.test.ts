// SPEC §7, the to*/from* adapters and serve(), where the repo's suites leave gaps: methods beyond
// the common six, raw bodies of every content type, fallthrough's edges, raw non-ASCII bytes in the
// request-target and headers, IPv6 addresses, and fromNodeListener's write()/drain contract.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaMount from 'koa-mount';
import { toExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';
import { toKoa } from '@node-wsgi/koa';
import { fromNodeListener, RESPONSE_HIGH_WATER_MARK, serve, testClient, type App, type Environ } from '@node-wsgi/core';
import { selfSignedCertificate } from '../support/tls-cert.js';
import { HOST_NEXT, PREFIX, RawClient, closeEverything, describeAuditHosts, head, rawRequest } from './support.js';

afterEach(closeEverything);

const echo: App = async (environ, sr) => {
  const body = Buffer.from(await environ['wsgi.input'].read());
  sr('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({ method: environ.REQUEST_METHOD, type: environ.CONTENT_TYPE ?? null, length: environ.CONTENT_LENGTH ?? null, body: body.toString('base64') })];
};

describeAuditHosts((host) => {
  // Fastify routes only nine methods by default; toFastify adds the rest of Node's list.
  for (const method of ['PROPFIND', 'MKCOL', 'REPORT', 'LOCK', 'SEARCH', 'LINK']) {
    it(`the method ${method} reaches the app under the mount, as sent`, async () => {
      const started = await host.start((environ, sr) => {
        sr('200 OK', [['Content-Type', 'text/plain'], ['X-Method', environ.REQUEST_METHOD]]);
        return [environ.REQUEST_METHOD];
      });
      const res = await rawRequest(started.port, method, `${PREFIX}/dav`, ['Content-Length: 0']);
      expect(res.status).toBe(200);
      expect(res.header('x-method')).toBe(method);
    });
  }

  for (const type of ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'text/plain; charset=utf-8', 'application/xml', 'application/octet-stream', null]) {
    it(`the body of a ${type ?? 'typeless'} upload reaches the app as its exact raw bytes`, async () => {
      const started = await host.start(echo);
      const payload = type === 'application/json' ? '{"a": 1,   "b":[2]}' : type?.startsWith('multipart') ? '--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--xyz--\r\n' : 'a=1&b=%20+x\u00e9';
      const bytes = Buffer.from(payload, 'utf8');
      const headers = [...(type === null ? [] : [`Content-Type: ${type}`]), `Content-Length: ${bytes.length}`];
      const client = await RawClient.connect(started.port);
      client.write(head('POST', `${PREFIX}/up`, headers));
      client.write(bytes);
      const res = await client.readResponse();
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body.toString());
      expect(Buffer.from(seen.body, 'base64').equals(bytes)).toBe(true);
      expect(seen.length).toBe(String(bytes.length));
      expect(seen.type).toBe(type);
    });
  }

  it('an upload of 3 MiB (past Fastify\'s and body parsers\' default 1 MiB limits) reaches the app whole', async () => {
    const started = await host.start(async (environ, sr) => {
      let n = 0;
      for await (const chunk of environ['wsgi.input']) n += chunk.length;
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [String(n)];
    });
    const size = 3 * 1024 * 1024;
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/big`, ['Content-Type: application/json', `Content-Length: ${size}`]));
    client.write(Buffer.alloc(size, 0x20));
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(String(size));
  });

  it('a JSON-typed upload that is empty or not valid JSON still reaches the app as its raw bytes', async () => {
    const started = await host.start(echo);
    for (const payload of ['', '{not json', 'null']) {
      const res = await rawRequest(started.port, 'POST', `${PREFIX}/j`, ['Content-Type: application/json', `Content-Length: ${payload.length}`], payload);
      expect(res.status, JSON.stringify(payload)).toBe(200);
      expect(Buffer.from(JSON.parse(res.body.toString()).body, 'base64').toString(), JSON.stringify(payload)).toBe(payload);
    }
  });

  it('the app runs for many requests at once: a request that waits does not hold up another', async () => {
    let releaseFirst!: () => void;
    const firstWaiting = new Promise<void>((r) => (releaseFirst = r));
    const started = await host.start(async (environ, sr) => {
      if (environ.PATH_INFO === '/slow') await firstWaiting;
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [environ.PATH_INFO];
    });
    const slow = RawClient.connect(started.port).then(async (c) => {
      c.write(head('GET', `${PREFIX}/slow`));
      return c.readResponse();
    });
    const fast = await rawRequest(started.port, 'GET', `${PREFIX}/fast`);
    expect(fast.body.toString()).toBe('/fast');
    releaseFirst();
    expect((await slow).body.toString()).toBe('/slow');
  });

  it('[B4] HEAD to a generator that calls startResponse in its first iteration and never ends: head sent, body closed', async () => {
    let closed!: () => void;
    const wasClosed = new Promise<void>((r) => (closed = r));
    let pulls = 0;
    const started = await host.start((_environ, sr) => {
      const gen = (async function* () {
        sr('200 OK', [['Content-Type', 'text/event-stream']]);
        for (;;) {
          pulls += 1;
          yield 'data: tick\n\n';
          await new Promise((r) => setImmediate(r));
        }
      })();
      return Object.assign(gen, { close: () => closed() });
    });
    const client = await RawClient.connect(started.port);
    client.write(head('HEAD', `${PREFIX}/events`));
    await client.waitFor(() => client.text.includes('\r\n\r\n'), 'the head');
    await wasClosed;
    expect(client.text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(client.text).not.toContain('tick');
    expect(pulls).toBeLessThanOrEqual(1);
  });

  it('a header value sent as UTF-8 bytes arrives as their latin-1 code points', async () => {
    const seen: Environ[] = [];
    const started = await host.start((environ, sr) => {
      seen.push(environ);
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [''];
    });
    const client = await RawClient.connect(started.port);
    client.write(Buffer.concat([Buffer.from(`GET ${PREFIX}/ HTTP/1.1\r\nHost: x\r\nX-Name: caf`), Buffer.from([0xc3, 0xa9]), Buffer.from('\r\n\r\n')]));
    await client.readResponse();
    expect(seen[0]!.HTTP_X_NAME).toBe('caf\u00c3\u00a9');
  });

  it('without { fallthrough: true } the app answers its own 404, body and headers as given', async () => {
    const started = await host.start((_e, sr) => {
      sr('404 Not Found', [['Content-Type', 'text/plain'], ['X-App', 'mine']]);
      return ['app 404'];
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/missing`);
    expect(res.status).toBe(404);
    expect(res.header('x-app')).toBe('mine');
    expect(res.body.toString()).toBe('app 404');
  });

  if (host.fallthrough) {
    it('{ fallthrough: true } hands over only a 404: a 405 or 410 from the app is sent as it is', async () => {
      const started = await host.start(
        (environ, sr) => {
          if (environ.PATH_INFO === '/gone') {
            sr('410 Gone', [['Content-Type', 'text/plain']]);
            return ['gone'];
          }
          sr('405 Method Not Allowed', [['Content-Type', 'text/plain'], ['Allow', 'GET']]);
          return ['no'];
        },
        { fallthrough: true },
      );
      const a = await rawRequest(started.port, 'POST', `${PREFIX}/x`, ['Content-Length: 0']);
      expect([a.status, a.body.toString(), a.header('allow')]).toEqual([405, 'no', 'GET']);
      const b = await rawRequest(started.port, 'GET', `${PREFIX}/gone`);
      expect([b.status, b.body.toString()]).toEqual([410, 'gone']);
    });

    it('{ fallthrough: true } with a HEAD 404 and a POST 404 with a body still hands over to the host', async () => {
      const started = await host.start(
        async (environ, sr) => {
          await environ['wsgi.input'].read(1);
          sr('404 Not Found', [['Content-Type', 'text/plain']]);
          return ['nope'];
        },
        { fallthrough: true },
      );
      const res = await rawRequest(started.port, 'POST', `${PREFIX}/x`, ['Content-Type: text/plain', 'Content-Length: 5'], 'hello');
      expect([res.status, res.body.toString()]).toEqual([200, HOST_NEXT]);
    });
  }
}, ['serve', 'node', 'express', 'fastify', 'koa']);

describe('IPv6', () => {
  it('serve() on ::1: SERVER_NAME and REMOTE_ADDR are "::1", SERVER_PORT and REMOTE_PORT strings', async () => {
    const seen: Environ[] = [];
    const server = await serve(
      (environ, sr) => {
        seen.push(environ);
        sr('200 OK', [['Content-Type', 'text/plain']]);
        return [''];
      },
      { port: 0, host: '::1', handleSignals: false },
    );
    try {
      const port = (server.address() as AddressInfo).port;
      const socket = net.connect(port, '::1');
      await new Promise((r) => socket.once('connect', r));
      const localPort = socket.localPort;
      socket.write(`GET / HTTP/1.1\r\nHost: [::1]:${port}\r\nConnection: close\r\n\r\n`);
      await new Promise((r) => socket.once('close', r).resume());
      expect(seen[0]!.SERVER_NAME).toBe('::1');
      expect(seen[0]!.SERVER_PORT).toBe(String(port));
      expect(seen[0]!.REMOTE_ADDR).toBe('::1');
      expect(seen[0]!.REMOTE_PORT).toBe(String(localPort));
      expect(seen[0]!.HTTP_HOST).toBe(`[::1]:${port}`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('serve()', () => {
  it('resolves to an http.Server once listening, port 0 picking a free port', async () => {
    const server = await serve((_e, sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), ['up']), { port: 0, host: '127.0.0.1', handleSignals: false });
    try {
      expect(server).toBeInstanceOf(http.Server);
      expect(server.listening).toBe(true);
      const port = (server.address() as AddressInfo).port;
      expect(port).toBeGreaterThan(0);
      const res = await rawRequest(port, 'GET', '/');
      res.client.destroy();
      expect(res.body.toString()).toBe('up');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('keeps a connection alive across requests (HTTP/1.1 keep-alive)', async () => {
    const server = await serve((e, sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), [e.PATH_INFO]), { port: 0, host: '127.0.0.1', handleSignals: false });
    try {
      const client = await RawClient.connect((server.address() as AddressInfo).port);
      for (const p of ['/1', '/2', '/3']) {
        client.write(head('GET', p));
        expect((await client.readResponse()).body.toString()).toBe(p);
      }
      expect(client.closed).toBe(false);
      client.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('fromNodeListener', () => {
  it(`res.write() returns false past ${RESPONSE_HIGH_WATER_MARK} bytes not yet pulled, and 'drain' fires once pulled`, async () => {
    expect(RESPONSE_HIGH_WATER_MARK).toBe(16 * 1024);
    const results: boolean[] = [];
    let drained = false;
    const app = fromNodeListener((_req, res) => {
      res.setHeader('Content-Type', 'application/octet-stream');
      results.push(res.write(Buffer.alloc(1000)));
      results.push(res.write(Buffer.alloc(20 * 1024)));
      res.once('drain', () => {
        drained = true;
        res.end('tail');
      });
    });
    const res = await testClient(app).get('/');
    expect(results).toEqual([true, false]);
    expect(drained).toBe(true);
    expect(res.body.length).toBe(1000 + 20 * 1024 + 4);
  });

  it('the synthetic socket carries REMOTE_ADDR/PORT, SERVER_NAME/PORT, encrypted, and the socket methods', async () => {
    let seen: Record<string, unknown> = {};
    const app = fromNodeListener((req, res) => {
      const s = req.socket as unknown as Record<string, unknown>;
      seen = {
        remoteAddress: s.remoteAddress,
        remotePort: s.remotePort,
        localAddress: s.localAddress,
        localPort: s.localPort,
        encrypted: s.encrypted,
        methods: ['setTimeout', 'setNoDelay', 'setKeepAlive', 'destroy', 'on', 'once'].map((m) => typeof s[m]),
      };
      res.setHeader('Content-Type', 'text/plain');
      res.end('ok');
    });
    await testClient(app).get('/', { scheme: 'https', environ: { REMOTE_ADDR: '10.1.2.3', REMOTE_PORT: '4567', SERVER_NAME: 'srv.test', SERVER_PORT: '8443' } });
    expect(seen.remoteAddress).toBe('10.1.2.3');
    expect(String(seen.remotePort)).toBe('4567');
    expect(seen.localAddress).toBe('srv.test');
    expect(String(seen.localPort)).toBe('8443');
    expect(seen.encrypted).toBe(true);
    expect(seen.methods).toEqual(Array(6).fill('function'));
  });
});

describe("unmounted adapters: SCRIPT_NAME is '' (never '/') and PATH_INFO the whole path", () => {
  const where: App = (environ, sr) => {
    sr('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify([environ.SCRIPT_NAME, environ.PATH_INFO])];
  };
  async function check(listen: () => Promise<{ port: number; close(): Promise<void> }>): Promise<void> {
    const server = await listen();
    try {
      for (const [target, expected] of [['/a/b?x=1', ['', '/a/b']], ['/', ['', '/']]] as const) {
        const res = await rawRequest(server.port, 'GET', target);
        res.client.destroy();
        expect(JSON.parse(res.body.toString()), target).toEqual(expected);
      }
    } finally {
      await server.close();
    }
  }
  const onHttp = (handler: http.RequestListener) => async () => {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
    };
  };

  it("Express: app.use(toExpress(app)) and app.use('/', toExpress(app))", async () => {
    const a = express();
    a.use(toExpress(where));
    await check(onHttp(a));
    const b = express();
    b.use('/', toExpress(where));
    await check(onHttp(b));
  });

  it("Fastify: register(toFastify(app)) with no prefix, and with prefix '/'", async () => {
    for (const opts of [{}, { prefix: '/' }]) {
      const f = Fastify({ forceCloseConnections: true });
      await f.register(toFastify(where), opts);
      await f.listen({ port: 0, host: '127.0.0.1' });
      await check(async () => ({ port: (f.server.address() as AddressInfo).port, close: () => f.close() }));
    }
  });

  it("Koa: use(toKoa(app)) and use(mount('/', toKoa(app)))", async () => {
    const a = new Koa();
    a.use(toKoa(where));
    await check(onHttp(a.callback()));
    const b = new Koa();
    b.use(koaMount('/', toKoa(where)));
    await check(onHttp(b.callback()));
  });
});

describe('[B11] no X-Forwarded-* or Forwarded header is trusted by a to* adapter, even when the host trusts proxies', () => {
  const spoofed = ['X-Forwarded-For: 6.6.6.6', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.test', 'X-Forwarded-Port: 444', 'Forwarded: for=7.7.7.7;proto=https;host=evil2.test'];
  const seen: Environ[] = [];
  const app: App = (environ, sr) => {
    seen.push(environ);
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return [''];
  };
  async function hitAndCheck(port: number, tls: boolean): Promise<void> {
    const client = await RawClient.connect(port, { tls });
    client.write(head('GET', '/x', spoofed));
    await client.readResponse();
    client.destroy();
    const env = seen.pop()!;
    expect(env['wsgi.url_scheme']).toBe(tls ? 'https' : 'http');
    expect(env.HTTPS).toBe(tls ? 'on' : undefined);
    expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    expect(env.SERVER_NAME).toBe('127.0.0.1');
    expect(env.SERVER_PORT).toBe(String(port));
    expect(env.HTTP_HOST).toBe('127.0.0.1');
  }
  const cert = selfSignedCertificate();
  for (const tls of [false, true]) {
    const make = (handler: http.RequestListener) => (tls ? https.createServer(cert, handler) : http.createServer(handler));
    const listen = async (server: http.Server): Promise<number> => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return (server.address() as AddressInfo).port;
    };

    it(`Express with 'trust proxy' on (${tls ? 'https' : 'http'})`, async () => {
      const host = express();
      host.set('trust proxy', true);
      host.use(toExpress(app));
      const server = make(host);
      try {
        await hitAndCheck(await listen(server), tls);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });

    it(`Koa with app.proxy = true (${tls ? 'https' : 'http'})`, async () => {
      const host = new Koa();
      host.proxy = true;
      host.use(toKoa(app));
      const server = make(host.callback());
      try {
        await hitAndCheck(await listen(server), tls);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });

    it(`Fastify with trustProxy: true (${tls ? 'https' : 'http'})`, async () => {
      const host = (tls ? Fastify({ trustProxy: true, https: cert, forceCloseConnections: true }) : Fastify({ trustProxy: true, forceCloseConnections: true })) as unknown as ReturnType<typeof Fastify>;
      await host.register(toFastify(app));
      await host.listen({ port: 0, host: '127.0.0.1' });
      try {
        await hitAndCheck((host.server.address() as AddressInfo).port, tls);
      } finally {
        await host.close();
      }
    });
  }
});
