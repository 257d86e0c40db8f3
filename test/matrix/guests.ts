// The guest axis of the matrix: one behaviour set, written natively for each framework and for the
// node-wsgi contract itself, then wrapped (`fromExpress`, `fromKoa`, `fromFastify`) into an `App` a
// host mounts under '/mnt'. Every guest answers the same routes; what differs between them (its own
// 404, its own error handler) is stated beside it in terms of what a client observes.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeLatin1, type App, type Body, type Chunk, type Environ, type StartResponse } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { fromFastify } from '@node-wsgi/fastify';
import { fromKoa } from '@node-wsgi/koa';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaBodyParser from 'koa-bodyparser';
import { deferred } from '../conformance/client.js';

export const JSON_DOC = { ok: true, text: 'café', n: [1, 2, 3] };
/** What the streaming routes write before they wait for the test's gate: 8 × 16 KiB, past every high-water mark. */
export const STREAM_PART = Buffer.alloc(16 * 1024, 'a');
export const STREAM_PARTS = 8;
export const STREAM_LAST = 'last';

/** The guest's-view request: escapes in the path (`%2F` must survive in `url`), a `+` in the query. */
export const VIEW_TARGET = '/mnt/view/caf%C3%A9/a%2Fb?x=1+2&y=%2F';
export const VIEW_UNDER_MOUNT = '/view/caf%C3%A9/a%2Fb?x=1+2&y=%2F';
/** The repeated header's raw lines as the client sends them: a Node listener sees their case and both lines. */
export const RAW_REPEAT = ['X-Repeat', 'one', 'X-Repeat', 'two'];

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

type Deferred = ReturnType<typeof deferred<void>>;

/**
 * What a guest and the test share for one request, keyed by the request's `id` query parameter: the
 * gate a streaming route waits on, the 'close' an endless route observes, how often it awaited 'drain'.
 */
export class Probe {
  private readonly gates = new Map<string, Deferred>();
  private readonly closes = new Map<string, Deferred>();
  private readonly starts = new Map<string, Deferred>();
  readonly drainWaits = new Map<string, number>();

  gate(id: string): Deferred {
    let gate = this.gates.get(id);
    if (gate === undefined) this.gates.set(id, (gate = deferred()));
    return gate;
  }

  closed(id: string): Deferred {
    let closed = this.closes.get(id);
    if (closed === undefined) this.closes.set(id, (closed = deferred()));
    return closed;
  }

  /** Resolved by a route once it is running and watching its request. */
  started(id: string): Deferred {
    let started = this.starts.get(id);
    if (started === undefined) this.starts.set(id, (started = deferred()));
    return started;
  }

  /** Releases every gate, so no guest route is left waiting when its cell closes. */
  releaseAll(): void {
    for (const gate of this.gates.values()) gate.resolve();
  }
}

/** What a guest echoes on `/view/...`: the request as the guest's own framework shows it. */
export interface View {
  guest: string;
  method: string;
  /** The path under the mount, decoded to text the framework's way. */
  path: string;
  /** The raw query string. */
  query: string;
  /** `x` from the framework's own query parser. */
  x: unknown;
  /** The request header sent twice, as the framework joins it. */
  repeat: unknown;
  /** The Host header. */
  host: unknown;
  ip: unknown;
  protocol: unknown;
  bodyLength: number;
  bodySha256: string;
  /** Framework-specific: Express/Koa/Fastify `url` and `originalUrl`; the native guest's environ. */
  [key: string]: unknown;
}

/** A client-side expectation on a response the guest answered itself. */
export interface Observed {
  status: number;
  contentType: RegExp;
  /** JSON the body parses to, or a string the body contains. */
  json?: unknown;
  contains?: string;
}

/** The header every guest sets on every response it answers itself. */
export const GUEST_HEADER = 'x-guest';

export interface Guest {
  name: 'native' | 'express' | 'koa' | 'fastify';
  /** How the guest is named in a describe: `Koa host × Express guest`. */
  label: string;
  /** GET /missing: the guest's own 404. */
  notFound: Observed;
  /**
   * GET /error: a route throws. The framework guests answer from their own error handler; the native
   * guest has none by the contract: the error goes to its gateway, i.e. the host (SPEC §7), so only
   * the status is the guest's to promise.
   */
  error: Observed | { status: 500; fromHost: true };
  /** Whether its streaming route writes with `res.write()` and awaits 'drain' (Express). */
  writesWithDrain: boolean;
  /** How the guest sends a file, for the test name and the fidelity notes. */
  fileHow: string;
  /** Whether its file answer declares a Content-Length. */
  fileHasLength: boolean;
  /** The fields of `View` only this guest reports, as the client sees them for `VIEW_TARGET`. */
  viewExtras: Record<string, unknown>;
  build(probe: Probe, file: string): { app: App; close(): Promise<void> };
}

function splitQuery(target: string): string {
  const at = target.indexOf('?');
  return at === -1 ? '' : target.slice(at + 1);
}

function* streamParts(): Generator<Buffer> {
  for (let i = 0; i < STREAM_PARTS; i++) yield STREAM_PART;
}

/** The streaming routes' body for Koa and Fastify: a Readable whose last chunk waits on the gate. */
function gatedReadable(gate: Promise<void>): Readable {
  return Readable.from(
    (async function* () {
      yield* streamParts();
      await gate;
      yield Buffer.from(STREAM_LAST);
    })(),
  );
}

/** A body that breaks after its first chunk (the guest's error after the head). */
async function* brokenParts(): AsyncGenerator<Buffer> {
  yield STREAM_PART;
  await nextTurn();
  throw new Error('broken mid-stream');
}

/** The raw lines of the repeated header, names in the case the client sent. */
function rawRepeat(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'x-repeat') out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  return out;
}

/** An endless event stream as a Readable: one event per pull, paced by the consumer. */
function endlessReadable(): Readable {
  let i = 0;
  return new Readable({
    read() {
      setImmediate(() => this.push(`data: ${i++}\n\n`));
    },
  });
}

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function decodedPath(rawPath: string): string {
  return decodeURIComponent(rawPath);
}

// --- native: written against the contract ---

const native: Guest = {
  name: 'native',
  label: 'native node-wsgi',
  notFound: { status: 404, contentType: /^text\/plain/, contains: 'not found: /missing' },
  error: { status: 500, fromHost: true },
  writesWithDrain: false,
  fileHow: 'wsgi.file_wrapper',
  fileHasLength: true,
  // PATH_INFO is latin-1: each byte of the decoded path one code point (SPEC §2).
  viewExtras: { SCRIPT_NAME: '/mnt', PATH_INFO: '/view/caf\u00c3\u00a9/a/b', REQUEST_URI: VIEW_TARGET },
  build(probe, file) {
    const json = (startResponse: StartResponse, status: string, value: unknown, extra: Array<[string, string]> = []): Body => {
      const body = Buffer.from(JSON.stringify(value));
      startResponse(status, [['Content-Type', 'application/json; charset=utf-8'], ['Content-Length', String(body.byteLength)], ...extra]);
      return [body];
    };
    const app: App = async (environ: Environ, outer: StartResponse) => {
      const startResponse: StartResponse = (status, headers, excInfo) => outer(status, [...headers, ['X-Guest', 'native']], excInfo);
      const path = environ.PATH_INFO;
      const id = new URLSearchParams(environ.QUERY_STRING).get('id') ?? '';
      if (path === '' || path === '/') return json(startResponse, '200 OK', { root: true, guest: 'native' });
      if (path === '/json') return json(startResponse, '200 OK', JSON_DOC);
      if (path === '/cookies') {
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1; Path=/'], ['Set-Cookie', 'b=2; Path=/; HttpOnly']]);
        return ['cookies set'];
      }
      if (path === '/redirect') {
        startResponse('302 Found', [['Location', '/elsewhere'], ['Content-Type', 'text/plain']]);
        return ['Found. Redirecting to /elsewhere'];
      }
      if (path === '/empty') {
        startResponse('204 No Content', []);
        return [];
      }
      if (path === '/error') throw new Error('boom');
      if (path === '/echo' && environ.REQUEST_METHOD === 'POST') {
        const bytes = await environ['wsgi.input'].read();
        startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['X-Received-Sha256', sha256(bytes)]]);
        return [bytes];
      }
      if (path === '/ignore-body') {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return ['ignored'];
      }
      if (path === '/upload') {
        // The read must end, one way or the other, when the client abandons the upload.
        probe.started(id).resolve();
        try {
          await environ['wsgi.input'].read();
        } finally {
          probe.closed(id).resolve();
        }
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return ['uploaded'];
      }
      if (path === '/json-body' && environ.REQUEST_METHOD === 'POST') {
        const text = Buffer.from(await environ['wsgi.input'].read()).toString('utf8');
        return json(startResponse, '200 OK', { received: JSON.parse(text) as unknown });
      }
      if (path === '/stream') {
        const gate = probe.gate(id).promise;
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        return (async function* (): AsyncGenerator<Chunk> {
          yield* streamParts();
          await gate;
          yield STREAM_LAST;
        })();
      }
      if (path === '/broken') {
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        return brokenParts();
      }
      if (path === '/endless') {
        startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
        // The contract's 'close': the gateway calls the body's close() on every ending [B5, B7].
        return {
          async *[Symbol.asyncIterator]() {
            for (let i = 0; ; i++) {
              await nextTurn();
              yield `data: ${i}\n\n`;
            }
          },
          close: () => probe.closed(id).resolve(),
        };
      }
      if (path === '/file') {
        startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(statSync(file).size)]]);
        return environ['wsgi.file_wrapper']!(file);
      }
      if (path.startsWith('/view/')) {
        const bytes = await environ['wsgi.input'].read();
        const view: View = {
          guest: 'native',
          method: environ.REQUEST_METHOD,
          path: decodeLatin1(path),
          query: environ.QUERY_STRING,
          x: new URLSearchParams(environ.QUERY_STRING).get('x'),
          repeat: environ.HTTP_X_REPEAT,
          host: environ.HTTP_HOST,
          ip: environ.REMOTE_ADDR,
          protocol: environ['wsgi.url_scheme'],
          bodyLength: bytes.byteLength,
          bodySha256: sha256(bytes),
          SCRIPT_NAME: environ.SCRIPT_NAME,
          PATH_INFO: environ.PATH_INFO,
          REQUEST_URI: environ.REQUEST_URI,
        };
        return json(startResponse, '200 OK', view);
      }
      startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
      return [`not found: ${path}`];
    };
    return { app, close: async () => {} };
  },
};

// --- Express ---

const expressGuest: Guest = {
  name: 'express',
  label: 'Express',
  // finalhandler names the full target (req.originalUrl), as Express does when mounted natively.
  notFound: { status: 404, contentType: /^text\/html/, contains: 'Cannot GET /mnt/missing' },
  error: { status: 500, contentType: /^application\/json/, json: { error: 'boom', handledBy: 'express' } },
  writesWithDrain: true,
  fileHow: 'res.sendFile',
  fileHasLength: true,
  // As under Express's own app.use('/mnt', sub): req.baseUrl is the mount, req.url keeps its escapes.
  viewExtras: { url: VIEW_UNDER_MOUNT, originalUrl: VIEW_TARGET, baseUrl: '/mnt', rawRepeat: RAW_REPEAT },
  build(probe, file) {
    const app = express();
    // 'test': finalhandler does not print the error it aborts a broken stream with.
    app.set('env', 'test');
    app.use((_req, res, next) => {
      res.set('X-Guest', 'express');
      next();
    });
    app.get('/', (_req, res) => void res.json({ root: true, guest: 'express' }));
    app.get('/json', (_req, res) => void res.json(JSON_DOC));
    app.get('/cookies', (_req, res) => {
      res.cookie('a', '1');
      res.cookie('b', '2', { httpOnly: true });
      res.send('cookies set');
    });
    app.get('/redirect', (_req, res) => res.redirect('/elsewhere'));
    app.get('/empty', (_req, res) => void res.sendStatus(204));
    app.get('/error', () => {
      throw new Error('boom');
    });
    app.post('/echo', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
      const bytes = req.body as Buffer;
      res.set('X-Received-Sha256', sha256(bytes)).type('application/octet-stream').send(bytes);
    });
    app.post('/ignore-body', (_req, res) => void res.type('text/plain').send('ignored'));
    app.post('/upload', (req, res) => {
      req.on('close', () => probe.closed(String(req.query.id)).resolve());
      probe.started(String(req.query.id)).resolve();
      req.resume();
      req.on('end', () => res.type('text/plain').send('uploaded'));
    });
    app.post('/json-body', express.json(), (req, res) => void res.json({ received: req.body as unknown }));
    app.get('/stream', async (req, res) => {
      const id = String(req.query.id);
      const gate = probe.gate(id).promise;
      res.type('application/octet-stream');
      let waits = 0;
      for (const part of streamParts()) {
        if (!res.write(part)) {
          waits++;
          await once(res, 'drain');
        }
      }
      probe.drainWaits.set(id, waits);
      await gate;
      res.end(STREAM_LAST);
    });
    app.get('/broken', async (_req, res) => {
      res.type('application/octet-stream');
      for await (const part of brokenParts()) res.write(part);
    });
    app.get('/endless', async (req, res) => {
      const id = String(req.query.id);
      const closed = probe.closed(id);
      res.on('close', () => closed.resolve());
      res.type('text/event-stream');
      for (let i = 0; !closed.settled; i++) {
        if (!res.write(`data: ${i}\n\n`)) await Promise.race([once(res, 'drain'), closed.promise]);
        else await nextTurn();
      }
    });
    app.get('/file', (_req, res, next) => res.sendFile(file, (err) => err && next(err)));
    app.all(/^\/view\//, async (req, res) => {
      const bytes = await readAll(req);
      const view: View = {
        guest: 'express',
        method: req.method,
        path: decodedPath(req.path),
        query: splitQuery(req.url),
        x: req.query.x,
        repeat: req.get('x-repeat'),
        host: req.get('host'),
        ip: req.ip,
        protocol: req.protocol,
        bodyLength: bytes.byteLength,
        bodySha256: sha256(bytes),
        url: req.url,
        originalUrl: req.originalUrl,
        baseUrl: req.baseUrl,
        rawRepeat: rawRepeat(req.rawHeaders),
      };
      res.json(view);
    });
    app.use((err: Error, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      // Express's documented pattern: after the head, only the default handler can abort the response.
      if (res.headersSent) return next(err);
      res.status(500).json({ error: err.message, handledBy: 'express' });
    });
    return { app: fromExpress(app), close: async () => {} };
  },
};

// --- Koa ---

const koaGuest: Guest = {
  name: 'koa',
  label: 'Koa',
  notFound: { status: 404, contentType: /^text\/plain/, contains: 'Not Found' },
  error: { status: 500, contentType: /^application\/json/, json: { error: 'boom', handledBy: 'koa' } },
  writesWithDrain: false,
  // koa-send is not installed: a file stream as ctx.body is how Koa itself sends a file.
  fileHow: 'ctx.body = fs.createReadStream (koa-send not installed)',
  fileHasLength: false,
  viewExtras: { url: VIEW_UNDER_MOUNT, originalUrl: VIEW_TARGET, rawRepeat: RAW_REPEAT },
  build(probe, file) {
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx, next) => {
      ctx.set('X-Guest', 'koa');
      try {
        await next();
      } catch (err) {
        ctx.status = 500;
        ctx.body = { error: (err as Error).message, handledBy: 'koa' };
      }
    });
    // Parses JSON and forms only: binary bodies stay on ctx.req for the routes that read them.
    app.use(koaBodyParser());
    app.use(async (ctx, next) => {
      const id = String(ctx.query.id);
      // HEAD is answered as GET, as koa-router does (Koa itself then sends no body).
      const route = `${ctx.method === 'HEAD' ? 'GET' : ctx.method} ${ctx.path}`;
      if (route === 'GET /') ctx.body = { root: true, guest: 'koa' };
      else if (route === 'GET /json') ctx.body = JSON_DOC;
      else if (route === 'GET /cookies') {
        ctx.cookies.set('a', '1', { httpOnly: false });
        ctx.cookies.set('b', '2');
        ctx.body = 'cookies set';
      } else if (route === 'GET /redirect') ctx.redirect('/elsewhere');
      else if (route === 'GET /empty') ctx.status = 204;
      else if (route === 'GET /error') ctx.throw(500, 'boom');
      else if (route === 'POST /echo') {
        const bytes = await readAll(ctx.req);
        ctx.set('X-Received-Sha256', sha256(bytes));
        ctx.type = 'application/octet-stream';
        ctx.body = bytes;
      } else if (route === 'POST /ignore-body') ctx.body = 'ignored';
      else if (route === 'POST /upload') {
        ctx.req.on('close', () => probe.closed(id).resolve());
        probe.started(id).resolve();
        await readAll(ctx.req);
        ctx.body = 'uploaded';
      } else if (route === 'POST /json-body') ctx.body = { received: ctx.request.body };
      else if (route === 'GET /stream') {
        ctx.type = 'application/octet-stream';
        ctx.body = gatedReadable(probe.gate(id).promise);
      } else if (route === 'GET /broken') {
        ctx.type = 'application/octet-stream';
        ctx.body = Readable.from(brokenParts());
      } else if (route === 'GET /endless') {
        const closed = probe.closed(id);
        ctx.req.on('close', () => closed.resolve());
        ctx.type = 'text/event-stream';
        ctx.body = endlessReadable();
      } else if (route === 'GET /file') {
        ctx.type = 'application/octet-stream';
        ctx.body = createReadStream(file);
      } else if (ctx.path.startsWith('/view/')) {
        const bytes = await readAll(ctx.req);
        const view: View = {
          guest: 'koa',
          method: ctx.method,
          path: decodedPath(ctx.path),
          query: ctx.querystring,
          x: ctx.query.x,
          repeat: ctx.get('x-repeat'),
          host: ctx.get('host'),
          ip: ctx.ip,
          protocol: ctx.protocol,
          bodyLength: bytes.byteLength,
          bodySha256: sha256(bytes),
          url: ctx.url,
          originalUrl: ctx.originalUrl,
          rawRepeat: rawRepeat(ctx.req.rawHeaders),
        };
        ctx.body = view;
      } else await next();
    });
    return { app: fromKoa(app), close: async () => {} };
  },
};

// --- Fastify ---

const fastifyGuest: Guest = {
  name: 'fastify',
  label: 'Fastify',
  // Fastify's not-found message names request.url: the path under the mount.
  notFound: { status: 404, contentType: /^application\/json/, json: { message: 'Route GET:/missing not found', error: 'Not Found', statusCode: 404 } },
  error: { status: 500, contentType: /^application\/json/, json: { error: 'boom', handledBy: 'fastify' } },
  writesWithDrain: false,
  // @fastify/static is not installed: reply.send(a file stream) is how Fastify itself sends a file.
  fileHow: 'reply.send(fs.createReadStream) (@fastify/static not installed)',
  fileHasLength: false,
  viewExtras: { url: VIEW_UNDER_MOUNT, originalUrl: VIEW_TARGET, rawRepeat: RAW_REPEAT },
  build(probe, file) {
    const app = Fastify();
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-guest', 'fastify');
    });
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.setErrorHandler((err, _request, reply) => reply.code(500).send({ error: (err as Error).message, handledBy: 'fastify' }));
    app.get('/', async () => ({ root: true, guest: 'fastify' }));
    app.get('/json', async (_request, reply) => reply.send(JSON_DOC));
    app.get('/cookies', async (_request, reply) => reply.header('set-cookie', ['a=1; Path=/', 'b=2; Path=/; HttpOnly']).send('cookies set'));
    app.get('/redirect', async (_request, reply) => reply.redirect('/elsewhere'));
    app.get('/empty', async (_request, reply) => reply.code(204).send());
    app.get('/error', async () => {
      throw new Error('boom');
    });
    app.post('/echo', async (request, reply) => {
      const bytes = request.body as Buffer;
      return reply.header('x-received-sha256', sha256(bytes)).type('application/octet-stream').send(bytes);
    });
    app.post('/json-body', async (request) => ({ received: request.body }));
    app.post('/ignore-body', async (_request, reply) => reply.type('text/plain').send('ignored'));
    // The body is read by the content-type parser before the route runs: watch the request from the start.
    app.addHook('onRequest', async (request) => {
      if (request.url.startsWith('/upload')) {
        const id = String(new URLSearchParams(request.url.split('?')[1]).get('id'));
        request.raw.on('close', () => probe.closed(id).resolve());
        probe.started(id).resolve();
      }
    });
    app.post('/upload', async (_request, reply) => reply.type('text/plain').send('uploaded'));
    app.get('/stream', async (request, reply) => {
      const id = String((request.query as { id?: string }).id);
      return reply.type('application/octet-stream').send(gatedReadable(probe.gate(id).promise));
    });
    app.get('/broken', async (_request, reply) => reply.type('application/octet-stream').send(Readable.from(brokenParts())));
    app.get('/endless', async (request, reply) => {
      const closed = probe.closed(String((request.query as { id?: string }).id));
      request.raw.on('close', () => closed.resolve());
      return reply.type('text/event-stream').send(endlessReadable());
    });
    app.get('/file', async (_request, reply) => reply.type('application/octet-stream').send(createReadStream(file)));
    app.all('/view/*', async (request) => {
      const bytes = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const url = request.url;
      const view: View = {
        guest: 'fastify',
        method: request.method,
        path: decodedPath(url.split('?')[0]!),
        query: splitQuery(url),
        x: (request.query as { x?: string }).x,
        repeat: request.headers['x-repeat'],
        host: request.headers.host,
        ip: request.ip,
        protocol: request.protocol,
        bodyLength: bytes.byteLength,
        bodySha256: sha256(bytes),
        url,
        originalUrl: request.originalUrl,
        rawRepeat: rawRepeat(request.raw.rawHeaders),
      };
      return view;
    });
    return { app: fromFastify(app), close: () => app.close() };
  },
};

export const GUESTS: readonly Guest[] = [native, expressGuest, koaGuest, fastifyGuest];
