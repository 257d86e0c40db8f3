// The popular middleware of each ecosystem, natively and through the bridge: one app built with
// cors / helmet / morgan / multer / express-session (Express), @koa/cors / @koa/router / koa-session /
// @koa/multer (Koa), @fastify/cors / @fastify/multipart / @fastify/static (Fastify), served by its own
// framework and as `serve(passThrough(fromX(app)))`, and the telling scenarios also hosted by the other
// frameworks (`register(toFastify(fromExpress(app)))`, `use(toKoa(fromExpress(app)))`, ...). What a
// client sees over loopback must be equal: status, reason, headers but Date and connection management,
// body bytes; and what morgan logs, time fields masked. A scenario of several requests carries the
// cookies the previous responses set (a session made, then read), or builds its next request from the
// previous response (an ETag sent back as If-None-Match). Each case also says what the native side
// answers (its statuses), so a scenario that broke everywhere cannot pass. The last part puts the
// middleware on the host instead, in front of a hosted app, against the same routes on the host.
// Left out, and reported instead: toKoa dropping a 204's Content-Length, a Fastify host's 404 for
// methods Fastify does not route (LINK), toFastify at the root beside @fastify/cors (one route,
// the host does not boot), and toExpress moving a header the host had set to the app's position.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { fromExpress, toExpress } from '@node-wsgi/express';
import { fromFastify, toFastify } from '@node-wsgi/fastify';
import { fromKoa, toKoa } from '@node-wsgi/koa';
import fastifyCors from '@fastify/cors';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import { bodyParser as koaBodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import Koa from 'koa';
import koaSession from 'koa-session';
import { describe, expect, it } from 'vitest';
import { captureConsoleErrors, chunked, comparable, parseWire, requestBytes, throughMiddleware, type Probe, type WireResponse } from '../differential/harness.js';
import { listening, serveBridged, type Listening } from './upstream-harness.js';

// The packages that ship no types are loaded through require, typed here as far as the tests use them.
const require = createRequire(import.meta.url);
type Handler = express.RequestHandler;
const cors = require('cors') as (options?: Record<string, unknown>) => Handler;
const morgan = require('morgan') as ((format: string, options: { stream: { write(line: string): void } }) => Handler) & {
  token(name: string, fn: (req: http.IncomingMessage, res: http.ServerResponse) => string | undefined): void;
};
interface StoredFile { fieldname: string; originalname: string; encoding: string; mimetype: string; size: number; buffer: Buffer }
interface Multer {
  fields(fields: Array<{ name: string; maxCount?: number }>): Handler;
  any(): Handler;
}
const multer = require('multer') as ((options?: Record<string, unknown>) => Multer) & { memoryStorage(): unknown };
const session = require('express-session') as (options: Record<string, unknown>) => Handler;
const koaCors = require('@koa/cors') as (options?: Record<string, unknown>) => Koa.Middleware;
const koaMulter = require('@koa/multer') as ((options?: Record<string, unknown>) => {
  fields(fields: Array<{ name: string; maxCount?: number }>): Koa.Middleware;
}) & { memoryStorage(): unknown };

// ---------------------------------------------------------------------------------------------------
// The runner.

/** A request of a scenario; a function builds it from the responses before it. */
type Step = Probe | ((previous: WireResponse[]) => Probe);

interface Case<T> {
  name: string;
  /** What the native side answers, request by request: a scenario broken on every side cannot pass. */
  statuses: number[];
  /** Builds one side's app; `log` is where a logger of the app writes its lines. */
  build: (log: (line: string) => void) => T | Promise<T>;
  steps: Step[];
  /** Each request carries the cookies the responses before it set (name=value, last one wins). */
  carryCookies?: boolean;
  /** Masks what differs by nature between two runs (times) in a logged line. */
  maskLog?: (line: string) => string;
  /** Ways this case is not run on, each with the reason (a known, accepted deviation, or a divergence reported). */
  notOn?: Record<string, string>;
}

interface Sides<T> {
  native(app: T): Promise<Listening>;
  bridged: Record<string, (app: T) => Promise<Listening>>;
  /** Ways whose host writes header names in lower case (Fastify): names compared lower-cased. */
  hostSpelling: string[];
}

function cookiesOf(responses: WireResponse[]): Array<[string, string]> {
  const jar = new Map<string, string>();
  for (const response of responses) {
    for (const [name, value] of response.headers) {
      if (name.toLowerCase() !== 'set-cookie') continue;
      const pair = value.split(';')[0]!;
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  return jar.size === 0 ? [] : [['Cookie', [...jar].map(([n, v]) => `${n}=${v}`).join('; ')]];
}

interface Run {
  responses: Array<ReturnType<typeof comparable>>;
  log: string[];
}

async function run<T>(kase: Case<T>, start: (app: T) => Promise<Listening>, open: Listening[], expectedLogLines?: number): Promise<Run> {
  const lines: string[] = [];
  const server = await start(await kase.build((line) => lines.push(line)));
  open.push(server);
  const wire: WireResponse[] = [];
  for (const step of kase.steps) {
    let probe = typeof step === 'function' ? step(wire) : step;
    if (kase.carryCookies) probe = { ...probe, headers: [...(probe.headers ?? []), ...cookiesOf(wire)] };
    wire.push(await exchangeWhole(server.port, requestBytes(probe), probe.method === 'HEAD'));
  }
  // A logger writes when the response has finished, which may be after the client read it: wait for
  // the native side's count of lines (bounded), then compare what came.
  const want = expectedLogLines ?? 0;
  for (let i = 0; i < 100 && lines.length < want; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { responses: wire.map(comparable), log: lines.map(kase.maskLog ?? ((l) => l)) };
}

/**
 * exchange(), but a server that answers before it has read the whole request (a refused upload) and
 * closes may make the client's write fail (EPIPE, ECONNRESET): the response that came is still parsed.
 */
async function exchangeWhole(port: number, bytes: Buffer, head: boolean): Promise<WireResponse> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let failure: Error | undefined;
  try {
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.once('error', (err) => {
        failure = err;
        resolve();
      });
      socket.once('close', () => resolve());
      socket.write(bytes);
    });
  } finally {
    socket.destroy();
  }
  if (chunks.length === 0 && failure !== undefined) throw failure;
  return parseWire(Buffer.concat(chunks), head);
}

function lowerCased(seen: Run): Run {
  return {
    ...seen,
    responses: seen.responses.map((r) => {
      const headers = r.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]);
      headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return { ...r, headers };
    }),
  };
}

function describeEcosystem<T>(title: string, sides: Sides<T>, cases: Array<Case<T>>): void {
  describe(title, () => {
    for (const kase of cases) {
      it(kase.name, async () => {
        const logged = captureConsoleErrors();
        const open: Listening[] = [];
        try {
          const expected = await run(kase, sides.native, open);
          expect(expected.responses.map((r) => r.status), 'native statuses').toEqual(kase.statuses);
          const nativeConsole = logged.take();
          for (const [way, start] of Object.entries(sides.bridged)) {
            if (kase.notOn?.[way] !== undefined) continue;
            const seen = await run(kase, start, open, expected.log.length);
            const host = sides.hostSpelling.includes(way);
            expect(host ? lowerCased(seen) : seen, way).toEqual(host ? lowerCased(expected) : expected);
            expect(logged.take(), `${way}: console.error`).toEqual(nativeConsole);
          }
        } finally {
          logged.restore();
          await Promise.all(open.map((server) => server.close()));
        }
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Servers.

function listenHttp(handler: http.RequestListener): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(listening(server)));
  });
}

async function koaListen(app: Koa): Promise<Listening> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return listening(server);
}

async function fastifyListen(app: FastifyInstance): Promise<Listening> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

function expressHost(): express.Express {
  const host = express();
  host.disable('x-powered-by');
  return host;
}

const expressSides: Sides<express.Express> = {
  native: (app) => listenHttp(app),
  bridged: {
    'serve(passThrough(fromExpress(app)))': (app) => serveBridged(fromExpress(app)),
    'fastify: register(toFastify(fromExpress(app)))': async (app) => {
      const host = Fastify({ forceCloseConnections: true });
      await host.register(toFastify(fromExpress(app)));
      return fastifyListen(host);
    },
    'koa: use(toKoa(fromExpress(app)))': (app) => {
      const host = new Koa();
      host.use(toKoa(fromExpress(app)));
      return koaListen(host);
    },
  },
  hostSpelling: ['fastify: register(toFastify(fromExpress(app)))'],
};

const koaSides: Sides<Koa> = {
  native: koaListen,
  bridged: {
    'serve(passThrough(fromKoa(app)))': (app) => serveBridged(fromKoa(app)),
    'express: use(toExpress(fromKoa(app)))': (app) => {
      const host = expressHost();
      host.use(toExpress(fromKoa(app)));
      return listenHttp(host);
    },
    'fastify: register(toFastify(fromKoa(app)))': async (app) => {
      const host = Fastify({ forceCloseConnections: true });
      await host.register(toFastify(fromKoa(app)));
      return fastifyListen(host);
    },
  },
  hostSpelling: ['fastify: register(toFastify(fromKoa(app)))'],
};

const fastifySides: Sides<FastifyInstance> = {
  native: fastifyListen,
  bridged: {
    'serve(passThrough(fromFastify(app)))': (app) => serveBridged(fromFastify(app)),
    'express: use(toExpress(fromFastify(app)))': (app) => {
      const host = expressHost();
      host.use(toExpress(fromFastify(app)));
      return listenHttp(host);
    },
    'koa: use(toKoa(fromFastify(app)))': (app) => {
      const host = new Koa();
      host.use(toKoa(fromFastify(app)));
      return koaListen(host);
    },
  },
  // Koa's length setter respells a complete body's `content-length` as `Content-Length` (and
  // `set-cookie` as `Set-Cookie`); names are case-insensitive, each name's values are still compared.
  hostSpelling: ['koa: use(toKoa(fromFastify(app)))'],
};

/** strictPaths (on by default) hands a path with an ambiguous escape such as %2F on to the host. */
const STRICT = 'strictPaths refuses an ambiguous escape on a framework host (known, accepted)';

// ---------------------------------------------------------------------------------------------------
// Shared requests.

const ORIGIN = 'http://client.example';

const corsProbes = {
  preflight: {
    name: 'preflight',
    method: 'OPTIONS',
    target: '/data',
    headers: [
      ['Origin', ORIGIN],
      ['Access-Control-Request-Method', 'PUT'],
      ['Access-Control-Request-Headers', 'X-Custom, Content-Type'],
    ],
  },
  simple: { name: 'simple GET', method: 'GET', target: '/data', headers: [['Origin', ORIGIN]] },
  noOrigin: { name: 'no Origin', method: 'GET', target: '/data' },
  otherOrigin: { name: 'preflight from an origin not allowed', method: 'OPTIONS', target: '/data', headers: [['Origin', 'http://evil.example'], ['Access-Control-Request-Method', 'DELETE']] },
  post: { name: 'simple POST', method: 'POST', target: '/data', headers: [['Origin', ORIGIN], ['Content-Type', 'text/plain']], body: 'hello' },
} satisfies Record<string, Probe>;

/** Bytes that are not all one value, so a shifted or cut file shows in its hash. */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const BOUNDARY = '----node-wsgi-ecosystem-7MA4YWxkTrZu0gW';

function multipart(parts: Array<{ name: string; value: Buffer | string; filename?: string; type?: string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"\r\nContent-Type: ${part.type ?? 'application/octet-stream'}`;
    chunks.push(Buffer.from(head + '\r\n\r\n'), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function uploadProbe(size: number, name: string): Probe {
  return {
    name,
    method: 'POST',
    target: '/upload',
    headers: [['Content-Type', `multipart/form-data; boundary=${BOUNDARY}`]],
    body: multipart([
      { name: 'title', value: 'two files, café' },
      { name: 'avatar', value: pattern(size, 1), filename: 'a.bin' },
      { name: 'tag', value: 'x' },
      { name: 'tag', value: 'y' },
      { name: 'docs', value: pattern(size + 7, 2), filename: 'notes.txt', type: 'text/plain' },
    ]),
  };
}

/** The same upload sent chunked (64 KiB chunks), no Content-Length. */
function chunkedUpload(size: number, name: string): Probe {
  const probe = uploadProbe(size, name);
  const body = Buffer.from(probe.body!);
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += 65536) parts.push(body.subarray(at, at + 65536));
  return { ...probe, headers: [...probe.headers!, ['Transfer-Encoding', 'chunked']], body: chunked(parts) };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const describeFile = (f: StoredFile) => ({ field: f.fieldname, name: f.originalname, type: f.mimetype, encoding: f.encoding, size: f.size, sha256: sha(f.buffer) });

// ---------------------------------------------------------------------------------------------------
// Express.

function expressApp(setup: (app: express.Express) => void): () => express.Express {
  return () => {
    const app = express();
    setup(app);
    return app;
  };
}

const dataRoutes = (app: express.Express) => {
  app.get('/data', (_req, res) => void res.json({ ok: true }));
  app.put('/data', (_req, res) => void res.json({ put: true }));
  app.post('/data', (_req, res) => void res.send('posted'));
};

/** express-session ids from a counter, so the two sides hand out the same signed cookie. */
function sessionApp(options: Record<string, unknown> = {}): () => express.Express {
  return expressApp((app) => {
    let next = 0;
    app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false, genid: () => `sid-${++next}`, ...options }));
    app.get('/login', (req, res) => {
      const s = (req as unknown as { session: Record<string, unknown> }).session;
      s.user = 'ann';
      s.views = 1;
      res.send('logged in');
    });
    app.get('/me', (req, res) => {
      const s = (req as unknown as { session: Record<string, unknown> & { id: string } }).session;
      s.views = Number(s.views ?? 0) + 1;
      res.json({ id: s.id, user: s.user ?? null, views: s.views });
    });
  });
}

const maskMorgan = (line: string) =>
  line
    .replace(/\[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]/g, '[DATE]')
    .replace(/\b\d+(\.\d+)? ms\b/g, 'T ms')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, 'ISO')
    .replace(/\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/g, 'WEB');

function morganApp(format: string): (log: (line: string) => void) => express.Express {
  return (log) => {
    const app = express();
    // The error page without a stack: its frames would be the bridge's on one side.
    app.set('env', 'production');
    app.set('trust proxy', 'loopback');
    app.use(morgan(format, { stream: { write: (line) => log(line) } }));
    app.get('/ok', (_req, res) => void res.type('text').send('fine'));
    app.get('/stream', (_req, res) => {
      res.write('a');
      setImmediate(() => res.end('b'));
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    return app;
  };
}

const MORGAN_FULL =
  ':remote-addr - :remote-user [:date[clf]] ":method :url HTTP/:http-version" :status :res[content-length] ":referrer" ":user-agent" ' +
  ':response-time ms :total-time ms :date[iso] :date[web] url=:url req[x-trace]=:req[x-trace] res[content-type]=:res[content-type]';

const morganProbes: Probe[] = [
  { name: 'ok', method: 'GET', target: '/ok?x=1', headers: [['User-Agent', 'probe/1.0'], ['Referer', 'http://ref.example/'], ['X-Trace', 't-1']] },
  { name: 'stream', method: 'GET', target: '/stream', headers: [['User-Agent', 'probe/1.0']] },
  { name: '404', method: 'GET', target: '/nope', headers: [['Authorization', 'Basic ' + Buffer.from('bob:pw').toString('base64')]] },
  { name: 'error', method: 'GET', target: '/boom' },
  { name: 'HEAD', method: 'HEAD', target: '/ok' },
  { name: 'HTTP/1.0', method: 'GET', target: '/ok', version: '1.0' },
  { name: 'behind a proxy (req.ip from X-Forwarded-For)', method: 'GET', target: '/ok', headers: [['X-Forwarded-For', '203.0.113.7, 127.0.0.1']] },
];

function uploadApp(): express.Express {
  const app = express();
  const upload = multer({ storage: multer.memoryStorage() });
  app.post('/upload', upload.fields([{ name: 'avatar', maxCount: 1 }, { name: 'docs', maxCount: 2 }]), (req, res) => {
    const files = (req as unknown as { files: Record<string, StoredFile[]> }).files;
    res.json({ body: req.body, files: Object.values(files).flat().map(describeFile) });
  });
  app.use(((err, _req, res, _next) => void res.status(413).json({ error: String(err.code ?? err.message) })) as express.ErrorRequestHandler);
  return app;
}

function limitedUploadApp(): express.Express {
  const app = express();
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 2_000_000 } });
  app.post('/upload', upload.any(), (_req, res) => void res.send('accepted'));
  app.use(((err, _req, res, _next) => void res.status(413).json({ error: String(err.code ?? err.message), field: err.field })) as express.ErrorRequestHandler);
  return app;
}

const expressCases: Array<Case<express.Express>> = [
  {
    name: 'cors(): preflight (204 with Content-Length: 0)',
    statuses: [204],
    build: expressApp((app) => {
      app.use(cors());
      dataRoutes(app);
    }),
    steps: [corsProbes.preflight],
  },
  {
    name: 'cors(): simple request, no Origin, POST',
    statuses: [200,  200,  200],
    build: expressApp((app) => {
      app.use(cors());
      dataRoutes(app);
    }),
    steps: [corsProbes.simple, corsProbes.noOrigin, corsProbes.post],
  },
  {
    name: 'cors({ origin list, credentials, maxAge, exposedHeaders, optionsSuccessStatus: 200 }): allowed and refused origins',
    statuses: [200,  200,  200],
    build: expressApp((app) => {
      app.use(cors({ origin: [ORIGIN], credentials: true, maxAge: 600, exposedHeaders: ['X-Total'], optionsSuccessStatus: 200 }));
      dataRoutes(app);
    }),
    steps: [corsProbes.preflight, corsProbes.simple, corsProbes.otherOrigin],
  },
  {
    name: 'cors({ preflightContinue: true }): the preflight handed on to an OPTIONS route',
    statuses: [204],
    build: expressApp((app) => {
      app.use(cors({ preflightContinue: true }));
      app.options('/data', (_req, res) => void res.status(204).set('X-Own', 'yes').end());
      dataRoutes(app);
    }),
    steps: [corsProbes.preflight],
  },
  {
    name: 'helmet(): default headers on a page, a 404 and a redirect',
    statuses: [200,  404,  302],
    build: expressApp((app) => {
      app.use(helmet());
      app.get('/', (_req, res) => void res.send('<p>hi</p>'));
      app.get('/go', (_req, res) => res.redirect('/'));
    }),
    steps: [
      { name: 'page', method: 'GET', target: '/' },
      { name: '404', method: 'GET', target: '/missing' },
      { name: 'redirect', method: 'GET', target: '/go' },
    ],
  },
  {
    name: 'helmet({ hsts, csp directives, referrerPolicy, crossOriginEmbedderPolicy }) with custom options',
    statuses: [200],
    build: expressApp((app) => {
      app.use(
        helmet({
          contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'", 'cdn.example'] } },
          strictTransportSecurity: { maxAge: 123, preload: true },
          referrerPolicy: { policy: ['origin', 'unsafe-url'] },
          crossOriginEmbedderPolicy: true,
          xFrameOptions: { action: 'deny' },
        }),
      );
      app.get('/', (_req, res) => void res.json({ ok: 1 }));
    }),
    steps: [{ method: 'GET', target: '/', name: 'page' }],
  },
  {
    name: 'express-session: a session made, its cookie sent back, the session read and updated',
    statuses: [200,  200,  200],
    build: sessionApp(),
    steps: [
      { name: 'login', method: 'GET', target: '/login' },
      { name: 'me', method: 'GET', target: '/me' },
      { name: 'me again', method: 'GET', target: '/me' },
    ],
    carryCookies: true,
  },
  {
    name: 'express-session: regenerate() gives a new cookie, destroy() and clearCookie() end the session',
    statuses: [200,  200,  200,  200,  200],
    build: expressApp((app) => {
      let next = 0;
      app.use(session({ secret: 'k', resave: false, saveUninitialized: false, genid: () => `id-${++next}` }));
      type WithSession = { session: Record<string, unknown> & { regenerate(cb: (err?: unknown) => void): void; destroy(cb: (err?: unknown) => void): void } };
      const sessionOf = (req: express.Request) => (req as unknown as WithSession).session;
      app.get('/login', (req, res) => void ((sessionOf(req).u = 1), res.send('in')));
      app.get('/regen', (req, res, fail) =>
        sessionOf(req).regenerate((err) => {
          if (err) return fail(err);
          sessionOf(req).u = 2;
          res.send('regenerated');
        }),
      );
      app.get('/logout', (req, res, fail) =>
        sessionOf(req).destroy((err) => {
          if (err) return fail(err);
          res.clearCookie('connect.sid').send('out');
        }),
      );
      app.get('/me', (req, res) => void res.json({ u: sessionOf(req).u ?? null }));
    }),
    steps: [
      { name: 'login', method: 'GET', target: '/login' },
      { name: 'regenerate', method: 'GET', target: '/regen' },
      { name: 'me', method: 'GET', target: '/me' },
      { name: 'logout', method: 'GET', target: '/logout' },
      { name: 'me after logout', method: 'GET', target: '/me' },
    ],
    carryCookies: true,
  },
  {
    name: 'express-session: a request with no session cookie and one with a forged cookie',
    statuses: [200,  200],
    build: sessionApp(),
    steps: [
      { name: 'no cookie', method: 'GET', target: '/me' },
      { name: 'forged', method: 'GET', target: '/me', headers: [['Cookie', 'connect.sid=s%3Asid-1.forged']] },
    ],
  },
  {
    name: 'express-session({ cookie: { secure: true }, proxy: true }): the secure cookie set behind X-Forwarded-Proto: https',
    statuses: [200,  200],
    build: sessionApp({ proxy: true, cookie: { secure: true, httpOnly: true, sameSite: 'lax', path: '/' } }),
    steps: [
      { name: 'login over "https"', method: 'GET', target: '/login', headers: [['X-Forwarded-Proto', 'https']] },
      { name: 'login over http', method: 'GET', target: '/login' },
    ],
  },
  {
    name: "express-session({ cookie: { secure: 'auto' } }) with trust proxy 1: req.secure from X-Forwarded-Proto, req.ip from X-Forwarded-For",
    statuses: [200, 200, 200],
    build: () => {
      const app = express();
      app.set('trust proxy', 1);
      let next = 0;
      app.use(session({ secret: 'k', resave: false, saveUninitialized: true, genid: () => `auto-${++next}`, cookie: { secure: 'auto' } }));
      app.get('/', (req, res) => void res.json({ secure: req.secure, ip: req.ip, ips: req.ips, protocol: req.protocol, hostname: req.hostname }));
      return app;
    },
    steps: [
      { name: 'https by the proxy', method: 'GET', target: '/', headers: [['X-Forwarded-Proto', 'https'], ['X-Forwarded-For', '198.51.100.1, 203.0.113.9'], ['X-Forwarded-Host', 'public.example']] },
      { name: 'http', method: 'GET', target: '/' },
      { name: 'two protos', method: 'GET', target: '/', headers: [['X-Forwarded-Proto', 'https, http']] },
    ],
  },
  {
    name: 'express-session({ rolling: true, saveUninitialized: true, name }): every response sets the cookie',
    statuses: [200,  200],
    build: sessionApp({ rolling: true, saveUninitialized: true, name: 'sid' }),
    steps: [
      { name: 'first', method: 'GET', target: '/me' },
      { name: 'second', method: 'GET', target: '/me' },
    ],
    carryCookies: true,
  },
  {
    name: 'multer fields(): 2 files of 1 KB and 3 fields',
    statuses: [200],
    build: uploadApp,
    steps: [uploadProbe(1024, '1 KB')],
  },
  {
    name: 'multer fields(): 2 files of 3 MB and 3 fields',
    statuses: [200],
    build: uploadApp,
    steps: [uploadProbe(3 * 1024 * 1024, '3 MB')],
  },
  {
    name: 'multer fields(): 2 files of 3 MB and 3 fields, sent chunked',
    statuses: [200],
    build: uploadApp,
    steps: [chunkedUpload(3 * 1024 * 1024, '3 MB chunked')],
  },
  {
    name: 'multer fields(): 2 files of 1 MB sent with Expect: 100-continue',
    statuses: [200],
    build: uploadApp,
    steps: [{ ...uploadProbe(1024 * 1024, '1 MB'), headers: [...uploadProbe(1024 * 1024, '1 MB').headers!, ['Expect', '100-continue']] }],
  },
  {
    name: 'multer fields(): a file under an unexpected field name (LIMIT_UNEXPECTED_FILE)',
    statuses: [413],
    build: uploadApp,
    steps: [
      {
        name: 'unexpected',
        method: 'POST',
        target: '/upload',
        headers: [['Content-Type', `multipart/form-data; boundary=${BOUNDARY}`]],
        body: multipart([{ name: 'other', value: pattern(4000, 3), filename: 'o.bin' }]),
      },
    ],
  },
  {
    name: 'multer limits.fileSize: a 3 MB file refused with LIMIT_FILE_SIZE, the rest of the body unread',
    statuses: [413],
    build: limitedUploadApp,
    steps: [uploadProbe(3 * 1024 * 1024, '3 MB over the limit')],
  },
  {
    name: "morgan('combined' and every token): what it logs of a page, a stream, a 404, an error, a HEAD and HTTP/1.0",
    statuses: [200,  200,  404,  500,  200,  200,  200],
    build: morganApp(MORGAN_FULL),
    steps: morganProbes,
    maskLog: maskMorgan,
  },
  {
    name: "morgan('dev'): the coloured line",
    statuses: [200,  200,  404,  500],
    build: morganApp('dev'),
    steps: morganProbes.slice(0, 4),
    maskLog: maskMorgan,
  },
  {
    name: "morgan('short') and ('tiny')",
    statuses: [200],
    build: (log) => {
      const app = express();
      app.use(morgan('short', { stream: { write: (line) => log(`short ${line}`) } }));
      app.use(morgan('tiny', { stream: { write: (line) => log(`tiny ${line}`) } }));
      app.get('/ok', (_req, res) => void res.send('fine'));
      return app;
    },
    steps: morganProbes.slice(0, 1),
    maskLog: maskMorgan,
  },
  {
    name: 'express.static (serve-static): a file, Range, 304 on the ETag sent back, a directory redirect, 404',
    statuses: [200,  206,  416,  304,  200,  301,  200,  206,  404],
    build: expressApp((app) => {
      app.use('/static', express.static(STATIC_ROOT));
    }),
    steps: [
      { name: 'whole', method: 'GET', target: '/static/file.bin' },
      { name: 'bytes=0-99', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=0-99']] },
      { name: 'unsatisfiable', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=200000-']] },
      (prev) => ({ name: 'If-None-Match', method: 'GET', target: '/static/file.bin', headers: [['If-None-Match', header(prev[0]!, 'etag')]] }),
      { name: 'HEAD', method: 'HEAD', target: '/static/file.bin' },
      { name: 'directory redirect', method: 'GET', target: '/static/dir' },
      { name: 'encoded name', method: 'GET', target: '/static/caf%C3%A9%20file.txt' },
      { name: '3 MB, a range in the middle', method: 'GET', target: '/static/big.bin', headers: [['Range', 'bytes=1000000-2999999']] },
      { name: 'missing', method: 'GET', target: '/static/nope.txt' },
    ],
  },
];

describeEcosystem('Express middleware: http.createServer(app) against the bridge and the other hosts', expressSides, expressCases);

// An upload app hosted by a framework whose own body plugins are registered: @fastify/multipart on
// the Fastify host (toFastify's scope takes the raw body whatever its type), koa-bodyparser and
// @koa/bodyparser on the Koa host (multipart is not theirs to parse); multer reads the bytes.
describeEcosystem(
  'multer behind a host that has its own body plugins',
  {
    native: (app: express.Express) => listenHttp(app),
    bridged: {
      'fastify with @fastify/multipart: register(toFastify(fromExpress(app)))': async (app) => {
        const host = Fastify({ forceCloseConnections: true });
        await host.register(fastifyMultipart);
        await host.register(toFastify(fromExpress(app)));
        return fastifyListen(host);
      },
      'koa with @koa/bodyparser: use(toKoa(fromExpress(app)))': (app) => {
        const host = new Koa();
        host.use(koaBodyParser({ enableTypes: ['json', 'form', 'text'] }) as Koa.Middleware);
        host.use(toKoa(fromExpress(app)));
        return koaListen(host);
      },
    },
    hostSpelling: ['fastify with @fastify/multipart: register(toFastify(fromExpress(app)))'],
  },
  [
    { name: 'multer fields(): 2 files of 1 KB and 3 fields', statuses: [200], build: uploadApp, steps: [uploadProbe(1024, '1 KB')] },
    { name: 'multer fields(): 2 files of 3 MB and 3 fields', statuses: [200, 200], build: uploadApp, steps: [uploadProbe(3 * 1024 * 1024, '3 MB'), chunkedUpload(3 * 1024 * 1024, '3 MB chunked')] },
  ],
);

// ---------------------------------------------------------------------------------------------------
// Koa.

function koaApp(setup: (app: Koa) => void): () => Koa {
  return () => {
    const app = new Koa();
    app.silent = true;
    setup(app);
    return app;
  };
}

function koaData(app: Koa): void {
  const router = new Router();
  router.get('/data', (ctx) => void (ctx.body = { ok: true }));
  router.put('/data', (ctx) => void (ctx.body = { put: true }));
  router.post('/data', (ctx) => void (ctx.body = 'posted'));
  app.use(router.routes()).use(router.allowedMethods());
}

function routerApp(): Koa {
  const app = new Koa();
  app.silent = true;
  const router = new Router({ prefix: '/api' });
  router.get('/users/:id', (ctx) => void (ctx.body = { id: ctx.params.id, path: ctx.path, url: ctx.url, routerPath: ctx.routerPath ?? null }));
  router.post('/users', (ctx) => void ((ctx.status = 201), (ctx.body = 'created')));
  router.put('/users/:id', (ctx) => void (ctx.body = 'put'));
  router.get('/files/*rest', (ctx) => void (ctx.body = { rest: ctx.params.rest }));
  const nested = new Router();
  nested.get('/repos/:repo', (ctx) => void (ctx.body = { org: ctx.params.org, repo: ctx.params.repo }));
  router.use('/orgs/:org', nested.routes(), nested.allowedMethods());
  router.redirect('/old', '/api/users/1');
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}

const koaCases: Array<Case<Koa>> = [
  {
    name: '@koa/cors(): preflight, simple request, no Origin, POST',
    statuses: [204,  200,  200,  200],
    build: koaApp((app) => {
      app.use(koaCors());
      koaData(app);
    }),
    steps: [corsProbes.preflight, corsProbes.simple, corsProbes.noOrigin, corsProbes.post],
  },
  {
    name: '@koa/cors({ origin fn, credentials, maxAge, exposeHeaders, keepHeadersOnError }): allowed and refused origins',
    statuses: [204,  200,  200],
    build: koaApp((app) => {
      app.use(
        koaCors({
          origin: (ctx: Koa.Context) => (ctx.get('Origin') === ORIGIN ? ORIGIN : ''),
          credentials: true,
          maxAge: 600,
          exposeHeaders: ['X-Total'],
          keepHeadersOnError: true,
        }),
      );
      koaData(app);
    }),
    steps: [corsProbes.preflight, corsProbes.simple, corsProbes.otherOrigin],
  },
  {
    name: '@koa/router: prefix and params, percent-encoded params, a nested router, a redirect',
    statuses: [200,  200,  200,  200,  301,  200,  404],
    build: routerApp,
    steps: [
      { name: 'param', method: 'GET', target: '/api/users/42?x=1' },
      { name: 'encoded param', method: 'GET', target: '/api/users/caf%C3%A9' },
      { name: 'nested router params', method: 'GET', target: '/api/orgs/acme/repos/wsgi' },
      { name: 'HEAD of a GET route', method: 'HEAD', target: '/api/users/7' },
      { name: 'redirect', method: 'GET', target: '/api/old' },
      { name: 'wildcard param', method: 'GET', target: '/api/files/a/b%20c/d.txt' },
      { name: 'outside the prefix', method: 'GET', target: '/users/42' },
    ],
  },
  {
    name: '@koa/router: a param with %2F',
    statuses: [200],
    build: routerApp,
    steps: [{ name: 'param with %2F', method: 'GET', target: '/api/users/a%2Fb' }],
    notOn: { 'express: use(toExpress(fromKoa(app)))': STRICT, 'fastify: register(toFastify(fromKoa(app)))': STRICT },
  },
  {
    name: '@koa/router allowedMethods(): OPTIONS 200 with Allow, 405 for a known method',
    statuses: [200,  405,  405,  405],
    build: routerApp,
    steps: [
      { name: 'OPTIONS', method: 'OPTIONS', target: '/api/users/42' },
      { name: '405', method: 'DELETE', target: '/api/users/42' },
      { name: '405 on POST route', method: 'GET', target: '/api/users' },
      { name: '405 nested', method: 'POST', target: '/api/orgs/acme/repos/wsgi' },
    ],
  },
  {
    name: '@koa/router allowedMethods(): 501 for a method the router does not implement (LINK)',
    statuses: [501],
    build: routerApp,
    steps: [{ name: '501', method: 'LINK', target: '/api/users/42' }],
  },
  {
    name: '@koa/router allowedMethods({ throw: true }) with Koa’s error handling',
    statuses: [405,  501],
    build: () => {
      const app = new Koa();
      app.silent = true;
      const router = new Router();
      router.get('/x', (ctx) => void (ctx.body = 'x'));
      app.use(router.routes()).use(router.allowedMethods({ throw: true }));
      return app;
    },
    steps: [
      { name: '405 thrown', method: 'PUT', target: '/x' },
      { name: '501 thrown', method: 'LINK', target: '/x' },
    ],
  },
  {
    name: 'koa-session: a session made, its signed cookie sent back, the session read and updated',
    statuses: [200,  200,  200],
    build: koaApp((app) => {
      app.keys = ['session key'];
      app.use(koaSession({ maxAge: 'session' }, app));
      app.use((ctx) => {
        const s = ctx.session!;
        if (ctx.path === '/login') s.user = 'ann';
        s.views = Number(s.views ?? 0) + 1;
        ctx.body = { user: s.user ?? null, views: s.views, isNew: s.isNew ?? false };
      });
    }),
    steps: [
      { name: 'login', method: 'GET', target: '/login' },
      { name: 'me', method: 'GET', target: '/me' },
      { name: 'me again', method: 'GET', target: '/me' },
    ],
    carryCookies: true,
  },
  {
    name: 'Koa with app.proxy: ctx.ip, ctx.ips, ctx.protocol, ctx.host from X-Forwarded-* (maxIpsCount 1)',
    statuses: [200, 200],
    build: koaApp((app) => {
      app.proxy = true;
      app.maxIpsCount = 1;
      app.use((ctx) => void (ctx.body = { ip: ctx.ip, ips: ctx.ips, protocol: ctx.protocol, host: ctx.host, origin: ctx.origin, href: ctx.href, secure: ctx.secure }));
    }),
    steps: [
      { name: 'forwarded', method: 'GET', target: '/p?q=1', headers: [['X-Forwarded-Proto', 'https'], ['X-Forwarded-For', '198.51.100.1, 203.0.113.9'], ['X-Forwarded-Host', 'public.example']] },
      { name: 'direct', method: 'GET', target: '/p' },
    ],
  },
  {
    name: 'koa-session({ secure: true }) behind app.proxy and X-Forwarded-Proto: https, and a tampered cookie',
    statuses: [200,  200],
    build: koaApp((app) => {
      app.keys = ['session key'];
      app.proxy = true;
      app.use(koaSession({ maxAge: 'session', secure: true, sameSite: 'lax' }, app));
      app.use((ctx) => {
        ctx.session!.n = 1;
        ctx.body = { secure: ctx.secure, protocol: ctx.protocol };
      });
    }),
    steps: [
      { name: '"https"', method: 'GET', target: '/', headers: [['X-Forwarded-Proto', 'https']] },
      { name: 'tampered', method: 'GET', target: '/', headers: [['X-Forwarded-Proto', 'https'], ['Cookie', 'koa.sess=eyJuIjoyfQ==; koa.sess.sig=bad']] },
    ],
  },
  ...[uploadProbe(1024, '1 KB'), uploadProbe(3 * 1024 * 1024, '3 MB'), chunkedUpload(3 * 1024 * 1024, '3 MB chunked')].map(
    (probe): Case<Koa> => ({
      name: `@koa/multer fields(): 2 files of ${probe.name} and 3 fields`,
      statuses: [200],
      build: koaApp((app) => {
        const upload = koaMulter({ storage: koaMulter.memoryStorage() });
        const router = new Router();
        router.post('/upload', upload.fields([{ name: 'avatar', maxCount: 1 }, { name: 'docs', maxCount: 2 }]), (ctx) => {
          const files = (ctx as unknown as { files: Record<string, StoredFile[]> }).files;
          ctx.body = { body: (ctx.request as unknown as { body: unknown }).body, files: Object.values(files).flat().map(describeFile) };
        });
        app.use(router.routes());
      }),
      steps: [probe],
    }),
  ),
  {
    name: '@koa/multer limits.fileSize: a 3 MB file refused, the error answered by Koa (500), the rest of the body unread',
    statuses: [500],
    build: koaApp((app) => {
      const upload = koaMulter({ storage: koaMulter.memoryStorage(), limits: { fileSize: 2_000_000 } });
      const router = new Router();
      router.post('/upload', upload.fields([{ name: 'avatar' }, { name: 'docs' }]), (ctx) => void (ctx.body = 'accepted'));
      app.use(router.routes());
    }),
    steps: [uploadProbe(3 * 1024 * 1024, '3 MB over the limit')],
  },
];

describeEcosystem('Koa middleware: app.listen() against the bridge and the other hosts', koaSides, koaCases);

// ---------------------------------------------------------------------------------------------------
// Fastify.

const STATIC_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'node-wsgi-static-'));
fs.writeFileSync(path.join(STATIC_ROOT, 'file.bin'), pattern(100_000, 9));
fs.writeFileSync(path.join(STATIC_ROOT, 'big.bin'), pattern(3 * 1024 * 1024, 10));
fs.writeFileSync(path.join(STATIC_ROOT, 'page.html'), '<!doctype html><title>page</title>\n');
fs.mkdirSync(path.join(STATIC_ROOT, 'dir'));
fs.writeFileSync(path.join(STATIC_ROOT, 'dir', 'index.html'), '<p>index</p>\n');
fs.writeFileSync(path.join(STATIC_ROOT, 'caf\u00e9 file.txt'), 'accented name\n');
// One fixed mtime, so Last-Modified is the same whenever the test runs.
for (const f of ['big.bin', 'file.bin', 'page.html', 'dir/index.html', 'caf\u00e9 file.txt']) fs.utimesSync(path.join(STATIC_ROOT, f), 1_700_000_000, 1_700_000_000);

function fastifyApp(setup: (app: FastifyInstance) => void | Promise<void>): () => Promise<FastifyInstance> {
  return async () => {
    const app = Fastify();
    await setup(app);
    return app;
  };
}

const header = (response: WireResponse, name: string) => response.headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? '';

const staticApp = fastifyApp(async (app) => {
  await app.register(fastifyStatic, { root: STATIC_ROOT, prefix: '/static/' });
});

async function fastifyUpload(app: FastifyInstance, limits?: { fileSize: number }): Promise<void> {
  await app.register(fastifyMultipart, limits === undefined ? {} : { limits });
  app.post('/upload', async (req, reply) => {
    const fields: Array<[string, string]> = [];
    const files: unknown[] = [];
    try {
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          const buffer = await part.toBuffer();
          files.push({ field: part.fieldname, name: part.filename, type: part.mimetype, encoding: part.encoding, size: buffer.length, sha256: sha(buffer) });
        } else {
          fields.push([part.fieldname, String(part.value)]);
        }
      }
    } catch (err) {
      return reply.code(413).send({ error: (err as { code?: string }).code ?? String(err) });
    }
    return { fields, files };
  });
}

function fastifyCorsApp(options?: Record<string, unknown>): () => Promise<FastifyInstance> {
  return fastifyApp(async (app) => {
    await app.register(fastifyCors, options ?? {});
    app.get('/data', async () => ({ ok: true }));
    app.put('/data', async () => ({ put: true }));
    app.post('/data', async () => 'posted');
  });
}

const fastifyCases: Array<Case<FastifyInstance>> = [
  {
    name: '@fastify/cors(): preflight (204 with content-length: 0)',
    statuses: [204],
    build: fastifyCorsApp(),
    steps: [corsProbes.preflight],
  },
  {
    name: '@fastify/cors(): simple request, no Origin, POST',
    statuses: [200,  200,  200],
    build: fastifyCorsApp(),
    steps: [corsProbes.simple, corsProbes.noOrigin, corsProbes.post],
  },
  {
    name: '@fastify/cors({ origin list, credentials, maxAge, exposedHeaders }): preflights allowed and refused (204)',
    statuses: [204,  204],
    build: fastifyCorsApp({ origin: [ORIGIN], credentials: true, maxAge: 600, exposedHeaders: ['X-Total'] }),
    steps: [corsProbes.preflight, corsProbes.otherOrigin],
  },
  {
    name: '@fastify/cors({ origin list, credentials, maxAge, exposedHeaders }): a simple request, an OPTIONS without Access-Control-Request-Method (strictPreflight 400)',
    statuses: [200,  400],
    build: fastifyCorsApp({ origin: [ORIGIN], credentials: true, maxAge: 600, exposedHeaders: ['X-Total'] }),
    steps: [
      corsProbes.simple,
      { name: 'OPTIONS without Access-Control-Request-Method', method: 'OPTIONS', target: '/data', headers: [['Origin', ORIGIN]] },
    ],
  },
  {
    name: '@fastify/multipart parts(): 2 files of 1 KB and 3 fields',
    statuses: [200],
    build: fastifyApp((app) => fastifyUpload(app, { fileSize: 10_000_000 })),
    steps: [uploadProbe(1024, '1 KB')],
  },
  {
    name: '@fastify/multipart parts(): 2 files of 3 MB and 3 fields',
    statuses: [200],
    build: fastifyApp((app) => fastifyUpload(app, { fileSize: 10_000_000 })),
    steps: [uploadProbe(3 * 1024 * 1024, '3 MB')],
  },
  {
    name: '@fastify/multipart parts(): 2 files of 3 MB and 3 fields, sent chunked',
    statuses: [200],
    build: fastifyApp((app) => fastifyUpload(app, { fileSize: 10_000_000 })),
    steps: [chunkedUpload(3 * 1024 * 1024, '3 MB chunked')],
  },
  {
    name: '@fastify/multipart with its default 1 MiB file limit: a 3 MB file refused, the rest of the body unread',
    statuses: [413],
    build: fastifyApp((app) => fastifyUpload(app)),
    steps: [uploadProbe(3 * 1024 * 1024, '3 MB over the limit')],
  },
  {
    name: '@fastify/static: a file whole, Range requests, HEAD, an unsatisfiable range',
    statuses: [200,  206,  206,  206,  200,  416,  200,  206,  200,  206],
    build: staticApp,
    steps: [
      { name: 'whole', method: 'GET', target: '/static/file.bin' },
      { name: 'bytes=0-99', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=0-99']] },
      { name: 'bytes=-100', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=-100']] },
      { name: 'bytes=99000-', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=99000-']] },
      { name: 'two ranges', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=0-1,5-6']] },
      { name: 'unsatisfiable', method: 'GET', target: '/static/file.bin', headers: [['Range', 'bytes=200000-']] },
      { name: 'HEAD', method: 'HEAD', target: '/static/file.bin' },
      { name: 'HEAD with Range', method: 'HEAD', target: '/static/file.bin', headers: [['Range', 'bytes=0-9']] },
      { name: '3 MB whole', method: 'GET', target: '/static/big.bin' },
      { name: '3 MB, a range in the middle', method: 'GET', target: '/static/big.bin', headers: [['Range', 'bytes=1000000-2999999']] },
    ],
  },
  {
    name: '@fastify/static: 304 on the ETag and on Last-Modified sent back, If-Range',
    statuses: [200,  304,  304,  206,  200,  304],
    build: staticApp,
    steps: [
      { name: 'first', method: 'GET', target: '/static/page.html' },
      (prev) => ({ name: 'If-None-Match', method: 'GET', target: '/static/page.html', headers: [['If-None-Match', header(prev[0]!, 'etag')]] }),
      (prev) => ({ name: 'If-Modified-Since', method: 'GET', target: '/static/page.html', headers: [['If-Modified-Since', header(prev[0]!, 'last-modified')]] }),
      (prev) => ({ name: 'If-Range matching', method: 'GET', target: '/static/page.html', headers: [['Range', 'bytes=0-4'], ['If-Range', header(prev[0]!, 'etag')]] }),
      { name: 'If-Range stale', method: 'GET', target: '/static/page.html', headers: [['Range', 'bytes=0-4'], ['If-Range', '"stale"']] },
      { name: 'HEAD 304', method: 'HEAD', target: '/static/page.html', headers: [['If-Modified-Since', 'Wed, 01 Jan 2031 00:00:00 GMT']] },
    ],
  },
  {
    name: '@fastify/static: a directory redirect, its index, a percent-encoded name, 404 and a traversal attempt',
    statuses: [200,  200,  200,  404,  403],
    build: staticApp,
    steps: [
      { name: 'directory without slash', method: 'GET', target: '/static/dir' },
      { name: 'directory index', method: 'GET', target: '/static/dir/' },
      { name: 'encoded name', method: 'GET', target: '/static/caf%C3%A9%20file.txt' },
      { name: 'missing', method: 'GET', target: '/static/nope.txt' },
      { name: 'traversal', method: 'GET', target: '/static/../package.json' },
    ],
  },
  {
    name: '@fastify/static: an encoded traversal attempt (..%2F)',
    statuses: [404],
    build: staticApp,
    steps: [{ name: 'encoded traversal', method: 'GET', target: '/static/..%2Fpackage.json' }],
    notOn: { 'express: use(toExpress(fromFastify(app)))': STRICT, 'koa: use(toKoa(fromFastify(app)))': STRICT },
  },
];

describeEcosystem('Fastify plugins: fastify.listen() against the bridge and the other hosts', fastifySides, fastifyCases);

// ---------------------------------------------------------------------------------------------------
// The middleware on the host, in front of a hosted app: the host's CORS, helmet, morgan and session
// headers must go out beside the hosted app's response as they do beside a native route's. The inner
// app is of the host's own framework, behind a passThrough so the bridge is crossed; the native side
// is the same host with the inner routes on it directly. A case's app is a function of `hosted`.

type Hosting<T> = (hosted: boolean) => T | Promise<T>;

function hostingSides<T>(way: string, start: (app: T) => Promise<Listening>, groupNames = false): Sides<Hosting<T>> {
  return {
    native: async (make) => start(await make(false)),
    bridged: { [way]: async (make) => start(await make(true)) },
    hostSpelling: groupNames ? [way] : [],
  };
}

const passThrough = throughMiddleware;

function innerExpress(app: express.Express): void {
  app.get('/data', (_req, res) => void res.set('X-Inner', '1').json({ ok: true }));
  app.get('/cookie', (_req, res) => void res.cookie('inner', 'v').send('with a cookie'));
  app.get('/empty', (_req, res) => void res.status(204).end());
}

const hostProbes = (prefix = ''): Probe[] => [
  { name: 'JSON', method: 'GET', target: `${prefix}/data`, headers: [['Origin', ORIGIN]] },
  { name: 'cookie', method: 'GET', target: `${prefix}/cookie`, headers: [['Origin', ORIGIN]] },
  { name: '204', method: 'GET', target: `${prefix}/empty`, headers: [['Origin', ORIGIN]] },
  { name: 'preflight', method: 'OPTIONS', target: `${prefix}/data`, headers: [['Origin', ORIGIN], ['Access-Control-Request-Method', 'PUT']] },
  { name: '404', method: 'GET', target: `${prefix}/nope`, headers: [['Origin', ORIGIN]] },
];

describeEcosystem('Express host middleware (morgan, cors, helmet, express-session) in front of toExpress(passThrough(fromExpress(inner)))', hostingSides('express: use(toExpress(passThrough(fromExpress(inner))))', listenHttp), [
  {
    name: 'the host’s CORS, helmet and session headers, and morgan’s line, beside the hosted response and its cookie',
    statuses: [200,  200,  204,  204,  404],
    build: (log) => (hosted) => {
      const app = express();
      let next = 0;
      app.use(morgan(':method :url :status :res[content-length] :res[x-inner] :res[set-cookie] :res[access-control-allow-origin]', { stream: { write: (line) => log(line) } }));
      app.use(cors({ origin: ORIGIN, credentials: true, exposedHeaders: ['X-Inner'] }));
      app.use(helmet({ contentSecurityPolicy: false }));
      app.use(session({ secret: 's', resave: false, saveUninitialized: true, genid: () => `host-${++next}` }));
      if (hosted) {
        const inner = express();
        // Natively, helmet removes the X-Powered-By Express set before it; the inner app's own would come after.
        inner.disable('x-powered-by');
        innerExpress(inner);
        app.use(toExpress(passThrough(fromExpress(inner))));
      } else {
        innerExpress(app);
      }
      return app;
    },
    // The 404 too: the inner app's finalhandler sets X-Content-Type-Options again, which stays where
    // the host had put it.
    steps: hostProbes(),
    carryCookies: true,
  },
]);

function innerKoa(app: Koa): void {
  const router = new Router();
  router.get('/data', (ctx) => void (ctx.set('X-Inner', '1'), (ctx.body = { ok: true })));
  router.get('/cookie', (ctx) => void (ctx.cookies.set('inner', 'v'), (ctx.body = 'with a cookie')));
  router.get('/empty', (ctx) => void (ctx.status = 204));
  app.use(router.routes());
}

// Names grouped: natively Koa sets a JSON body's length, and the 404's type and length, in respond(),
// after koa-session has set its cookies on the way out; the hosted app's response comes as bytes
// whose headers toKoa sets before that. Each name's values are still compared, in order.
describeEcosystem('Koa host middleware (@koa/cors, koa-session) in front of toKoa(passThrough(fromKoa(inner)))', hostingSides('koa: use(toKoa(passThrough(fromKoa(inner))))', koaListen, true), [
  {
    name: 'the host’s CORS headers and session cookie beside the hosted response and its cookie',
    statuses: [200,  200,  204,  204,  404],
    build: () => (hosted) => {
      const app = new Koa();
      app.silent = true;
      app.keys = ['k'];
      app.use(koaCors({ origin: ORIGIN, credentials: true, exposeHeaders: ['X-Inner'] }));
      app.use(koaSession({ maxAge: 'session' }, app));
      app.use(async (ctx, next) => {
        ctx.session!.seen = Number(ctx.session!.seen ?? 0) + 1;
        await next();
      });
      if (hosted) {
        const inner = new Koa();
        inner.silent = true;
        innerKoa(inner);
        app.use(toKoa(passThrough(fromKoa(inner))));
      } else {
        innerKoa(app);
      }
      return app;
    },
    steps: hostProbes(),
    carryCookies: true,
  },
]);

function innerFastify(app: FastifyInstance): void {
  app.get('/data', async (_req, reply) => reply.header('x-inner', '1').send({ ok: true }));
  app.get('/cookie', async (_req, reply) => reply.header('set-cookie', 'inner=v; Path=/').send('with a cookie'));
  app.get('/empty', async (_req, reply) => reply.code(204).send());
}

// Under a prefix. (At the root, after @fastify/cors, toFastify leaves cors its OPTIONS '*' route:
// test/fastify.test.ts "toFastify beside root plugins".)
describeEcosystem('Fastify host plugin (@fastify/cors) in front of register(toFastify(passThrough(fromFastify(inner))), { prefix })', hostingSides('fastify: register(toFastify(passThrough(fromFastify(inner))))', fastifyListen), [
  {
    name: 'the host’s CORS headers beside the hosted response',
    statuses: [200,  200,  204,  204],
    build: () => async (hosted) => {
      const app = Fastify();
      await app.register(fastifyCors, { origin: ORIGIN, credentials: true, exposedHeaders: ['x-inner'] });
      if (hosted) {
        const inner = Fastify();
        innerFastify(inner);
        await app.register(toFastify(passThrough(fromFastify(inner))), { prefix: '/mnt' });
      } else {
        await app.register(async (scope) => innerFastify(scope), { prefix: '/mnt' });
      }
      return app;
    },
    // Not the 404: the inner app sees the path below the prefix (SCRIPT_NAME /mnt) and names that one.
    steps: hostProbes('/mnt').filter((p) => p.name !== '404'),
  },
]);
