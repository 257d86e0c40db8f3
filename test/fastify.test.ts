// toFastify as a plugin among real Fastify pieces: onSend hooks, sibling routes with their own
// parsers, @fastify/compress, the host's error handler and logger.
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import type { App, Chunk } from '@node-wsgi/core';
import { toFastify } from '@node-wsgi/fastify';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, deferred, rawRequest, RawSocket, request, within } from './conformance/client.js';
import { ErrorLog } from './conformance/hosts.js';

const hosts = new Set<FastifyInstance>();

afterEach(async () => {
  closeClients();
  await Promise.all([...hosts].map((host) => host.close()));
  hosts.clear();
});

function fastify(options: FastifyServerOptions = {}): FastifyInstance {
  const host = Fastify({ forceCloseConnections: true, ...options });
  hosts.add(host);
  return host;
}

async function listen(host: FastifyInstance): Promise<{ url: string; port: number }> {
  const url = await host.listen({ port: 0, host: '127.0.0.1' });
  return { url, port: Number(new URL(url).port) };
}

const quiet = { errors: new ErrorLog() };

const text = 'node-wsgi says hello. '.repeat(2000);

/** Answers 201 with a whole body at '/whole', a streamed one elsewhere. */
const wholeOrStream: App = (environ, start) => {
  start('201 Created', [['Content-Type', 'text/plain'], ['X-App', 'yes']]);
  if (environ.PATH_INFO === '/whole') return [text];
  return (async function* () {
    for (let i = 0; i < text.length; i += 4000) {
      await new Promise((resolve) => setImmediate(resolve));
      yield text.slice(i, i + 4000);
    }
  })();
};

describe('toFastify(app) with an onSend hook on the host', () => {
  it("runs the hook on the app's response, whole or streamed: it sees the app's status and may add a header", async () => {
    const host = fastify();
    host.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-on-send', `saw ${reply.statusCode}`);
      return payload;
    });
    await host.register(toFastify(wholeOrStream, quiet), { prefix: '/legacy' });
    const { url } = await listen(host);
    for (const path of ['/legacy/whole', '/legacy/stream']) {
      const response = await request(url + path);
      expect([response.status, response.header('x-on-send'), response.header('x-app')], path).toEqual([201, 'saw 201', 'yes']);
      expect(response.body.toString(), path).toBe(text);
    }
  });

  it('lets an onSend hook replace the payload the app gave', async () => {
    const host = fastify();
    const closed = deferred();
    host.addHook('onSend', async (request) => (request.url.endsWith('/replaced') ? 'replaced by the host' : undefined));
    await host.register(toFastify((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign(
        (async function* () {
          yield 'from the app';
        })(),
        { close: () => closed.resolve() },
      );
    }, quiet), { prefix: '/legacy' });
    const { url } = await listen(host);
    const response = await request(url + '/legacy/replaced');
    expect(response.body.toString()).toBe('replaced by the host');
    // The app's body was never sent, but it is still closed [B5].
    await within(closed.promise, 5000, "the app body's close()");
  });

  it('frames a whole body a hook lengthened by its new length, and leaves a HEAD the length of the GET', async () => {
    const host = fastify();
    host.addHook('onSend', async (request, _reply, payload) =>
      request.url.endsWith('/longer') ? Buffer.concat([payload as Buffer, Buffer.from(', and the host')]) : payload,
    );
    await host.register(toFastify((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['from the app'];
    }, quiet), { prefix: '/legacy' });
    const { url } = await listen(host);
    const longer = await request(url + '/legacy/longer');
    expect([longer.lines('content-length'), longer.body.toString()]).toEqual([['26'], 'from the app, and the host']);
    const head = await request(url + '/legacy/plain', { method: 'HEAD' });
    expect([head.lines('content-length'), head.body.length]).toEqual([['12'], 0]);
  });
});

describe('toFastify(app) beside sibling routes', () => {
  it('leaves the host its JSON parser: a sibling route gets parsed JSON while the app reads raw bytes', async () => {
    const host = fastify();
    host.post('/api/json', async (request) => ({ parsed: request.body }));
    await host.register(toFastify(async (environ, start) => {
      const bytes = await environ['wsgi.input'].read();
      start('200 OK', [['Content-Type', 'application/json'], ['X-Content-Length', String(environ.CONTENT_LENGTH)]]);
      return [bytes];
    }, quiet), { prefix: '/legacy' });
    host.post('/api/after', async (request) => ({ parsed: request.body }));
    const { url } = await listen(host);
    const json = '{ "a" : [1, 2] }';
    const headers = { 'content-type': 'application/json' };
    for (const path of ['/api/json', '/api/after']) {
      const sibling = await request(url + path, { method: 'POST', headers, body: json });
      expect(JSON.parse(sibling.body.toString()), path).toEqual({ parsed: { a: [1, 2] } });
    }
    const app = await request(url + '/legacy/x', { method: 'POST', headers, body: json });
    expect(app.body.toString()).toBe(json);
    expect(app.header('x-content-length')).toBe(String(json.length));
  });

  it("keeps a content-type parser the host added for its own routes out of the app's way", async () => {
    const host = fastify();
    host.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, String(body).split(',')));
    host.post('/api/csv', async (request) => ({ parsed: request.body }));
    await host.register(toFastify(async (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [await environ['wsgi.input'].read()];
    }, quiet), { prefix: '/legacy' });
    const { url } = await listen(host);
    const headers = { 'content-type': 'text/csv' };
    const sibling = await request(url + '/api/csv', { method: 'POST', headers, body: 'a,b,c' });
    expect(JSON.parse(sibling.body.toString())).toEqual({ parsed: ['a', 'b', 'c'] });
    const app = await request(url + '/legacy/csv', { method: 'POST', headers, body: 'a,b,c' });
    expect(app.body.toString()).toBe('a,b,c');
  });
});

describe('toFastify(app) with @fastify/compress', () => {
  it('compresses whole and streamed bodies, and the client decodes them to the same text', async () => {
    const host = fastify();
    await host.register(compress, { global: true, threshold: 0 });
    await host.register(toFastify(wholeOrStream, quiet), { prefix: '/legacy' });
    const { url } = await listen(host);
    for (const path of ['/legacy/whole', '/legacy/stream']) {
      const response = await request(url + path, { headers: { 'accept-encoding': 'gzip' } });
      expect([response.status, response.header('content-encoding')], path).toEqual([201, 'gzip']);
      expect(gunzipSync(response.body).toString(), path).toBe(text);
    }
  });

  it('still closes the body of a client that leaves mid-stream', async () => {
    const host = fastify();
    await host.register(compress, { global: true, threshold: 0 });
    const finished = deferred();
    const closed = deferred();
    await host.register(toFastify((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign(
        (async function* () {
          try {
            for (;;) {
              await new Promise((resolve) => setImmediate(resolve));
              yield `${Math.random()}`.repeat(500);
            }
          } finally {
            finished.resolve();
          }
        })(),
        { close: () => closed.resolve() },
      );
    }, quiet), { prefix: '/legacy' });
    const { port } = await listen(host);
    const client = await RawSocket.connect(port);
    client.write(rawRequest('GET', '/legacy/endless', ['Accept-Encoding: gzip']));
    await within(client.waitFor(() => client.data.length > 16 * 1024, 'some compressed bytes'), 5000, 'some compressed bytes');
    client.destroy();
    await within(Promise.all([finished.promise, closed.promise]), 5000, "the body's finally and close()");
  });
});

describe('toFastify(app) errors and logging', () => {
  it("hands an error before the headers to the host's error handler", async () => {
    const host = fastify();
    host.setErrorHandler((err: Error, _request, reply) => void reply.code(503).send({ handled: (err.cause as Error).message, name: err.name, message: err.message }));
    await host.register(toFastify((environ) => {
      if (environ.PATH_INFO === '/sync') throw new Error('sync failure');
      return (async function* (): AsyncGenerator<Chunk> {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('body failure');
      })();
    }, quiet), { prefix: '/legacy' });
    const { url } = await listen(host);
    for (const [path, message] of [['/legacy/sync', 'sync failure'], ['/legacy/async', 'body failure']]) {
      const response = await request(url + path!);
      expect(response.status, path).toBe(503);
      expect(JSON.parse(response.body.toString()), path).toEqual({ handled: message, name: 'WsgiAppError', message: 'Internal Server Error' });
    }
  });

  it("writes wsgi.errors to the request's logger, with the request id", async () => {
    const lines: Array<{ level: number; msg: string; reqId?: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string; reqId?: string });
        done();
      },
    });
    const host = fastify({ logger: { level: 'info', stream } });
    await host.register(toFastify((environ, start) => {
      environ['wsgi.errors'].write('legacy app complains\n');
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok'];
    }), { prefix: '/legacy' });
    const { url } = await listen(host);
    const response = await request(url + '/legacy/', { headers: { 'request-id': 'abc' } });
    expect(response.status).toBe(200);
    const complaint = lines.find((line) => line.msg === 'legacy app complains');
    expect(complaint).toBeDefined();
    expect(complaint!.reqId).toBeDefined();
    expect(lines.filter((line) => line.reqId === complaint!.reqId).map((line) => line.msg)).toContain('incoming request');
  });
});

describe('toFastify(app, { fallthrough: true })', () => {
  it("hands a 404 to the host's not-found handler", async () => {
    const host = fastify();
    host.setNotFoundHandler((request, reply) => void reply.code(404).send({ hostNotFound: request.url }));
    await host.register(toFastify((environ, start) => {
      if (environ.PATH_INFO === '/known') {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['known'];
      }
      start('404 Not Found', [['Content-Type', 'text/plain']]);
      return ['legacy 404'];
    }, { ...quiet, fallthrough: true }), { prefix: '/legacy' });
    const { url } = await listen(host);
    expect((await request(url + '/legacy/known')).body.toString()).toBe('known');
    const missing = await request(url + '/legacy/unknown?x=1');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toEqual({ hostNotFound: '/legacy/unknown?x=1' });
  });
});

describe('toFastify(app) inside an encapsulated parent plugin', () => {
  it('adds the parent prefix to SCRIPT_NAME and inherits the parent hooks', async () => {
    const host = fastify();
    await host.register(
      async (api) => {
        api.addHook('onRequest', async (_request, reply) => void reply.header('x-api', '1'));
        await api.register(toFastify((environ, start) => {
          start('200 OK', [['Content-Type', 'application/json']]);
          return [JSON.stringify([environ.SCRIPT_NAME, environ.PATH_INFO, environ.REQUEST_URI])];
        }, quiet), { prefix: '/legacy' });
      },
      { prefix: '/api' },
    );
    const { url } = await listen(host);
    const response = await request(url + '/api/legacy/a%20b?q=1');
    expect(response.header('x-api')).toBe('1');
    expect(JSON.parse(response.body.toString())).toEqual(['/api/legacy', '/a b', '/api/legacy/a%20b?q=1']);
  });
});

describe('toFastify beside root plugins', () => {
  const app: App = (environ, start) => {
    start('200 OK', [['Content-Type', 'text/plain']]);
    return [`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`];
  };

  it("registers at the root after @fastify/cors: cors keeps its OPTIONS '*' preflight, the app answers every other method", async () => {
    const host = fastify();
    await host.register(cors, { origin: 'https://shop.example' });
    await host.register(toFastify(app, quiet));
    const { url } = await listen(host);
    const preflight = await request(url + '/x', {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'PUT' },
    });
    expect([preflight.status, preflight.header('access-control-allow-origin')]).toEqual([204, 'https://shop.example']);
    for (const method of ['GET', 'PUT', 'PROPFIND']) {
      const response = await request(url + '/x', { method, headers: { Origin: 'https://shop.example' } });
      expect([response.status, response.body.toString()], method).toEqual([200, `${method} /x`]);
      expect(response.header('access-control-allow-origin'), method).toBe('https://shop.example');
    }
  });

  it('fails ready() at once, naming the route, when the host already has every method the plugin would route', async () => {
    const host = fastify();
    // A catch-all for every method at the root: nothing is left for the plugin, which says so.
    await host.register(toFastify(app, quiet));
    const second = toFastify(app, quiet);
    const started = Date.now();
    await expect(host.register(second)).rejects.toThrow(/already|declared/i);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

