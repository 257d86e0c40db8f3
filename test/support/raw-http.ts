// Helpers for the request-side wire tests (environ, wsgi.input, serve): a served app that records
// the environ of every request, and a raw TCP client that sees every byte the server sends,
// interim `100 Continue` responses included. Waits are event-driven; only the test timeout bounds them.
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve } from '../../packages/core/src/index.js';
import type { App, Environ, ServeOptions, StartResponse } from '../../packages/core/src/index.js';
import { ErrorLog as KeptErrors } from './error-log.js';
import { SocketRecorder } from './socket-recorder.js';

export { ErrorLog as KeptErrors } from './error-log.js';

export interface Served {
  server: http.Server;
  port: number;
  errors: KeptErrors;
  close(): Promise<void>;
}

const servers = new Set<Served>();
const clients = new Set<RawClient>();

/** Serves `app` with `serve()` on a free loopback port, signals left alone. */
export async function serveApp(app: App, options: ServeOptions = {}): Promise<Served> {
  const errors = new KeptErrors();
  const server = await serve(app, { port: 0, host: '127.0.0.1', handleSignals: false, errors, ...options });
  const served: Served = {
    server,
    port: (server.address() as AddressInfo).port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(served);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.add(served);
  return served;
}

/** Closes every client and server a test opened; call from `afterEach`. */
export async function closeAll(): Promise<void> {
  for (const client of clients) client.destroy();
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
}

/** An app that records each environ and answers 200 with `text` (default `'ok'`). */
export function recordingApp(seen: Environ[], text = 'ok'): App {
  return (environ: Environ, startResponse: StartResponse) => {
    seen.push(environ);
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [text];
  };
}

export interface RawResponse {
  status: number;
  reason: string;
  /** Header lines in order, names lowercased. */
  headers: Array<[string, string]>;
  body: Buffer;
  header(name: string): string | undefined;
}

/** A raw TCP (or TLS) client that keeps every byte it receives and knows when the peer closed. */
export class RawClient extends SocketRecorder {
  private offset = 0;

  private constructor(socket: net.Socket) {
    super(socket);
    clients.add(this);
    socket.once('close', () => clients.delete(this));
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<RawClient> {
    return new RawClient(await SocketRecorder.open(port, options));
  }

  /** Waits for the next complete final response (skipping interim 1xx ones) and consumes it. */
  async readResponse(): Promise<RawResponse> {
    let response: [RawResponse, number] | null = null;
    await this.waitFor(() => (response = nextResponse(this.data, this.offset)) !== null, 'a complete response');
    const [parsed, end] = response! as [RawResponse, number];
    this.offset = end;
    return parsed;
  }
}

/** Parses the next final response at `from`, skipping interim 1xx heads: the response and where it ended. */
export function nextResponse(data: Buffer, from: number): [RawResponse, number] | null {
  let start = from;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', start);
    if (end === -1) return null;
    const lines = data.subarray(start, end).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
    if (match === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const status = Number(match[1]);
    const bodyStart = end + 4;
    if (status < 200) {
      start = bodyStart;
      continue;
    }
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const header = (name: string): string | undefined => headers.find(([n]) => n === name)?.[1];
    const make = (body: Buffer, stop: number): [RawResponse, number] => [
      { status, reason: match[2]!, headers, body, header },
      stop,
    ];
    if (/chunked/i.test(header('transfer-encoding') ?? '')) {
      const parts: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at);
        if (lineEnd === -1) return null;
        const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
        if (data.length < lineEnd + 2 + size + 2) return null;
        if (size === 0) return make(Buffer.concat(parts), lineEnd + 4);
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    const length = Number(header('content-length') ?? 0);
    if (data.length - bodyStart < length) return null;
    return make(data.subarray(bodyStart, bodyStart + length), bodyStart + length);
  }
}

/** How many times `needle` occurs in `haystack`. */
export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** A request head for the raw client, `Host` included. */
export function head(method: string, target: string, headers: string[] = [], version = '1.1'): string {
  return `${method} ${target} HTTP/${version}\r\nHost: 127.0.0.1\r\n${headers.map((h) => h + '\r\n').join('')}\r\n`;
}

/** A promise with its resolver outside, for values an app hands back to the test. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(err: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
