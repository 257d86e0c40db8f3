// `fromNodeListener`: the reverse gateway (SPEC §7). A Node request listener runs against a synthetic
// request built from environ; its response streams back as the app's body. No socket is involved.
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { markListenerApp, wrappedApp } from './round-trip.js';
import { isHopByHop } from './start-response.js';
import { buildSyntheticRequest, completeIfBodyless, discardBody, SyntheticSocket } from './synthetic-request.js';
import type { App, Body, Environ, StartResponse } from './types.js';

/** Bytes written by the listener and not yet pulled past which `res.write()` returns false (SPEC §7). */
export const RESPONSE_HIGH_WATER_MARK = 16 * 1024;

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

const kBridge = Symbol('node-wsgi.bridge');
const EMPTY = new Uint8Array(0);
type BridgedResponse = ServerResponse & { [kBridge]: ResponseBridge; _header: string | null; _hasBody: boolean };

// Node's own "a write was refused" flag behind `res.writableNeedDrain`, which `Readable.pipe()` reads
// before it writes. Node sets it from the socket and clears it on the socket's drain, which here is
// not the consumer's pace: the bridge keeps it in step with its own write() and 'drain' instead.
const kNeedDrain = Object.getOwnPropertySymbols(new ServerResponse(new IncomingMessage(null as never))).find(
  (symbol) => symbol.description === 'kNeedDrain',
);

const writeHeadNative = ServerResponse.prototype.writeHead;
const writeNative = ServerResponse.prototype.write;
const endNative = ServerResponse.prototype.end;

function toBytes(chunk: unknown, encoding: unknown): Uint8Array | null {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return null;
}

// The three response methods are own properties, not overrides in a subclass: Express replaces the
// response's prototype with its own (express#2805), and own properties survive that.
function bridgedWriteHead(this: BridgedResponse, ...args: unknown[]): ServerResponse {
  const result = (writeHeadNative as (...a: unknown[]) => ServerResponse).apply(this, args);
  this[kBridge].headWritten();
  return result;
}

function bridgedWrite(this: BridgedResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  const refused = this.writableEnded || this.destroyed;
  const accepted = (writeNative as (...a: unknown[]) => boolean).call(this, chunk, encoding, callback);
  // After end() or destroy() Node refuses the write (its error, and false): nothing is captured.
  if (refused) return accepted;
  const bytes = toBytes(chunk, encoding);
  const ok = bytes === null ? true : this[kBridge].written(bytes);
  if (kNeedDrain !== undefined) (this as unknown as Record<symbol, boolean>)[kNeedDrain] = !ok;
  return ok;
}

function bridgedEnd(this: BridgedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
  const bridge = this[kBridge];
  const wasEnded = this.writableEnded;
  (endNative as (...a: unknown[]) => ServerResponse).call(this, chunk, encoding, callback);
  if (wasEnded) return this;
  if (typeof chunk !== 'function') {
    const bytes = toBytes(chunk, encoding);
    if (bytes !== null) bridge.written(bytes);
  }
  bridge.ended();
  return this;
}

function onConnectionClose(this: SyntheticSocket & { [kBridge]: ResponseBridge }): void {
  const bridge = this[kBridge];
  if (!bridge.res.writableFinished && !bridge.req.destroyed) bridge.req.destroy(connectionReset());
}

/** The error Node's server aborts a request with when its connection goes (connResetException). */
function connectionReset(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

function onResponseClose(this: BridgedResponse): void {
  this[kBridge].closed();
}

// What Node's server does when a response finishes (resOnFinish in _http_server.js): the response
// lets go of its socket and emits 'close' on the next tick, so a listener sees 'finish' then 'close'
// in the order it would natively, not when the bridge later tears its synthetic socket down.
function onResponseFinish(this: BridgedResponse): void {
  const socket = this.socket;
  if (socket !== null) this.detachSocket(socket);
  process.nextTick(emitResponseClose, this);
}

function emitResponseClose(res: BridgedResponse & { _closed?: boolean }): void {
  if (res._closed === true) return;
  res.destroyed = true;
  res._closed = true;
  res.emit('close');
}

/**
 * One wrapped request: drives the listener's response into the iteration protocol of a body.
 * It is the body the app returns (an async iterable with `close()`).
 */
class ResponseBridge implements AsyncIterableIterator<Uint8Array> {
  readonly socket: SyntheticSocket;
  readonly req: IncomingMessage;
  readonly res: BridgedResponse;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private needDrain = false;
  private headReady = false;
  private started = false;
  private finished = false;
  private isClosed = false;
  private done = false;
  private waiting: (() => void) | null = null;
  /** The Node request environ came from, if any: how its connection ended is how this one does. */
  private readonly origin: IncomingMessage | undefined;
  /** The Content-Length of the head sent, when Node framed the body by one; bytes captured so far. */
  private declaredLength = -1;
  private capturedBytes = 0;
  /** The gateway stopped at the declared length: the exchange completes when the listener ends. */
  private completeOnEnd = false;

  constructor(
    environ: Environ,
    private readonly startResponse: StartResponse,
  ) {
    this.socket = new SyntheticSocket(environ);
    this.origin = environ['node.request'] as IncomingMessage | undefined;
    this.req = buildSyntheticRequest(environ, this.socket);
    const res = new ServerResponse(this.req) as BridgedResponse;
    res[kBridge] = this;
    const methods = res as unknown as Record<'writeHead' | 'write' | 'end', unknown>;
    methods.writeHead = bridgedWriteHead;
    methods.write = bridgedWrite;
    methods.end = bridgedEnd;
    // Before the response's own 'close' listener, as Node's server listens on a connection before
    // any response does: a connection that goes while the response is unfinished aborts the request
    // first (abortIncoming), then closes the response.
    (this.socket as SyntheticSocket & { [kBridge]: ResponseBridge })[kBridge] = this;
    this.socket.on('close', onConnectionClose);
    res.assignSocket(this.socket as never);
    res.on('close', onResponseClose);
    res.on('finish', onResponseFinish);
    this.res = res;
  }

  private wake(): void {
    const resolve = this.waiting;
    if (resolve !== null) {
      this.waiting = null;
      resolve();
    }
  }

  headWritten(): void {
    this.headReady = true;
    this.wake();
  }

  written(bytes: Uint8Array): boolean {
    // 1xx/204/304 and HEAD carry no body: Node drops the bytes, and so do we.
    if (bytes.byteLength === 0 || !this.res._hasBody || this.done) return this.queuedBytes < RESPONSE_HIGH_WATER_MARK;
    this.capturedBytes += bytes.byteLength;
    this.queue.push(bytes);
    this.queuedBytes += bytes.byteLength;
    this.wake();
    if (this.queuedBytes < RESPONSE_HIGH_WATER_MARK) return true;
    this.needDrain = true;
    return false;
  }

  ended(): void {
    this.finished = true;
    if (this.completeOnEnd) {
      this.completeOnEnd = false;
      this.complete();
    }
    this.wake();
  }

  closed(): void {
    this.isClosed = true;
    if (this.completeOnEnd) {
      this.completeOnEnd = false;
      this.complete();
    }
    this.wake();
  }

  // Status and headers exactly as Node would have sent them natively, read from the head Node
  // built: it holds what `writeHead(status, headers)` passed and what Node computed (Content-Length
  // for `end(data)`, Date). Hop-by-hop lines are framing of a connection that does not exist here.
  // True when Node framed the body by a Content-Length.
  private sendHead(): boolean {
    const head = this.res._header ?? '';
    const code = this.res.statusCode;
    let lineEnd = head.indexOf('\r\n');
    if (lineEnd === -1) lineEnd = head.length;
    // `HTTP/1.1 200 OK`: the reason is everything after the second space.
    const firstSpace = head.indexOf(' ');
    const secondSpace = firstSpace === -1 ? -1 : head.indexOf(' ', firstSpace + 1);
    let reason = secondSpace === -1 || secondSpace > lineEnd ? '' : head.slice(secondSpace + 1, lineEnd);
    if (reason === '') reason = STATUS_CODES[code] ?? 'Unknown';
    const headers: Array<[string, string]> = [];
    let framedByLength = false;
    for (let start = lineEnd + 2; start < head.length; ) {
      let end = head.indexOf('\r\n', start);
      if (end === -1) end = head.length;
      const colon = head.indexOf(':', start);
      if (colon > start && colon < end) {
        const name = head.slice(start, colon);
        if (!isHopByHop(name)) {
          headers.push([name, head.slice(colon + 1, end).trim()]);
          if (name.length === 14 && name.toLowerCase() === 'content-length') {
            framedByLength = true;
            this.declaredLength = Number(head.slice(colon + 1, end).trim());
          }
        }
      }
      start = end + 2;
    }
    this.started = true;
    this.startResponse(`${code} ${reason}`, headers);
    return framedByLength;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      if (this.done) return { value: undefined, done: true };
      if (!this.started) {
        if (this.headReady) {
          this.sendHead();
          // A HEAD response natively carries no length Node did not put in its head; ending in this
          // same pull would let the gateway compute `Content-Length: 0` [B4], which lies about the GET.
          if (this.req.method === 'HEAD') return { value: EMPTY, done: false };
        } else if (this.isClosed || this.finished) {
          this.close();
          throw new Error('the wrapped listener closed the response without sending a head');
        }
      }
      if (this.started) {
        if (this.queue.length > 0) {
          const chunk = this.queue.shift()!;
          this.queuedBytes -= chunk.byteLength;
          if (this.needDrain && this.queuedBytes < RESPONSE_HIGH_WATER_MARK) {
            this.needDrain = false;
            if (kNeedDrain !== undefined) (this.res as unknown as Record<symbol, boolean>)[kNeedDrain] = false;
            this.res.emit('drain');
          }
          return { value: chunk, done: false };
        }
        if (this.finished) {
          this.complete();
          return { value: undefined, done: true };
        }
        if (this.isClosed) {
          this.close();
          throw new Error('the wrapped listener’s response was destroyed before it ended');
        }
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /**
   * A response the listener finished before it returned (Express answering synchronously), as an
   * array body, so the gateway takes its fast path: one head, one write. Only where Node framed the
   * body by a Content-Length in its own head, so the framing is the native one; otherwise null.
   */
  takeWhole(): (Uint8Array[] & { close(): void }) | null {
    if (!this.headReady || !this.finished || this.started || this.isClosed || this.req.method === 'HEAD') return null;
    // Without a Content-Length Node would have sent it chunked: the bridge streams it, head given.
    if (!this.sendHead()) return null;
    const chunks = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    return Object.assign(chunks, { close: () => this.close() });
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  // The response was sent whole: the connection "closes" as after a native response.
  private complete(): void {
    this.done = true;
    if (!this.socket.destroyed) this.socket.destroy();
    // Node dumps a body the listener left unread, so it sees 'end' and 'close', never 'aborted'. The
    // gateway discards the rest of wsgi.input itself: the request ends here without reading it.
    // As resOnFinish: only a body nobody started reading; one the listener paused mid-way stays so.
    const req = this.req as IncomingMessage & { _consuming?: boolean; _dump(): void };
    if (!req.readableEnded) {
      discardBody(req);
      if (req._consuming !== true) req._dump();
    }
  }

  /**
   * Ends the exchange [B5]; when the response did not finish, the wrapped app sees what a client
   * disconnect looks like natively: request `aborted`, response `close` before `finish` [B7, B10].
   */
  close(): void {
    if (this.done) return;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.finished) {
      // Ended whole (a HEAD, 204 or 304 is closed before its end is pulled): a normal ending.
      this.complete();
    } else if (this.started && !this.isClosed && this.declaredLength >= 0 && this.capturedBytes >= this.declaredLength) {
      // The gateway stopped at the Content-Length [B3] with every declared byte given: the listener
      // (a stream piped into res) has not called end() yet. Natively that is a whole response, so
      // the exchange ends normally once it does, never as a disconnect; a listener that never ends
      // is aborted after a grace period, so nothing runs on for ever.
      this.done = true;
      this.completeOnEnd = true;
      setTimeout(abortUnended, END_GRACE_MS, this).unref();
    } else {
      this.done = true;
      this.abort();
    }
    this.wake();
  }

  /** Stops a listener that did not end its response, as a client that went away would. */
  abort(): void {
    this.completeOnEnd = false;
    // The socket goes first, as natively the connection is gone before the request is aborted, and
    // the way the real one went: with its error (a reset: ECONNRESET, which Express's sendFile takes
    // for an abort) or none (a client that closed). The request's own 'aborted' error then never
    // reaches the socket, where on-finished (Koa) would take it for an error of the app's.
    if (!this.socket.destroyed) {
      const cause = (this.origin?.socket as { errored?: Error | null } | null | undefined)?.errored;
      if (cause instanceof Error) this.socket.destroy(cause);
      else this.socket.destroy();
    }
    if (!this.req.destroyed) this.req.destroy(connectionReset());
  }

  /** Still waiting for the listener's end() after its Content-Length was sent whole. */
  get awaitingEnd(): boolean {
    return this.completeOnEnd;
  }
}

/** How long a listener may take to end() a response whose declared bytes were all sent. */
const END_GRACE_MS = 2000;

function abortUnended(bridge: ResponseBridge): void {
  if (bridge.awaitingEnd) bridge.abort();
}

/**
 * Wraps a Node request listener `(req, res) => void` (an Express app, `koaApp.callback()`, ...) as a
 * node-wsgi app. The listener's response streams back as it is written, with honest backpressure.
 *
 * ```ts
 * const app = fromNodeListener(expressApp);
 * await serve(app, { port: 8000 });
 * ```
 */
export function fromNodeListener(listener: Listener): App {
  if (typeof listener !== 'function') {
    throw new TypeError(`@node-wsgi/core: fromNodeListener expects a request listener (req, res) => void, got ${listener === null ? 'null' : typeof listener}`);
  }
  const inner = wrappedApp(listener);
  if (inner !== undefined) return inner;
  return markListenerApp(function nodeListenerApp(environ: Environ, startResponse: StartResponse): Body {
    const bridge = new ResponseBridge(environ, startResponse);
    try {
      const result = listener(bridge.req, bridge.res);
      completeIfBodyless(bridge.req);
      // A listener that returns a promise (an async handler) and rejects: the same as throwing.
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (err: unknown) => bridge.res.destroy(err instanceof Error ? err : new Error(String(err))));
      }
    } catch (err) {
      bridge.close();
      throw err;
    }
    return bridge.takeWhole() ?? bridge;
  }, listener);
}
