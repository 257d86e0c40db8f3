// Fault injection, the other direction (issue 7, item 1): a framework app that misbehaves, wrapped with
// fromExpress / fromKoa / fromFastify and served by our server under mount('/mnt') (a middleware in
// front, so the reverse gateway's synthetic request and response are what the framework writes to).
// The oracle is the same framework app served natively: the client must see what it sees there, and
// the framework must see the same ending (its response's 'close', an aborted request). Each case also
// checks that nothing is left pending and that the next request is answered.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { fromFastify } from '@node-wsgi/fastify';
import { fromKoa } from '@node-wsgi/koa';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import {
  baseline,
  closeClients,
  closeListening,
  comparableResponse,
  deferred,
  ErrorLog,
  expectNothingPending,
  listenNative,
  never,
  parseHead,
  PREFIX,
  rawRequest,
  RawSocket,
  request,
  serveWrapped,
  within,
  type Listening,
} from './support.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How an exchange ended for the framework: seen from its own request and response. */
interface Ending {
  /** The request emitted 'aborted' or an error (the client went away mid-request). */
  aborted: boolean;
  /** `res.writableEnded` when the response closed. */
  ended: boolean;
  /** Errors the response emitted, by code (ERR_STREAM_WRITE_AFTER_END ...). */
  errors: string[];
}

/** Collects how each watched exchange ended, keyed by the route that watched it. */
class Endings {
  private waiting = new Map<string, ReturnType<typeof deferred<Ending>>>();

  /** The ending of the next exchange on `route`. */
  next(route: string): Promise<Ending> {
    const d = deferred<Ending>();
    this.waiting.set(route, d);
    return d.promise;
  }

  watch(route: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const ending: Ending = { aborted: false, ended: false, errors: [] };
    req.on('aborted', () => (ending.aborted = true));
    req.on('error', () => (ending.aborted = true));
    res.on('error', (err: NodeJS.ErrnoException) => ending.errors.push(err.code ?? err.message));
    res.on('close', () => {
      ending.ended = res.writableEnded;
      // Errors from a write after end come on the next tick: let them arrive.
      setImmediate(() => this.waiting.get(route)?.resolve(ending));
    });
  }
}

/** What each framework app does at each route, written the framework's own way. */
interface Faulty {
  name: string;
  wrap(): App;
  listen(): Promise<Listening>;
  close?(): Promise<void>;
}

const BIG_CHUNK = Buffer.alloc(64 * 1024, 0x7a);

/** Writes 64 KiB chunks, waiting for 'drain' whenever write() says so; counts the writes. */
function writeBig(res: http.ServerResponse, counter: { writes: number }): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  const more = (): void => {
    while (counter.writes < 2000 && !res.destroyed) {
      counter.writes++;
      if (!res.write(BIG_CHUNK)) {
        res.once('drain', more);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  more();
}

function readUpload(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.on('data', () => {});
  req.on('end', () => res.end('read it all'));
}

function expressApp(endings: Endings, big: { writes: number }): express.Express {
  const app = express();
  app.get('/ok', (_req, res) => void res.type('text/plain').send('ok'));
  app.get('/throw', () => {
    throw new Error('express-throw');
  });
  app.get('/reject', async () => {
    await tick();
    throw new Error('express-reject');
  });
  app.get('/end-twice', (req, res) => {
    endings.watch('end-twice', req, res);
    res.end('first');
    res.end('second');
  });
  app.get('/write-after-end', (req, res) => {
    endings.watch('write-after-end', req, res);
    res.end('done');
    res.write('late');
  });
  app.get('/fail-after-head', async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('partial;');
    await tick();
    throw new Error('express-after-head');
  });
  app.get('/never-ends', (req, res) => {
    endings.watch('never-ends', req, res);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('start;');
  });
  app.get('/never-answers', (req, res) => endings.watch('never-answers', req, res));
  app.post('/upload', (req, res) => {
    endings.watch('upload', req, res);
    readUpload(req, res);
  });
  app.get('/big', (req, res) => {
    endings.watch('big', req, res);
    writeBig(res, big);
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).type('text/plain').send(`express error handler: ${err.message}`);
  });
  return app;
}

function koaApp(endings: Endings, big: { writes: number }): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    const { req, res } = ctx;
    switch (ctx.path) {
      case '/ok':
        ctx.type = 'text/plain';
        ctx.body = 'ok';
        return;
      case '/throw':
        throw new Error('koa-throw');
      case '/reject':
        await tick();
        throw new Error('koa-reject');
      case '/end-twice':
        ctx.respond = false;
        endings.watch('end-twice', req, res);
        res.end('first');
        res.end('second');
        return;
      case '/write-after-end':
        ctx.respond = false;
        endings.watch('write-after-end', req, res);
        res.end('done');
        res.write('late');
        return;
      case '/fail-after-head':
        ctx.respond = false;
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('partial;');
        await tick();
        res.destroy();
        return;
      case '/never-ends':
        ctx.respond = false;
        endings.watch('never-ends', req, res);
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('start;');
        return;
      case '/never-answers':
        endings.watch('never-answers', req, res);
        await never();
        return;
      case '/upload':
        ctx.respond = false;
        endings.watch('upload', req, res);
        readUpload(req, res);
        return;
      case '/big':
        ctx.respond = false;
        endings.watch('big', req, res);
        writeBig(res, big);
        return;
    }
  });
  return app;
}

function fastifyApp(endings: Endings, big: { writes: number }): FastifyInstance {
  const app = Fastify();
  app.get('/ok', async (_request, reply) => reply.type('text/plain').send('ok'));
  app.get('/throw', () => {
    throw new Error('fastify-throw');
  });
  app.get('/reject', async () => {
    await tick();
    throw new Error('fastify-reject');
  });
  app.get('/end-twice', (request, reply) => {
    reply.hijack();
    endings.watch('end-twice', request.raw, reply.raw);
    reply.raw.end('first');
    reply.raw.end('second');
  });
  app.get('/write-after-end', (request, reply) => {
    reply.hijack();
    endings.watch('write-after-end', request.raw, reply.raw);
    reply.raw.end('done');
    reply.raw.write('late');
  });
  app.get('/fail-after-head', async (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/plain' });
    reply.raw.write('partial;');
    await tick();
    reply.raw.destroy();
  });
  app.get('/never-ends', (request, reply) => {
    reply.hijack();
    endings.watch('never-ends', request.raw, reply.raw);
    reply.raw.writeHead(200, { 'Content-Type': 'text/plain' });
    reply.raw.write('start;');
  });
  app.get('/never-answers', async (request, reply) => {
    endings.watch('never-answers', request.raw, reply.raw);
    return never();
  });
  // Fastify's own body parsing would read the upload first: a raw route reads it itself.
  app.post('/upload', (request, reply) => {
    reply.hijack();
    endings.watch('upload', request.raw, reply.raw);
    readUpload(request.raw, reply.raw);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.get('/big', (request, reply) => {
    reply.hijack();
    endings.watch('big', request.raw, reply.raw);
    writeBig(reply.raw, big);
  });
  return app;
}

function frameworks(): Array<Faulty & { endings: Endings; big: { writes: number } }> {
  const make = <T>(name: string, build: (e: Endings, b: { writes: number }) => T, wrap: (app: T) => App, listen: (app: T) => Promise<Listening>, close?: (app: T) => Promise<void>) => {
    const endings = new Endings();
    const big = { writes: 0 };
    const app = build(endings, big);
    return { name, endings, big, wrap: () => wrap(app), listen: () => listen(app), close: close && (() => close(app)) };
  };
  return [
    make('fromExpress(app)', expressApp, fromExpress, (app) => listenNative(app)),
    make('fromKoa(app)', koaApp, fromKoa, (app) => listenNative(app.callback())),
    make(
      'fromFastify(instance)',
      fastifyApp,
      fromFastify,
      async (app) => {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const port = (app.server.address() as AddressInfo).port;
        return { port, url: `http://127.0.0.1:${port}`, errors: new ErrorLog(), close: async () => {} };
      },
      (app) => app.close(),
    ),
  ];
}

for (const framework of frameworks()) {
  describe(`${framework.name} served by serve(mount({ '/mnt': wrapped }))`, () => {
    let native: Listening;
    let wrapped: Listening;

    beforeAll(async () => {
      wrapped = await serveWrapped(framework.wrap());
      native = await framework.listen();
    });

    afterAll(async () => {
      closeClients();
      await closeListening();
      await framework.close?.();
    });

    afterEach(() => closeClients());

    /** Runs a fault against the wrapped app, then checks the next request and what is left pending. */
    async function fault(run: () => Promise<void>): Promise<void> {
      const before = await baseline();
      await run();
      const next = await within(request(wrapped.url + PREFIX + '/ok'), 5000, 'the next request');
      expect([next.status, next.body.toString()]).toEqual([200, 'ok']);
      closeClients();
      await expectNothingPending(before);
    }

    /** The response for `path`, natively and wrapped, without Date and connection management. */
    async function both(path: string) {
      const a = await within(request(native.url + path), 5000, `${path} natively`);
      const b = await within(request(wrapped.url + PREFIX + path), 5000, `${path} wrapped`);
      return { native: comparableResponse(a), wrapped: comparableResponse(b) };
    }

    it('the framework app throws: the client gets what the framework’s error handling answers natively', async () => {
      await fault(async () => {
        const { native: expected, wrapped: got } = await both('/throw');
        expect(expected.status).toBe(500);
        expect(got).toEqual(expected);
      });
    });

    it('the framework app rejects: the same 500 as natively', async () => {
      await fault(async () => {
        const { native: expected, wrapped: got } = await both('/reject');
        expect(expected.status).toBe(500);
        expect(got).toEqual(expected);
      });
    });

    it('res.end() twice: the client gets the first body only, and the framework sees the same error as natively', async () => {
      await fault(async () => {
        const nativeEnding = framework.endings.next('end-twice');
        const a = await within(request(native.url + '/end-twice'), 5000, 'natively');
        const expectedEnding = await within(nativeEnding, 5000, 'the native ending');
        // Node (20) refuses the second end(data) with an 'error' event on the response.
        expect(expectedEnding).toEqual({ aborted: false, ended: true, errors: ['ERR_STREAM_WRITE_AFTER_END'] });
        const wrappedEnding = framework.endings.next('end-twice');
        const b = await within(request(wrapped.url + PREFIX + '/end-twice'), 5000, 'wrapped');
        expect(b.body.toString()).toBe('first');
        expect(comparableResponse(b)).toEqual(comparableResponse(a));
        expect(await within(wrappedEnding, 5000, 'the wrapped ending')).toEqual(expectedEnding);
      });
    });

    it('res.write() after end(): nothing late reaches the client, and the framework sees ERR_STREAM_WRITE_AFTER_END as natively', async () => {
      await fault(async () => {
        const nativeEnding = framework.endings.next('write-after-end');
        const a = await within(request(native.url + '/write-after-end'), 5000, 'natively');
        const expectedEnding = await within(nativeEnding, 5000, 'the native ending');
        expect(expectedEnding.errors).toEqual(['ERR_STREAM_WRITE_AFTER_END']);
        const wrappedEnding = framework.endings.next('write-after-end');
        const b = await within(request(wrapped.url + PREFIX + '/write-after-end'), 5000, 'wrapped');
        expect(b.body.toString()).toBe('done');
        expect(comparableResponse(b)).toEqual(comparableResponse(a));
        expect(await within(wrappedEnding, 5000, 'the wrapped ending')).toEqual(expectedEnding);
      });
    });

    it('the framework app fails after its head: the client sees an incomplete response, never one that looks whole', async () => {
      await fault(async () => {
        const client = await RawSocket.connect(wrapped.port);
        client.write(rawRequest('GET', PREFIX + '/fail-after-head'));
        await within(client.waitForClose(), 5000, 'the connection to close');
        const head = parseHead(client.data)!;
        expect(head.status).toBe(200);
        expect(client.text).toContain('partial;');
        expect(client.text.endsWith('0\r\n\r\n')).toBe(false);
      });
    });

    it('the framework app never ends its response: the client gets what was written; when it leaves, the framework’s response closes unended', async () => {
      await fault(async () => {
        const ending = framework.endings.next('never-ends');
        const client = await RawSocket.connect(wrapped.port);
        client.write(rawRequest('GET', PREFIX + '/never-ends'));
        await within(client.waitFor(() => client.text.includes('start;'), 'the first write'), 5000, 'the first write');
        expect(parseHead(client.data)?.status).toBe(200);
        client.destroy();
        expect(await within(ending, 5000, "the framework's response 'close'")).toMatchObject({ ended: false, aborted: true });
      });
    });

    it('the framework app never answers: when the client leaves, the framework’s response closes and its request is aborted', async () => {
      await fault(async () => {
        const ending = framework.endings.next('never-answers');
        const client = await RawSocket.connect(wrapped.port);
        client.write(rawRequest('GET', PREFIX + '/never-answers'));
        await sleep(50);
        expect(client.data.length).toBe(0);
        client.destroy();
        expect(await within(ending, 5000, "the framework's response 'close'")).toMatchObject({ ended: false, aborted: true });
      });
    });

    it('the client leaves during an upload: the framework’s request is aborted, as natively', async () => {
      await fault(async () => {
        const ending = framework.endings.next('upload');
        const client = await RawSocket.connect(wrapped.port);
        client.write(rawRequest('POST', PREFIX + '/upload', ['Content-Type: application/octet-stream', 'Content-Length: 1048576']));
        client.write(Buffer.alloc(32 * 1024, 0x61));
        await sleep(50);
        client.destroy();
        expect(await within(ending, 5000, "the framework's response 'close'")).toMatchObject({ ended: false, aborted: true });
      });
    });

    it('the client never reads: the framework’s writes are held back by write() returning false; when it leaves, its response closes', async () => {
      await fault(async () => {
        framework.big.writes = 0;
        const ending = framework.endings.next('big');
        const client = await RawSocket.connect(wrapped.port);
        client.socket.pause();
        client.write(rawRequest('GET', PREFIX + '/big'));
        for (let waited = 0; waited < 5000 && framework.big.writes === 0; waited += 10) await sleep(10);
        let writes = -1;
        while (writes !== framework.big.writes) {
          writes = framework.big.writes;
          await sleep(200);
        }
        // 2000 chunks are 125 MiB; socket buffers and the bridge's 16 KiB mark hold a few MiB at most.
        expect(writes).toBeGreaterThan(0);
        expect(writes).toBeLessThan(400);
        client.destroy();
        expect(await within(ending, 5000, "the framework's response 'close'")).toMatchObject({ ended: false });
      });
    });
  });
}
