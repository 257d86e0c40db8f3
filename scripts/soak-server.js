// The soak's server process: every host (our server, Express, Fastify, Koa) mounting every guest
// (a node-wsgi app, Express, Koa, Fastify) under /g. Reports its memory, descriptors and handles.
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaMount from 'koa-mount';
import { mount, serve } from '@node-wsgi/core';
import { fromExpress, toExpress } from '@node-wsgi/express';
import { fromFastify, toFastify } from '@node-wsgi/fastify';
import { fromKoa, toKoa } from '@node-wsgi/koa';

const CHUNK = Buffer.alloc(16 * 1024, 97);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Each guest streams 64 chunks a little at a time, so an abort lands mid-stream.
async function* slowChunks() {
  for (let i = 0; i < 64; i++) {
    yield CHUNK;
    if (i % 8 === 7) await sleep(1);
  }
}

function wsgiGuest(environ, startResponse) {
  if (environ.PATH_INFO === '/stream') {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return slowChunks();
  }
  if (environ.PATH_INFO === '/echo') {
    return (async () => {
      const body = await environ['wsgi.input'].read();
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return [body];
    })();
  }
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
  return ['hello'];
}

function expressGuest() {
  const app = express();
  app.get('/hello', (req, res) => res.cookie('a', '1').cookie('b', '2').type('text/plain').send('hello'));
  app.get('/stream', (req, res) => Readable.from(slowChunks()).pipe(res.type('application/octet-stream')));
  app.post('/echo', express.raw({ type: () => true, limit: '10mb' }), (req, res) => res.type('application/octet-stream').send(req.body));
  return fromExpress(app);
}

function koaGuest() {
  const app = new Koa();
  // Koa logs every client that leaves a streamed body (natively too); the soak aborts on purpose.
  app.silent = true;
  app.use(async (ctx) => {
    if (ctx.path === '/stream') {
      ctx.type = 'application/octet-stream';
      ctx.body = Readable.from(slowChunks());
    } else if (ctx.path === '/echo') {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      ctx.type = 'application/octet-stream';
      ctx.body = Buffer.concat(chunks);
    } else {
      ctx.cookies.set('a', '1');
      ctx.cookies.set('b', '2');
      ctx.body = 'hello';
    }
  });
  return fromKoa(app);
}

function fastifyGuest() {
  const fastify = Fastify();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => done(null, body));
  fastify.get('/hello', async (req, reply) => reply.header('set-cookie', ['a=1', 'b=2']).type('text/plain').send('hello'));
  fastify.get('/stream', (req, reply) => reply.type('application/octet-stream').send(Readable.from(slowChunks())));
  fastify.post('/echo', async (req, reply) => reply.type('application/octet-stream').send(req.body ?? Buffer.alloc(0)));
  return fromFastify(fastify);
}

const GUESTS = { wsgi: () => wsgiGuest, express: expressGuest, koa: koaGuest, fastify: fastifyGuest };

async function host(kind, guest) {
  if (kind === 'serve') return serve(mount({ '/g': guest }), { port: 0, handleSignals: false });
  if (kind === 'express') {
    const app = express();
    app.use('/g', toExpress(guest));
    return new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server));
    });
  }
  if (kind === 'fastify') {
    const fastify = Fastify();
    await fastify.register(toFastify(guest), { prefix: '/g' });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    return fastify.server;
  }
  const koa = new Koa();
  koa.silent = true;
  koa.use(koaMount('/g', toKoa(guest)));
  return new Promise((resolve) => {
    const server = koa.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const pairs = [];
for (const hostKind of ['serve', 'express', 'fastify', 'koa']) {
  for (const [guestKind, makeGuest] of Object.entries(GUESTS)) {
    const server = await host(hostKind, makeGuest());
    pairs.push({ host: hostKind, guest: guestKind, port: server.address().port });
  }
}

function stats() {
  globalThis.gc?.();
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const handles = process.getActiveResourcesInfo();
  return {
    rssMiB: memory.rss / 1048576,
    heapMiB: memory.heapUsed / 1048576,
    fds: readdirSync('/proc/self/fd').length,
    handles: handles.length,
    sockets: handles.filter((h) => h === 'TCPSocketWrap').length,
  };
}

process.on('message', (message) => {
  if (message === 'stats') process.send({ stats: stats() });
  if (message === 'stop') process.exit(0);
});
process.send({ pairs });
