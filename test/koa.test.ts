// toKoa among real Koa pieces: koa-mount (nested, and a mounted Koa app), body parsers in front, and
// upstream middleware that reads and changes the response after `await next()`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import type { App, Chunk } from '@node-wsgi/core';
import { toKoa } from '@node-wsgi/koa';
import Koa from 'koa';
import legacyBodyParser from 'koa-bodyparser';
import mount from 'koa-mount';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, closeServers, deferred, request, within } from './conformance/client.js';
import { ErrorLog } from './conformance/hosts.js';

const servers = new Set<http.Server>();

afterEach(async () => {
  closeClients();
  await closeServers(servers);
});

function koa(): Koa {
  const host = new Koa();
  host.silent = true;
  return host;
}

async function listen(host: Koa): Promise<string> {
  const server = http.createServer(host.callback());
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const quiet = { errors: new ErrorLog() };

const whereAmI: App = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify([environ.SCRIPT_NAME, environ.PATH_INFO, environ.QUERY_STRING, environ.REQUEST_URI])];
};

describe('toKoa(app) under koa-mount', () => {
  it('SCRIPT_NAME is the whole mount path through nested mounts', async () => {
    const host = koa();
    host.use(mount('/api', mount('/legacy', toKoa(whereAmI, quiet))));
    const response = await supertest(host.callback()).get('/api/legacy/users/caf%C3%A9?x=%2F');
    expect(response.body).toEqual(['/api/legacy', '/users/caf\u00c3\u00a9', 'x=%2F', '/api/legacy/users/caf%C3%A9?x=%2F']);
  });

  it('works inside a mounted Koa application', async () => {
    const inner = koa();
    inner.use(toKoa(whereAmI, quiet));
    const host = koa();
    host.use(mount('/legacy', inner));
    const response = await supertest(host.callback()).get('/legacy');
    expect(response.body).toEqual(['/legacy', '', '', '/legacy']);
  });

  it('leaves ctx.path as it was for upstream middleware once the app is done', async () => {
    const host = koa();
    host.use(async (ctx, next) => {
      await next();
      ctx.set('X-Path-After', ctx.path);
    });
    host.use(mount('/legacy', toKoa(whereAmI, quiet)));
    const response = await supertest(host.callback()).get('/legacy/x');
    expect(response.headers['x-path-after']).toBe('/legacy/x');
  });
});

describe('toKoa(app) behind a body parser', () => {
  const echo: App = async (environ, start) => {
    const bytes = await environ['wsgi.input'].read();
    start('200 OK', [['Content-Type', 'text/plain'], ['X-Content-Length', String(environ.CONTENT_LENGTH)]]);
    return [bytes];
  };
  const parsers: Array<[string, () => Koa.Middleware]> = [
    ['koa-bodyparser', () => legacyBodyParser()],
    ['@koa/bodyparser', () => bodyParser() as Koa.Middleware],
  ];
  for (const [name, make] of parsers) {
    it(`${name}: the app reads the exact bytes sent, from the raw body it kept (ctx.request.rawBody)`, async () => {
      const host = koa();
      let parsed: unknown;
      host.use(make());
      host.use(async (ctx, next) => {
        parsed = ctx.request.body;
        await next();
      });
      host.use(mount('/legacy', toKoa(echo, quiet)));
      const sent = '{ "name" : "caf\u00e9",\n "n": [1, 2] }';
      const response = await supertest(host.callback()).post('/legacy/').set('Content-Type', 'application/json; charset=utf-8').send(sent);
      expect(parsed).toEqual({ name: 'caf\u00e9', n: [1, 2] });
      expect(response.text).toBe(sent);
      expect(response.headers['x-content-length']).toBe(String(Buffer.byteLength(sent)));
    });
  }

  for (const [name, make] of [
    ['koa-bodyparser', () => legacyBodyParser({ enableTypes: ['text'] })],
    ['@koa/bodyparser', () => bodyParser({ enableTypes: ['text'] }) as Koa.Middleware],
  ] as Array<[string, () => Koa.Middleware]>) {
    it(`${name} with text on: a body in another charset comes back exactly, or the read fails naming Koa, never other bytes`, async () => {
      const host = koa();
      host.use(make());
      const reading: App = async (environ, start) => {
        try {
          const bytes = await environ['wsgi.input'].read();
          start('200 OK', [['Content-Type', 'application/octet-stream']]);
          return [bytes];
        } catch (err) {
          start('500 Internal Server Error', [['Content-Type', 'text/plain']]);
          return [(err as Error).message];
        }
      };
      host.use(mount('/legacy', toKoa(reading, quiet)));
      const agent = supertest(host.callback());
      // UTF-16 "hi": valid UTF-8 bytes too, so the parser's UTF-8 text gives them back exactly.
      const utf16 = Buffer.from('hi', 'utf16le');
      const wide = await agent.post('/legacy/').set('Content-Type', 'text/plain; charset=utf-16le').send(utf16.toString('latin1')).buffer(true).parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
      expect(wide.status).toBe(200);
      expect((wide.body as Buffer).toString('hex')).toBe(utf16.toString('hex'));
      // latin-1 "café": 0xE9 is not UTF-8, the parser replaced it; the bytes are gone.
      const lost = await agent.post('/legacy/').set('Content-Type', 'text/plain; charset=iso-8859-1').send(Buffer.from('caf\u00e9', 'latin1'));
      expect(lost.status).toBe(500);
      expect(lost.text).toMatch(/a Koa body parser decoded this text\/plain; charset=iso-8859-1 request body as UTF-8/);
    });
  }

  it('@koa/bodyparser with patchNode: the app still reads the exact bytes', async () => {
    const host = koa();
    host.use(bodyParser({ patchNode: true }) as Koa.Middleware);
    host.use(mount('/legacy', toKoa(echo, quiet)));
    const sent = 'a=1&b=x+y&c=caf%C3%A9';
    const response = await supertest(host.callback()).post('/legacy/').set('Content-Type', 'application/x-www-form-urlencoded').send(sent);
    expect(response.text).toBe(sent);
  });

  it('a parsed body with no raw form left is re-serialised, CONTENT_LENGTH matching', async () => {
    const host = koa();
    host.use(legacyBodyParser());
    // A middleware that drops what the parser kept raw, as some wrappers do.
    host.use(async (ctx, next) => {
      delete (ctx.request as { rawBody?: string }).rawBody;
      await next();
    });
    host.use(mount('/legacy', toKoa(echo, quiet)));
    const response = await supertest(host.callback()).post('/legacy/').set('Content-Type', 'application/json').send('{ "a" : 1 }');
    expect(response.text).toBe('{"a":1}');
    expect(response.headers['x-content-length']).toBe('7');
  });
});

describe('toKoa(app) with upstream middleware', () => {
  it("lets upstream read ctx.status after next() and change the app's headers", async () => {
    const host = koa();
    host.use(async (ctx, next) => {
      await next();
      ctx.set('X-Seen-Status', String(ctx.status));
      ctx.set('X-App', 'changed upstream');
    });
    host.use(mount('/legacy', toKoa((_e, start) => {
      start('201 Created', [['Content-Type', 'text/plain'], ['X-App', 'original']]);
      return (async function* () {
        yield 'created';
      })();
    }, quiet)));
    const url = await listen(host);
    const response = await request(url + '/legacy/things', { method: 'POST' });
    expect(response.status).toBe(201);
    expect(response.header('x-seen-status')).toBe('201');
    expect(response.lines('x-app')).toEqual(['changed upstream']);
    expect(response.body.toString()).toBe('created');
  });

  it("lets upstream replace the app's 404 page; the app's body is closed unsent", async () => {
    const host = koa();
    host.use(async (ctx, next) => {
      await next();
      if (ctx.status === 404) ctx.body = 'the site-wide 404 page';
    });
    const closed = deferred();
    host.use(mount('/legacy', toKoa((_e, start) => {
      start('404 Not Found', [['Content-Type', 'text/plain']]);
      return Object.assign(
        (async function* () {
          yield 'legacy 404';
        })(),
        { close: () => closed.resolve() },
      );
    }, quiet)));
    const url = await listen(host);
    const response = await request(url + '/legacy/missing');
    expect([response.status, response.body.toString()]).toEqual([404, 'the site-wide 404 page']);
    await within(closed.promise, 5000, "the app body's close()");
  });

  it('keeps a Content-Type upstream set before the app when the app gave none, and invents none otherwise', async () => {
    const host = koa();
    host.use(async (ctx, next) => {
      if (ctx.path === '/legacy/typed') ctx.type = 'text/html';
      await next();
    });
    host.use(mount('/legacy', toKoa((_e, start) => {
      start('200 OK', []);
      return ['<p>hi</p>'];
    }, quiet)));
    const url = await listen(host);
    expect((await request(url + '/legacy/typed')).lines('content-type')).toEqual(['text/html; charset=utf-8']);
    expect((await request(url + '/legacy/untyped')).lines('content-type')).toEqual([]);
  });

  it("keeps the app's Content-Length when upstream set a body first, streamed or whole", async () => {
    const host = koa();
    host.use(async (ctx, next) => {
      ctx.body = 'a placeholder upstream set';
      await next();
    });
    host.use(mount('/legacy', toKoa((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '11']]);
      if (environ.PATH_INFO === '/whole') return ['from the app'];
      return (async function* () {
        yield 'from the ';
        yield 'app';
      })();
    }, quiet)));
    const url = await listen(host);
    for (const path of ['/legacy/streamed', '/legacy/whole']) {
      const response = await request(url + path);
      expect([response.status, response.lines('content-length'), response.header('transfer-encoding'), response.body.toString()], path)
        .toEqual([200, ['11'], undefined, 'from the ap']);
    }
  });

  it('throws an error before the headers into the chain, where upstream can catch it', async () => {
    const host = koa();
    host.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 502;
        ctx.body = { caught: ((err as Error).cause as Error).message, name: (err as Error).name, expose: (err as { expose?: boolean }).expose };
      }
    });
    host.use(mount('/legacy', toKoa((environ) => {
      if (environ.PATH_INFO === '/sync') throw new Error('sync failure');
      return (async function* (): AsyncGenerator<Chunk> {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('body failure');
      })();
    }, quiet)));
    const agent = supertest(host.callback());
    for (const [path, message] of [['/legacy/sync', 'sync failure'], ['/legacy/async', 'body failure']] as const) {
      const response = await agent.get(path);
      expect([response.status, response.body], path).toEqual([502, { caught: message, name: 'WsgiAppError', expose: false }]);
    }
  });

  it('with fallthrough, a 404 from the app runs the next Koa middleware with the path restored', async () => {
    const host = koa();
    host.use(mount('/shop', toKoa((environ, start) => {
      if (environ.PATH_INFO === '/old') {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['legacy page'];
      }
      start('404 Not Found', [['X-Legacy', '1']]);
      return ['legacy 404'];
    }, { ...quiet, fallthrough: true })));
    host.use((ctx) => {
      ctx.body = `new app at ${ctx.path}`;
    });
    const agent = supertest(host.callback());
    expect((await agent.get('/shop/old')).text).toBe('legacy page');
    const moved = await agent.get('/shop/new');
    expect([moved.status, moved.text, moved.headers['x-legacy']]).toEqual([200, 'new app at /shop/new', undefined]);
  });
});
