// Shared helpers for the response wire tests: a served app on loopback, a raw socket client that
// sees the exact bytes, and a parser for one HTTP/1.x response at a time.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve, toNodeListener } from '../../packages/core/src/index.js';
import type { App, Body, Chunk } from '../../packages/core/src/index.js';
import { ErrorLog } from './error-log.js';
import { SocketRecorder } from './socket-recorder.js';
import { expect } from 'vitest';

export { ErrorLog } from './error-log.js';

export interface Served {
  server: http.Server;
  port: number;
  url: string;
  errors: ErrorLog;
  close(): Promise<void>;
}

const open = new Set<Served>();
const sockets = new Set<net.Socket>();

/** Serves `app` with the reference server on a free loopback port. */
export async function serveApp(app: App, options: { debug?: boolean } = {}): Promise<Served> {
  const errors = new ErrorLog();
  const server = await serve(app, { port: 0, host: '127.0.0.1', handleSignals: false, errors, ...options });
  return track(server, errors);
}

/** Serves `app` through `toNodeListener` on a plain `http.createServer`. */
export async function listenApp(app: App, options: { debug?: boolean } = {}): Promise<Served> {
  const errors = new ErrorLog();
  const listener = toNodeListener(app, { errors, ...options });
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return track(server, errors);
}

function track(server: http.Server, errors: ErrorLog): Served {
  const port = (server.address() as AddressInfo).port;
  const served: Served = {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        open.delete(served);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  open.add(served);
  return served;
}

/** Closes every socket and server a test left open; call from `afterEach`. */
export async function cleanup(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all([...open].map((s) => s.close()));
}

/** Polls `check` until it returns true; fails with `what` if the test times out first. */
export async function until(check: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits `ms` of wall time (only to let something that must NOT happen have its chance). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ParsedResponse {
  statusLine: string;
  status: number;
  reason: string;
  /** Header lines as sent, names in their original case, in order. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** How the body was framed on the wire. */
  framing: 'content-length' | 'chunked' | 'close' | 'none';
  /** For chunked bodies: whether the terminating `0\r\n\r\n` arrived. */
  terminated: boolean;
  /** Every byte of this response as received. */
  raw: Buffer;
  header(name: string): string | undefined;
  all(name: string): string[];
}

/** A raw TCP client: writes bytes, keeps every byte received, knows when the peer closed. */
export class RawClient extends SocketRecorder {
  /** Where the next `readResponse()` starts. */
  private offset = 0;

  static async connect(port: number): Promise<RawClient> {
    const socket = await SocketRecorder.open(port);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    return new RawClient(socket);
  }

  /** The bytes received after what earlier responses consumed. */
  get rest(): Buffer {
    return this.data.subarray(this.offset);
  }

  /**
   * Waits for one complete response and consumes it. `head: true` for a response to HEAD (or a
   * 1xx/204/304), which ends with its header block. A close-delimited body needs the peer to close.
   */
  async readResponse(options: { head?: boolean } = {}): Promise<ParsedResponse> {
    let parsed: ParsedResponse | null = null;
    await until(() => (parsed = parseResponse(this.rest, options.head === true, this.closed)) !== null, 'a complete response');
    const response = parsed! as ParsedResponse;
    this.offset += response.raw.length;
    return response;
  }

  /** Waits until the peer closed, then parses whatever arrived as one (possibly incomplete) response. */
  async readUntilClose(options: { head?: boolean } = {}): Promise<ParsedResponse> {
    await this.waitForClose();
    const response = parseResponse(this.rest, options.head === true, true, true);
    if (response === null) throw new Error(`no response head in ${JSON.stringify(this.rest.toString('latin1'))}`);
    this.offset += response.raw.length;
    return response;
  }
}

/**
 * Parses one response from `data`, or returns null while it is incomplete. With `partial`, returns
 * what arrived even if the body is short (for aborted responses).
 */
export function parseResponse(data: Buffer, head: boolean, closed: boolean, partial = false): ParsedResponse | null {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = lines[0]!;
  const match = /^HTTP\/1\.[01] (\d{3}) (.*)$/.exec(statusLine);
  if (match === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const status = Number(match[1]);
  const headers: Array<[string, string]> = lines.slice(1).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const all = (name: string): string[] =>
    headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  const header = (name: string): string | undefined => all(name)[0];
  let start = end + 4;
  const make = (body: Buffer, stop: number, framing: ParsedResponse['framing'], terminated = false): ParsedResponse => ({
    statusLine,
    status,
    reason: match[2]!,
    headers,
    body,
    framing,
    terminated,
    raw: data.subarray(0, stop),
    header,
    all,
  });
  if (head || status === 204 || status === 304 || status < 200) return make(Buffer.alloc(0), start, 'none');
  const te = header('transfer-encoding');
  if (te !== undefined && /chunked/i.test(te)) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = data.indexOf('\r\n', start);
      if (lineEnd === -1) return partial ? make(Buffer.concat(parts), data.length, 'chunked') : null;
      const size = parseInt(data.subarray(start, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        if (data.length < lineEnd + 4) return partial ? make(Buffer.concat(parts), data.length, 'chunked') : null;
        return make(Buffer.concat(parts), lineEnd + 4, 'chunked', true);
      }
      if (data.length < lineEnd + 2 + size + 2) {
        if (!partial) return null;
        parts.push(data.subarray(lineEnd + 2, Math.min(data.length, lineEnd + 2 + size)));
        return make(Buffer.concat(parts), data.length, 'chunked');
      }
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      start = lineEnd + 2 + size + 2;
    }
  }
  const cl = header('content-length');
  if (cl !== undefined) {
    const length = Number(cl);
    if (data.length - start < length) return partial ? make(data.subarray(start), data.length, 'content-length') : null;
    return make(data.subarray(start, start + length), start + length, 'content-length');
  }
  if (!closed) return null;
  return make(data.subarray(start), data.length, 'close');
}

/** A request for the raw client. */
/** A chunked 200 the gateway aborted after its head [B6]: no terminating chunk, so never mistaken for whole. */
export function expectChunkedCutShort(response: ParsedResponse): void {
  expect(response.status).toBe(200);
  expect(response.framing).toBe('chunked');
  expect(response.terminated).toBe(false);
}

export function get(path = '/', extra = '', method = 'GET', version = '1.1'): string {
  return `${method} ${path} HTTP/${version}\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
}

/** What a spied body saw: pulls (`next()` calls), `return()` calls and `close()` calls. */
export interface Probe {
  pulls: number;
  returns: number;
  closes: number;
}

/**
 * Wraps an iterable as a body that counts what the gateway does to it. The body is async when the
 * source is; `close()` is counted and forwarded to the source's own `close()` if it has one.
 */
export function spy(source: Iterable<Chunk> | AsyncIterable<Chunk>): { body: Body; probe: Probe } {
  const probe: Probe = { pulls: 0, returns: 0, closes: 0 };
  const isAsync = typeof (source as AsyncIterable<Chunk>)[Symbol.asyncIterator] === 'function';
  const inner: Iterator<Chunk> | AsyncIterator<Chunk> = isAsync
    ? (source as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
    : (source as Iterable<Chunk>)[Symbol.iterator]();
  const iterator = {
    next: () => {
      probe.pulls++;
      return inner.next();
    },
    return: (value?: unknown) => {
      probe.returns++;
      return inner.return ? inner.return(value as Chunk) : { done: true as const, value: undefined };
    },
  };
  const close = (): unknown => {
    probe.closes++;
    return (source as { close?: () => unknown }).close?.();
  };
  const body = (isAsync
    ? { [Symbol.asyncIterator]: () => iterator, close }
    : { [Symbol.iterator]: () => iterator, close }) as unknown as Body;
  return { body, probe };
}

/** Sends one request on a new connection and reads one response. */
export async function roundTrip(port: number, request: string, options: { head?: boolean } = {}): Promise<ParsedResponse> {
  const client = await RawClient.connect(port);
  try {
    client.write(request);
    return await client.readResponse(options);
  } finally {
    client.destroy();
  }
}
