// toExpress behind real Express middleware: compression, cookie-parser, express.json(), a nested
// router, the host's error middleware. What a user of each would observe, over loopback.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { WsgiAppError, type App, type Chunk, type Environ } from '@node-wsgi/core';
import { toExpress } from '@node-wsgi/express';
import compression from 'compression';
import cookieParser from 'cookie-parser';
import express from 'express';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, closeServers, deferred, rawRequest, RawSocket, request, within } from './conformance/client.js';
import { ErrorLog } from './conformance/hosts.js';

const servers = new Set<http.Server>();

afterEach(async () => {
  closeClients();
  await closeServers(servers);
});

async function listen(host: express.Express): Promise<{ url: string; port: number }> {
  const server = http.createServer(host);
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port };
}

const quiet = { errors: new ErrorLog() };

/** Answers environ keys a test names, as JSON. */
function environProbe(read: (environ: Environ) => unknown): App {
  return (environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify(read(environ))];
  };
}

describe('toExpress(app) behind compression()', () => {
  const text = 'node-wsgi says hello. '.repeat(2000);

  it('compresses a whole body the app returned, and the client decodes it to the same text', async () => {
    const host = express();
    host.use(compression());
    host.use('/legacy', toExpress((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return [text];
    }, quiet));
    const response = await supertest(host).get('/legacy/').set('Accept-Encoding', 'gzip');
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.text).toBe(text);
  });

  it('compresses a streamed body, and drops the Content-Length the app gave for the uncompressed bytes', async () => {
    const host = express();
    host.use(compression());
    const body = Buffer.from(text);
    host.use('/legacy', toExpress((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]]);
      return (async function* () {
        for (let i = 0; i < body.length; i += 1000) yield body.subarray(i, i + 1000);
      })();
    }, quiet));
    const { url } = await listen(host);
    const response = await request(url + '/legacy/stream', { headers: { 'accept-encoding': 'gzip' } });
    expect(response.header('content-encoding')).toBe('gzip');
    expect(response.header('content-length')).toBeUndefined();
    expect(gunzipSync(response.body).toString()).toBe(text);
  });

  it('still holds a non-reading client to a bounded number of chunks, without piling up drain listeners', async () => {
    const total = 2000;
    // Random bytes do not compress: the socket fills as it would without compression.
    const chunk = randomBytes(64 * 1024);
    let pulled = 0;
    const closed = deferred();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const host = express();
      host.use(compression({ threshold: 0, filter: () => true }));
      host.use('/legacy', toExpress((_e, start) => {
        start('200 OK', [['Content-Type', 'application/octet-stream']]);
        return Object.assign(
          (function* () {
            while (pulled < total) {
              pulled++;
              yield chunk;
            }
          })(),
          { close: () => closed.resolve() },
        );
      }, quiet));
      const { port } = await listen(host);
      const client = await RawSocket.connect(port);
      client.socket.pause();
      client.write(rawRequest('GET', '/legacy/big', ['Accept-Encoding: gzip']));
      let before = -1;
      while (pulled !== before) {
        before = pulled;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(pulled).toBeGreaterThan(0);
      expect(pulled).toBeLessThan(400);
      client.destroy();
      await within(closed.promise, 5000, "the body's close()");
      expect(warnings.map((w) => w.message).filter((m) => m.includes('drain'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('toExpress(app) behind cookie-parser', () => {
  it('leaves HTTP_COOKIE as sent, and the parsed cookies on environ["express.request"]', async () => {
    const host = express();
    host.use(cookieParser());
    host.use('/legacy', toExpress(environProbe((environ) => ({
      cookie: environ.HTTP_COOKIE,
      parsed: (environ['express.request'] as express.Request).cookies as unknown,
    })), quiet));
    const response = await supertest(host).get('/legacy/').set('Cookie', 'a=1; b=caf%C3%A9');
    expect(response.body).toEqual({ cookie: 'a=1; b=caf%C3%A9', parsed: { a: '1', b: 'caf\u00e9' } });
  });

  it("keeps a cookie the host set with res.cookie() beside the app's own two", async () => {
    const host = express();
    host.use(cookieParser());
    host.use((_req, res, next) => {
      res.cookie('session', 'abc', { httpOnly: true });
      next();
    });
    host.use('/legacy', toExpress((_e, start) => {
      start('200 OK', [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain']]);
      return ['ok'];
    }, quiet));
    const { url } = await listen(host);
    const response = await request(url + '/legacy/');
    expect(response.lines('set-cookie')).toEqual(['session=abc; Path=/; HttpOnly', 'a=1', 'b=2']);
  });
});

describe('toExpress(app) behind express.json()', () => {
  const echo: App = async (environ, start) => {
    const bytes = await environ['wsgi.input'].read();
    start('200 OK', [['Content-Type', 'application/json'], ['X-Content-Length', String(environ.CONTENT_LENGTH)]]);
    return [bytes];
  };

  it('gives the app the parsed JSON re-serialised, CONTENT_LENGTH set to its length', async () => {
    const host = express();
    host.use(express.json());
    host.use('/legacy', toExpress(echo, quiet));
    const response = await supertest(host).post('/legacy/').set('Content-Type', 'application/json').send('{ "a" : 1, "b": [true, null] }');
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"a":1,"b":[true,null]}');
    expect(response.headers['x-content-length']).toBe(String('{"a":1,"b":[true,null]}'.length));
  });

  it('gives the app the exact bytes when the parser kept them (verify → req.rawBody)', async () => {
    const host = express();
    host.use(express.json({ verify: (req, _res, buf) => void ((req as unknown as { rawBody: Buffer }).rawBody = buf) }));
    host.use('/legacy', toExpress(echo, quiet));
    const sent = '{ "a" : 1,\n  "b": [true, null] }';
    const response = await supertest(host).post('/legacy/').set('Content-Type', 'application/json').send(sent);
    expect(response.text).toBe(sent);
    expect(response.headers['x-content-length']).toBe(String(Buffer.byteLength(sent)));
  });

  it('gives the app a gzip-encoded JSON body the parser inflated as plain bytes, with no HTTP_CONTENT_ENCODING left to mislead it', async () => {
    const host = express();
    host.use(express.json());
    host.use('/legacy', toExpress(async (environ, start) => {
      const bytes = await environ['wsgi.input'].read();
      start('200 OK', [['Content-Type', 'application/json']]);
      return [JSON.stringify({ body: Buffer.from(bytes).toString(), encoding: environ.HTTP_CONTENT_ENCODING ?? null, length: environ.CONTENT_LENGTH })];
    }, quiet));
    const { url } = await listen(host);
    const response = await request(url + '/legacy/', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{"a":1}'),
    });
    expect(JSON.parse(response.body.toString())).toEqual({ body: '{"a":1}', encoding: null, length: '7' });
  });

  it('still lets sibling routes read req.body as parsed JSON', async () => {
    const host = express();
    host.use(express.json());
    host.use('/legacy', toExpress(echo, quiet));
    host.post('/api', (req, res) => void res.json({ got: req.body as unknown }));
    const response = await supertest(host).post('/api').send({ x: 1 });
    expect(response.body).toEqual({ got: { x: 1 } });
  });
});

describe('toExpress(app) outside Express', () => {
  it('serves a plain (req, res, next) caller that sets no originalUrl, as connect-style hosts do', async () => {
    const middleware = toExpress(environProbe((environ) => [environ.SCRIPT_NAME, environ.PATH_INFO, environ.QUERY_STRING, environ.REQUEST_URI]), quiet);
    const server = http.createServer((req, res) =>
      middleware(req as express.Request, res as express.Response, () => {
        res.statusCode = 404;
        res.end('next');
      }),
    );
    servers.add(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const res = await supertest(server).get('/a%20b?x=1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(['', '/a b', 'x=1', '/a%20b?x=1']);
    // strictPaths still guards the raw target it found.
    expect((await supertest(server).get('/%61dmin')).text).toBe('next');
  });
});

describe('toExpress(app) in a nested router', () => {
  it("SCRIPT_NAME is the whole mount path, the router's prefix and the app's", async () => {
    const host = express();
    const router = express.Router();
    router.use('/legacy', toExpress(environProbe((environ) => [environ.SCRIPT_NAME, environ.PATH_INFO, environ.REQUEST_URI]), quiet));
    host.use('/api/v1', router);
    const response = await supertest(host).get('/api/v1/legacy/users/42?full=1');
    expect(response.body).toEqual(['/api/v1/legacy', '/users/42', '/api/v1/legacy/users/42?full=1']);
  });

  it("a router's params in the mount path stay in SCRIPT_NAME", async () => {
    const host = express();
    host.use('/tenants/:tenant', toExpress(environProbe((environ) => [environ.SCRIPT_NAME, environ.PATH_INFO]), quiet));
    const response = await supertest(host).get('/tenants/acme/reports');
    expect(response.body).toEqual(['/tenants/acme', '/reports']);
  });
});

describe('toExpress(app) errors', () => {
  it("hands an error before the headers to the host's error middleware (next(err)): a WsgiAppError, the app's error its cause [B11]", async () => {
    const host = express();
    host.use('/legacy', toExpress(() => {
      throw new Error('legacy failed');
    }, quiet));
    host.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(502).json({ caught: err.message, name: err.name, status: (err as { status?: number }).status, cause: (err.cause as Error).message, isAppError: err instanceof WsgiAppError });
    });
    const response = await supertest(host).get('/legacy/');
    expect(response.status).toBe(502);
    expect(response.body).toEqual({ caught: 'Internal Server Error', name: 'WsgiAppError', status: 500, cause: 'legacy failed', isAppError: true });
  });

  it("hands the app's own error to next(err) with { debug: true }, and logs it to wsgi.errors either way", async () => {
    for (const debug of [false, true]) {
      const errors = new ErrorLog();
      const host = express();
      host.use('/legacy', toExpress(() => {
        throw new Error('legacy failed');
      }, { errors, debug }));
      host.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(502).json({ caught: err.message });
      });
      const response = await supertest(host).get('/legacy/x?y=1');
      expect(response.body, String(debug)).toEqual({ caught: debug ? 'legacy failed' : 'Internal Server Error' });
      expect(errors.text, String(debug)).toMatch(/the app failed before the response started \(GET \/legacy\/x\?y=1\)[^]*Error: legacy failed\n\s+at /);
    }
  });

  it("hands an error from the body's first chunk to next(err) too", async () => {
    const host = express();
    host.use('/legacy', toExpress((_e, start) => {
      start('200 OK', []);
      return (async function* (): AsyncGenerator<Chunk> {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('first chunk failed');
      })();
    }, quiet));
    host.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(502).json({ caught: (err.cause as Error).message });
    });
    const response = await supertest(host).get('/legacy/');
    expect(response.status).toBe(502);
    expect(response.body).toEqual({ caught: 'first chunk failed' });
  });
});

describe('toExpress(app, { fallthrough: true })', () => {
  it('lets a newer Express route answer what the legacy app does not know, sharing the prefix', async () => {
    const host = express();
    host.use('/shop', toExpress((environ, start) => {
      if (environ.PATH_INFO === '/old') {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['legacy page'];
      }
      start('404 Not Found', [['Content-Type', 'text/plain'], ['X-Legacy', '1']]);
      return ['legacy 404'];
    }, { ...quiet, fallthrough: true }));
    host.get('/shop/new', (_req, res) => void res.send('new page'));
    const agent = supertest(host);
    expect((await agent.get('/shop/old')).text).toBe('legacy page');
    const moved = await agent.get('/shop/new');
    expect([moved.status, moved.text, moved.headers['x-legacy']]).toEqual([200, 'new page', undefined]);
    const missing = await agent.get('/shop/none');
    expect(missing.status).toBe(404);
    expect(missing.text).not.toContain('legacy 404');
  });
});

describe('toExpress(app) request body', () => {
  it('streams an upload of all 256 byte values to the app exactly when no parser claims it', async () => {
    const host = express();
    host.use(express.json());
    host.use('/legacy', toExpress(async (environ, start) => {
      const hash = createHash('sha256');
      for await (const chunk of environ['wsgi.input']) hash.update(chunk);
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [hash.digest('hex')];
    }, quiet));
    const body = Buffer.alloc(256 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
    const response = await supertest(host).put('/legacy/blob').set('Content-Type', 'application/octet-stream').send(body);
    expect(response.text).toBe(createHash('sha256').update(body).digest('hex'));
  });
});
