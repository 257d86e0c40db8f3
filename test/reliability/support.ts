// Helpers for the reliability suites (issue 7): what is left pending after a case (active handles,
// counted with `process.getActiveResourcesInfo()`), bodies that report how the gateway ended them,
// wrapped framework apps served by our server, and a raw exchange that sees every byte. The host
// matrix and the clients are the conformance ones (test/conformance/hosts.ts, client.ts).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { mount, serve, type App, type Body, type Chunk, type ServeOptions } from '@node-wsgi/core';
import { expect } from 'vitest';
import { closeClients, deferred, request, within, type HttpResult } from '../conformance/client.js';
import { ErrorLog, PREFIX, type Host, type Started } from '../conformance/hosts.js';

export { closeClients, deferred, parseHead, rawRequest, RawSocket, request, within } from '../conformance/client.js';
export { closeHosts, describeHosts, ErrorLog, HOSTS, PREFIX, type Host, type Started } from '../conformance/hosts.js';

// The handles and requests a request can leave behind. Servers' own listeners (TCPServerWrap) are
// counted too, and allowed: the baseline is taken after the server started.
const WATCHED = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'ConnectWrap',
  'WriteWrap',
  'ShutdownWrap',
  'Timeout',
  'Immediate',
  'FSReqCallback',
  'FSReqPromise',
  'FileHandle',
  'FileHandleCloseReq',
]);

export type Resources = Record<string, number>;

/** The watched active resources of this process, by type. */
export function activeResources(): Resources {
  const counts: Resources = {};
  for (const type of process.getActiveResourcesInfo()) if (WATCHED.has(type)) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function excess(baseline: Resources, now: Resources): Resources {
  const over: Resources = {};
  for (const [type, n] of Object.entries(now)) if (n > (baseline[type] ?? 0)) over[type] = n - (baseline[type] ?? 0);
  return over;
}

/**
 * Waits until no client or server socket of an earlier case is still closing, then returns the
 * baseline: what a case may leave behind is measured against it.
 */
export async function baseline(): Promise<Resources> {
  for (let waited = 0; waited < 5000 && (activeResources().TCPSocketWrap ?? 0) > 0; waited += 20) await sleep(20);
  // The least of the samples over 120 ms: vitest's runner keeps a throttle timer of up to 100 ms after
  // each task update, and a timer still running out must not raise the bar and hide a leaked one.
  const least = activeResources();
  for (let i = 0; i < 12; i++) {
    await sleep(10);
    const now = activeResources();
    for (const type of Object.keys(least)) least[type] = Math.min(least[type]!, now[type] ?? 0);
  }
  return least;
}

/**
 * Asserts that nothing is left pending beyond `before`: sockets close, timers clear. A socket takes a
 * turn or two of the event loop to close, so this waits (bounded) for the counts to come down first.
 */
export async function expectNothingPending(before: Resources, what = 'after the case'): Promise<void> {
  let over = excess(before, activeResources());
  for (let waited = 0; waited < 5000 && Object.keys(over).length > 0; waited += 20) {
    await sleep(20);
    over = excess(before, activeResources());
  }
  expect(over, `resources still active ${what} (beyond the baseline ${JSON.stringify(before)})`).toEqual({});
}

/** What a spied body saw: pulls, the iterator's `return()`, `close()` (resolves `closed`). */
export interface BodyWatch {
  pulls: number;
  returns: number;
  closes: number;
  closed: Promise<void>;
}

/** A step of a spied body: a chunk, the end (null), a promise of either, or a throw. */
export type Step = (n: number) => Chunk | null | Promise<Chunk | null>;

/** A promise that never settles: a body or an app that never goes on. */
export const never = <T>(): Promise<T> => new Promise<T>(() => {});

/**
 * A body whose n-th pull is `step(n)`, counting what the gateway does to it. `sync: true` makes it a
 * synchronous iterable (then `step` must not return a promise).
 */
export function spyBody(step: Step, options: { sync?: boolean } = {}): { body: Body; watch: BodyWatch } {
  const closed = deferred();
  const watch: BodyWatch = { pulls: 0, returns: 0, closes: 0, closed: closed.promise };
  const done = { done: true as const, value: undefined };
  const result = (value: Chunk | null): IteratorResult<Chunk> => (value === null ? done : { done: false, value });
  const iterator = options.sync
    ? {
        next: (): IteratorResult<Chunk> => result(step(watch.pulls++) as Chunk | null),
        return: (): IteratorResult<Chunk> => (watch.returns++, done),
      }
    : {
        next: async (): Promise<IteratorResult<Chunk>> => result(await step(watch.pulls++)),
        return: async (): Promise<IteratorResult<Chunk>> => (watch.returns++, done),
      };
  const close = (): void => {
    watch.closes++;
    closed.resolve();
  };
  const body = (options.sync ? { [Symbol.iterator]: () => iterator, close } : { [Symbol.asyncIterator]: () => iterator, close }) as unknown as Body;
  return { body, watch };
}

/** Waits (bounded) for `close()`, then checks it ran exactly once. */
export async function expectClosedOnce(watch: BodyWatch, what = "the body's close()"): Promise<void> {
  await within(watch.closed, 5000, what);
  expect(watch.closes, 'close() calls').toBe(1);
}

/** The path under the mount every faulty app answers normally: the next request of each case. */
export const OK_PATH = '/ok';

/** Answers `GET /ok` with `200 ok`; anything else goes to `app`. */
export function withOk(app: App): App {
  return (environ, startResponse) => {
    if (environ.PATH_INFO === OK_PATH) {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok'];
    }
    return app(environ, startResponse);
  };
}

/** The next request on a server that went through a fault is answered as usual. */
export async function expectNextAnswered(url: string, path = PREFIX + OK_PATH): Promise<void> {
  const response = await within(request(url + path), 5000, `the next request (${path})`);
  expect([response.status, response.body.toString()], `the next request (${path})`).toEqual([200, 'ok']);
}

/**
 * Runs one fault case on a host: starts it with `app` (which answers `/mnt/ok` normally), takes the
 * baseline, runs `fault`, then checks that the next request is answered and that nothing is left
 * pending once the clients are gone.
 */
export async function faultCase(host: Host, app: App, fault: (server: Started) => Promise<void>): Promise<Started> {
  const server = await host.start(withOk(app));
  const before = await baseline();
  await fault(server);
  await expectNextAnswered(server.url);
  closeClients();
  await expectNothingPending(before);
  return server;
}

/** One request's bytes over a fresh connection; resolves with every byte once the server closes. */
export function exchangeRaw(port: number, bytes: string | Uint8Array, limitMs = 5000): Promise<{ data: Buffer; reset: boolean }> {
  return within(
    new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let reset = false;
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => (reset = true));
      socket.on('close', () => resolve({ data: Buffer.concat(chunks), reset }));
      socket.write(bytes);
    }),
    limitMs,
    'the server to answer and close',
  );
}

/** Something to close: a server a suite started. */
export interface Listening {
  port: number;
  url: string;
  errors: ErrorLog;
  close(): Promise<void>;
}

const listening = new Set<Listening>();

function track(server: http.Server, errors: ErrorLog): Listening {
  const port = (server.address() as AddressInfo).port;
  const handle: Listening = {
    port,
    url: `http://127.0.0.1:${port}`,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        listening.delete(handle);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  listening.add(handle);
  return handle;
}

/** Serves an app with the reference server on a free loopback port, signals left alone. */
export async function serveApp(app: App, options: ServeOptions = {}): Promise<Listening> {
  const errors = new ErrorLog();
  const server = await serve(app, { port: 0, host: '127.0.0.1', handleSignals: false, errors, ...options });
  return track(server, errors);
}

/**
 * Serves a wrapped framework app (`fromExpress(app)` ...) with our server, mounted at '/mnt' by
 * `mount`: a middleware in front, so the reverse gateway's synthetic request and response are used
 * (alone, `serve(fromX(app))` is a round trip that hands the framework the real socket).
 */
export async function serveWrapped(wrapped: App, options: ServeOptions = {}): Promise<Listening> {
  return serveApp(mount({ [PREFIX]: wrapped }), options);
}

/** Serves a Node request listener natively on a free loopback port. */
export async function listenNative(listener: http.RequestListener): Promise<Listening> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return track(server, new ErrorLog());
}

/** Closes every server these helpers started; call from `afterEach`/`afterAll`. */
export async function closeListening(): Promise<void> {
  await Promise.all([...listening].map((l) => l.close()));
}

/** A response without what legitimately differs between two servers: Date and connection management. */
export function comparableResponse(response: HttpResult): { status: number; statusMessage: string; headers: string[]; body: string } {
  const headers: string[] = [];
  for (let i = 0; i < response.rawHeaders.length; i += 2) {
    const name = response.rawHeaders[i]!.toLowerCase();
    if (name === 'date' || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
    headers.push(`${name}: ${response.rawHeaders[i + 1]}`);
  }
  return { status: response.status, statusMessage: response.statusMessage, headers: headers.sort(), body: response.body.toString('latin1') };
}
