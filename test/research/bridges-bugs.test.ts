// The Node-bridge pitfalls of research/node-bridges.md §3, each written as "the test" there: on every
// host of the conformance matrix where the pitfall is about a host (our server, Express, Fastify,
// Koa; the app at '/mnt'), or on the wrapped framework where it is about a reverse adapter. Pitfalls
// the suite already covered on every host are not repeated.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import compression from 'compression';
import express from 'express';
import { afterEach, expect, it, describe } from 'vitest';
import type { App, Chunk } from '@node-wsgi/core';
import { closeClients, deferred, rawRequest, RawSocket, request, within } from '../conformance/client.js';
import { closeHosts, describeHosts } from '../conformance/hosts.js';
import { closeServed, fetchRaw, serveWrapped } from '../reverse/support.js';
import { until } from '../support/wire.js';

const originalFetch = globalThis.fetch;
const originalRequest = globalThis.Request;
const originalResponse = globalThis.Response;
const originalHeaders = globalThis.Headers;

afterEach(async () => {
  closeClients();
  await closeHosts();
  await closeServed();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const ALL_BYTES = (() => {
  const one = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) one[i] = i;
  return Buffer.concat([one, one, one, one]);
})();

describeHosts((host) => {
  it('pitfall 9 (srvx#152, node-server#107): a normal GET and a POST whose body the app read are never treated as aborted: every chunk is pulled, close() runs once after the end, nothing is logged', async () => {
    const runs: Array<{ path: string; completed: boolean; finallyRan: boolean; closes: number }> = [];
    const server = await host.start(async (environ, start) => {
      const uploaded = environ.REQUEST_METHOD === 'POST' ? Buffer.from(await environ['wsgi.input'].read()).toString() : '';
      const run = { path: environ.PATH_INFO, completed: false, finallyRan: false, closes: 0 };
      runs.push(run);
      start('200 OK', [['Content-Type', 'text/plain']]);
      const body = (async function* (): AsyncGenerator<Chunk> {
        try {
          for (const part of ['one;', 'two;', uploaded, 'three']) {
            await tick();
            yield part;
          }
          run.completed = true;
        } finally {
          run.finallyRan = true;
        }
      })();
      return Object.assign(body, {
        close() {
          run.closes++;
        },
      });
    });
    const got = await request(server.url + '/mnt/get');
    expect(got.body.toString()).toBe('one;two;three');
    const posted = await request(server.url + '/mnt/post', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'up;' });
    expect(posted.body.toString()).toBe('one;two;up;three');
    await until(() => runs.length === 2 && runs.every((r) => r.closes === 1), 'both close() calls');
    expect(runs).toEqual([
      { path: '/get', completed: true, finallyRan: true, closes: 1 },
      { path: '/post', completed: true, finallyRan: true, closes: 1 },
    ]);
    expect(server.errors.text).toBe('');
  });

  it('pitfall 10 (remix#11533): a client that declares Content-Length 1000, sends 12 bytes and leaves makes the pending read() reject promptly', async () => {
    const outcome = deferred<string>();
    const server = await host.start(async (environ, start) => {
      try {
        const bytes = await environ['wsgi.input'].read();
        outcome.resolve(`resolved with ${bytes.length} bytes`);
      } catch (err) {
        outcome.resolve(`rejected: ${(err as Error).name}`);
      }
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['late'];
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('POST', '/mnt/upload', ['Content-Type: application/octet-stream', 'Content-Length: 1000']) + 'twelve bytes');
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    expect(await within(outcome.promise, 2000, 'the read() to settle')).toBe('rejected: InputError');
  });
});

describe('pitfall 14 (srvx#248, serverless-express#677): fromExpress with an explicit Transfer-Encoding: chunked', () => {
  it('sends binary written in pieces byte for byte, with one framing and no hop-by-hop header from the handler', async () => {
    const { fromExpress } = await import('@node-wsgi/express');
    const app = express();
    app.get('/bin', (_req, res) => {
      res.set('Transfer-Encoding', 'chunked');
      res.set('Content-Type', 'image/jpeg');
      res.write(ALL_BYTES.subarray(0, 3));
      res.write(ALL_BYTES.subarray(3, 700));
      res.end(ALL_BYTES.subarray(700));
    });
    const served = await serveWrapped(fromExpress(app));
    const response = await fetchRaw(`${served.url}/bin`);
    expect(response.status).toBe(200);
    expect(sha256(response.body)).toBe(sha256(ALL_BYTES));
    expect(response.all('transfer-encoding').length).toBeLessThanOrEqual(1);
    expect(response.all('keep-alive')).toEqual([]);
    expect(response.all('content-type')).toEqual(['image/jpeg']);
  });
});

describe('pitfall 21 (node-server#154, #321, #294): no Fetch globals replaced', () => {
  it('after importing every package and serving through each, fetch, Request, Response and Headers are the originals, and fetch() answers a real Response', async () => {
    const core = await import('@node-wsgi/core');
    const { toExpress, fromExpress } = await import('@node-wsgi/express');
    const { toFastify, fromFastify } = await import('@node-wsgi/fastify');
    const { toKoa, fromKoa } = await import('@node-wsgi/koa');
    expect([toExpress, fromExpress, toFastify, fromFastify, toKoa, fromKoa].every((f) => typeof f === 'function')).toBe(true);
    const app: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['fetched'];
    };
    const server = http.createServer(core.toNodeListener(app));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(response instanceof Response).toBe(true);
      expect(response instanceof originalResponse).toBe(true);
      expect(await response.text()).toBe('fetched');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(globalThis.fetch).toBe(originalFetch);
    expect(globalThis.Request).toBe(originalRequest);
    expect(globalThis.Response).toBe(originalResponse);
    expect(globalThis.Headers).toBe(originalHeaders);
  });
});

// cors and morgan are not installed here: the two connect-style middlewares below do what they do
// that matters to a bridge (a header set, then next(); a log line on the response's 'finish').
describe('pitfall 22 (routup#881): connect middleware in front of a wrapped or mounted app', () => {
  const corsLike: express.RequestHandler = (_req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Vary', 'Origin');
    next();
  };

  it('fromExpress: a cors-like header, a finish logger and compression() all run, and the next stage answers', async () => {
    const { fromExpress } = await import('@node-wsgi/express');
    const logged: string[] = [];
    const app = express();
    app.use(corsLike);
    app.use((req, res, next) => {
      res.on('finish', () => logged.push(`${req.method} ${req.originalUrl} ${res.statusCode}`));
      next();
    });
    app.use(compression({ threshold: 0 }));
    app.get('/x', (_req, res) => void res.type('text/plain').send('next stage '.repeat(200)));
    const served = await serveWrapped(fromExpress(app));
    const response = await fetchRaw(`${served.url}/x`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.all('access-control-allow-origin')).toEqual(['*']);
    expect(response.all('content-encoding')).toEqual(['gzip']);
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(response.body).toString()).toBe('next stage '.repeat(200));
    await until(() => logged.length === 1, 'the finish log line');
    expect(logged).toEqual(['GET /x 200']);
  });

  it("toExpress: behind the same middlewares, the app answers and their headers survive beside the app's", async () => {
    const { toExpress } = await import('@node-wsgi/express');
    const logged: string[] = [];
    const host = express();
    host.use(corsLike);
    host.use((req, res, next) => {
      res.on('finish', () => logged.push(`${req.method} ${req.originalUrl} ${res.statusCode}`));
      next();
    });
    host.use(compression({ threshold: 0 }));
    host.use('/mnt', toExpress((_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['X-App', 'yes']]);
      return ['app answer '.repeat(200)];
    }));
    const server = http.createServer(host);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetchRaw(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mnt/x`, { headers: { 'accept-encoding': 'gzip' } });
      expect(response.status).toBe(200);
      expect(response.all('access-control-allow-origin')).toEqual(['*']);
      expect(response.all('x-app')).toEqual(['yes']);
      expect(response.all('content-encoding')).toEqual(['gzip']);
      const { gunzipSync } = await import('node:zlib');
      expect(gunzipSync(response.body).toString()).toBe('app answer '.repeat(200));
      await until(() => logged.length === 1, 'the finish log line');
      expect(logged).toEqual(['GET /mnt/x 200']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

