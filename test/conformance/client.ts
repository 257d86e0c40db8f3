// Clients for the conformance matrix: `request()` over node:http (raw header lines kept, so repeated
// `Set-Cookie` lines stay countable) and `RawSocket`, which sees every byte and knows when the peer
// closed. Every wait is event-driven; the vitest timeout or `within()` bounds it.
import http from 'node:http';
import net from 'node:net';
import { SocketRecorder } from '../support/socket-recorder.js';

export interface HttpResult {
  status: number;
  statusMessage: string;
  /** Header lines as received: name, value, name, value ... */
  rawHeaders: string[];
  body: Buffer;
  /** The first value of a header (any case), or undefined. */
  header(name: string): string | undefined;
  /** Every line of a header (any case), in order. */
  lines(name: string): string[];
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Uint8Array | string;
}

const openSockets = new Set<net.Socket>();

function linesOf(rawHeaders: string[], name: string): string[] {
  const out: string[] = [];
  const key = name.toLowerCase();
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === key) out.push(rawHeaders[i + 1]!);
  return out;
}

/** One request on a fresh connection; resolves with the whole response, rejects if it is cut short. */
export function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('the response was aborted')));
      res.on('end', () => {
        const rawHeaders = res.rawHeaders;
        resolve({
          status: res.statusCode!,
          statusMessage: res.statusMessage!,
          rawHeaders,
          body: Buffer.concat(chunks),
          header: (name) => linesOf(rawHeaders, name)[0],
          lines: (name) => linesOf(rawHeaders, name),
        });
      });
    });
    req.on('socket', (socket) => {
      openSockets.add(socket);
      socket.once('close', () => openSockets.delete(socket));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export interface RawHead {
  status: number;
  reason: string;
  /** Header lines in order, names lowercased. */
  headers: Array<[string, string]>;
  /** Offset of the first byte after the head's blank line. */
  bodyStart: number;
  header(name: string): string | undefined;
  lines(name: string): string[];
}

/** Parses a response head at `from`, or null while it is incomplete. */
export function parseHead(data: Buffer, from = 0): RawHead | null {
  const end = data.indexOf('\r\n\r\n', from);
  if (end === -1) return null;
  const lines = data.subarray(from, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
  if (match === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
  const headers = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const all = (name: string): string[] => headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v);
  return { status: Number(match[1]), reason: match[2]!, headers, bodyStart: end + 4, header: (n) => all(n)[0], lines: all };
}

/** A raw TCP client: writes bytes, keeps every byte received, knows when the peer closed. */
export class RawSocket extends SocketRecorder {
  static async connect(port: number): Promise<RawSocket> {
    const socket = await SocketRecorder.open(port);
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
    return new RawSocket(socket);
  }

  /** Waits for a complete response head at `from`. */
  async head(from = 0): Promise<RawHead> {
    let head: RawHead | null = null;
    await this.waitFor(() => (head = parseHead(this.data, from)) !== null, 'a response head');
    return head!;
  }
}

/** A request head for the raw socket, `Host` included. */
export function rawRequest(method: string, target: string, headers: string[] = []): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => h + '\r\n').join('')}\r\n`;
}

/** Destroys every client socket still open; call from `afterEach`. */
export function closeClients(): void {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
}

/** Rejects with `what` if `promise` has not settled within `ms` (a bound, never an assertion on speed). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolver outside, for values an app hands back to the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; settled: boolean } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  const handle = {
    promise,
    settled: false,
    resolve(value: T) {
      handle.settled = true;
      resolve(value);
    },
  };
  return handle;
}

/** Closes every server in `servers`, its open connections included, and empties the set. */
export async function closeServers(servers: Set<http.Server>): Promise<void> {
  await Promise.all(
    [...servers].map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
  servers.clear();
}
