// Express 5's own test suite (expressjs/express test/res.*.js, req.*.js, app.router.js, app.use.js,
// express.json/raw/text/urlencoded/static.js), its scenarios turned into differential cases: the
// same Express app served natively and through the bridge (`serve(passThrough(fromExpress(app)))`,
// the synthetic request and response of `fromNodeListener`), compared on the wire: status, reason,
// headers (but Date and connection management) and body bytes. A handful of the most telling cases
// run through Fastify (`register(toFastify(fromExpress(app)))`) and Koa (`use(toKoa(fromExpress(app)))`)
// as well, against the same native Express.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import tls from 'node:tls';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { mount, serve } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';
import { toKoa } from '@node-wsgi/koa';
import cookieParser from 'cookie-parser';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaMount from 'koa-mount';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureConsoleErrors,
  chunked,
  comparable,
  exchange,
  listening,
  parseWire,
  readUntilClose,
  serveApp,
  serveBoth,
  type Listening,
} from '../differential/harness.js';
import { selfSignedCertificate } from '../support/tls-cert.js';

// --- fixtures, after express's test/fixtures ---

const dir = mkdtempSync(path.join(tmpdir(), 'node-wsgi-upstream-express-'));
const fixture = (...parts: string[]): string => path.join(dir, ...parts);
writeFileSync(fixture('name.txt'), 'tobi');
writeFileSync(fixture('nums.txt'), '123456789');
writeFileSync(fixture('user.html'), '<p>{{user.name}}</p>');
writeFileSync(fixture('todo.txt'), '- groceries');
writeFileSync(fixture('% of dogs.txt'), '20%');
writeFileSync(fixture('.name'), 'tobi');
writeFileSync(fixture('empty.txt'), '');
writeFileSync(fixture('big.bin'), Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) & 0xff)));
mkdirSync(fixture('users'));
writeFileSync(fixture('users', 'index.html'), '<p>tobi, loki, jane</p>');
writeFileSync(fixture('users', 'tobi.txt'), 'ferret');
mkdirSync(fixture('pets'));
writeFileSync(fixture('pets', 'names.txt'), 'tobi\nloki');
mkdirSync(fixture('snow ☃'));
writeFileSync(fixture('snow ☃', 'index.html'), '<p>snow</p>');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const numsStat = statSync(fixture('nums.txt'));
const numsEtag = `W/"${numsStat.size.toString(16)}-${numsStat.mtime.getTime().toString(16)}"`;
const past = new Date(numsStat.mtime.getTime() - 3_600_000).toUTCString();
const future = new Date(Date.now() + 3_600_000).toUTCString();

// --- the probes and the servers ---

interface Case {
  /** Named after the Express test it comes from. */
  name: string;
  method: string;
  target: string;
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  version?: '1.0';
  /** Send the body in these pieces, 20 ms apart, instead of with the head. */
  trickle?: number[];
  /** The Host header; `null` sends none (an HTTP/1.0 request may). Default `differential.test`. */
  host?: string | null;
}

function requestBytes(c: Case): Buffer {
  const headers: Array<[string, string]> = [];
  const host = c.host === undefined ? 'differential.test' : c.host;
  if (host !== null) headers.push(['Host', host]);
  headers.push(...(c.headers ?? []));
  const body = c.body === undefined ? null : Buffer.from(c.body);
  const isChunked = headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && v === 'chunked');
  if (body !== null && !isChunked && !headers.some(([n]) => n.toLowerCase() === 'content-length')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  headers.push(['Connection', 'close']);
  let head = `${c.method} ${c.target} HTTP/${c.version ?? '1.1'}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body ?? Buffer.alloc(0)]);
}

type Outcome = ReturnType<typeof comparable> | { incomplete: string };

/** What a client sees, or how the response was cut short (a connection destroyed mid-body). */
async function outcome(port: number, c: Case, head: boolean): Promise<Outcome> {
  try {
    if (c.trickle !== undefined) return comparable(await trickled(port, c, head));
    return comparable(await exchange(port, requestBytes(c), head));
  } catch (err) {
    return { incomplete: (err as Error).message };
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** The head at once, then the body in pieces with pauses between: an upload that arrives slowly. */
async function trickled(port: number, c: Case, head: boolean): Promise<ReturnType<typeof parseWire>> {
  const bytes = requestBytes(c);
  const bodyStart = bytes.indexOf('\r\n\r\n') + 4;
  const received = await readUntilClose(net.connect(port, '127.0.0.1'), (socket) => {
    socket.write(bytes.subarray(0, bodyStart));
    let at = bodyStart;
    const pieces = [...c.trickle!];
    const next = (): void => {
      const size = pieces.shift();
      if (size === undefined) {
        socket.write(bytes.subarray(at));
        return;
      }
      socket.write(bytes.subarray(at, at + size));
      at += size;
      setTimeout(next, 20);
    };
    setTimeout(next, 20);
  });
  return parseWire(received, head);
}

type Side = 'bridged' | 'fastify' | 'koa';

interface Servers {
  native: Listening;
  served: Listening;
  bridged: Listening;
  fastify?: Listening;
  koa?: Listening;
}

async function listen(server: http.Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return listening(server);
}

async function startServers(build: () => express.Express, hosts: boolean): Promise<Servers> {
  const native = await listen(http.createServer(build()));
  const servers: Servers = { native, ...(await serveBoth(fromExpress(build()))) };
  if (hosts) {
    const fastify = Fastify({ forceCloseConnections: true });
    await fastify.register(toFastify(fromExpress(build())));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    servers.fastify = {
      port: (fastify.server.address() as AddressInfo).port,
      close: () => fastify.close(),
    };
    const koa = new Koa();
    koa.silent = true;
    koa.use(toKoa(fromExpress(build())));
    servers.koa = await listen(http.createServer(koa.callback()));
  }
  return servers;
}

/**
 * One Express app, natively and through the bridge; every case must look the same on the wire, down to
 * what Express logged to console.error. Cases listed in `acrossHosts` run through Fastify and Koa too.
 */
function describeUpstream(title: string, build: () => express.Express, cases: Case[], acrossHosts: string[] = []): void {
  describe(title, () => {
    let servers: Servers | undefined;
    let logged!: ReturnType<typeof captureConsoleErrors>;
    beforeAll(async () => {
      logged = captureConsoleErrors();
      servers = await startServers(build, acrossHosts.length > 0);
    });
    afterAll(async () => {
      logged?.restore();
      await Promise.all([servers?.native.close(), servers?.served.close(), servers?.bridged.close(), servers?.fastify?.close(), servers?.koa?.close()]);
    });
    const names = new Set(cases.map((c) => c.name));
    for (const name of acrossHosts) if (!names.has(name)) throw new Error(`no case named ${name}`);
    for (const c of cases) {
      const sides: Side[] = acrossHosts.includes(c.name) ? ['bridged', 'fastify', 'koa'] : ['bridged'];
      for (const side of sides) {
        const label = side === 'bridged' ? '' : side === 'fastify' ? ' [Fastify host]' : ' [Koa host]';
        it(`${c.name}${label} (${c.method} ${c.target})`, async () => {
          const head = c.method === 'HEAD';
          const expected = await outcome(servers!.native.port, c, head);
          // finalhandler logs on a later turn (setImmediate) than the response it sent.
          await settle();
          const nativeLog = logged.take();
          const actual = await outcome(servers![side]!.port, c, head);
          await settle();
          if (side === 'fastify') {
            // Fastify writes every header name in lower case (reply.header); names are case-insensitive.
            const lower = (o: Outcome) => ('headers' in o ? { ...o, headers: o.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]) } : o);
            expect(lower(actual), side).toEqual(lower(expected));
          } else {
            expect(actual, side).toEqual(expected);
          }
          if (side === 'bridged') expect(logged.take(), 'console.error through the bridge').toEqual(nativeLog);
          else logged.take();
        });
      }
    }
  });
}

function app(): express.Express {
  const a = express();
  // Production mode: the default error handler shows no stack, whose frames differ by design.
  a.set('env', 'production');
  return a;
}

// --- res.send, res.json, res.jsonp, res.status, res.sendStatus ---

describeUpstream(
  'res.send / res.json / res.jsonp / res.status / res.sendStatus (test/res.send.js, res.json.js, res.jsonp.js, res.status.js, res.sendStatus.js)',
  () => {
    const a = app();
    a.get('/send/null', (_req, res) => void res.send(null));
    a.get('/send/undefined', (_req, res) => void res.send(undefined));
    a.get('/send/string', (_req, res) => void res.send('<p>hey</p>'));
    a.get('/send/utf8', (_req, res) => void res.send('café ☕ — ünïcödé'));
    a.get('/send/typed', (_req, res) => void res.set('Content-Type', 'text/plain').send('hey'));
    a.get('/send/charset', (_req, res) => void res.set('Content-Type', 'text/plain; charset=iso-8859-1').send('hey'));
    a.get('/send/buffer', (_req, res) => void res.send(Buffer.from('hello')));
    a.get('/send/buffer-typed', (_req, res) => void res.set('Content-Type', 'text/plain').send(Buffer.from('hey')));
    a.get('/send/object', (_req, res) => void res.send({ name: 'tobi' }));
    a.get('/send/204', (_req, res) => void res.status(204).set('Transfer-Encoding', 'chunked').send('foo'));
    a.get('/send/304', (_req, res) => void res.status(304).set('Transfer-Encoding', 'chunked').send('foo'));
    a.get('/send/etag', (_req, res) => void res.send('kajdslfkasdf'));
    a.get('/send/etag-set', (_req, res) => void res.set('ETag', '"asdf"').send('hello!'));
    a.get('/send/large', (_req, res) => void res.send('x'.repeat(100_000)));
    a.all('/send/any', (_req, res) => void res.send('yay'));
    a.get('/send/status-message', (_req, res) => {
      res.statusMessage = 'Custom Reason';
      res.status(299).send('custom');
    });
    a.get('/json/null', (_req, res) => void res.json(null));
    a.get('/json/number', (_req, res) => void res.json(1));
    a.get('/json/string', (_req, res) => void res.json('str'));
    a.get('/json/array', (_req, res) => void res.json(['foo', 'bar', 'baz']));
    a.get('/json/object', (_req, res) => void res.json({ name: 'tobi' }));
    a.get('/json/unicode', (_req, res) => void res.json({ '&': '\u2028<script>\u2029', text: 'café' }));
    a.get('/json/status', (_req, res) => void res.status(201).json({ id: 1 }));
    a.get('/jsonp', (_req, res) => void res.jsonp({ count: 1 }));
    a.get('/jsonp/typed', (_req, res) => void res.type('text/x-custom').jsonp({ count: 1 }));
    a.get('/status/:code', (req, res) => void res.status(Number(req.params.code)).end());
    a.get('/status-invalid', (_req, res) => void res.status(99).end());
    a.get('/sendStatus/:code', (req, res) => void res.sendStatus(Number(req.params.code)));
    return a;
  },
  [
    { name: 'res.send(null) should set body to ""', method: 'GET', target: '/send/null' },
    { name: 'res.send(undefined) should set body to ""', method: 'GET', target: '/send/undefined' },
    { name: 'res.send(String) should send as html', method: 'GET', target: '/send/string' },
    { name: 'res.send(String) should set Content-Length in bytes (utf-8)', method: 'GET', target: '/send/utf8' },
    { name: 'res.send(String) should not override Content-Type', method: 'GET', target: '/send/typed' },
    { name: 'res.send(String) should override charset in Content-Type', method: 'GET', target: '/send/charset' },
    { name: 'res.send(Buffer) should send as octet-stream', method: 'GET', target: '/send/buffer' },
    { name: 'res.send(Buffer) should not override Content-Type', method: 'GET', target: '/send/buffer-typed' },
    { name: 'res.send(Object) should send as application/json', method: 'GET', target: '/send/object' },
    { name: 'res.send when .statusCode is 204 should strip Content-* fields, Transfer-Encoding field, and body', method: 'GET', target: '/send/204' },
    { name: 'res.send when .statusCode is 304 should strip Content-* fields, Transfer-Encoding field, and body', method: 'GET', target: '/send/304' },
    { name: 'res.send should respond with 304 Not Modified when fresh', method: 'GET', target: '/send/etag-set', headers: [['If-None-Match', '"asdf"']] },
    { name: 'res.send should not perform freshness check unless 2xx or 304', method: 'GET', target: '/status-invalid', headers: [['If-None-Match', '"asdf"']] },
    { name: 'res.send "etag" setting should send ETag', method: 'GET', target: '/send/etag' },
    { name: 'res.send "etag" setting should send ETag for empty string response', method: 'GET', target: '/send/null' },
    { name: 'res.send "etag" setting should not override ETag when manually set', method: 'GET', target: '/send/etag-set' },
    { name: 'res.send "etag" setting should send ETag for long response', method: 'GET', target: '/send/large' },
    { name: 'res.send "etag" setting should not send ETag for res.send() on POST', method: 'POST', target: '/send/any' },
    { name: 'res.send should ignore the body when a HEAD request', method: 'HEAD', target: '/send/string' },
    { name: 'res.send with a custom statusMessage', method: 'GET', target: '/send/status-message' },
    { name: 'res.send over HTTP/1.0', method: 'GET', target: '/send/string', version: '1.0' },
    { name: 'res.json(null) should respond with json for null', method: 'GET', target: '/json/null' },
    { name: 'res.json(Number) should respond with json for Number', method: 'GET', target: '/json/number' },
    { name: 'res.json(String) should respond with json for String', method: 'GET', target: '/json/string' },
    { name: 'res.json(Array) should respond with json for Array', method: 'GET', target: '/json/array' },
    { name: 'res.json(Object) should respond with json', method: 'GET', target: '/json/object' },
    { name: 'res.json with unicode line separators', method: 'GET', target: '/json/unicode' },
    { name: 'res.json(status, object) should respond with json and set the .statusCode', method: 'GET', target: '/json/status' },
    { name: 'res.jsonp(obj) should respond with jsonp', method: 'GET', target: '/jsonp?callback=something' },
    { name: 'res.jsonp(obj) should use first callback parameter with jsonp', method: 'GET', target: '/jsonp?callback=something&callback=somethingelse' },
    { name: 'res.jsonp(obj) should ignore object callback parameter with jsonp', method: 'GET', target: '/jsonp?callback[a]=something' },
    { name: 'res.jsonp(obj) should allow []', method: 'GET', target: '/jsonp?callback=callbacks[123]' },
    { name: 'res.jsonp(obj) should disallow arbitrary js', method: 'GET', target: '/jsonp?callback=foo;bar()' },
    { name: 'res.jsonp(obj) should escape utf whitespace', method: 'GET', target: '/jsonp?callback=foo' },
    { name: 'res.jsonp(obj) should not override previous Content-Types', method: 'GET', target: '/jsonp/typed?callback=cb' },
    { name: 'res.jsonp(obj) without callback responds with json', method: 'GET', target: '/jsonp' },
    { name: 'res.status(201) should set the response status code to 201', method: 'GET', target: '/status/201' },
    { name: 'res.status(403) should set the response status code to 403', method: 'GET', target: '/status/403' },
    { name: 'res.status(501) should set the response status code to 501', method: 'GET', target: '/status/501' },
    { name: 'res.status(599) an unregistered code gets Node\'s reason', method: 'GET', target: '/status/599' },
    { name: 'res.status(99) should raise error for invalid status code', method: 'GET', target: '/status-invalid' },
    { name: 'res.status(1000) should raise error for invalid status code', method: 'GET', target: '/status/1000' },
    { name: 'res.sendStatus(201) should send the status code and message as body', method: 'GET', target: '/sendStatus/201' },
    { name: 'res.sendStatus(599) should work with unknown code', method: 'GET', target: '/sendStatus/599' },
    { name: 'res.sendStatus(418) I\'m a Teapot', method: 'GET', target: '/sendStatus/418' },
    { name: 'res.sendStatus(204)', method: 'GET', target: '/sendStatus/204' },
  ],
  [
    'res.send(String) should set Content-Length in bytes (utf-8)',
    'res.send should respond with 304 Not Modified when fresh',
    'res.send should ignore the body when a HEAD request',
    'res.send with a custom statusMessage',
    'res.status(99) should raise error for invalid status code',
    'res.send "etag" setting should send ETag for long response',
  ],
);

// --- settings that change res.json / res.jsonp / res.send ---

describeUpstream(
  'app settings: json spaces, json replacer, json escape, jsonp callback name, etag (test/res.json.js, res.jsonp.js, res.send.js)',
  () => {
    const a = app();
    a.set('json spaces', 2);
    a.set('json escape', true);
    a.set('json replacer', (key: string, value: unknown) => (key.startsWith('_') ? undefined : value));
    a.set('jsonp callback name', 'clb');
    a.set('etag', 'strong');
    a.get('/json', (_req, res) => void res.json({ name: 'tobi', _id: 12345, html: '<b>&</b>' }));
    a.get('/jsonp', (_req, res) => void res.jsonp({ count: 1, _hidden: true }));
    a.get('/send', (_req, res) => void res.send('hello, world!'));
    return a;
  },
  [
    { name: 'res.json "json spaces" / "json replacer" / "json escape" settings', method: 'GET', target: '/json' },
    { name: 'res.jsonp should allow renaming callback', method: 'GET', target: '/jsonp?clb=something' },
    { name: 'res.send "etag" setting when "strong" should send strong ETag', method: 'GET', target: '/send' },
  ],
);

describeUpstream(
  'app setting etag disabled, x-powered-by disabled (test/res.send.js, app.js)',
  () => {
    const a = app();
    a.disable('etag');
    a.disable('x-powered-by');
    a.get('/', (_req, res) => void res.send('hello, world!'));
    return a;
  },
  [{ name: 'res.send "etag" setting when disabled should send no ETag', method: 'GET', target: '/' }],
);

// --- headers: set, append, vary, links, type, attachment, location, cookie, clearCookie ---

describeUpstream(
  'res.set / append / vary / links / type / attachment / location / cookie / clearCookie (test/res.*.js)',
  () => {
    const a = app();
    a.use(cookieParser('tobi is the coolest ferret'));
    a.get('/set/type', (_req, res) => void res.set('Content-Type', 'text/x-foo; charset=utf-8').end());
    a.get('/set/array', (_req, res) => void res.set('X-Numbers', ['123', '456']).end());
    a.get('/set/number', (_req, res) => void res.set('X-Number', 123 as unknown as string).end(typeof res.get('X-Number')));
    a.get('/set/object', (_req, res) => void res.set({ 'X-Foo': 'bar', 'X-Bar': 'baz' }).end());
    a.get('/set/charset', (_req, res) => void res.set('Content-Type', 'text/html').end());
    a.get('/set/tab', (_req, res) => void res.set('X-Tab', 'a\tb').end('tab'));
    a.get('/set/empty', (_req, res) => void res.set('X-Empty', '').end('empty'));
    a.get('/set/token-name', (_req, res) => void res.set("X-Token!#$%&'*+-.^_`|~", 'v').set('X_Under', 'u').end('tokens'));
    a.get('/set/tab-reason', (_req, res) => {
      res.statusMessage = 'Fine\tThanks';
      res.status(200).end('tab in reason');
    });
    a.get('/set/array-type', (_req, res) => void res.set('Content-Type', ['text/html'] as unknown as string).end());
    a.get('/append', (_req, res) => {
      res.append('Link', '<http://localhost/>');
      res.append('Link', '<http://localhost:80/>');
      res.end();
    });
    a.get('/append/cookies', (_req, res) => {
      res.cookie('foo', 'bar');
      res.append('Set-Cookie', 'bar=baz');
      res.append('Set-Cookie', ['fizz=buzz', 'pop=corn']);
      res.end();
    });
    a.get('/append/after-set', (_req, res) => {
      res.set('Set-Cookie', 'foo=bar');
      res.append('Set-Cookie', 'bar=baz');
      res.set('X-Test', 'one');
      res.append('X-Test', 'two');
      res.end();
    });
    a.get('/vary', (_req, res) => {
      res.vary('Origin');
      // Express's typings say string; res.vary takes an array (test/res.vary.js).
      res.vary(['Accept', 'Accept-Language', 'Accept-Encoding'] as unknown as string);
      res.vary('accept');
      res.end();
    });
    a.get('/vary/empty', (_req, res) => {
      res.vary([] as unknown as string);
      res.end();
    });
    a.get('/links', (_req, res) => {
      res.links({ next: 'http://api.example.com/users?page=2', last: 'http://api.example.com/users?page=5' });
      res.links({ prev: 'http://api.example.com/users?page=1' });
      res.end();
    });
    a.get('/type/:t', (req, res) => void res.type(req.params.t).end());
    a.get('/attachment', (_req, res) => void res.attachment().send('foo'));
    a.get('/attachment/file', (_req, res) => void res.attachment('/path/to/image.png').send('foo'));
    a.get('/attachment/unicode', (_req, res) => void res.attachment('/locales/日本語.txt').send('japanese'));
    a.get('/location', (_req, res) => void res.location('http://google.com/').end());
    a.get('/location/encode', (_req, res) => void res.location('https://google.com?q=\u2603 §10').end());
    a.get('/location/keep', (_req, res) => void res.location('https://google.com?q=%A710').end());
    a.get('/location/relative', (_req, res) => void res.location('/foo bar/<x>').end());
    a.get('/location/back', (req, res) => void res.location(req.get('Referrer') ?? '/').end());
    a.get('/cookie', (_req, res) => void res.cookie('name', 'tobi').end());
    a.get('/cookie/object', (_req, res) => void res.cookie('user', { name: 'tobi' }).end());
    a.get('/cookie/multiple', (_req, res) => {
      res.cookie('name', 'tobi');
      res.cookie('age', 1);
      res.cookie('gender', '?');
      res.end();
    });
    a.get('/cookie/options', (_req, res) => {
      res.cookie('name', 'tobi', { httpOnly: true, secure: true, domain: 'example.com', path: '/admin', sameSite: 'strict', priority: 'high', partitioned: true });
      res.end();
    });
    a.get('/cookie/maxage', (_req, res) => void res.cookie('name', 'tobi', { maxAge: 1000, expires: new Date(0) }).end(String(typeof res.get('Set-Cookie'))));
    a.get('/cookie/encode', (_req, res) => void res.cookie('name', 'http://foo.com/?a=b c', { encode: (s: string) => s }).end());
    a.get('/cookie/signed', (_req, res) => void res.cookie('user', { name: 'tobi' }, { signed: true }).end());
    a.get('/cookie/read', (req, res) => void res.json({ cookies: req.cookies as unknown, signed: req.signedCookies as unknown }));
    a.get('/clearCookie', (_req, res) => void res.clearCookie('sid').end());
    a.get('/clearCookie/path', (_req, res) => void res.clearCookie('sid', { path: '/admin', maxAge: 1000 }).end());
    return a;
  },
  [
    { name: 'res.set(field, value) should set the response header field', method: 'GET', target: '/set/type' },
    { name: 'res.set(field, values) should set multiple response header fields', method: 'GET', target: '/set/array' },
    { name: 'res.set(field, value) should coerce to a string', method: 'GET', target: '/set/number' },
    { name: 'res.set(object) should set multiple fields', method: 'GET', target: '/set/object' },
    { name: 'res.set(field, value) should add the charset by default', method: 'GET', target: '/set/charset' },
    { name: 'res.set a value with a horizontal tab', method: 'GET', target: '/set/tab' },
    { name: 'res.set an empty value', method: 'GET', target: '/set/empty' },
    { name: 'res.set a header name using every token character, and one with "_"', method: 'GET', target: '/set/token-name' },
    { name: 'res.statusMessage with a horizontal tab', method: 'GET', target: '/set/tab-reason' },
    { name: 'res.set(field, values) should throw when Content-Type is an array', method: 'GET', target: '/set/array-type' },
    { name: 'res.append(field, val) should append multiple headers', method: 'GET', target: '/append' },
    { name: 'res.append(field, val) should work with res.cookie()', method: 'GET', target: '/append/cookies' },
    { name: 'res.append(field, val) should work after res.set()', method: 'GET', target: '/append/after-set' },
    { name: 'res.vary(field) should set the value / accept an array / not duplicate', method: 'GET', target: '/vary' },
    { name: 'res.vary with an empty array should not set Vary', method: 'GET', target: '/vary/empty' },
    { name: 'res.links(obj) should set Link header field for multiple calls', method: 'GET', target: '/links' },
    { name: 'res.type(str) should set the Content-Type based on a filename', method: 'GET', target: '/type/foo.js' },
    { name: 'res.type(str) should default to application/octet-stream', method: 'GET', target: '/type/rawr' },
    { name: 'res.type(str) should set the Content-Type with type/subtype', method: 'GET', target: '/type/application%2Fvnd.amazon.ebook' },
    { name: 'res.attachment() should Content-Disposition to attachment', method: 'GET', target: '/attachment' },
    { name: 'res.attachment(filename) should add the filename and content-type', method: 'GET', target: '/attachment/file' },
    { name: 'res.attachment(utf8filename) should add the filename param', method: 'GET', target: '/attachment/unicode' },
    { name: 'res.location(url) should set the header', method: 'GET', target: '/location' },
    { name: 'res.location(url) should encode data uri / unicode', method: 'GET', target: '/location/encode' },
    { name: 'res.location(url) should not encode already-encoded', method: 'GET', target: '/location/keep' },
    { name: 'res.location(url) should encode a relative url', method: 'GET', target: '/location/relative' },
    { name: 'res.location(req.get("Referrer"))', method: 'GET', target: '/location/back', headers: [['Referrer', '/some/page']] },
    { name: 'res.cookie(name, string) should set a cookie', method: 'GET', target: '/cookie' },
    { name: 'res.cookie(name, object) should generate a JSON cookie', method: 'GET', target: '/cookie/object' },
    { name: 'res.cookie should allow multiple calls', method: 'GET', target: '/cookie/multiple' },
    { name: 'res.cookie(name, string, options) should set params', method: 'GET', target: '/cookie/options' },
    { name: 'res.cookie maxAge should set max-age', method: 'GET', target: '/cookie/maxage' },
    { name: 'res.cookie encode should use custom encoding function', method: 'GET', target: '/cookie/encode' },
    { name: 'res.cookie signed should generate a signed JSON cookie', method: 'GET', target: '/cookie/signed' },
    {
      name: 'cookieParser reads plain and signed cookies',
      method: 'GET',
      target: '/cookie/read',
      headers: [
        ['Cookie', 'a=1'],
        ['Cookie', 'user=s%3Aj%3A%7B%22name%22%3A%22tobi%22%7D.K20xcwmDS%2BPb1rsD95o5Jm5SqWs1KteqdnynnB7jkTE'],
      ],
    },
    { name: 'res.clearCookie(name) should set a cookie passed expiry', method: 'GET', target: '/clearCookie' },
    { name: 'res.clearCookie(name, options) should set the given params, ignore maxAge', method: 'GET', target: '/clearCookie/path' },
  ],
  ['res.append(field, val) should work with res.cookie()', 'res.cookie(name, string, options) should set params', 'cookieParser reads plain and signed cookies'],
);

// --- res.redirect, res.format ---

describeUpstream(
  'res.redirect / res.format (test/res.redirect.js, res.format.js, acceptance/content-negotiation.js)',
  () => {
    const a = app();
    a.get('/redirect', (_req, res) => void res.redirect('http://google.com'));
    a.get('/redirect/status', (_req, res) => void res.redirect(303, 'http://google.com'));
    a.get('/redirect/encode', (_req, res) => void res.redirect('https://google.com?q=\u2603 §10'));
    a.get('/redirect/html', (_req, res) => void res.redirect('http://example.com/?param=<script>alert("hello")</script>'));
    a.get('/format', (_req, res) => {
      res.format({
        'text/plain': () => void res.send('hey'),
        'text/html': () => void res.send('<p>hey</p>'),
        'application/json': () => void res.send({ message: 'hey' }),
      });
    });
    a.get('/format/default', (_req, res) => {
      res.format({
        text: () => void res.send('hey'),
        default: () => void res.send('default'),
      });
    });
    a.get('/format/none', (_req, res) => {
      res.format({ 'application/json': () => void res.json({ ok: true }) });
    });
    a.use((err: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).send(`supported: ${String((err as { types?: string[] }).types)}`);
    });
    return a;
  },
  [
    { name: 'res.redirect(url) should default to a 302 redirect', method: 'GET', target: '/redirect' },
    { name: 'res.redirect(status, url) should set the response status', method: 'GET', target: '/redirect/status' },
    { name: 'res.redirect(url) should encode "url"', method: 'GET', target: '/redirect/encode' },
    { name: 'res.redirect when the request method is HEAD should ignore the body', method: 'HEAD', target: '/redirect' },
    { name: 'res.redirect when accepting html should respond with html', method: 'GET', target: '/redirect', headers: [['Accept', 'text/html']] },
    { name: 'res.redirect when accepting html should escape the url', method: 'GET', target: '/redirect/html', headers: [['Accept', 'text/html']] },
    { name: 'res.redirect when accepting text should respond with text', method: 'GET', target: '/redirect', headers: [['Accept', 'text/plain, */*']] },
    { name: 'res.redirect when accepting neither text or html should respond with an empty body', method: 'GET', target: '/redirect', headers: [['Accept', 'application/octet-stream']] },
    { name: 'res.format(obj) should utilize qvalues in negotiation', method: 'GET', target: '/format', headers: [['Accept', 'text/html; q=.5, application/json, */*; q=.1']] },
    { name: 'res.format(obj) should allow wildcard type/subtypes', method: 'GET', target: '/format', headers: [['Accept', 'text/html; q=.5, application/*, */*; q=.1']] },
    { name: 'res.format(obj) should default the Content-Type', method: 'GET', target: '/format', headers: [['Accept', 'text/html; q=.5, text/plain']] },
    { name: 'res.format(obj) should set the correct charset for the Content-Type', method: 'GET', target: '/format', headers: [['Accept', 'text/html']] },
    { name: 'res.format(obj) should Vary: Accept', method: 'GET', target: '/format' },
    { name: 'res.format(obj) with "default" should invoke default with no Accept match', method: 'GET', target: '/format/default', headers: [['Accept', 'application/x-foo']] },
    { name: 'res.format(obj) when no match is made should respond with 406', method: 'GET', target: '/format/none', headers: [['Accept', 'foo/bar']] },
  ],
  ['res.redirect when accepting html should escape the url', 'res.redirect when the request method is HEAD should ignore the body', 'res.format(obj) when no match is made should respond with 406'],
);

// --- res.sendFile, res.download ---

describeUpstream(
  'res.sendFile / res.download (test/res.sendFile.js, res.download.js)',
  () => {
    const a = app();
    const send = (file: string, options: Parameters<express.Response['sendFile']>[1] = {}) =>
      ((req, res, next) => {
        res.sendFile(file, options, (err) => {
          if (err && !res.headersSent) next(err);
        });
      }) as express.RequestHandler;
    a.get('/sendFile', send(fixture('name.txt')));
    a.get('/sendFile/nums', send(fixture('nums.txt')));
    a.get('/sendFile/html', send(fixture('user.html')));
    a.get('/sendFile/big', send(fixture('big.bin')));
    a.get('/sendFile/empty', send(fixture('empty.txt')));
    a.get('/sendFile/dogs', send(fixture('% of dogs.txt')));
    a.get('/sendFile/missing', send(fixture('does-not-exist')));
    a.get('/sendFile/missing-no-callback', (_req, res) => void res.sendFile(fixture('does-not-exist')));
    a.get('/sendFile/dir', send(fixture('users')));
    a.get('/sendFile/dotfile', send(fixture('.name')));
    a.get('/sendFile/dotfile-allow', send(fixture('.name'), { dotfiles: 'allow' }));
    a.get('/sendFile/dotfile-deny', send(fixture('.name'), { dotfiles: 'deny' }));
    a.get('/sendFile/root', send('name.txt', { root: dir }));
    a.get('/sendFile/root-escape', send('../name.txt', { root: fixture('users') }));
    a.get('/sendFile/relative', (_req, res) => void res.sendFile('name.txt'));
    a.get('/sendFile/headers', send(fixture('user.html'), { headers: { 'X-Foo': 'Bar', 'X-Bar': 'Foo', 'Content-Type': 'text/x-custom' } }));
    a.get('/sendFile/maxage', send(fixture('user.html'), { maxAge: '1h', immutable: true }));
    a.get('/sendFile/no-cache-control', send(fixture('user.html'), { cacheControl: false }));
    a.get('/sendFile/no-ranges', send(fixture('nums.txt'), { acceptRanges: false }));
    a.get('/sendFile/no-last-modified', send(fixture('nums.txt'), { lastModified: false }));
    a.get('/sendFile/typed', (_req, res, next) => {
      res.type('application/x-bogus');
      res.sendFile(fixture('name.txt'), (err) => err && next(err));
    });
    a.get('/sendFile/callback', (_req, res) => {
      res.sendFile(fixture('name.txt'), (err) => {
        // The callback runs once the response finished: nothing more may be written.
        if (err) console.error('sendFile callback error', err.message);
        else console.error('sendFile callback ok', res.writableFinished);
      });
    });
    a.get('/download', (_req, res) => void res.download(fixture('user.html')));
    a.get('/download/name', (_req, res) => void res.download(fixture('user.html'), 'document'));
    a.get('/download/unicode', (_req, res) => void res.download(fixture('user.html'), 'ℇ.html'));
    a.get('/download/headers', (_req, res) => void res.download(fixture('user.html'), 'document', { headers: { 'X-Foo': 'Bar', 'Content-Disposition': 'inline' } }));
    // res.download(path, options): the typings lack the two-argument form (test/res.download.js has it).
    const download = (res: express.Response, file: string, options: object) => (res.download as (p: string, o: object) => void)(file, options);
    a.get('/download/root', (_req, res) => void download(res, 'name.txt', { root: dir }));
    a.get('/download/missing', (_req, res, next) => {
      res.download(fixture('foobar.html'), (err) => {
        if (err) res.status(404).send(`got ${(err as NodeJS.ErrnoException).code}`);
        else next();
      });
    });
    a.get('/download/dotfile', (_req, res) => void download(res, fixture('.name'), { dotfiles: 'allow' }));
    return a;
  },
  [
    { name: 'res.sendFile(path) should transfer a file', method: 'GET', target: '/sendFile' },
    { name: 'res.sendFile(path) should transfer a file with special characters in string', method: 'GET', target: '/sendFile/dogs' },
    { name: 'res.sendFile(path) should include ETag / Last-Modified (html)', method: 'GET', target: '/sendFile/html' },
    { name: 'res.sendFile(path) should transfer a file larger than the high-water mark', method: 'GET', target: '/sendFile/big' },
    { name: 'res.sendFile(path) should transfer an empty file', method: 'GET', target: '/sendFile/empty' },
    { name: 'res.sendFile(path) should 404 for directory', method: 'GET', target: '/sendFile/dir' },
    { name: 'res.sendFile(path) should error on 404', method: 'GET', target: '/sendFile/missing' },
    { name: 'res.sendFile(path) should error on 404 (no callback: next(err))', method: 'GET', target: '/sendFile/missing-no-callback' },
    { name: 'res.sendFile(path) should error for non-absolute path', method: 'GET', target: '/sendFile/relative' },
    { name: 'res.sendFile(path) should not override manual content-types', method: 'GET', target: '/sendFile/typed' },
    { name: 'res.sendFile(path) should support HEAD', method: 'HEAD', target: '/sendFile/nums' },
    { name: 'res.sendFile(path) HEAD of a large file', method: 'HEAD', target: '/sendFile/big' },
    { name: 'res.sendFile(path) should 304 when ETag matches', method: 'GET', target: '/sendFile/nums', headers: [['If-None-Match', numsEtag]] },
    { name: 'res.sendFile(path) should 304 when If-Modified-Since is later', method: 'GET', target: '/sendFile/nums', headers: [['If-Modified-Since', future]] },
    { name: 'res.sendFile(path) should 200 when If-Modified-Since is earlier', method: 'GET', target: '/sendFile/nums', headers: [['If-Modified-Since', past]] },
    { name: 'res.sendFile(path) should 412 when If-Match does not match', method: 'GET', target: '/sendFile/nums', headers: [['If-Match', '"nope"']] },
    { name: 'res.sendFile(path) should 200 when If-Match matches', method: 'GET', target: '/sendFile/nums', headers: [['If-Match', numsEtag]] },
    { name: 'res.sendFile(path) should 412 when If-Unmodified-Since is earlier', method: 'GET', target: '/sendFile/nums', headers: [['If-Unmodified-Since', past]] },
    { name: 'res.sendFile(path) with Range should support byte ranges', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=0-4']] },
    { name: 'res.sendFile(path) with Range should be inclusive', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=0-0']] },
    { name: 'res.sendFile(path) with Range should support suffix', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=-3']] },
    { name: 'res.sendFile(path) with Range should support open-ended', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=2-']] },
    { name: 'res.sendFile(path) with Range should 416 for unsatisfiable', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=9-50']] },
    { name: 'res.sendFile(path) with Range should ignore multiple ranges', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=1-1,3-']] },
    { name: 'res.sendFile(path) with Range should ignore non-byte ranges', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'items=0-4']] },
    { name: 'res.sendFile(path) with Range should adapt the Content-Length (large file)', method: 'GET', target: '/sendFile/big', headers: [['Range', 'bytes=1000-99999']] },
    { name: 'res.sendFile(path) with If-Range should respect If-Range (ETag)', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=0-2'], ['If-Range', numsEtag]] },
    { name: 'res.sendFile(path) with If-Range should ignore a stale If-Range', method: 'GET', target: '/sendFile/nums', headers: [['Range', 'bytes=0-2'], ['If-Range', '"stale"']] },
    { name: 'res.sendFile(path, options) acceptRanges false should not send Accept-Ranges nor honour Range', method: 'GET', target: '/sendFile/no-ranges', headers: [['Range', 'bytes=0-4']] },
    { name: 'res.sendFile(path, options) cacheControl false should not send Cache-Control', method: 'GET', target: '/sendFile/no-cache-control' },
    { name: 'res.sendFile(path, options) dotfiles should ignore by default (404)', method: 'GET', target: '/sendFile/dotfile' },
    { name: 'res.sendFile(path, options) dotfiles "allow" should allow', method: 'GET', target: '/sendFile/dotfile-allow' },
    { name: 'res.sendFile(path, options) dotfiles "deny" should 403', method: 'GET', target: '/sendFile/dotfile-deny' },
    { name: 'res.sendFile(path, options) headers should accept headers option', method: 'GET', target: '/sendFile/headers' },
    { name: 'res.sendFile(path, options) immutable / maxAge should set Cache-Control', method: 'GET', target: '/sendFile/maxage' },
    { name: 'res.sendFile(path, options) lastModified false should not send Last-Modified', method: 'GET', target: '/sendFile/no-last-modified' },
    { name: 'res.sendFile(path, options) root should serve relative to "root"', method: 'GET', target: '/sendFile/root' },
    { name: 'res.sendFile(path, options) root should disallow requesting out of "root"', method: 'GET', target: '/sendFile/root-escape' },
    { name: 'res.sendFile(path, fn) should invoke the callback when complete', method: 'GET', target: '/sendFile/callback' },
    { name: 'res.sendFile over HTTP/1.0', method: 'GET', target: '/sendFile/big', version: '1.0' },
    { name: 'res.download(path) should transfer as an attachment', method: 'GET', target: '/download' },
    { name: 'res.download(path, filename) should provide an alternate filename', method: 'GET', target: '/download/name' },
    { name: 'res.download(path, filename) should set the Content-Disposition header with unicode', method: 'GET', target: '/download/unicode' },
    { name: 'res.download(path, filename, options) should allow options to res.sendFile() / headers', method: 'GET', target: '/download/headers' },
    { name: 'res.download(path, options) root should allow relative path', method: 'GET', target: '/download/root' },
    { name: 'res.download(path, fn) on failure should invoke the callback', method: 'GET', target: '/download/missing' },
    { name: 'res.download(path, options) dotfiles allow', method: 'GET', target: '/download/dotfile' },
    { name: 'res.download should support HEAD', method: 'HEAD', target: '/download' },
  ],
  [
    'res.sendFile(path) should transfer a file larger than the high-water mark',
    'res.sendFile(path) with Range should support byte ranges',
    'res.sendFile(path) should 304 when ETag matches',
    'res.sendFile(path) should support HEAD',
    'res.sendFile(path) should error on 404 (no callback: next(err))',
    'res.download(path, filename) should set the Content-Disposition header with unicode',
  ],
);

// --- req.* ---

function reqView(req: express.Request): Record<string, unknown> {
  return {
    ip: req.ip,
    ips: req.ips,
    protocol: req.protocol,
    secure: req.secure,
    hostname: req.hostname,
    host: req.host,
    subdomains: req.subdomains,
    fresh: req.fresh,
    stale: req.stale,
    xhr: req.xhr,
    path: req.path,
    baseUrl: req.baseUrl,
    url: req.url,
    originalUrl: req.originalUrl,
    query: req.query,
    method: req.method,
    httpVersion: req.httpVersion,
    contentType: req.get('Content-Type'),
    referrer: req.get('Referrer'),
    referer: req.get('Referer'),
    range: req.range(120),
    rangeCombined: req.range(120, { combine: true }),
    accepts: req.accepts(['json', 'html', 'text']),
    acceptsAll: req.accepts(),
    acceptsCharsets: req.acceptsCharsets('utf-8', 'iso-8859-1'),
    acceptsEncodings: req.acceptsEncodings('gzip', 'br', 'identity'),
    acceptsLanguages: req.acceptsLanguages('en', 'fr', 'es'),
    is: req.is('json'),
    remotePort: typeof req.socket.remotePort,
    remoteFamily: req.socket.remoteFamily,
    encrypted: (req.socket as { encrypted?: boolean }).encrypted ?? null,
    headersDistinct: req.headersDistinct,
    trailers: req.trailers,
    complete: req.complete,
    readable: req.readable,
  };
}

const reqCases = (prefix: string): Case[] => [
  { name: `${prefix} req.ip / req.ips / req.protocol / req.secure`, method: 'GET', target: '/req' },
  { name: `${prefix} req.ips with X-Forwarded-For`, method: 'GET', target: '/req', headers: [['X-Forwarded-For', 'client, p1, p2']] },
  { name: `${prefix} req.protocol with X-Forwarded-Proto`, method: 'GET', target: '/req', headers: [['X-Forwarded-Proto', 'https, http']] },
  { name: `${prefix} req.hostname with X-Forwarded-Host`, method: 'GET', target: '/req', headers: [['X-Forwarded-Host', 'example.com:3000, proxy.example.com']] },
  { name: `${prefix} req.host should return the Host when present`, method: 'GET', target: '/req', host: 'example.com' },
  { name: `${prefix} req.host should return the Host with port`, method: 'GET', target: '/req', host: 'example.com:3000' },
  { name: `${prefix} req.host should work with IPv6 Host`, method: 'GET', target: '/req', host: '[::1]' },
  { name: `${prefix} req.host should work with IPv6 Host and port`, method: 'GET', target: '/req', host: '[::1]:3000' },
  { name: `${prefix} req.host should return undefined otherwise (HTTP/1.0, no Host)`, method: 'GET', target: '/req', host: null, version: '1.0' },
  { name: `${prefix} req.subdomains should return an array`, method: 'GET', target: '/req', host: 'tobi.ferrets.example.com' },
  { name: `${prefix} req.subdomains with an IP address`, method: 'GET', target: '/req', host: '127.0.0.1:3000' },
  { name: `${prefix} req.xhr should return true when X-Requested-With is xmlhttprequest`, method: 'GET', target: '/req', headers: [['X-Requested-With', 'XMLHttpRequest']] },
  { name: `${prefix} req.fresh should return true when the resource is not modified`, method: 'GET', target: '/req/etag', headers: [['If-None-Match', '"12345"']] },
  { name: `${prefix} req.fresh should return false without response headers`, method: 'GET', target: '/req', headers: [['If-None-Match', '"12345"']] },
  { name: `${prefix} req.fresh should ignore "If-Modified-Since" when "If-None-Match" present`, method: 'GET', target: '/req/etag', headers: [['If-None-Match', '"12345"'], ['If-Modified-Since', past]] },
  { name: `${prefix} req.stale on POST`, method: 'POST', target: '/req/etag', headers: [['If-None-Match', '"12345"']] },
  { name: `${prefix} req.get should be case-insensitive / Referrer alias`, method: 'GET', target: '/req', headers: [['referer', 'http://foobar.com'], ['CONTENT-TYPE', 'application/json']], body: '' },
  { name: `${prefix} req.query should default to parse simple keys`, method: 'GET', target: '/req?user[name]=tj&x=1&x=2' },
  { name: `${prefix} req.path should return the parsed pathname`, method: 'GET', target: '/req/login?redirect=/post/1/comments' },
  { name: `${prefix} req.range(size) should return parsed ranges`, method: 'GET', target: '/req', headers: [['Range', 'bytes=0-50,51-100']] },
  { name: `${prefix} req.range(size, {combine}) should combine`, method: 'GET', target: '/req', headers: [['Range', 'bytes=0-50,40-100']] },
  { name: `${prefix} req.range(size) should return -2 for malformed`, method: 'GET', target: '/req', headers: [['Range', 'bytes=x-y']] },
  { name: `${prefix} req.range(size) should return -1 for unsatisfiable`, method: 'GET', target: '/req', headers: [['Range', 'bytes=200-300']] },
  { name: `${prefix} req.accepts / acceptsCharsets / acceptsEncodings / acceptsLanguages`, method: 'GET', target: '/req', headers: [['Accept', 'text/html;q=.5, application/json'], ['Accept-Charset', 'iso-8859-1;q=0.2, utf-8'], ['Accept-Encoding', 'br, gzip;q=0.8'], ['Accept-Language', 'fr;q=0.8, en-us']] },
  { name: `${prefix} req.is(type) with a body`, method: 'POST', target: '/req', headers: [['Content-Type', 'application/json; charset=utf-8']], body: '{}' },
  { name: `${prefix} repeated headers in headersDistinct`, method: 'GET', target: '/req', headers: [['X-Multi', 'a'], ['x-multi', 'b'], ['Accept', 'text/plain'], ['Accept', 'application/json']] },
];

/** The app the req.* cases ask: every view of the request as JSON, `/req/etag` with an ETag for fresh/stale. */
function reqApp(settings: Record<string, unknown> = {}): express.Express {
  const a = app();
  for (const [name, value] of Object.entries(settings)) a.set(name, value);
  a.all('/req/etag', (req, res) => {
    res.set('ETag', '"12345"');
    res.json(reqView(req));
  });
  a.all(/^\/req/, (req, res) => void res.json(reqView(req)));
  return a;
}

describeUpstream(
  'req.* without trust proxy (test/req.ip.js, req.ips.js, req.protocol.js, req.secure.js, req.hostname.js, req.host.js, req.subdomains.js, req.fresh.js, req.stale.js, req.xhr.js, req.get.js, req.query.js, req.path.js, req.range.js, req.accepts*.js)',
  () => reqApp(),
  reqCases('untrusted:'),
  ['untrusted: req.ip / req.ips / req.protocol / req.secure', 'untrusted: req.host should work with IPv6 Host and port', 'untrusted: req.subdomains should return an array'],
);

describeUpstream(
  'req.* with trust proxy (test/req.ip.js, req.ips.js, req.protocol.js, req.hostname.js, req.subdomains.js: "trust proxy" enabled)',
  () => reqApp({ 'trust proxy': true, 'subdomain offset': 3 }),
  reqCases('trusted:'),
  ['trusted: req.ips with X-Forwarded-For', 'trusted: req.protocol with X-Forwarded-Proto', 'trusted: req.hostname with X-Forwarded-Host'],
);

describeUpstream(
  'req.* with trust proxy as a subnet list and a hop count (test/req.ip.js "should return the addr after trusted proxy")',
  () => {
    const a = app();
    a.set('trust proxy', 'loopback');
    a.all(/^\/req/, (req, res) => void res.json({ ip: req.ip, ips: req.ips, protocol: req.protocol, hostname: req.hostname }));
    return a;
  },
  [
    { name: 'trust proxy "loopback": req.ip should return the addr after trusted proxy', method: 'GET', target: '/req', headers: [['X-Forwarded-For', '10.0.0.1, 127.0.0.2'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'a.example.com']] },
  ],
);

// --- app.router, app.use, mounting, errors ---

describeUpstream(
  'app.router / app.use / mounting / errors (test/app.router.js, app.use.js, app.param.js, app.route.js, app.options.js, app.head.js, app.routes.error.js, acceptance/mounting.js)',
  () => {
    const a = app();
    a.get('/user/:id', (req, res) => void res.json({ params: req.params, path: req.path }));
    a.get('/files/*file', (req, res) => void res.json({ params: req.params }));
    a.get(/^\/regexp\/(\d+)\/?$/, (req, res) => void res.json({ params: req.params }));
    a.get('/strict/', (_req, res) => void res.send('strict with slash'));
    a.get('/optional{/:format}', (req, res) => void res.json({ params: req.params }));
    a.get('/next-route', (_req, _res, next) => next('route'));
    a.get('/next-route', (_req, res) => void res.send('second route'));
    a.route('/route')
      .get((_req, res) => void res.send('get'))
      .post((_req, res) => void res.send('post'))
      .delete((_req, res) => void res.send('delete'));
    a.get('/head', (req, res) => {
      res.set('X-Method', req.method);
      res.send('tobi');
    });
    a.head('/head-own', (_req, res) => void res.set('X-Own', 'head').end());
    a.get('/head-own', (_req, res) => void res.send('get'));
    a.propfind('/methods', (_req, res) => void res.send('propfind'));
    a.all('/all', (req, res) => void res.send(req.method));
    a.param('uid', (req, _res, next, uid: string) => {
      (req as { user?: string }).user = uid.toUpperCase();
      next();
    });
    a.get('/param/:uid', (req, res) => void res.send((req as { user?: string }).user));
    a.get('/async-reject', async () => {
      await Promise.resolve();
      throw Object.assign(new Error('boom!'), { status: 418 });
    });
    a.get('/sync-throw', () => {
      throw new Error('sync boom');
    });
    a.get('/next-err', (_req, _res, next) => next(Object.assign(new Error('not allowed'), { status: 403, expose: true })));
    a.get('/next-err-headers', (_req, _res, next) => next(Object.assign(new Error('teapot'), { status: 418, headers: { 'X-Err': 'yes' } })));
    a.get('/throw-after-write', async (_req, res) => {
      res.set('Content-Type', 'text/plain');
      res.write('partial');
      // Past the tick in which Node keeps the first write corked, so the head has gone out natively.
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('after write');
    });
    a.get('/write-head', (_req, res) => {
      res.writeHead(200, 'Fine Thanks', ['X-A', '1', 'x-a', '2', 'Content-Type', 'text/plain']);
      res.end('raw headers');
    });
    a.get('/write-head-merge', (_req, res) => {
      res.setHeader('X-From-Set', 'set');
      res.setHeader('Content-Type', 'text/html');
      res.writeHead(201, { 'Content-Type': 'text/plain', 'X-From-Head': 'head' });
      res.end('merged');
    });
    a.get('/write-stream', (_req, res) => {
      res.type('text');
      res.write('one ');
      setTimeout(() => {
        res.write('two ');
        res.end('three');
      }, 5);
    });
    a.get('/no-length', (_req, res) => {
      res.removeHeader('Content-Length');
      res.end('chunked please');
    });
    a.post('/pipe', (req, res) => {
      res.type('application/octet-stream');
      req.pipe(res);
    });
    a.post('/readable-loop', (req, res) => {
      const parts: Buffer[] = [];
      req.on('readable', () => {
        let chunk: Buffer | null;
        while ((chunk = req.read() as Buffer | null) !== null) parts.push(chunk);
      });
      req.on('end', () => void res.json({ length: Buffer.concat(parts).length, complete: req.complete }));
    });
    a.post('/pause-resume', (req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        length += chunk.length;
        req.pause();
        setTimeout(() => req.resume(), 1);
      });
      req.on('end', () => void res.json({ length }));
    });
    a.get('/short-length', (_req, res) => {
      res.setHeader('Content-Length', '10');
      res.end('abc');
    });
    a.get('/echo-headers', (req, res) => void res.json({ latin: Buffer.from(req.get('X-Latin') ?? '', 'latin1').toString('hex'), space: req.get('X-Space') }));
    const blog = express.Router();
    blog.get('/', (req, res) => void res.json({ blog: true, baseUrl: req.baseUrl, url: req.url, originalUrl: req.originalUrl }));
    blog.get('/post/:id', (req, res) => void res.json({ baseUrl: req.baseUrl, url: req.url, originalUrl: req.originalUrl, params: req.params }));
    a.use('/blog', blog);
    const sub = express();
    sub.set('env', 'production');
    sub.get('/', (req, res) => void res.json({ sub: true, baseUrl: req.baseUrl, path: req.path, originalUrl: req.originalUrl }));
    sub.get('/redirect', (req, res) => void res.redirect(`${req.baseUrl}/`));
    a.use('/sub', sub);
    a.use(['/multi-a', '/multi-b'], (req, res) => void res.json({ baseUrl: req.baseUrl, url: req.url }));
    const caseSensitive = express.Router({ caseSensitive: true, strict: true });
    caseSensitive.get('/User', (_req, res) => void res.send('case sensitive'));
    caseSensitive.get('/dir/', (_req, res) => void res.send('strict dir'));
    a.use('/cs', caseSensitive);
    a.use('/err-handler', (_req, _res, next) => next(new Error('handled')));
    a.use('/err-handler', (err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ caught: err.message });
    });
    return a;
  },
  [
    { name: 'app.router params should decode correct params', method: 'GET', target: '/user/tj%20holowaychuk' },
    { name: 'app.router params should not decode spaces (+)', method: 'GET', target: '/user/foo+bar' },
    { name: 'app.router params should work with unicode', method: 'GET', target: '/user/%E2%9C%93' },
    { name: 'app.router params should keep an escaped slash inside a param', method: 'GET', target: '/user/tj%2Ffoo' },
    { name: 'app.router params should 400 on a malformed escape in a param', method: 'GET', target: '/user/%ZZ' },
    { name: 'app.router params should pass a decode error (%FF) as 400', method: 'GET', target: '/user/%FF' },
    { name: 'app.router * should capture everything', method: 'GET', target: '/files/a/b/c.txt' },
    { name: 'app.router should allow regexp routes', method: 'GET', target: '/regexp/42' },
    { name: 'app.router optional params should match without', method: 'GET', target: '/optional' },
    { name: 'app.router optional params should match with', method: 'GET', target: '/optional/json' },
    { name: 'app.router should be case-insensitive by default / non-strict', method: 'GET', target: '/STRICT' },
    { name: 'app.router caseSensitive router should 404 on case mismatch', method: 'GET', target: '/cs/user' },
    { name: 'app.router strict router should 404 without trailing slash', method: 'GET', target: '/cs/dir' },
    { name: 'app.router strict router should match with trailing slash', method: 'GET', target: '/cs/dir/' },
    { name: 'app.router next("route") should jump to next route', method: 'GET', target: '/next-route' },
    { name: 'app.route should support .post', method: 'POST', target: '/route' },
    { name: 'app.route should support .delete', method: 'DELETE', target: '/route' },
    { name: 'app.options should default to the routes defined', method: 'OPTIONS', target: '/route' },
    { name: 'app.router 405-less: unknown method on known path is 404', method: 'PUT', target: '/route' },
    { name: 'app.head should default to GET', method: 'HEAD', target: '/head' },
    { name: 'app.head should use own HEAD handler', method: 'HEAD', target: '/head-own' },
    { name: 'app.router methods should include PROPFIND', method: 'PROPFIND', target: '/methods' },
    { name: 'app.all should add a router per method (PATCH)', method: 'PATCH', target: '/all' },
    { name: 'app.all should add a router per method (M-SEARCH)', method: 'M-SEARCH', target: '/all' },
    { name: 'app.param(name, fn) should map logic for a single param', method: 'GET', target: '/param/tobi' },
    { name: 'app.router promise support: rejected promise should invoke error handler', method: 'GET', target: '/async-reject' },
    { name: 'app.routes.error: thrown error is a 500', method: 'GET', target: '/sync-throw' },
    { name: 'finalhandler: next(err) with status and expose', method: 'GET', target: '/next-err' },
    { name: 'finalhandler: next(err) with err.headers', method: 'GET', target: '/next-err-headers' },
    { name: 'finalhandler: 404 with an HTML-escaped path', method: 'GET', target: '/no/<such>/route?x=1' },
    { name: 'finalhandler: 404 on a POST with an unread body', method: 'POST', target: '/nope', headers: [['Content-Type', 'text/plain']], body: 'x'.repeat(50_000) },
    { name: 'finalhandler: 404 on a POST with an unread chunked body', method: 'POST', target: '/nope', headers: [['Transfer-Encoding', 'chunked']], body: chunked([Buffer.from('hello'), Buffer.alloc(40_000, 'y')]) },
    { name: 'app.use(path, router) should set req.baseUrl (router root)', method: 'GET', target: '/blog' },
    { name: 'app.use(path, router) should set req.baseUrl and req.url', method: 'GET', target: '/blog/post/1?x=y' },
    { name: 'app.use(path, router) should be case-insensitive', method: 'GET', target: '/BLOG/post/2' },
    { name: 'app.use(path, app) should mount a sub app', method: 'GET', target: '/sub' },
    { name: 'app.use(path, app) should support trailing slash', method: 'GET', target: '/sub/' },
    { name: 'app.use(path, app) redirect from req.baseUrl', method: 'GET', target: '/sub/redirect' },
    { name: 'app.use([paths], fn) should support array of paths', method: 'GET', target: '/multi-b/x/y' },
    { name: 'app.use(path, fn) error-handling middleware', method: 'GET', target: '/err-handler' },
    { name: 'app.router should match a path with a double slash', method: 'GET', target: '//user/x' },
    { name: 'finalhandler: an error after the head was sent destroys the connection', method: 'GET', target: '/throw-after-write' },
    { name: 'app.router params with raw latin-1 bytes in the path', method: 'GET', target: '/user/caf\u00c3\u00a9' },
    { name: 'app.router params with %00', method: 'GET', target: '/user/a%00b' },
    { name: 'app.router with an absolute-form request-target', method: 'GET', target: 'http://other.example/user/abs?x=1' },
    { name: 'res.writeHead(status, reason, rawHeaderArray)', method: 'GET', target: '/write-head' },
    { name: 'res.writeHead after res.setHeader merges', method: 'GET', target: '/write-head-merge' },
    { name: 'res.write streaming without a length', method: 'GET', target: '/write-stream' },
    { name: 'res.removeHeader("Content-Length") then end(data) is chunked', method: 'GET', target: '/no-length' },
    { name: 'req.pipe(res) echoes a 1 MB upload', method: 'POST', target: '/pipe', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.alloc(1_000_000, 'z') },
    { name: 'req.pipe(res) echoes a chunked upload', method: 'POST', target: '/pipe', headers: [['Transfer-Encoding', 'chunked']], body: chunked([Buffer.alloc(30_000, 'a'), Buffer.alloc(50_000, 'b')]) },
    { name: "req.read() in a 'readable' loop", method: 'POST', target: '/readable-loop', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.alloc(300_000, 'q') },
    { name: "req.pause()/resume() from 'data'", method: 'POST', target: '/pause-resume', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.alloc(200_000, 'p') },
    { name: 'a Content-Length longer than the body: the connection ends short', method: 'GET', target: '/short-length' },
    { name: 'req.headers with obs-text (latin-1) values', method: 'GET', target: '/echo-headers', headers: [['X-Latin', 'caf\u00e9'], ['X-Space', 'a  b']] },
  ],
  [
    'app.router promise support: rejected promise should invoke error handler',
    'finalhandler: 404 with an HTML-escaped path',
    'app.options should default to the routes defined',
    'app.head should default to GET',
    'app.use(path, router) should set req.baseUrl and req.url',
    'app.router params should work with unicode',
    'finalhandler: 404 on a POST with an unread body',
    'finalhandler: 404 on a POST with an unread chunked body',
    'app.router with an absolute-form request-target',
    'req.pipe(res) echoes a 1 MB upload',
    'req.pipe(res) echoes a chunked upload',
    'finalhandler: an error after the head was sent destroys the connection',
    'app.route should support .post',
  ],
);

// --- body parsers ---

describeUpstream(
  'express.json / raw / text / urlencoded (test/express.json.js, express.raw.js, express.text.js, express.urlencoded.js)',
  () => {
    const a = app();
    const echo = (req: express.Request, res: express.Response) => void res.json({ body: req.body as unknown, type: typeof req.body });
    a.post('/json', express.json(), echo);
    a.post(
      '/json/bad-length',
      (req, _res, next) => {
        req.headers['content-length'] = '20';
        next();
      },
      express.json(),
      echo,
    );
    a.post('/text/trailers', express.text(), (req, res) => void res.json({ body: req.body as unknown, trailers: req.trailers, rawTrailers: req.rawTrailers }));
    a.post('/json/strict-false', express.json({ strict: false }), echo);
    a.post('/json/limit', express.json({ limit: '1kb' }), echo);
    a.post('/json/type', express.json({ type: 'application/vnd.api+json' }), echo);
    a.post('/json/verify', express.json({ verify: (_req, _res, buf) => { if (buf[0] === 0x5b) throw new Error('no arrays'); } }), echo);
    a.post('/json/no-inflate', express.json({ inflate: false }), echo);
    a.post('/raw', express.raw(), (req, res) => void res.json({ buf: Buffer.isBuffer(req.body) ? (req.body as Buffer).toString('hex') : req.body as unknown }));
    a.post('/raw/limit', express.raw({ limit: 100 }), (req, res) => void res.json({ length: (req.body as Buffer).length }));
    a.post('/text', express.text(), echo);
    a.post('/text/default-charset', express.text({ defaultCharset: 'iso-8859-1' }), echo);
    a.post('/urlencoded', express.urlencoded(), echo);
    a.post('/urlencoded/extended', express.urlencoded({ extended: true }), echo);
    a.post('/urlencoded/param-limit', express.urlencoded({ parameterLimit: 2 }), echo);
    a.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).send(`[${err.type}] ${err.message}`);
    });
    return a;
  },
  [
    { name: 'express.json() should parse JSON', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json']], body: '{"user":"tobi"}' },
    { name: 'express.json() should handle Content-Length: 0', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Content-Length', '0']], body: '' },
    { name: 'express.json() should handle empty message-body', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: '0\r\n\r\n' },
    { name: 'express.json() should handle no message-body', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json']] },
    { name: 'express.json() should 400 when invalid content-length', method: 'POST', target: '/json/bad-length', headers: [['Content-Type', 'application/json']], body: '{"str":' },
    {
      name: 'request trailers after a chunked body (req.trailers)',
      method: 'POST',
      target: '/text/trailers',
      headers: [['Content-Type', 'text/plain'], ['Transfer-Encoding', 'chunked'], ['Trailer', 'X-Checksum']],
      body: Buffer.from('5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n'),
    },
    { name: 'express.json() should 400 when only whitespace', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json']], body: '  \n' },
    { name: 'express.json() should 400 when JSON is invalid', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json']], body: '{:' },
    { name: 'express.json() should 400 when strict and not object', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json']], body: 'true' },
    { name: 'express.json() strict false should parse primitives', method: 'POST', target: '/json/strict-false', headers: [['Content-Type', 'application/json']], body: 'true' },
    { name: 'express.json() should parse a chunked body', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: chunked([Buffer.from('{"user":'), Buffer.from('"tobi"}')]) },
    { name: 'express.json() should not parse when Content-Type does not match', method: 'POST', target: '/json', headers: [['Content-Type', 'text/plain']], body: '{"user":"tobi"}' },
    { name: 'express.json() with limit should 413 when over limit with Content-Length', method: 'POST', target: '/json/limit', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ str: 'x'.repeat(1024) }) },
    { name: 'express.json() with limit should 413 when over limit with chunked encoding', method: 'POST', target: '/json/limit', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: chunked([Buffer.from('{"str":"'), Buffer.alloc(2048, 'x'), Buffer.from('"}')]) },
    { name: 'express.json() with limit should 413 a large body (200 KB) with Content-Length', method: 'POST', target: '/json/limit', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ str: 'x'.repeat(200_000) }) },
    { name: 'express.json() with type option should parse for custom type', method: 'POST', target: '/json/type', headers: [['Content-Type', 'application/vnd.api+json']], body: '{"user":"tobi"}' },
    { name: 'express.json() with verify option should 403 if verify throws', method: 'POST', target: '/json/verify', headers: [['Content-Type', 'application/json']], body: '["tobi"]' },
    { name: 'express.json() charset should parse utf-8', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json; charset=utf-8']], body: '{"name":"论"}' },
    { name: 'express.json() charset should fail on unknown charset', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json; charset=koi8-r']], body: '{"name":"x"}' },
    { name: 'express.json() encoding should support gzip encoding', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gzipSync('{"name":"论"}') },
    { name: 'express.json() encoding should 415 on unknown encoding', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'nulls']], body: '000000000000' },
    { name: 'express.json() inflate false should 415 on gzip', method: 'POST', target: '/json/no-inflate', headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gzipSync('{"name":"x"}') },
    { name: 'express.json() encoding should 400 on malformed gzip', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: Buffer.from('1f8b080000000000000bab56ca4bcc4d55b2527ab16e97522d00', 'hex') },
    { name: 'express.raw() should parse application/octet-stream', method: 'POST', target: '/raw', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.from([0x74, 0x68, 0x65, 0x00, 0xff]) },
    { name: 'express.raw() should handle empty message-body', method: 'POST', target: '/raw', headers: [['Content-Type', 'application/octet-stream'], ['Content-Length', '0']], body: '' },
    { name: 'express.raw() with limit should 413 when over limit', method: 'POST', target: '/raw/limit', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.alloc(101) },
    { name: 'express.text() should parse text/plain', method: 'POST', target: '/text', headers: [['Content-Type', 'text/plain']], body: 'user is tobi' },
    { name: 'express.text() charset should parse iso-8859-1', method: 'POST', target: '/text', headers: [['Content-Type', 'text/plain; charset=iso-8859-1']], body: Buffer.from('caf\xe9', 'latin1') },
    { name: 'express.text() defaultCharset should honor', method: 'POST', target: '/text/default-charset', headers: [['Content-Type', 'text/plain']], body: Buffer.from('caf\xe9', 'latin1') },
    { name: 'express.urlencoded() should parse x-www-form-urlencoded', method: 'POST', target: '/urlencoded', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'user=tobi&a=1+2&b=%26' },
    { name: 'express.urlencoded() extended should parse deep object', method: 'POST', target: '/urlencoded/extended', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'user[name][first]=tobi&arr[]=1&arr[]=2' },
    { name: 'express.urlencoded() parameterLimit should 413 if over limit', method: 'POST', target: '/urlencoded/param-limit', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'a=1&b=2&c=3' },
    { name: 'express.urlencoded() should parse a 1 MB form', method: 'POST', target: '/urlencoded', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'x=' + 'y'.repeat(90_000) },
    { name: 'express.json() should parse a body that arrives slowly', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ user: 'tobi', pad: 'p'.repeat(40_000) }), trickle: [3, 10, 20_000] },
    { name: 'express.json() should parse a chunked body that arrives slowly', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: chunked([Buffer.from('{"user":'), Buffer.from('"tobi"}')]), trickle: [5, 12] },
    { name: 'express.json() with limit should 413 a chunked body that arrives slowly', method: 'POST', target: '/json/limit', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: chunked([Buffer.from('{"str":"'), Buffer.alloc(2048, 'x'), Buffer.from('"}')]), trickle: [20, 700] },
    { name: 'express.json() with Expect: 100-continue', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Expect', '100-continue']], body: '{"user":"tobi"}' },
  ],
  [
    'express.json() should parse JSON',
    'express.json() should 400 when JSON is invalid',
    'express.json() with limit should 413 when over limit with Content-Length',
    'express.json() encoding should support gzip encoding',
    'express.urlencoded() should parse x-www-form-urlencoded',
    'express.json() should parse a chunked body',
    'express.json() should parse a body that arrives slowly',
    'express.json() with limit should 413 a chunked body that arrives slowly',
  ],
);

// --- express.static ---

describeUpstream(
  'express.static (test/express.static.js)',
  () => {
    const a = app();
    a.use('/s', express.static(dir));
    a.use('/no-redirect', express.static(dir, { redirect: false }));
    a.use('/no-fall', express.static(dir, { fallthrough: false }));
    a.use('/dot-allow', express.static(dir, { dotfiles: 'allow' }));
    a.use('/dot-deny', express.static(dir, { dotfiles: 'deny' }));
    a.use('/no-index', express.static(dir, { index: false }));
    a.use('/ext', express.static(dir, { extensions: ['txt', 'html'] }));
    a.use('/cache', express.static(dir, { maxAge: 10_000, immutable: true }));
    a.use('/no-etag', express.static(dir, { etag: false, lastModified: false }));
    a.use('/set-headers', express.static(dir, { setHeaders: (res) => res.setHeader('X-Custom', 'set') }));
    a.use((_req, res) => void res.status(404).send('fell through'));
    return a;
  },
  [
    { name: 'express.static should serve static files', method: 'GET', target: '/s/todo.txt' },
    { name: 'express.static should support nesting', method: 'GET', target: '/s/users/tobi.txt' },
    { name: 'express.static should set Content-Type', method: 'GET', target: '/s/user.html' },
    { name: 'express.static should set Last-Modified / ETag / Cache-Control', method: 'GET', target: '/s/nums.txt' },
    { name: 'express.static should default max-age=0', method: 'GET', target: '/s/todo.txt' },
    { name: 'express.static should support urlencoded pathnames', method: 'GET', target: '/s/%25%20of%20dogs.txt' },
    { name: 'express.static should support a unicode directory', method: 'GET', target: '/s/snow%20%E2%98%83/' },
    { name: 'express.static should redirect unicode directory', method: 'GET', target: '/s/snow%20%E2%98%83' },
    { name: 'express.static should not choke on auth-looking URL', method: 'GET', target: '//todo@txt' },
    { name: 'express.static should serve files in a directory (index)', method: 'GET', target: '/s/users/' },
    { name: 'express.static should redirect directories', method: 'GET', target: '/s/users' },
    { name: 'express.static should redirect directories with query string', method: 'GET', target: '/s/users?name=john' },
    { name: 'express.static should ensure redirect URL is properly encoded', method: 'GET', target: '/s/snow%20%E2%98%83?a=%3C' },
    { name: 'express.static should respond with default 404 for missing (fallthrough)', method: 'GET', target: '/s/does-not-exist' },
    { name: 'express.static should ignore hidden files', method: 'GET', target: '/s/.name' },
    { name: 'express.static should 403 on .. (traversal)', method: 'GET', target: '/s/users/../../todo.txt' },
    { name: 'express.static should 400 on a malformed URI', method: 'GET', target: '/no-fall/%' },
    { name: 'express.static should support HEAD', method: 'HEAD', target: '/s/todo.txt' },
    { name: 'express.static should skip POST requests (fallthrough)', method: 'POST', target: '/s/todo.txt' },
    { name: 'express.static should support conditional requests (If-None-Match)', method: 'GET', target: '/s/nums.txt', headers: [['If-None-Match', numsEtag]] },
    { name: 'express.static should support precondition checks (If-Match)', method: 'GET', target: '/s/nums.txt', headers: [['If-Match', '"foo"']] },
    { name: 'express.static should serve zero-length files', method: 'GET', target: '/s/empty.txt' },
    { name: 'express.static Range should support byte ranges', method: 'GET', target: '/s/nums.txt', headers: [['Range', 'bytes=0-4']] },
    { name: 'express.static Range should respond with 416 for unsatisfiable', method: 'GET', target: '/s/nums.txt', headers: [['Range', 'bytes=9-50']] },
    { name: 'express.static Range on a large file', method: 'GET', target: '/s/big.bin', headers: [['Range', 'bytes=100-150000']] },
    { name: 'express.static large file', method: 'GET', target: '/s/big.bin' },
    { name: 'express.static redirect false should disable redirect', method: 'GET', target: '/no-redirect/users' },
    { name: 'express.static fallthrough false should 404 when URL not found', method: 'GET', target: '/no-fall/does-not-exist' },
    { name: 'express.static fallthrough false should 405 when OPTIONS request', method: 'OPTIONS', target: '/no-fall/todo.txt' },
    { name: 'express.static fallthrough false should 405 when POST request', method: 'POST', target: '/no-fall/todo.txt' },
    { name: 'express.static fallthrough false should 403 on traversal', method: 'GET', target: '/no-fall/users/../../todo.txt' },
    { name: 'express.static dotfiles allow should serve', method: 'GET', target: '/dot-allow/.name' },
    { name: 'express.static dotfiles deny should 403 (fallthrough)', method: 'GET', target: '/dot-deny/.name' },
    { name: 'express.static index false should fall through for a directory', method: 'GET', target: '/no-index/users/' },
    { name: 'express.static extensions should serve with extension', method: 'GET', target: '/ext/todo' },
    { name: 'express.static maxAge / immutable', method: 'GET', target: '/cache/todo.txt' },
    { name: 'express.static etag false / lastModified false', method: 'GET', target: '/no-etag/todo.txt' },
    { name: 'express.static setHeaders should reject non-functions / set headers', method: 'GET', target: '/set-headers/todo.txt' },
    { name: 'express.static setHeaders should not get called on 404', method: 'GET', target: '/set-headers/nope.txt' },
    { name: 'express.static HTTP/1.0 large file', method: 'GET', target: '/s/big.bin', version: '1.0' },
    { name: 'express.static should not redirect to protocol-relative locations', method: 'GET', target: '/s//users' },
    { name: 'express.static should catch urlencoded ../', method: 'GET', target: '/s/users/%2e%2e/%2e%2e/todo.txt' },
    { name: 'express.static should serve with an escaped slash in the path', method: 'GET', target: '/s/users%2Ftobi.txt' },
    { name: 'express.static should 404 with a backslash traversal', method: 'GET', target: '/no-fall/users/..%5C..%5Ctodo.txt' },
    { name: 'express.static should respect dotted segments that stay inside', method: 'GET', target: '/s/users/../todo.txt' },
    { name: 'express.static should 404 on a NUL byte', method: 'GET', target: '/no-fall/todo%00.txt' },
    { name: 'express.static with a query string', method: 'GET', target: '/s/todo.txt?v=1&x' },
    { name: 'express.static with If-Modified-Since and If-None-Match both', method: 'GET', target: '/s/nums.txt', headers: [['If-None-Match', '"nope"'], ['If-Modified-Since', future]] },
  ],
  [
    'express.static should serve static files',
    'express.static should redirect directories with query string',
    'express.static Range should support byte ranges',
    'express.static fallthrough false should 405 when POST request',
    'express.static large file',
    'express.static should redirect unicode directory',
    'express.static HTTP/1.0 large file',
    'express.static should support HEAD',
  ],
);

// --- lifecycle: what the app's listeners see (on-finished, res.sendFile's callback, a client that leaves) ---

const bigFile = fixture('huge.bin');
writeFileSync(bigFile, Buffer.alloc(32 * 1024 * 1024, 7));

/** An app that records, per request id, the events its request and response emit; `/log?id=` answers them. */
function lifecycleApp(): express.Express {
  const a = app();
  const logs = new Map<string, string[]>();
  const watch = (req: express.Request, res: express.Response): string[] => {
    const events: string[] = [];
    logs.set(String(req.query.id), events);
    req.on('end', () => events.push('req end'));
    req.on('close', () => events.push(`req close (complete ${req.complete}, destroyed ${req.destroyed})`));
    res.on('finish', () => events.push('res finish'));
    res.on('close', () => events.push(`res close (writableFinished ${res.writableFinished}, writableEnded ${res.writableEnded})`));
    res.on('error', (err: NodeJS.ErrnoException) => events.push(`res error ${err.code}`));
    return events;
  };
  a.get('/log', (req, res) => void res.json(logs.get(String(req.query.id)) ?? null));
  a.get('/normal', (req, res) => {
    watch(req, res);
    req.resume();
    res.send('ok');
  });
  a.post('/upload', express.text(), (req, res) => {
    const events = watch(req, res);
    events.push(`body ${String(req.body).length}`);
    res.send('ok');
  });
  a.get('/stream', (req, res) => {
    const events = watch(req, res);
    res.type('text');
    const timer = setInterval(() => {
      if (res.writableEnded || res.destroyed) return void clearInterval(timer);
      res.write(Buffer.alloc(1024, 'x'));
    }, 2);
    res.on('close', () => {
      clearInterval(timer);
      events.push(`after close: write returns ${String(res.write('late'))}`);
    });
  });
  a.get('/sendfile', (req, res) => {
    const events = watch(req, res);
    res.sendFile(bigFile, (err) => events.push(`sendFile callback ${err ? (err as NodeJS.ErrnoException).code : 'ok'}`));
  });
  a.post(
    '/upload-abort',
    (req, res, next) => {
      watch(req, res);
      next();
    },
    express.json(),
    (req, res) => void res.json(req.body),
  );
  a.use((err: Error & { type?: string; code?: string; status?: number }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    logs.get(String(req.query.id))?.push(`error handler: ${err.type} ${err.code} ${err.status} ${err.message} (req.destroyed ${req.destroyed}, req.complete ${req.complete})`);
    res.status(err.status ?? 500).end();
  });
  a.get('/sendfile-small', (req, res) => {
    const events = watch(req, res);
    res.sendFile(fixture('nums.txt'), (err) => events.push(`sendFile callback ${err ? (err as NodeJS.ErrnoException).code : 'ok'}`));
  });
  return a;
}

async function eventsOf(port: number, id: string): Promise<unknown> {
  await new Promise((resolve) => setTimeout(resolve, 150));
  const response = await exchange(port, requestBytes({ name: 'log', method: 'GET', target: `/log?id=${id}` }), false);
  return JSON.parse(response.body.toString('utf8'));
}

/** Sends the request, waits for the first bytes of the response, then goes away. */
async function leaveEarly(port: number, target: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.write(`GET ${target} HTTP/1.1\r\nHost: differential.test\r\n\r\n`);
  });
}

describe('lifecycle events, natively and through the bridge (test/res.sendFile.js "should invoke the callback when client aborts", on-finished)', () => {
  let servers: Servers;
  let native: Listening;
  let bridged: Listening;
  let id = 0;
  beforeAll(async () => {
    servers = await startServers(lifecycleApp, true);
    ({ native, bridged } = servers);
  });
  afterAll(async () => {
    await Promise.all([servers?.native.close(), servers?.served.close(), servers?.bridged.close(), servers?.fastify?.close(), servers?.koa?.close()]);
  });

  for (const side of ['fastify', 'koa'] as const) {
    it(`a client that leaves mid-stream, and res.sendFile's callback on abort [${side} host]`, async () => {
      const n = String(++id);
      const m = String(++id);
      await leaveEarly(native.port, `/stream?id=${n}`);
      await leaveEarly(servers[side]!.port, `/stream?id=${n}`);
      await leaveEarly(native.port, `/sendfile?id=${m}`);
      await leaveEarly(servers[side]!.port, `/sendfile?id=${m}`);
      const expected = [await eventsOf(native.port, n), await eventsOf(native.port, m)];
      expect(JSON.stringify(expected)).toContain('ECONNABORTED');
      expect([await eventsOf(servers[side]!.port, n), await eventsOf(servers[side]!.port, m)]).toEqual(expected);
    });
  }

  const normal: Array<[string, Case]> = [
    ['a GET answered with res.send: end, finish, close in order', { name: 'normal', method: 'GET', target: '/normal' }],
    ['a POST read by express.text()', { name: 'upload', method: 'POST', target: '/upload', headers: [['Content-Type', 'text/plain']], body: 'y'.repeat(70_000) }],
    ['res.sendFile(path, fn) should invoke the callback when complete', { name: 'small file', method: 'GET', target: '/sendfile-small' }],
  ];
  for (const [title, c] of normal) {
    for (const side of ['bridged', 'fastify', 'koa'] as const) {
      it(`${title}${side === 'bridged' ? '' : ` [${side} host]`}`, async () => {
        const n = String(++id);
        const target = `${c.target}?id=${n}`;
        await exchange(native.port, requestBytes({ ...c, target }), false);
        await exchange(servers[side]!.port, requestBytes({ ...c, target }), false);
        const expected = await eventsOf(native.port, n);
        expect(expected).not.toBeNull();
        expect(await eventsOf(servers[side]!.port, n)).toEqual(expected);
      });
    }
  }

  it('a client that leaves mid-stream: req and res close, res.write returns false after', async () => {
    const n = String(++id);
    await leaveEarly(native.port, `/stream?id=${n}`);
    await leaveEarly(bridged.port, `/stream?id=${n}`);
    const expected = await eventsOf(native.port, n);
    expect(expected).not.toBeNull();
    expect(await eventsOf(bridged.port, n)).toEqual(expected);
  });

  it('express.json() should error with type = "request.aborted" when the client leaves mid-upload', async () => {
    const n = String(++id);
    for (const port of [native.port, bridged.port]) {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.write(`POST /upload-abort?id=${n} HTTP/1.1\r\nHost: differential.test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"` + 'x'.repeat(100));
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    }
    const expected = await eventsOf(native.port, n);
    expect(JSON.stringify(expected)).toContain('request.aborted');
    expect(await eventsOf(bridged.port, n)).toEqual(expected);
  });

  it('res.sendFile(path, fn) should invoke the callback when client aborts (ECONNABORTED)', async () => {
    const n = String(++id);
    await leaveEarly(native.port, `/sendfile?id=${n}`);
    await leaveEarly(bridged.port, `/sendfile?id=${n}`);
    const expected = await eventsOf(native.port, n);
    expect(JSON.stringify(expected)).toContain('ECONNABORTED');
    expect(await eventsOf(bridged.port, n)).toEqual(expected);
  });
});

// --- over TLS and over IPv6: req.protocol, req.secure, req.ip from the connection itself ---

function connectionApp(): express.Express {
  const a = app();
  a.get('/conn', (req, res) => {
    const socket = req.socket as import('node:tls').TLSSocket;
    res.cookie('session', '1', { secure: req.secure, sameSite: 'none' });
    res.json({
      ip: req.ip,
      ips: req.ips,
      protocol: req.protocol,
      secure: req.secure,
      hostname: req.hostname,
      remoteFamily: socket.remoteFamily,
      localAddress: socket.localAddress,
      encrypted: socket.encrypted ?? null,
      authorized: socket.authorized ?? null,
      authorizationError: String(socket.authorizationError ?? null),
      peerCertificate: typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : 'none',
      tlsProtocol: typeof socket.getProtocol === 'function' ? socket.getProtocol() : 'none',
      cipher: typeof socket.getCipher === 'function' ? socket.getCipher().name : 'none',
      alpnProtocol: socket.alpnProtocol ?? null,
    });
  });
  return a;
}

async function overTls(port: number, host: string, c: Case): Promise<Outcome> {
  const socket = tls.connect({ port, host, rejectUnauthorized: false, servername: 'localhost' });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve());
    socket.once('secureConnect', () => socket.write(requestBytes(c)));
  });
  return comparable(parseWire(Buffer.concat(chunks), false));
}

describe('over TLS: req.protocol / req.secure and the TLS socket (test/req.protocol.js, req.secure.js against a real https server)', () => {
  let native: Listening;
  let bridged: Listening;
  beforeAll(async () => {
    const credentials = selfSignedCertificate();
    const server = https.createServer(credentials, connectionApp());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    native = listening(server as unknown as http.Server);
    const wrapped = fromExpress(connectionApp());
    bridged = listening(
      await serve((environ, startResponse) => wrapped(environ, startResponse), { port: 0, host: '127.0.0.1', handleSignals: false, tls: credentials, errors: { write() {}, writelines() {}, flush() {} } }),
    );
  });
  afterAll(async () => {
    await Promise.all([native?.close(), bridged?.close()]);
  });
  it('req.protocol is "https" and req.secure true on a TLS connection', async () => {
    const c: Case = { name: 'tls', method: 'GET', target: '/conn' };
    expect(await overTls(bridged.port, '127.0.0.1', c)).toEqual(await overTls(native.port, '127.0.0.1', c));
  });
});

describe('over IPv6: req.ip / socket.remoteFamily (test/req.ip.js against a server on ::1)', () => {
  let native: Listening;
  let bridged: Listening;
  beforeAll(async () => {
    const server = http.createServer(connectionApp());
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    native = listening(server);
    const wrapped = fromExpress(connectionApp());
    bridged = listening(await serve((environ, startResponse) => wrapped(environ, startResponse), { port: 0, host: '::1', handleSignals: false }));
  });
  afterAll(async () => {
    await Promise.all([native?.close(), bridged?.close()]);
  });
  it('req.ip is "::1" over an IPv6 loopback connection', async () => {
    const c: Case = { name: 'v6', method: 'GET', target: '/conn' };
    const ask = async (port: number): Promise<Outcome> => {
      const socket = net.connect(port, '::1');
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.once('error', reject);
        socket.once('close', () => resolve());
        socket.write(requestBytes(c));
      });
      return comparable(parseWire(Buffer.concat(chunks), false));
    };
    expect(await ask(bridged.port)).toEqual(await ask(native.port));
  });
});

describe('res.set("Date", value): the app\'s own Date is kept (the harness leaves Date out of its comparison)', () => {
  let native: Listening;
  let bridged: Listening;
  let served: Listening;
  const build = (): express.Express => {
    const a = app();
    a.get('/date', (_req, res) => void res.set('Date', 'Mon, 01 Jan 2024 00:00:00 GMT').send('dated'));
    return a;
  };
  beforeAll(async () => {
    native = await listen(http.createServer(build()));
    ({ served, bridged } = await serveBoth(fromExpress(build())));
  });
  afterAll(async () => {
    await Promise.all([native?.close(), served?.close(), bridged?.close()]);
  });
  it('res.set("Date") reaches the client unchanged', async () => {
    const dates = async (port: number) =>
      (await exchange(port, requestBytes({ name: 'date', method: 'GET', target: '/date' }), false)).headers.filter(([n]) => n.toLowerCase() === 'date');
    const expected = await dates(native.port);
    expect(expected).toEqual([['Date', 'Mon, 01 Jan 2024 00:00:00 GMT']]);
    expect(await dates(bridged.port)).toEqual(expected);
  });
});

// --- keep-alive: several requests on one connection ---

/** Splits the bytes of consecutive responses (each framed by Content-Length or chunked) and parses each. */
function splitResponses(data: Buffer, heads: boolean[]): Outcome[] {
  const out: Outcome[] = [];
  let rest = data;
  for (const head of heads) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) {
      out.push({ incomplete: `no head in ${JSON.stringify(rest.toString('latin1').slice(0, 100))}` });
      break;
    }
    const headText = rest.subarray(0, end).toString('latin1');
    const status = Number(headText.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(headText);
    let total = end + 4;
    if (!head && status !== 204 && status !== 304) {
      if (length !== null) total += Number(length[1]);
      else if (/\r\ntransfer-encoding: *chunked/i.test(headText)) total = rest.indexOf('\r\n0\r\n\r\n', end) + 7;
      else total = rest.length;
    }
    out.push(comparable(parseWire(rest.subarray(0, total), head)));
    rest = rest.subarray(total);
  }
  return out;
}

describeKeepAlive();

function describeKeepAlive(): void {
  describe('keep-alive and pipelining (test/app.router.js and finalhandler cases on one connection)', () => {
    let servers: Servers | undefined;
    const build = (): express.Express => {
      const a = app();
      a.get('/hello', (_req, res) => void res.send('hello'));
      a.get('/file', (_req, res) => void res.sendFile(fixture('big.bin')));
      a.post('/json', express.json(), (req, res) => void res.json(req.body));
      a.post('/ignore', (_req, res) => void res.send('body ignored'));
      return a;
    };
    beforeAll(async () => {
      servers = await startServers(build, true);
    });
    afterAll(async () => {
      await Promise.all([servers?.native.close(), servers?.served.close(), servers?.bridged.close(), servers?.fastify?.close(), servers?.koa?.close()]);
    });
    const sequence = (): { bytes: Buffer; heads: boolean[] } => {
      const requests: Case[] = [
        { name: '1', method: 'POST', target: '/ignore', headers: [['Content-Type', 'text/plain']], body: 'u'.repeat(20_000) },
        { name: '2', method: 'GET', target: '/hello' },
        { name: '3', method: 'POST', target: '/nope', headers: [['Content-Type', 'application/json']], body: '{"a":1}' },
        { name: '4', method: 'HEAD', target: '/file' },
        { name: '5', method: 'POST', target: '/json', headers: [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], body: chunked([Buffer.from('{"b":'), Buffer.from('2}')]) },
        { name: '6', method: 'GET', target: '/file' },
      ];
      // Every request keeps the connection open but the last; requestBytes adds `Connection: close`.
      const bytes = Buffer.concat(
        requests.map((c, i) => {
          const one = requestBytes(c);
          return i === requests.length - 1 ? one : Buffer.from(one.toString('latin1').replace('Connection: close\r\n', ''), 'latin1');
        }),
      );
      return { bytes, heads: requests.map((c) => c.method === 'HEAD') };
    };
    for (const side of ['bridged', 'fastify', 'koa'] as const) {
      it(`six pipelined requests (unread body, 404 with a body, HEAD, chunked JSON, a file) answer in order${side === 'bridged' ? '' : ` [${side} host]`}`, async () => {
        const { bytes, heads } = sequence();
        const raw = async (port: number): Promise<Buffer> => {
          const socket = net.connect(port, '127.0.0.1');
          const chunks: Buffer[] = [];
          await new Promise<void>((resolve, reject) => {
            socket.on('data', (chunk: Buffer) => chunks.push(chunk));
            socket.once('error', reject);
            socket.once('close', () => resolve());
            socket.write(bytes);
          });
          return Buffer.concat(chunks);
        };
        const normalise = (outcomes: Outcome[]) =>
          side === 'fastify' ? outcomes.map((o) => ('headers' in o ? { ...o, headers: o.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]) } : o)) : outcomes;
        const expected = splitResponses(await raw(servers!.native.port), heads);
        expect(expected).toHaveLength(6);
        expect(normalise(splitResponses(await raw(servers![side]!.port), heads))).toEqual(normalise(expected));
      });
    }
  });
}

// --- mounted under a prefix: host.use('/mnt', app) natively, mount() / Fastify's prefix / koa-mount bridged ---

describe("mounted under '/mnt' (test/app.use.js, acceptance/mounting.js, express.static.js redirects under a mount)", () => {
  let servers: Record<'native' | 'bridged' | 'fastify' | 'koa', Listening> | undefined;
  const build = (): express.Express => {
    const a = app();
    a.get('/where', (req, res) => void res.json({ baseUrl: req.baseUrl, url: req.url, originalUrl: req.originalUrl, path: req.path, query: req.query }));
    a.get('/go', (req, res) => void res.redirect(`${req.baseUrl}/where`));
    a.get('/relative', (_req, res) => void res.redirect('where?x=1'));
    a.get('/file', (_req, res) => void res.sendFile(fixture('nums.txt')));
    a.use('/s', express.static(dir));
    return a;
  };
  beforeAll(async () => {
    const outer = app();
    outer.use('/mnt', build());
    const native = await listen(http.createServer(outer));
    const bridged = await serveApp(mount({ '/mnt': fromExpress(build()) }));
    const fastify = Fastify({ forceCloseConnections: true });
    await fastify.register(toFastify(fromExpress(build())), { prefix: '/mnt' });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const koa = new Koa();
    koa.silent = true;
    koa.use(koaMount('/mnt', toKoa(fromExpress(build()))));
    servers = {
      native,
      bridged,
      fastify: { port: (fastify.server.address() as AddressInfo).port, close: () => fastify.close() },
      koa: await listen(http.createServer(koa.callback())),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers ?? {}).map((s) => s.close()));
  });
  const cases: Case[] = [
    { name: 'req.baseUrl / req.originalUrl / req.path under the mount', method: 'GET', target: '/mnt/where?a=1+2&b=%C3%A9' },
    { name: 'res.redirect built from req.baseUrl', method: 'GET', target: '/mnt/go' },
    { name: 'res.redirect to a relative url', method: 'GET', target: '/mnt/relative' },
    { name: 'res.sendFile under the mount', method: 'GET', target: '/mnt/file' },
    { name: 'express.static redirecting a directory under the mount keeps the prefix', method: 'GET', target: '/mnt/s/users?x=1' },
    { name: 'express.static file under the mount', method: 'GET', target: '/mnt/s/users/tobi.txt' },
    { name: 'express.static index under the mount', method: 'GET', target: '/mnt/s/users/' },
    { name: 'the mount point itself', method: 'GET', target: '/mnt' },
  ];
  for (const c of cases) {
    for (const side of ['bridged', 'fastify', 'koa'] as const) {
      it(`${c.name}${side === 'bridged' ? '' : ` [${side} host]`} (${c.method} ${c.target})`, async () => {
        const lower = (o: Outcome) => (side === 'fastify' && 'headers' in o ? { ...o, headers: o.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]) } : o);
        const expected = await outcome(servers!.native.port, c, false);
        expect(lower(await outcome(servers![side].port, c, false))).toEqual(lower(expected));
      });
    }
  }
});
