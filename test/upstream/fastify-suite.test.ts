// Fastify 5's own test suite (fastify/fastify test/), the scenarios that go over a real listening
// server, as differential cases: the instance an upstream test builds, served by fastify.listen() and
// through the bridge (`serve(passThrough(fromFastify(instance)))`), must answer the same bytes. Named
// after the upstream file and test. Every instance records what its hooks and its raw request and
// response saw of each request (onResponse, onRequestAbort, 'close' events) and answers that on
// GET /__seen, asked after the scenario's request, so the two sides' lifecycles are compared too.
import { once } from 'node:events';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { toExpress } from '@node-wsgi/express';
import { fromFastify, toFastify } from '@node-wsgi/fastify';
import { toKoa } from '@node-wsgi/koa';
import express from 'express';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import Koa from 'koa';
import { serve } from '@node-wsgi/core';
import { selfSignedCertificate } from '../support/tls-cert.js';
import { throughMiddleware } from '../differential/harness.js';
import { describeUpstream, listen, listening, serveBridged, type Listening, type Scenario, type Side, type UpstreamProbe } from './upstream-harness.js';

const PKG = path.join(import.meta.dirname, '..', '..', 'package.json');
const PKG_LENGTH = fs.readFileSync(PKG).length;

const SEEN: UpstreamProbe = { method: 'GET', target: '/__seen' };

/** An instance that records each request's lifecycle, then the scenario's routes. */
function fastify(routes: (app: FastifyInstance) => void, options: FastifyServerOptions = {}): () => FastifyInstance {
  return () => {
    const app = Fastify(options);
    const seen: unknown[] = [];
    app.addHook('onRequest', async (request, reply) => {
      if (request.url === '/__seen') return;
      const entry: Record<string, unknown> = { url: request.url, events: [] as string[] };
      seen.push(entry);
      const events = entry.events as string[];
      request.raw.on('aborted', () => events.push('req aborted'));
      request.raw.on('close', () => events.push(`req close${request.raw.destroyed ? ' destroyed' : ''}`));
      reply.raw.on('finish', () => events.push('res finish'));
      reply.raw.on('close', () => events.push(`res close${reply.raw.writableFinished ? ' finished' : ' unfinished'}`));
      (request as unknown as { seenEntry: Record<string, unknown> }).seenEntry = entry;
    });
    app.addHook('onRequestAbort', async (request) => {
      const entry = (request as unknown as { seenEntry?: Record<string, unknown> }).seenEntry;
      if (entry !== undefined) entry.onRequestAbort = true;
    });
    app.addHook('onResponse', async (request, reply) => {
      const entry = (request as unknown as { seenEntry?: Record<string, unknown> }).seenEntry;
      if (entry === undefined) return;
      entry.onResponse = { statusCode: reply.statusCode, sent: reply.sent, finished: reply.raw.writableFinished, elapsed: typeof reply.elapsedTime };
    });
    app.get('/__seen', async () => seen);
    routes(app);
    return app;
  };
}

/**
 * An instance whose logger (info level, Fastify's request logging on) writes to a list, answered on
 * GET /__log without what differs by nature: time, pid, hostname, the client's port, response time,
 * and the "Server listening" line only listen() writes.
 */
function logged(routes: (app: FastifyInstance) => void): () => FastifyInstance {
  return () => {
    const lines: Array<Record<string, unknown>> = [];
    const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } } });
    app.get('/__log', { logLevel: 'silent' }, async () =>
      lines
        .filter((line) => !String(line.msg).startsWith('Server listening'))
        .map(({ time: _t, pid: _p, hostname: _h, responseTime: _r, ...rest }) => {
        const req = rest.req as Record<string, unknown> | undefined;
        if (req !== undefined) delete req.remotePort;
        const err = rest.err as Record<string, unknown> | undefined;
        if (err !== undefined) delete err.stack;
        return rest;
      }),
    );
    routes(app);
    return app;
  };
}
const LOG: UpstreamProbe = { method: 'GET', target: '/__log' };

async function fastifyNative(app: FastifyInstance): Promise<Listening> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

const bridgedByServe = { 'serve(passThrough(fromFastify(instance)))': (app: FastifyInstance) => serveBridged(fromFastify(app)) };

const GET: UpstreamProbe = { method: 'GET', target: '/' };
const HEAD: UpstreamProbe = { method: 'HEAD', target: '/' };

function slowStream(parts: number, size: number): Readable {
  const stream = new PassThrough();
  void (async () => {
    for (let i = 0; i < parts; i++) {
      if (!stream.write(Buffer.alloc(size, 97 + (i % 26)))) await once(stream, 'drain');
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    stream.end();
  })();
  return stream;
}

// test/reply-*.test.js, test/stream*.test.js, test/content-length.test.js, test/head.test.js,
// test/buffer.test.js: what reply.send() makes of each payload.
const reply: Array<Scenario<FastifyInstance>> = [
  {
    name: 'get: shorthand - request get (JSON object, and its automatic HEAD route)',
    build: fastify((app) => app.get('/', async () => ({ hello: 'world', text: 'café ☕' }))),
    probes: [GET, HEAD],
    followUp: SEEN,
  },
  {
    name: 'reply: reply.send a string (text/plain; charset=utf-8), and its HEAD',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.send('hello world'))),
    probes: [GET, HEAD],
    followUp: SEEN,
  },
  {
    name: 'buffer: Buffer payload (application/octet-stream)',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.send(Buffer.from('hello buffer')))),
    probes: [GET, HEAD],
  },
  {
    name: 'stream: should respond with a stream',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.send(fs.createReadStream(PKG)))),
    probes: [GET, HEAD],
    followUp: SEEN,
  },
  {
    name: 'stream: a stream that waits between chunks (chunked, backpressure)',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.type('text/plain').send(slowStream(40, 8 * 1024)))),
    followUp: SEEN,
  },
  {
    name: 'stream: a web ReadableStream payload',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.type('text/plain').send(new Blob(['web ', 'stream']).stream()))),
  },
  {
    name: 'stream: should destroy stream when response is ended (HTTP/1.0 client, close-delimited)',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.type('text/plain').send(Readable.from(['a', 'b', 'c'])))),
    probes: [{ method: 'GET', target: '/', version: '1.0' }],
    followUp: SEEN,
  },
  {
    name: 'content-length: a JSON response of 1 MiB',
    build: fastify((app) => app.get('/', async () => ({ data: 'x'.repeat(1024 * 1024) }))),
  },
  {
    name: 'reply: reply.code(204).send() strips the body and Content-Type',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.code(204).send('ignored'))),
    followUp: SEEN,
  },
  {
    name: 'reply: 304 Not Modified with a payload sends no body',
    build: fastify((app) =>
      app.get('/', (_req, reply) => void reply.code(304).header('ETag', '"v1"').send('not sent')),
    ),
  },
  {
    name: 'reply: reply.code(205) with no payload',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.code(205).send())),
  },
  {
    name: 'reply: reply.header with an array, reply.headers(), removeHeader, and a type with charset',
    build: fastify((app) =>
      app.get('/', (_req, reply) => {
        reply.header('X-List', ['one', 'two']);
        reply.headers({ 'X-A': 'a', 'x-b': 'b', 'Set-Cookie': ['c1=1; Path=/', 'c2=2; HttpOnly'] });
        reply.header('x-gone', 'soon');
        reply.removeHeader('x-gone');
        reply.type('text/html; charset=iso-8859-1');
        reply.send('<b>headers</b>');
      }),
    ),
  },
  {
    name: 'reply: reply.status(201) with a custom serializer',
    build: fastify((app) =>
      app.get('/', (_req, reply) => {
        reply.status(201).serializer((payload: unknown) => `custom:${JSON.stringify(payload)}`).send({ a: 1 });
      }),
    ),
  },
  {
    name: 'reply: reply.redirect(url) and reply.redirect(url, 301)',
    build: fastify((app) => {
      app.get('/', (_req, reply) => void reply.redirect('/target'));
      app.get('/perm', (_req, reply) => void reply.redirect('http://example.com/x', 301));
    }),
    probes: [GET, { name: '301', method: 'GET', target: '/perm' }],
  },
  {
    name: 'reply: reply.hijack() and a response written by hand',
    build: fastify((app) =>
      app.get('/', (_req, reply) => {
        reply.hijack();
        reply.raw.writeHead(202, 'Taken By Hand', { 'Content-Type': 'text/plain', 'X-Hijacked': 'yes' });
        reply.raw.write('hand ');
        setTimeout(() => reply.raw.end('written'), 2);
      }),
    ),
    followUp: SEEN,
  },
  {
    name: 'reply: reply.hijack() with an explicit Content-Length, written in two parts',
    build: fastify((app) =>
      app.get('/', (_req, reply) => {
        reply.hijack();
        reply.raw.writeHead(200, { 'Content-Length': '10' });
        reply.raw.write('01234');
        setTimeout(() => reply.raw.end('56789'), 2);
      }),
    ),
    followUp: SEEN,
  },
  {
    name: 'reply: reply.send(Buffer) under an explicit Content-Length header (content-length.test.js)',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.header('Content-Length', '5').send(Buffer.from('12345')))),
  },
  {
    name: 'reply: reply.send(null), reply.send() and a custom reason via reply.raw.statusMessage',
    build: fastify((app) => {
      app.get('/', (_req, reply) => void reply.send(null));
      app.get('/empty', (_req, reply) => void reply.send());
      app.get('/reason', (_req, reply) => {
        reply.raw.statusMessage = 'Quite Fine';
        void reply.send('with a reason');
      });
    }),
    probes: [GET, { name: 'send()', method: 'GET', target: '/empty' }, { name: 'reason', method: 'GET', target: '/reason' }],
  },
  {
    name: 'stream: should trigger the onSend hook, and error mid-stream aborts the response',
    build: fastify((app) =>
      app.get('/', (_req, reply) => {
        const stream = new PassThrough();
        stream.write('first part ');
        setTimeout(() => stream.destroy(new Error('mid-stream')), 5);
        void reply.type('text/plain').send(stream);
      }),
    ),
    incomplete: true,
    // Natively the request's 'aborted' comes before the response's 'close': the bridge aborts the
    // request when its synthetic connection closes, as Node's server does.
    followUp: SEEN,
  },
  {
    name: 'stream: an error before the first chunk goes to the error handler',
    build: fastify((app) =>
      app.get('/', (_req, reply) => {
        const stream = new PassThrough();
        setImmediate(() => stream.destroy(new Error('early')));
        void reply.type('text/plain').send(stream);
      }),
    ),
    followUp: SEEN,
  },
  {
    name: 'stream: a stream with its Content-Length set by the route',
    build: fastify((app) => app.get('/', (_req, reply) => void reply.header('Content-Length', String(PKG_LENGTH)).type('application/json').send(fs.createReadStream(PKG)))),
    // The gateway stops at the Content-Length before the stream's end reaches res.end(): the bridge
    // waits for that end, so onResponse runs and onRequestAbort does not, as natively.
    followUp: SEEN,
  },
  {
    name: '404s: a POST with a body to a missing route',
    build: fastify(() => {}),
    probes: [{ method: 'POST', target: '/missing', headers: [['Content-Type', 'text/plain']], body: 'unread body' }],
    followUp: SEEN,
  },
];

// test/404s.test.js, test/500s.test.js, test/error-handling*.test.js, test/schema-*.test.js
const errors: Array<Scenario<FastifyInstance>> = [
  {
    name: '404s: default 404 (and on an unsupported method of a known path)',
    build: fastify((app) => app.get('/', async () => 'root')),
    probes: [
      { method: 'GET', target: '/not-found' },
      { name: 'DELETE on a GET route', method: 'DELETE', target: '/' },
      { name: 'HEAD of nothing', method: 'HEAD', target: '/nothing' },
    ],
    followUp: SEEN,
  },
  {
    name: '404s: customized 404 (setNotFoundHandler)',
    build: fastify((app) => {
      app.setNotFoundHandler((request, reply) => void reply.code(404).header('X-Custom-404', request.url).send('this was not found'));
    }),
    probes: [{ method: 'GET', target: '/missing?q=1' }],
  },
  {
    name: '500s: default 500 (an async handler throws)',
    build: fastify((app) =>
      app.get('/', async () => {
        throw new Error('kaboom');
      }),
    ),
    followUp: SEEN,
  },
  {
    name: '500s: custom error handler (setErrorHandler with a status and headers)',
    build: fastify((app) => {
      app.setErrorHandler((error, _request, reply) => {
        const message = (error as Error).message;
        void reply.code(418).header('X-Error', message).send({ custom: true, message });
      });
      app.get('/', () => {
        throw new Error('custom');
      });
    }),
    followUp: SEEN,
  },
  {
    name: 'error-handling-headers: an error with statusCode and headers',
    build: fastify((app) =>
      app.get('/', async () => {
        throw Object.assign(new Error('teapot'), { statusCode: 418, headers: { 'X-From-Error': 'yes' } });
      }),
    ),
  },
  {
    name: 'schema-validation: querystring and params validation errors answer 400',
    build: fastify((app) => {
      app.get('/q', { schema: { querystring: { type: 'object', properties: { hello: { type: 'integer' } } } } }, async (req) => req.query);
      app.get('/p/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async (req) => req.params);
    }),
    probes: [
      { name: 'valid query', method: 'GET', target: '/q?hello=123' },
      { name: 'invalid query', method: 'GET', target: '/q?hello=world' },
      { name: 'invalid params', method: 'GET', target: '/p/abc' },
      { name: 'HEAD with invalid query', method: 'HEAD', target: '/q?hello=world' },
    ],
  },
  {
    name: 'url: a malformed percent-escape in the path (FST_ERR_BAD_URL)',
    build: fastify((app) => app.get('/:p', async (req) => req.params)),
    probes: [
      { method: 'GET', target: '/%zz' },
      { name: 'escaped slash in a param', method: 'GET', target: '/a%2Fb' },
      { name: 'percent-encoded UTF-8', method: 'GET', target: '/caf%C3%A9' },
    ],
  },
];

// test/content-parser*.test.js, test/custom-parser*.test.js, test/body-limit.test.js
const bodies: Array<Scenario<FastifyInstance>> = [
  {
    name: 'content-parser: JSON body, its errors, and an unsupported type',
    build: fastify((app) => app.post('/', async (req) => ({ body: req.body ?? null }))),
    probes: [
      { name: 'JSON', method: 'POST', target: '/', headers: [['Content-Type', 'application/json']], body: '{"hello":"world"}' },
      { name: 'chunked JSON', method: 'POST', target: '/', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: '6\r\n{"a":1\r\n1\r\n}\r\n0\r\n\r\n' },
      { name: 'no body, no type', method: 'POST', target: '/' },
      { name: 'text/plain', method: 'POST', target: '/', headers: [['Content-Type', 'text/plain; charset=utf-8']], body: 'café' },
    ],
    followUp: SEEN,
  },
  {
    name: 'content-parser: JSON parse errors answer 400',
    build: fastify((app) => app.post('/', async (req) => ({ body: req.body ?? null }))),
    probes: [
      { name: 'invalid JSON', method: 'POST', target: '/', headers: [['Content-Type', 'application/json']], body: '{"hello":' },
      { name: 'empty JSON body', method: 'POST', target: '/', headers: [['Content-Type', 'application/json'], ['Content-Length', '0']] },
    ],
    followUp: SEEN,
  },
  {
    name: 'content-parser: an unsupported type answers 415, the body unread and the request not aborted',
    build: fastify((app) => app.post('/', async (req) => ({ body: req.body ?? null }))),
    probes: [{ method: 'POST', target: '/', headers: [['Content-Type', 'application/x-nope']], body: 'x' }],
    followUp: SEEN,
  },
  {
    name: 'body-limit: bodyLimit exceeded answers 413 (by counting a chunked body)',
    build: fastify((app) => app.post('/', async (req) => ({ body: req.body ?? null })), { bodyLimit: 10 }),
    probes: [
      {
        name: 'chunked',
        method: 'POST',
        target: '/',
        headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']],
        body: '8\r\n{"hello"\r\n8\r\n:"world"\r\n8\r\n,"x":1}\r\n0\r\n\r\n',
      },
    ],
    followUp: SEEN,
  },
  {
    name: 'custom-parser: parseAs buffer and string, and a catch-all parser',
    build: fastify((app) => {
      app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, (body as string).split(',')));
      app.addContentTypeParser('*', (_req, payload, done) => {
        let data = '';
        payload.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
        payload.on('end', () => done(null, `any:${data}`));
      });
      app.post('/', async (req) => ({ body: Buffer.isBuffer(req.body) ? [...req.body] : req.body }));
    }),
    probes: [
      { name: 'buffer', method: 'POST', target: '/', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.from([0, 1, 254, 255]) },
      { name: 'string', method: 'POST', target: '/', headers: [['Content-Type', 'text/csv']], body: 'a,b,c' },
      { name: 'catch-all', method: 'POST', target: '/', headers: [['Content-Type', 'application/x-whatever']], body: 'raw' },
    ],
  },
  {
    name: 'route: handler reads request.raw itself (no parser: a GET body is ignored by Fastify)',
    build: fastify((app) =>
      app.post('/', async (req) => ({ length: req.headers['content-length'] ?? null, body: req.body ?? null })),
    ),
    probes: [{ method: 'POST', target: '/', headers: [['Content-Type', 'application/json'], ['Expect', '100-continue']], body: '{"a":1}' }],
  },
];

// test/hooks*.test.js
const hooks: Array<Scenario<FastifyInstance>> = [
  {
    name: 'hooks: onSend hook should support encapsulation and change the payload and headers',
    build: fastify((app) => {
      app.addHook('onSend', async (_req, reply, payload) => {
        reply.header('X-On-Send', 'yes');
        return typeof payload === 'string' ? payload.toUpperCase() : payload;
      });
      app.get('/', async () => 'changed by onSend');
    }),
    probes: [GET, HEAD],
  },
  {
    name: 'hooks: onRequest hook should respond with the reply (401 before the handler)',
    build: fastify((app) => {
      app.addHook('onRequest', async (req, reply) => {
        if (req.url === '/__seen') return;
        if (!req.headers.authorization) await reply.code(401).header('WWW-Authenticate', 'Basic').send({ denied: true });
      });
      app.get('/', async () => 'allowed');
    }),
    probes: [GET, { name: 'authorised', method: 'GET', target: '/', headers: [['Authorization', 'Basic x']] }],
    followUp: SEEN,
  },
  {
    name: 'hooks: preHandler and preSerialization hooks',
    build: fastify((app) => {
      app.addHook('preHandler', async (req) => {
        (req as unknown as { extra: string }).extra = 'from preHandler';
      });
      app.addHook('preSerialization', async (_req, _reply, payload) => ({ ...(payload as object), serialized: true }));
      app.get('/', async (req) => ({ extra: (req as unknown as { extra: string }).extra }));
    }),
  },
  {
    name: 'hooks: onError hook runs and the default error reply follows',
    build: fastify((app) => {
      app.addHook('onError', async (_req, reply) => {
        reply.header('X-On-Error', 'seen');
      });
      app.get('/', async () => {
        throw Object.assign(new Error('bad'), { statusCode: 422 });
      });
    }),
  },
  {
    name: 'hooks: onRequestAbort runs when the client goes away before the reply (and onResponse does not)',
    build: fastify((app) =>
      app.get('/', async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return 'too late';
      }),
    ),
    probes: [{ method: 'GET', target: '/', disconnectAfterMs: 20 }],
    followUp: SEEN,
  },
  {
    name: 'logger: request logging (incoming request / request completed) and a logged 500',
    build: logged((app) => {
      app.get('/', async (req) => {
        req.log.info({ custom: true }, 'in the handler');
        return 'logged';
      });
      app.get('/boom', async () => {
        throw new Error('logged boom');
      });
    }),
    probes: [GET, { name: '500', method: 'GET', target: '/boom' }, { name: '404', method: 'POST', target: '/nothing', headers: [['Content-Type', 'application/json']], body: '{}' }],
    followUp: LOG,
  },
  {
    name: 'headers-sent: disconnecting from a stream response should not crash the server (an endless stream is destroyed)',
    build: fastify((app) =>
      app.get('/', (request, reply) => {
        const stream = new Readable({ read() {} });
        const timer = setInterval(() => stream.push('tick\n'), 5);
        stream.on('close', () => {
          clearInterval(timer);
          (request as unknown as { seenEntry: { events: string[] } }).seenEntry.events.push('stream close');
        });
        void reply.type('text/event-stream').send(stream);
      }),
    ),
    probes: [{ method: 'GET', target: '/', disconnectAfterMs: 30 }],
    followUp: SEEN,
  },
];

// test/request*.test.js, test/trust-proxy.test.js, test/url-rewriting, test/case-insensitive.test.js
const requestEcho = (app: FastifyInstance): void => {
  app.all('/*', async (req) => ({
    method: req.method,
    url: req.url,
    originalUrl: req.originalUrl,
    routeUrl: req.routeOptions.url ?? null,
    params: req.params,
    query: req.query,
    ip: req.ip,
    ips: req.ips ?? null,
    host: req.host,
    hostname: req.hostname,
    port: req.port,
    protocol: req.protocol,
    id: req.id,
    headers: req.headers,
    rawHeaders: req.raw.rawHeaders,
    httpVersion: req.raw.httpVersion,
    encrypted: (req.socket as { encrypted?: boolean }).encrypted ?? null,
    remoteAddress: req.socket.remoteAddress ?? null,
    remoteFamily: req.socket.remoteFamily ?? null,
    is404: req.is404,
  }));
};

const requestProbes: UpstreamProbe[] = [
  { name: 'plain', method: 'GET', target: '/a/b?x=1&x=2&y=%2F+z' },
  { name: 'Host with a port', method: 'GET', target: '/', headers: [['X-Other', 'v']] },
  {
    name: 'X-Forwarded-* without trustProxy are ignored',
    method: 'GET',
    target: '/',
    headers: [
      ['X-Forwarded-For', '1.1.1.1, 2.2.2.2'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'proxied.example:8443'],
    ],
  },
  { name: 'HTTP/1.0 without Host', method: 'GET', target: '/old', version: '1.0', noHost: true },
  { name: 'absolute-form target', method: 'GET', target: 'http://differential.test/abs?q=1' },
  { name: 'repeated headers', method: 'GET', target: '/', headers: [['X-Multi', 'a'], ['X-Multi', 'b'], ['Cookie', 'a=1'], ['Cookie', 'b=2']] },
  { name: 'a POST with a JSON body', method: 'POST', target: '/post', headers: [['Content-Type', 'application/json']], body: '{}' },
];

const trustProbes: UpstreamProbe[] = [
  {
    name: 'trust-proxy: X-Forwarded-For, -Proto and -Host',
    method: 'GET',
    target: '/',
    headers: [
      ['X-Forwarded-For', '1.1.1.1, 2.2.2.2'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'proxied.example:8443'],
    ],
  },
  { name: 'trust-proxy: IPv6 forwarded host', method: 'GET', target: '/', headers: [['X-Forwarded-Host', '[::1]:3000']] },
  { name: 'trust-proxy: several X-Forwarded-Proto values', method: 'GET', target: '/', headers: [['X-Forwarded-Proto', 'https, http']] },
];

const request: Array<Scenario<FastifyInstance>> = [
  { name: 'request: request properties (ip, host, hostname, port, protocol, url, query, headers)', build: fastify(requestEcho), probes: requestProbes },
  { name: 'trust-proxy: trustProxy: true', build: fastify(requestEcho, { trustProxy: true }), probes: trustProbes },
  { name: "trust-proxy: trustProxy: '127.0.0.1'", build: fastify(requestEcho, { trustProxy: '127.0.0.1' }), probes: trustProbes.slice(0, 1) },
  { name: 'trust-proxy: trustProxy: 1 (hop count)', build: fastify(requestEcho, { trustProxy: 1 as never }), probes: trustProbes.slice(0, 1) },
  {
    name: 'case-insensitive and ignoreTrailingSlash router options',
    build: fastify((app) => app.get('/Foo/bar', async (req) => ({ url: req.url })), { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } }),
    probes: [
      { method: 'GET', target: '/FOO/BAR/' },
      { name: 'as registered', method: 'GET', target: '/Foo/bar' },
    ],
  },
  {
    name: 'maxParamLength: a too long param answers 414',
    build: fastify((app) => app.get('/:p', async (req) => req.params), { routerOptions: { maxParamLength: 5 } }),
    probes: [{ method: 'GET', target: '/toolongparam' }],
  },
  {
    name: 'body-limit: bodyLimit exceeded by Content-Length answers 413, the body unread and the request not aborted',
    build: fastify((app) => app.post('/', async (req) => ({ body: req.body ?? null })), { bodyLimit: 10 }),
    probes: [{ method: 'POST', target: '/', headers: [['Content-Type', 'application/json']], body: '{"hello":"world, too long"}' }],
    followUp: SEEN,
  },
  {
    name: 'url-rewriting: should rewrite url (rewriteUrl), request.originalUrl kept',
    build: fastify(
      (app) => app.get('/new', async (req) => ({ url: req.url, originalUrl: req.originalUrl, rawUrl: req.raw.url })),
      { rewriteUrl: (req) => (req.url === '/old?x=1' ? '/new?x=1' : (req.url ?? '/')) },
    ),
    probes: [{ method: 'GET', target: '/old?x=1' }, { name: 'not rewritten', method: 'GET', target: '/new' }],
  },
];

describeUpstream('Fastify 5 upstream suite: fastify.listen() against serve(passThrough(fromFastify(instance)))', { native: fastifyNative, bridged: bridgedByServe }, [
  ...reply,
  ...errors,
  ...bodies,
  ...hooks,
  ...request,
]);

const hosted = {
  'express: app.use(toExpress(fromFastify(instance)))': async (app: FastifyInstance) => {
    const host = express();
    // Express's own header, not the guest's.
    host.disable('x-powered-by');
    host.use(toExpress(fromFastify(app)));
    return listen(host);
  },
  'fastify: register(toFastify(fromFastify(instance)))': async (app: FastifyInstance) => {
    const host = Fastify({ forceCloseConnections: true });
    await host.register(toFastify(fromFastify(app)));
    await host.listen({ port: 0, host: '127.0.0.1' });
    return { port: (host.server.address() as AddressInfo).port, close: () => host.close() };
  },
  'koa: use(toKoa(fromFastify(instance)))': async (app: FastifyInstance) => {
    const host = new Koa();
    host.use(toKoa(fromFastify(app)));
    const server = host.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return listening(server);
  },
};

const pick = (names: string[]): Array<Scenario<FastifyInstance>> =>
  names.map((name) => {
    const found = [...reply, ...errors, ...bodies, ...hooks].find((s) => s.name === name);
    if (found === undefined) throw new Error(`no scenario ${name}`);
    return found;
  });

describeUpstream(
  'Fastify 5 upstream scenarios: native Fastify against fromFastify(instance) hosted by Express, Fastify and Koa',
  {
    native: fastifyNative,
    bridged: hosted,
    // toKoa hands the headers to ctx.set, name by name: the order of different names is Koa's.
    hostSpelling: [
      // Fastify sends lower-case names and groups a name's lines, even for a hijacked raw response.
      'fastify: register(toFastify(fromFastify(instance)))',
      // Fastify's lower-case 'set-cookie' goes out as 'Set-Cookie' through toKoa (names are
      // case-insensitive; each name's values, in their order, are still compared).
      'koa: use(toKoa(fromFastify(instance)))',
    ],
  },
  [
    ...pick([
      'get: shorthand - request get (JSON object, and its automatic HEAD route)',
      'stream: should respond with a stream',
      'reply: reply.code(204).send() strips the body and Content-Type',
      'reply: reply.header with an array, reply.headers(), removeHeader, and a type with charset',
      '404s: default 404 (and on an unsupported method of a known path)',
      '500s: default 500 (an async handler throws)',
      'hooks: onSend hook should support encapsulation and change the payload and headers',
      'reply: reply.hijack() and a response written by hand',
    ]),
    { name: 'request: request properties through a host', build: fastify(requestEcho), probes: requestProbes.slice(0, 3) },
  ],
);


// Over TLS: Fastify({ https }) listening against serve(passThrough(fromFastify(instance)), { tls }):
// request.protocol comes from the socket's `encrypted`.
const CERT = selfSignedCertificate();
const quiet = { write() {}, writelines() {}, flush() {} };

describeUpstream(
  'Fastify 5 upstream scenarios over TLS: Fastify({ https }) against serve(passThrough(fromFastify(instance)), { tls })',
  {
    native: async (app: FastifyInstance): Promise<Side> => ({ ...(await fastifyNative(app)), tls: true }),
    bridged: {
      'serve(passThrough(fromFastify(instance)), { tls })': async (app: FastifyInstance): Promise<Side> => {
        const server = await serve(throughMiddleware(fromFastify(app)), { port: 0, host: '127.0.0.1', handleSignals: false, errors: quiet, tls: CERT });
        return { ...listening(server), tls: true };
      },
    },
  },
  [
    {
      name: 'https: request.protocol is https (the socket is encrypted)',
      build: fastify((app) => {
        requestEcho(app);
      }, { https: CERT } as never),
      probes: requestProbes.slice(0, 1),
    },
  ],
);
