// Property-based tests (issue 7, item 5), with fast-check: random methods, request-targets (percent-
// encoded UTF-8, `+`, `%2F`, dot segments, empty segments), queries, header lists with repeats and odd
// case, bodies sent with Content-Length or chunked, and a random response plan (status and reason,
// repeated headers, a declared or computed length, a whole or a streamed body), over raw sockets.
//
//  1. our server × a native app: what the app observes and what the client receives equal a model of
//     the request (PEP 3333 decoding, header joining) and of the plan;
//  2. each host × the same native app: equal to what our server gives, observation and answer;
//  3. our server × each wrapped framework: what the framework observes and answers equals the same
//     framework app served natively.
//
// Runs are bounded (40 each, or FC_RUNS) and seeded (SEED, or FC_SEED from the environment); a failure
// prints the seed and path to replay it. A counter-example found here becomes a fixed case in
// regressions.test.ts.
import { Buffer } from 'node:buffer';
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App, Chunk, Environ } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { fromFastify } from '@node-wsgi/fastify';
import { fromKoa } from '@node-wsgi/koa';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { parseWire, type WireResponse } from '../differential/harness.js';
import { closeHosts, closeListening, ErrorLog, HOSTS, listenNative, PREFIX, serveApp, type Listening, type Started } from './support.js';

const SEED = Number(process.env.FC_SEED ?? 20261122);
const NUM_RUNS = Number(process.env.FC_RUNS ?? 40);
const params = { seed: SEED, numRuns: NUM_RUNS } as const;

// --- the request ---

interface PlannedRequest {
  method: string;
  version: '1.0' | '1.1';
  /** Sends `Expect: 100-continue` with the body. */
  expectContinue: boolean;
  /** Path below the mount, raw (escapes as sent), starting with '/'. */
  path: string;
  /** Raw query without '?', or null for none. */
  query: string | null;
  headers: Array<[string, string]>;
  body: Buffer | null;
  /** How a body is framed: Content-Length or chunked, in these piece sizes. */
  chunked: number[] | null;
  plan: ResponsePlan;
}

interface ResponsePlan {
  status: string;
  headers: Array<[string, string]>;
  declareLength: boolean;
  /** How the body comes: an array, a sync or async generator, or write() and then an array [R7]. */
  kind: 'array' | 'sync' | 'async' | 'write';
}

const UNRESERVED = [...'abcxyzABCXYZ0129-._~'];
const SUB_DELIMS = [...'!$&\'()*+,;=:@'];
// Text a client percent-encodes: UTF-8 of non-ASCII, and the characters that mean something raw.
const ENCODED = ['é', '文', '😀', ' ', '/', '?', '#', '%', '+', '&', '=', '"', '<', '\\', 'ÿ', '\0'].map((c) => encodeURIComponent(c));
const MIXED_CASE_ESCAPES = ['%2f', '%2F', '%c3%a9', '%C3%A9', '%7e', '%41'];

const atom = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...UNRESERVED) },
  { weight: 2, arbitrary: fc.constantFrom(...SUB_DELIMS) },
  { weight: 3, arbitrary: fc.constantFrom(...ENCODED) },
  { weight: 1, arbitrary: fc.constantFrom(...MIXED_CASE_ESCAPES) },
);

const segment = fc.oneof(
  { weight: 10, arbitrary: fc.array(atom, { maxLength: 6 }).map((atoms) => atoms.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '') },
);

const pathArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => '/' + segments.join('/'));

const queryAtom = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...UNRESERVED) },
  { weight: 3, arbitrary: fc.constantFrom('=', '&', '+', '?', '/', ':', '@', ',', ';') },
  { weight: 3, arbitrary: fc.constantFrom(...ENCODED, '%2B', '%26', '%3D') },
  // Escapes a query parser may choke on: the query is passed on raw, whatever it holds.
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E9', '%C3%28') },
);
const queryArb = fc.option(fc.array(queryAtom, { maxLength: 12 }).map((atoms) => atoms.join('')), { nil: null });

// `X_Alpha` is the underscore twin of `X-Alpha`: dropped from environ (SPEC §2), seen by a framework natively.
const HEADER_NAMES = ['X-Alpha', 'x-alpha', 'X-ALPHA', 'X_Alpha', 'x-Beta', 'X-Repeat', 'x-repeat', 'Accept', 'ACCEPT', 'Accept-Language', 'Cookie', 'cookie', 'User-Agent', 'Authorization', 'Referer', 'X-Custom-Thing', 'If-None-Match'];
const VALUE_CHARS = [...'abcXYZ0189 -_.,;:=/"()[]{}*@!?+~%&\t'];
const headerValue = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.constantFrom(...VALUE_CHARS), { minLength: 1, maxLength: 16 }).map((c) => c.join('')) },
  // obs-text: a latin-1 byte in a header value
  { weight: 1, arbitrary: fc.constantFrom('caf\u00e9', '\u00ff\u00fe', 'na\u00efve') },
)
  // Node trims optional whitespace around a value; an empty value after trimming is its own case.
  .map((v) => v.trim())
  .filter((v) => v !== '');
const headersArb = fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 6 });

const STATUSES = ['304 Not Modified', '200 OK', '200 Fine Thanks', '201 Created', '202 Accepted', '204 No Content', '299 Odd But Fine', '404 Not Found', '418 I\'m a teapot', '451 Unavailable For Legal Reasons', '500 Internal Server Error', '503 Try Later'];
const RESPONSE_HEADERS: Array<[string, string]> = [
  ['Content-Type', 'application/json'],
  ['X-Multi', 'one'],
  ['Set-Cookie', 'a=1; Path=/'],
  ['X-Multi', 'two'],
  ['Set-Cookie', 'b=2; HttpOnly'],
  ['Cache-Control', 'no-store'],
  ['X-Latin', 'caf\u00e9'],
  ['Vary', 'Accept'],
  ['Link', '</a.css>; rel=preload'],
];
const planArb: fc.Arbitrary<ResponsePlan> = fc.record({
  status: fc.constantFrom(...STATUSES),
  headers: fc.subarray(RESPONSE_HEADERS),
  declareLength: fc.boolean(),
  kind: fc.constantFrom('array' as const, 'sync' as const, 'async' as const, 'write' as const),
}).map((plan) => {
  // A 204 carries neither Content-Type (validate's H1) nor Content-Length (B4; RFC 9110 §8.6): an
  // app that sends them breaks the contract, and hosts differ on whether they drop them (Koa does).
  // A 304 keeps the app's Content-Type and Content-Length on every host (SPEC B4, B8), Koa included,
  // whose respond() would strip them.
  if (!plan.status.startsWith('204')) return plan;
  return { ...plan, declareLength: false, headers: plan.headers.filter(([n]) => n !== 'Content-Type') };
});

const BODY_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const requestArb: fc.Arbitrary<PlannedRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', ...BODY_METHODS),
    version: fc.constantFrom('1.1' as const, '1.1' as const, '1.1' as const, '1.0' as const),
    expectContinue: fc.boolean(),
    path: pathArb,
    query: queryArb,
    headers: headersArb,
    body: fc.uint8Array({ maxLength: 3000 }),
    contentType: fc.constantFrom(null, 'application/octet-stream', 'text/plain; charset=utf-8', 'application/json', 'application/x-www-form-urlencoded'),
    cuts: fc.option(fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 4 }), { nil: null }),
    plan: planArb,
  })
  .map(({ method, version, expectContinue, path, query, headers, body, contentType, cuts, plan }) => {
    const hasBody = BODY_METHODS.includes(method);
    const all: Array<[string, string]> = [...headers];
    if (hasBody && contentType !== null) all.push(['Content-Type', contentType]);
    // HTTP/1.0 has no chunked request bodies and no 100 Continue.
    const chunked = hasBody && version === '1.1' ? cuts : null;
    return { method, version, expectContinue: hasBody && version === '1.1' && expectContinue, path, query, headers: all, body: hasBody ? Buffer.from(body) : null, chunked, plan };
  });

/** The request's bytes: the target under `prefix`, `Host`, the headers, framing, `Connection: close`. */
function requestBytes(request: PlannedRequest, prefix: string): Buffer {
  const target = prefix + request.path + (request.query === null ? '' : '?' + request.query);
  let head = `${request.method} ${target} HTTP/${request.version}\r\nHost: prop.test\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${value}\r\n`;
  if (request.expectContinue) head += 'Expect: 100-continue\r\n';
  head += `X-Plan: ${Buffer.from(JSON.stringify(request.plan)).toString('base64url')}\r\n`;
  let body: Buffer = Buffer.alloc(0);
  if (request.body !== null) {
    if (request.chunked === null) {
      head += `Content-Length: ${request.body.length}\r\n`;
      body = request.body;
    } else {
      head += 'Transfer-Encoding: chunked\r\n';
      const parts: Buffer[] = [];
      let at = 0;
      for (const size of request.chunked) {
        if (at >= request.body.length) break;
        const piece = request.body.subarray(at, at + size);
        parts.push(Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n'));
        at += piece.length;
      }
      if (at < request.body.length) {
        const rest = request.body.subarray(at);
        parts.push(Buffer.from(rest.length.toString(16) + '\r\n'), rest, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      body = Buffer.concat(parts);
    }
  }
  head += 'Connection: close\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Sends raw bytes, reads until the server closes, parses the one response. */
async function exchange(port: number, bytes: Buffer, head: boolean): Promise<WireResponse> {
  const data = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no complete response within 5 s'));
    }, 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(bytes);
  });
  return parseWire(data, head);
}

/** Status, reason, headers (but Date and connection management; names lowercased, stable order by name) and body. */
function answer(response: WireResponse, dropped: readonly string[] = []): { interim: string[]; status: string; headers: Array<[string, string]>; body: string } {
  const skip = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', ...dropped]);
  const headers = response.headers
    .map(([name, value]): [string, string] => [name.toLowerCase(), value])
    .filter(([name]) => !skip.has(name))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { interim: response.interim, status: `${response.status} ${response.statusText}`, headers, body: response.body.toString('latin1') };
}

// --- the native guest ---

const OBSERVED_KEYS = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_PROTOCOL', 'wsgi.url_scheme', 'wsgi.input_terminated'];

/** What the guest observed, and the plan it answered with. */
const probe: App = async (environ: Environ, startResponse) => {
  const body = Buffer.from(await environ['wsgi.input'].read());
  const observed: Record<string, unknown> = {};
  for (const key of OBSERVED_KEYS) if (key in environ) observed[key] = environ[key];
  for (const key of Object.keys(environ).sort()) if (key.startsWith('HTTP_')) observed[key] = environ[key];
  observed.body = body.toString('hex');
  const plan = JSON.parse(Buffer.from(String(environ.HTTP_X_PLAN), 'base64url').toString()) as ResponsePlan;
  const text = JSON.stringify(observed);
  const headers = [...plan.headers];
  if (plan.declareLength) headers.push(['Content-Length', String(Buffer.byteLength(text))]);
  const write = startResponse(plan.status, headers);
  const pieces = [text.slice(0, 7), '', text.slice(7)];
  if (plan.kind === 'write') {
    write(pieces[0]!);
    return pieces.slice(1);
  }
  if (plan.kind === 'array') return pieces;
  if (plan.kind === 'sync') return (function* (): Generator<Chunk> { yield* pieces; })();
  return (async function* (): AsyncGenerator<Chunk> {
    for (const piece of pieces) {
      await new Promise((resolve) => setImmediate(resolve));
      yield piece;
    }
  })();
};

/** PEP 3333's percent-decoding: bytes as latin-1 code points, malformed escapes kept. */
function latin1Decode(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The environ a faithful gateway builds for the request (the keys `probe` reports). */
function modelEnviron(request: PlannedRequest, scriptName: string): Record<string, unknown> {
  const target = scriptName + request.path + (request.query === null ? '' : '?' + request.query);
  const model: Record<string, unknown> = {
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: scriptName,
    PATH_INFO: latin1Decode(request.path),
    QUERY_STRING: request.query ?? '',
    REQUEST_URI: target,
    SERVER_PROTOCOL: `HTTP/${request.version}`,
    'wsgi.url_scheme': 'http',
    'wsgi.input_terminated': request.chunked !== null,
  };
  const lines: Array<[string, string]> = [['Host', 'prop.test'], ...request.headers];
  if (request.expectContinue) lines.push(['Expect', '100-continue']);
  lines.push(['X-Plan', Buffer.from(JSON.stringify(request.plan)).toString('base64url')]);
  if (request.body !== null && request.chunked === null) lines.push(['Content-Length', String(request.body.length)]);
  if (request.chunked !== null) lines.push(['Transfer-Encoding', 'chunked']);
  lines.push(['Connection', 'close']);
  const http: Record<string, string> = {};
  for (const [name, value] of lines) {
    if (name.includes('_')) continue;
    const upper = name.toUpperCase();
    const key = upper === 'CONTENT-TYPE' ? 'CONTENT_TYPE' : upper === 'CONTENT-LENGTH' ? 'CONTENT_LENGTH' : 'HTTP_' + upper.replaceAll('-', '_');
    if (key.startsWith('HTTP_')) http[key] = key in http ? http[key] + (key === 'HTTP_COOKIE' ? '; ' : ', ') + value : value;
    else model[key] = value;
  }
  for (const key of Object.keys(http).sort()) model[key] = http[key];
  model.body = (request.body ?? Buffer.alloc(0)).toString('hex');
  return model;
}

const NULL_BODY = /^(1\d\d|204|304) /;

/**
 * Whether the request waits for a 100 Continue: `Expect` with a body to send. With an empty body our
 * gateway has nothing to ask for and sends none (SPEC §3), where Node answering on its own (a host
 * without a 'checkContinue' listener) sends one anyway; both are right, so that case is not compared.
 */
function asksToContinue(request: PlannedRequest): boolean {
  return request.expectContinue && request.body !== null && (request.body.length > 0 || request.chunked !== null);
}

/** An answer, its interim responses left out where they may legitimately differ. */
function comparedAnswer(request: PlannedRequest, response: WireResponse, dropped: readonly string[] = []): ReturnType<typeof answer> {
  const got = answer(response, dropped);
  return asksToContinue(request) ? got : { ...got, interim: [] };
}

describe('property: our server × a native app, against a model of PEP 3333', () => {
  let server: Started;

  beforeAll(async () => {
    server = await HOSTS[0]!.start(probe);
  });
  afterAll(closeHosts);

  it('the app observes the method, decoded path, raw query, joined headers and exact body bytes; the client gets the planned status, headers and body', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (request) => {
        const head = request.method === 'HEAD';
        const response = await exchange(server.port, requestBytes(request, PREFIX), head);
        const got = answer(response);
        // The app reads the body: one 100 Continue, before the final head, if there is a body to ask for [§3].
        expect(got.interim).toEqual(asksToContinue(request) ? ['HTTP/1.1 100 Continue'] : []);
        expect(got.status).toBe(request.plan.status);
        // The app's headers reach the client as given, in order per name [R4, B8].
        const given = request.plan.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]);
        expect(got.headers.filter(([n]) => n !== 'content-length')).toEqual([...given].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
        if (head || NULL_BODY.test(request.plan.status)) {
          expect(got.body).toBe('');
          return;
        }
        const observed = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
        expect(observed).toEqual(modelEnviron(request, PREFIX));
        expect(Number(got.headers.find(([n]) => n === 'content-length')?.[1] ?? response.body.length)).toBe(response.body.length);
      }),
      params,
    );
  });
});

describe('property: every host × the same native app, against our server', () => {
  beforeAll(async () => {
    // The paths include escaped '/' and unreserved characters, which framework hosts refuse by
    // default (strictPaths); the property is about what the app sees once a path is let through.
    await Promise.all(HOSTS.map(async (host) => (started[host.name] = await host.start(probe, { strictPaths: false }))));
  });
  afterAll(closeHosts);
  const started: Record<string, Started> = {};

  for (const host of HOSTS.slice(1)) {
    it(`${host.mounted}: the app observes and the client receives what our server gives`, async () => {
      // Express sets X-Powered-By before any middleware runs: a host header kept beside the app's [B8].
      const dropped = host.name === 'express' ? ['x-powered-by'] : [];
      await fc.assert(
        fc.asyncProperty(requestArb, async (request) => {
          const head = request.method === 'HEAD';
          const bytes = requestBytes(request, PREFIX);
          const expected = comparedAnswer(request, await exchange(started.node!.port, bytes, head));
          const got = comparedAnswer(request, await exchange(started[host.name]!.port, bytes, head), dropped);
          expect(got).toEqual(expected);
        }),
        params,
      );
    });
  }
});

// --- the wrapped frameworks ---

interface FrameworkObservation {
  method: string;
  url: string;
  path: string;
  query: unknown;
  headers: unknown;
  rawHeaders: string[];
  body: string;
}

/** Answers a framework's observation the framework's way, following the plan's status and headers. */
function planFor(raw: string | string[] | undefined): ResponsePlan {
  return JSON.parse(Buffer.from(String(raw), 'base64url').toString()) as ResponsePlan;
}

async function readRaw(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function expressGuest(): express.Express {
  const app = express();
  app.use(async (req, res) => {
    const body = await readRaw(req);
    const seen: FrameworkObservation = { method: req.method, url: req.url, path: req.path, query: req.query, headers: req.headers, rawHeaders: req.rawHeaders, body: body.toString('hex') };
    const plan = planFor(req.headers['x-plan']);
    const [code, ...reason] = plan.status.split(' ');
    res.status(Number(code));
    res.statusMessage = reason.join(' ');
    for (const [name, value] of plan.headers) res.append(name, value);
    if (plan.kind === 'async') {
      res.write(JSON.stringify(seen));
      res.end();
    } else {
      res.send(JSON.stringify(seen));
    }
  });
  return app;
}

function koaGuest(): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const body = await readRaw(ctx.req);
    const seen: FrameworkObservation = { method: ctx.method, url: ctx.url, path: ctx.path, query: ctx.query, headers: ctx.headers, rawHeaders: ctx.req.rawHeaders, body: body.toString('hex') };
    const plan = planFor(ctx.get('x-plan'));
    const [code, ...reason] = plan.status.split(' ');
    ctx.status = Number(code);
    ctx.message = reason.join(' ');
    for (const [name, value] of plan.headers) ctx.append(name, value);
    ctx.body = JSON.stringify(seen);
  });
  return app;
}

function fastifyGuest(): FastifyInstance {
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.all('/*', async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const seen: FrameworkObservation = { method: request.method, url: request.url, path: request.routeOptions.url ?? '', query: request.query, headers: request.headers, rawHeaders: request.raw.rawHeaders, body: body.toString('hex') };
    const plan = planFor(request.headers['x-plan']);
    const [code, ...reason] = plan.status.split(' ');
    reply.code(Number(code));
    reply.raw.statusMessage = reason.join(' ');
    for (const [name, value] of plan.headers) reply.header(name, value);
    return reply.send(JSON.stringify(seen));
  });
  app.all('/', async (request, reply) => reply.code(200).send(request.method));
  return app;
}

/**
 * Without the non-ASCII response header value: natively Node writes it as UTF-8 when the head goes out
 * in one write with a string body (`res.end('text')`, as Koa does) and as latin-1 otherwise; through
 * the bridge it is always latin-1. A known difference (reported), not what this property is about.
 */
function asciiResponseHeaders(arb: fc.Arbitrary<PlannedRequest>): fc.Arbitrary<PlannedRequest> {
  return arb.map((request) => ({ ...request, plan: { ...request.plan, headers: request.plan.headers.filter(([, v]) => /^[\x20-\x7e]*$/.test(v)) } }));
}

/** A middleware in front, so the reverse gateway's synthetic request and response are used. */
const throughMiddleware = (app: App): App => (environ, startResponse) => app(environ, startResponse);

async function listenFastify(app: FastifyInstance): Promise<Listening> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, errors: new ErrorLog(), close: () => app.close() };
}

const FRAMEWORKS: Array<{ name: string; start(): Promise<{ native: Listening; wrapped: Listening; close?(): Promise<void> }> }> = [
  {
    name: 'fromExpress(app)',
    async start() {
      const app = expressGuest();
      return { native: await listenNative(app), wrapped: await serveApp(throughMiddleware(fromExpress(app))) };
    },
  },
  {
    name: 'fromKoa(app)',
    async start() {
      const app = koaGuest();
      return { native: await listenNative(app.callback()), wrapped: await serveApp(throughMiddleware(fromKoa(app))) };
    },
  },
  {
    name: 'fromFastify(instance)',
    async start() {
      const app = fastifyGuest();
      const native = await listenFastify(app);
      return { native, wrapped: await serveApp(throughMiddleware(fromFastify(app))), close: () => app.close() };
    },
  },
];

for (const framework of FRAMEWORKS) {
  describe(`property: serve(${framework.name}) against the framework served natively`, () => {
    let servers: Awaited<ReturnType<(typeof framework)['start']>>;

    beforeAll(async () => {
      servers = await framework.start();
    });
    afterAll(async () => {
      await closeListening();
      await servers.close?.();
    });

    it('the framework observes the same method, url, path, query, headers and body bytes, and the client gets the same answer', async () => {
      await fc.assert(
        fc.asyncProperty(asciiResponseHeaders(requestArb), async (request) => {
          const head = request.method === 'HEAD';
          const bytes = requestBytes(request, '');
          const expected = comparedAnswer(request, await exchange(servers.native.port, bytes, head));
          const got = comparedAnswer(request, await exchange(servers.wrapped.port, bytes, head));
          expect(got).toEqual(expected);
        }),
        params,
      );
    });
  });
}
