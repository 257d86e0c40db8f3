// The differential harness (issue 4): one list of requests, sent over raw loopback sockets to an app
// served natively, to the same app served as `serve(fromX(app))` (the round trip), and to it served
// behind a middleware (the synthetic request and response of `fromNodeListener`). Raw sockets, not
// fetch: fetch folds repeated headers and hides the framing, and both are part of what must be equal.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve, type App, type Errors } from '@node-wsgi/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** One request of the list; the harness adds `Host` and `Connection: close`. */
export interface Probe {
  /** What the case shows, used as the test name. */
  name: string;
  method: string;
  /** The request-target exactly as sent (escapes and all). */
  target: string;
  /** Header lines as sent, repeats and case kept. */
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  /** `'1.0'` for an HTTP/1.0 request; 1.1 otherwise. */
  version?: '1.0';
}

export interface WireResponse {
  /** Status lines of interim (1xx) responses before the final one. */
  interim: string[];
  status: number;
  statusText: string;
  /** Header lines as received, in order, names in their received case. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** All 256 byte values, twice over, so no byte is special. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));

/** The probes every framework's differential app answers; the routes are the same in all three. */
export function standardProbes(): Probe[] {
  return [
    { name: 'JSON', method: 'GET', target: '/json' },
    { name: 'two cookies', method: 'GET', target: '/cookies' },
    { name: 'redirect', method: 'GET', target: '/redirect' },
    { name: '204 No Content', method: 'GET', target: '/empty' },
    { name: 'ETag, fresh request', method: 'GET', target: '/etag' },
    { name: '304 Not Modified on If-None-Match', method: 'GET', target: '/etag', headers: [['If-None-Match', '"v1"']] },
    { name: '404 Not Found', method: 'GET', target: '/no/such/route' },
    { name: 'thrown error', method: 'GET', target: '/boom' },
    { name: 'HEAD', method: 'HEAD', target: '/json' },
    { name: 'HEAD of a stream', method: 'HEAD', target: '/stream' },
    { name: 'binary response of all 256 byte values', method: 'GET', target: '/bytes' },
    {
      name: 'binary echo of all 256 byte values',
      method: 'POST',
      target: '/echo',
      headers: [['Content-Type', 'application/octet-stream']],
      body: ALL_BYTES,
    },
    {
      name: 'chunked binary upload echoed',
      method: 'POST',
      target: '/echo',
      headers: [
        ['Content-Type', 'application/octet-stream'],
        ['Transfer-Encoding', 'chunked'],
      ],
      body: chunked([ALL_BYTES.subarray(0, 100), ALL_BYTES.subarray(100)]),
    },
    {
      name: 'large upload (1 MB) echoed',
      method: 'POST',
      target: '/echo',
      headers: [['Content-Type', 'application/octet-stream']],
      body: Buffer.concat(Array.from({ length: 3907 }, () => ALL_BYTES.subarray(0, 256))).subarray(0, 1_000_000),
    },
    {
      name: 'upload sent with Expect: 100-continue',
      method: 'POST',
      target: '/echo',
      headers: [
        ['Content-Type', 'application/octet-stream'],
        ['Expect', '100-continue'],
      ],
      body: ALL_BYTES,
    },
    {
      name: 'JSON body read by the framework parser',
      method: 'POST',
      target: '/json-body',
      headers: [['Content-Type', 'application/json; charset=utf-8']],
      body: JSON.stringify({ name: 'café ☕', list: [1, 2, { deep: true }] }),
    },
    {
      name: 'urlencoded form',
      method: 'POST',
      target: '/form',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: 'a=1+2&b=%26%3D&c=caf%C3%A9&a=3',
    },
    { name: 'stream written with drain handling', method: 'GET', target: '/stream' },
    { name: 'query with + and %XX', method: 'GET', target: '/query?a=1+2&b=%26%3D%2B&c=caf%C3%A9&d=&e' },
    { name: 'path with %2F and percent-encoded UTF-8', method: 'GET', target: '/path/a%2Fb/caf%C3%A9?x=%2F' },
    {
      name: 'repeated request headers',
      method: 'GET',
      target: '/headers',
      headers: [
        ['X-Multi', 'one'],
        ['x-multi', 'two'],
        ['Accept', 'text/plain'],
        ['ACCEPT', 'application/json'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
        ['User-Agent', 'first'],
        ['User-Agent', 'second'],
      ],
    },
    { name: 'large response (1 MiB)', method: 'GET', target: '/large' },
    { name: 'absolute-form request-target', method: 'GET', target: 'http://differential.test/query?a=1' },
    { name: 'a bare ? with no query', method: 'GET', target: '/query?' },
    { name: 'asterisk-form request-target', method: 'OPTIONS', target: '*' },
    { name: 'a header name with an underscore', method: 'GET', target: '/headers', headers: [['X_Under', 'kept']] },
    { name: 'an HTTP/1.0 request for a stream', method: 'GET', target: '/stream', version: '1.0' },
    { name: 'an HTTP/1.0 request for JSON', method: 'GET', target: '/json', version: '1.0' },
    { name: 'unsupported method on a known path', method: 'DELETE', target: '/json' },
  ];
}

/** A chunked request body, framing included. */
export function chunked(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) out.push(Buffer.from(part.length.toString(16) + '\r\n'), part, Buffer.from('\r\n'));
  out.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(out);
}

/**
 * The bytes of one request, `Connection: close` so the response ends with the connection. The Host is
 * the same for both servers, so that what the apps echo of it is comparable.
 */
export function requestBytes(probe: Probe): Buffer {
  const headers: Array<[string, string]> = [['Host', 'differential.test'], ...(probe.headers ?? [])];
  const body = probe.body === undefined ? null : Buffer.from(probe.body);
  const chunkedBody = headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && v === 'chunked');
  if (body !== null && !chunkedBody) headers.push(['Content-Length', String(body.length)]);
  headers.push(['Connection', 'close']);
  let head = `${probe.method} ${probe.target} HTTP/${probe.version ?? '1.1'}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body ?? Buffer.alloc(0)]);
}

/**
 * Everything a connection receives until the server closes it; `send` writes the request once the
 * connection is there (on a TLS socket, once it is secure). The socket is destroyed either way.
 */
export async function readUntilClose<S extends net.Socket>(socket: S, send: (socket: S) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.once('error', reject);
      socket.once('close', () => resolve());
      send(socket);
    });
  } finally {
    socket.destroy();
  }
  return Buffer.concat(chunks);
}

/** Sends raw bytes, reads until the server closes, and parses the one response that came. */
export async function exchange(port: number, bytes: Buffer, head: boolean): Promise<WireResponse> {
  return parseWire(await readUntilClose(net.connect(port, '127.0.0.1'), (socket) => socket.write(bytes)), head);
}

/** Parses a whole response; throws on anything malformed or on bytes past its end. */
export function parseWire(data: Buffer, head: boolean): WireResponse {
  const interim: string[] = [];
  while (/^HTTP\/1\.1 1\d\d /.test(data.subarray(0, 13).toString('latin1'))) {
    const stop = data.indexOf('\r\n\r\n');
    if (stop === -1) break;
    interim.push(data.subarray(0, stop).toString('latin1'));
    data = data.subarray(stop + 4);
  }
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete head in ${JSON.stringify(data.toString('latin1').slice(0, 200))}`);
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(lines[0]!);
  if (match === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(match[1]);
  const headers = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const get = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1];
  const rest = data.subarray(end + 4);
  let body: Buffer;
  if (head || status === 204 || status === 304 || status < 200) {
    body = Buffer.alloc(0);
    if (rest.length > 0) throw new Error(`${rest.length} bytes after a bodyless response`);
  } else if (get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at);
      if (lineEnd === -1) throw new Error('chunked body cut short');
      const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
      at = lineEnd + 2;
      if (size === 0) break;
      parts.push(rest.subarray(at, at + size));
      at += size + 2;
    }
    if (rest.subarray(at).toString('latin1') !== '\r\n') throw new Error('bad chunked trailer');
    body = Buffer.concat(parts);
  } else if (get('content-length') !== undefined) {
    const length = Number(get('content-length'));
    if (rest.length !== length) throw new Error(`Content-Length ${length} but ${rest.length} bytes came`);
    body = rest;
  } else {
    body = rest;
  }
  return { interim, status, statusText: match[2]!, headers, body };
}

const UNCOMPARED = new Set(['date', 'connection', 'keep-alive']);

/** What must be equal between native and bridged: everything but Date and connection management. */
export function comparable(response: WireResponse): {
  interim: string[];
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  bodyLength: number;
  bodySha256: string;
  bodyText: string | undefined;
} {
  return {
    interim: response.interim,
    status: response.status,
    statusText: response.statusText,
    headers: response.headers.filter(([name]) => !UNCOMPARED.has(name.toLowerCase())),
    bodyLength: response.body.length,
    bodySha256: createHash('sha256').update(response.body).digest('hex'),
    // Readable when a small text body differs; big and binary bodies compare by hash.
    bodyText: response.body.length <= 4096 ? response.body.toString('latin1') : undefined,
  };
}

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** A listening `node:http` server as something to close. */
export function listening(server: http.Server): Listening {
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const quiet: Errors = { write() {}, writelines() {}, flush() {} };

/** Serves a node-wsgi app with the reference server on a free loopback port. */
export async function serveApp(app: App, errors: Errors = quiet): Promise<Listening> {
  return listening(await serve(app, { port: 0, host: '127.0.0.1', handleSignals: false, errors }));
}

/**
 * Keeps what `console.error` is given (Express's and Koa's default error handlers log there) so the
 * run stays quiet and the two sides' logging can be compared; `restore()` puts it back.
 */
export function captureConsoleErrors(): { take(): string[]; restore(): void } {
  const original = console.error;
  const lines: string[] = [];
  console.error = (...args: unknown[]) => {
    // Without stack frames: those differ by design (the bridge is on the stack).
    const text = args.map((a) => (a instanceof Error ? String(a.stack) : String(a))).join(' ');
    lines.push(text.split('\n').filter((line) => !/^\s+at /.test(line)).join('\n'));
  };
  return {
    take: () => lines.splice(0, lines.length),
    restore: () => {
      console.error = original;
    },
  };
}

/**
 * Forces the reverse gateway: `serve(fromX(app))` alone is a round trip that hands the framework its
 * real request and response (toNodeListener(fromNodeListener(l)) is l), so the bridge is only
 * exercised when something sits in between, as any middleware or `mount` does.
 */
export function throughMiddleware(app: App): App {
  return function passThrough(environ, startResponse) {
    return app(environ, startResponse);
  };
}

export interface DifferentialServers {
  /** The framework serving the app itself. */
  native: Listening;
  /** `serve(fromX(app))`: the round trip. */
  served: Listening;
  /** `serve(middleware(fromX(app)))`: the synthetic request and response of `fromNodeListener`. */
  bridged: Listening;
}

/**
 * One differential suite: every probe goes to the natively served app, to `serve(fromX(app))` and
 * to the same wrapped app behind a middleware, and what a client sees must be equal, down to what
 * the framework logged to `console.error`.
 */
export function describeDifferential(title: string, start: () => Promise<DifferentialServers>, probes: Probe[]): void {
  describe(title, () => {
    let servers: DifferentialServers | undefined;
    let logged!: ReturnType<typeof captureConsoleErrors>;

    beforeAll(async () => {
      logged = captureConsoleErrors();
      servers = await start();
    });

    afterAll(async () => {
      logged?.restore();
      await Promise.all([servers?.native.close(), servers?.served.close(), servers?.bridged.close()]);
    });

    for (const probe of probes) {
      it(`answers ${probe.name} (${probe.method} ${probe.target}) as the app does natively`, async () => {
        const { native, served, bridged } = servers!;
        const head = probe.method === 'HEAD';
        const expected = comparable(await exchange(native.port, requestBytes(probe), head));
        const nativeLog = logged.take();
        expect(comparable(await exchange(served.port, requestBytes(probe), head)), 'serve(fromX(app))').toEqual(expected);
        // What the framework logs (its default error handler) is logged through the bridge too.
        expect(logged.take(), 'serve(fromX(app)) logging').toEqual(nativeLog);
        expect(comparable(await exchange(bridged.port, requestBytes(probe), head)), 'through the bridge').toEqual(expected);
        expect(logged.take(), 'logging through the bridge').toEqual(nativeLog);
      });
    }
  });
}

/** Serves `wrapped` both as it is and behind a middleware. */
export async function serveBoth(wrapped: App): Promise<{ served: Listening; bridged: Listening }> {
  const [served, bridged] = await Promise.all([serveApp(wrapped), serveApp(throughMiddleware(wrapped))]);
  return { served, bridged };
}
