// Differential: a Fastify instance served by `fastify.listen()` and as `serve(fromFastify(fastify))`
// answers every request of one list with the same status, status text, headers (but Date and
// connection management) and body bytes (issue 4).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { PassThrough } from 'node:stream';
import { fromFastify } from '@node-wsgi/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { ALL_BYTES, describeDifferential, serveBoth, standardProbes } from './harness.js';

function buildApp(): FastifyInstance {
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseQuery(body as string));
  });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body);
  });
  app.get('/json', async () => ({ hello: 'world', list: [1, 2, 3], text: 'café ☕' }));
  app.get('/cookies', async (_request, reply) => {
    reply.header('Set-Cookie', 'first=one; Path=/; HttpOnly');
    reply.header('Set-Cookie', 'second=two; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax');
    return 'two cookies';
  });
  app.get('/redirect', async (_request, reply) => reply.redirect('/json'));
  app.get('/empty', async (_request, reply) => reply.code(204).send());
  app.get('/etag', async (request, reply) => {
    reply.header('ETag', '"v1"');
    if (request.headers['if-none-match'] === '"v1"') return reply.code(304).send();
    return 'tagged body';
  });
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  app.get('/bytes', async (_request, reply) => reply.type('application/octet-stream').send(ALL_BYTES));
  app.post('/echo', async (request, reply) => reply.type('application/octet-stream').send(request.body as Buffer));
  app.post('/json-body', async (request) => ({ received: request.body }));
  app.post('/form', async (request) => ({ received: request.body }));
  app.get('/stream', (_request, reply) => {
    // A stream the app writes itself, minding backpressure.
    const stream = new PassThrough();
    void (async () => {
      for (let i = 0; i < 64; i++) {
        if (!stream.write(Buffer.alloc(16 * 1024, i))) await once(stream, 'drain');
      }
      stream.end();
    })();
    return reply.type('application/octet-stream').send(stream);
  });
  app.get('/query', async (request) => ({ url: request.url, rawUrl: request.raw.url, query: request.query }));
  app.get('/path/:a/:b', async (request) => ({ url: request.url, params: request.params }));
  app.get('/headers', async (request) => ({ headers: request.headers, rawHeaders: request.raw.rawHeaders }));
  app.get('/large', async (_request, reply) => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    return reply.type('application/octet-stream').send(big);
  });
  return app;
}

describeDifferential(
  'fromFastify(instance) against the same instance served by fastify.listen()',
  async () => {
    const app = buildApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    return { native: { port, close: () => app.close() }, ...(await serveBoth(fromFastify(app))) };
  },
  standardProbes(),
);
