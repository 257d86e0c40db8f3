// The response rules (SPEC §4 R6, C1–C2, B1–B9), once for every gateway. `runApp` calls the app and
// pulls its body until the head is known; the caller then sends the head its own way and pulls
// chunks with `nextChunk()` at the pace its sink accepts them. `node.ts` delivers to a Node
// `ServerResponse`; adapters deliver through their framework's reply.
import { chunkToBytes, ResponseStart } from './start-response.js';
import { describeError } from './errors.js';
import type { App, Body, Chunk, Environ } from './types.js';

/** How many bytes of a synchronous body are read ahead to compute a `Content-Length` [B3]. */
export const READ_AHEAD_BYTES = 64 * 1024;

type AnyIterator = Iterator<Chunk> | AsyncIterator<Chunk>;

/** Statuses that never carry a body [B4, B9]. */
export function isBodylessStatus(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function refuseBody(body: unknown): TypeError {
  if (typeof body === 'string') {
    return new TypeError('the app returned a string; return an iterable of chunks instead, such as [body]');
  }
  if (body instanceof Uint8Array) {
    return new TypeError(`the app returned a ${body.constructor.name}; return an iterable of chunks instead, such as [body]`);
  }
  return new TypeError(`the app must return an iterable or async iterable of chunks, got ${body === null ? 'null' : typeof body}`);
}

/**
 * One app response in flight. After `runApp` settles, `statusCode`, `reason`, `headers` and
 * `contentLength` describe the head; `nextChunk()` yields body bytes; `close()` ends it on any path.
 */
export class AppResponse {
  readonly start = new ResponseStart();
  /** The response has no body to send: HEAD, 1xx, 204, 304. */
  bodyless = false;
  /** The length the head declares: the app's `Content-Length`, or one computed [B3]; -1 if neither. */
  contentLength = -1;
  /** True when `contentLength` was computed here and the head must add the header. */
  lengthComputed = false;
  /** Bytes handed out by `nextChunk()` so far. */
  sent = 0;
  /** Stop at a 404 status without pulling the body: the host answers instead (`{ fallthrough: true }`). */
  fallthrough = false;

  private body: Body | null = null;
  private iterator: AnyIterator | null = null;
  private sync = false;
  private iterationDone = false;
  private closed = false;
  // Chunks in hand, ready to send in order: `write()` data, the first chunk, read-ahead.
  private ready: Uint8Array[] = [];
  private readyHead = 0;
  private readyBytes = 0;

  private readonly isHead: boolean;

  constructor(readonly environ: Environ) {
    this.isHead = environ.REQUEST_METHOD === 'HEAD';
  }

  get statusCode(): number {
    return this.start.statusCode;
  }

  get reason(): string {
    return this.start.reason;
  }

  get headers(): Array<[string, string]> {
    return this.start.headers!;
  }

  /** True once `close()` ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes declared by `Content-Length` that the body did not produce, sent or in hand (0 when none are missing). */
  get missingBytes(): number {
    const declared = this.start.declaredLength;
    return declared === -1 || this.bodyless ? 0 : Math.max(0, declared - this.sent - this.readyBytes);
  }

  /** Adopts the app's return value [C2]; true if the head is known without waiting. */
  adopt(body: unknown): void {
    if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
      throw refuseBody(body);
    }
    this.body = body as Body;
    if (this.closed) {
      // The client left while the app was still answering: close what it returned, unsent [B5, B7].
      this.closeBody(body as Body);
      return;
    }
    if (Array.isArray(body)) {
      // All chunks are in hand: convert them now; no pulling semantics apply. What the app gave
      // write() before returning goes first [R7].
      if (this.start.written !== null) this.takeWritten();
      for (let i = 0; i < body.length; i++) this.keep(chunkToBytes(body[i], 'body'));
      this.iterationDone = true;
      return;
    }
    const syncIterator = (body as Partial<Iterable<Chunk>>)[Symbol.iterator];
    if (typeof syncIterator === 'function') {
      this.iterator = syncIterator.call(body);
      this.sync = true;
      return;
    }
    const asyncIterator = (body as Partial<AsyncIterable<Chunk>>)[Symbol.asyncIterator];
    if (typeof asyncIterator === 'function') {
      this.iterator = asyncIterator.call(body);
      return;
    }
    // Not iterable: nothing to pull, but a close() it offers still runs [B5].
    this.iterationDone = true;
    throw refuseBody(body);
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return; // [B2] empty chunks are skipped
    this.ready.push(bytes);
    this.readyBytes += bytes.byteLength;
  }

  private takeWritten(): void {
    const written = this.start.takeWritten();
    if (written !== null) for (const bytes of written) this.keep(bytes);
  }

  // The head is known once startResponse was called and either a non-empty chunk is in hand, the
  // body ended, or no body will be sent [R6, B4, B9].
  private headKnown(): boolean {
    if (this.start.headers === null) return false;
    // With fallthrough, a 404 is known as soon as it is set: the body will not be sent.
    if (this.fallthrough && this.start.statusCode === 404) return true;
    return this.readyBytes > 0 || this.iterationDone || this.isHead || isBodylessStatus(this.start.statusCode);
  }

  /** Pulls synchronously until the head is known or an async pull is needed; true if known. */
  private pullHeadSync(): boolean {
    this.takeWritten();
    while (!this.headKnown()) {
      if (this.readyBytes > 0 || this.iterationDone) break;
      if (!this.sync) return false;
      this.pullOneSync();
      this.takeWritten();
    }
    return true;
  }

  private pullOneSync(): void {
    let step: IteratorResult<Chunk>;
    try {
      step = (this.iterator as Iterator<Chunk>).next();
    } catch (err) {
      // An iterator that threw is finished: only the body's close() remains.
      this.iterationDone = true;
      throw err;
    }
    // [R7] what the body gave write() while making this chunk goes before it.
    if (this.start.written !== null) this.takeWritten();
    if (step.done) this.iterationDone = true;
    else this.keep(chunkToBytes(step.value, 'body'));
  }

  private async pullOneAsync(): Promise<void> {
    let step: IteratorResult<Chunk>;
    try {
      step = await (this.iterator as AsyncIterator<Chunk>).next();
    } catch (err) {
      // A pull that was pending when the client left fails because close() stopped its source
      // ('Premature close'): that is the ending already handled, not an app error [B7].
      if (this.closed) return;
      // An iterator that threw is finished: only the body's close() remains.
      this.iterationDone = true;
      throw err;
    }
    if (this.closed) return;
    if (this.start.written !== null) this.takeWritten();
    if (step.done) this.iterationDone = true;
    else this.keep(chunkToBytes(step.value, 'body'));
  }

  /** Settles the head: checks R6, fixes the length, and stops pulling a body that will not be sent. */
  private settleHead(): void {
    const start = this.start;
    if (start.headers === null) {
      throw new Error(
        this.readyBytes > 0
          ? 'the app produced body data before calling startResponse'
          : 'the app returned without calling startResponse',
      );
    }
    if (this.fallthrough && start.statusCode === 404) {
      // The host answers instead: close the body unsent, pulled no further than R6 needed.
      this.close();
      return;
    }
    if (start.declaredLength === -1 && this.sync && !this.iterationDone && !isBodylessStatus(start.statusCode)) {
      // [B3] a synchronous body that ends within the read-ahead gets a computed length; so does its
      // HEAD, whose head is the GET's [B4]. The head is not out yet: excInfo may still replace it.
      while (!this.iterationDone && this.readyBytes < READ_AHEAD_BYTES) this.pullOneSync();
    }
    start.headersSent = true;
    this.bodyless = this.isHead || isBodylessStatus(start.statusCode);
    if (start.declaredLength !== -1) {
      this.contentLength = start.declaredLength;
    } else if (this.iterationDone && !isBodylessStatus(start.statusCode)) {
      this.takeWritten();
      this.contentLength = this.readyBytes;
      this.lengthComputed = true;
    }
    if (this.bodyless) {
      this.ready.length = 0;
      this.readyBytes = 0;
      this.close();
    }
  }

  /**
   * Pulls until the head is known. Returns synchronously when no await was needed (an array or a
   * synchronous iterable), so the common case costs no promise.
   */
  head(): void | Promise<void> {
    if (this.closed) return;
    if (this.pullHeadSync()) return this.settleHead();
    return this.headAsync();
  }

  private async headAsync(): Promise<void> {
    for (;;) {
      await this.pullOneAsync();
      if (this.closed) return;
      this.takeWritten();
      // Data or the end without a startResponse call is an R6 violation that settleHead reports;
      // pulling on would spin forever on a finished iterator.
      if (this.headKnown() || this.readyBytes > 0 || this.iterationDone) return this.settleHead();
    }
  }

  /** True when every body byte is in hand and no pull remains (the one-shot fast path). */
  get complete(): boolean {
    return this.iterationDone && this.start.written === null;
  }

  /** The chunks in hand, handed out all at once (for a complete body). */
  takeReady(): Uint8Array[] {
    const ready = this.readyHead === 0 ? this.ready : this.ready.slice(this.readyHead);
    this.ready = [];
    this.readyHead = 0;
    this.readyBytes = 0;
    for (let i = 0; i < ready.length; i++) ready[i] = this.clamp(ready[i]!)!;
    let n = ready.length;
    while (n > 0 && ready[n - 1] === null) n--;
    ready.length = n;
    return ready;
  }

  /**
   * The next body bytes to send, or null at the end (which closes the body). Honours backpressure by
   * construction: nothing is pulled until the caller asks [B1]. Rejects with the body's error.
   */
  nextChunk(): Uint8Array | null | Promise<Uint8Array | null> {
    for (;;) {
      if (this.closed || this.bodyless) return this.end();
      if (this.start.declaredLength !== -1 && this.sent >= this.start.declaredLength) return this.end();
      if (this.readyHead < this.ready.length) {
        const chunk = this.ready[this.readyHead]!;
        this.ready[this.readyHead++] = EMPTY;
        if (this.readyHead === this.ready.length) {
          this.ready.length = 0;
          this.readyHead = 0;
        }
        this.readyBytes -= chunk.byteLength;
        return this.clamp(chunk);
      }
      this.takeWritten();
      if (this.readyHead < this.ready.length) continue;
      if (this.iterationDone) return this.end();
      if (!this.sync) return this.nextChunkAsync();
      this.pullOneSync();
    }
  }

  private async nextChunkAsync(): Promise<Uint8Array | null> {
    await this.pullOneAsync();
    return this.nextChunk();
  }

  // [B3] never more than the declared length.
  private clamp(chunk: Uint8Array): Uint8Array | null {
    const declared = this.start.declaredLength;
    if (declared === -1) {
      this.sent += chunk.byteLength;
      return chunk;
    }
    const room = declared - this.sent;
    if (room <= 0) return null;
    if (chunk.byteLength > room) chunk = chunk.subarray(0, room);
    this.sent += chunk.byteLength;
    return chunk;
  }

  private end(): null {
    this.close();
    return null;
  }

  /**
   * Ends the body on any path [B5]: the iterator's `return()` if iteration stopped early, then the
   * body's `close()`, each exactly once. Errors they raise are logged, never thrown.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.start.ended = true;
    this.start.written = null;
    const iterator = this.iterator;
    if (iterator !== null && !this.iterationDone && typeof iterator.return === 'function') {
      this.iterationDone = true;
      this.settleQuietly(() => iterator.return!(), 'the body iterator’s return()');
    }
    if (this.body !== null) this.closeBody(this.body);
  }

  private closeBody(body: Body): void {
    if (typeof body.close === 'function') this.settleQuietly(() => body.close!(), 'the body’s close()');
  }

  private settleQuietly(call: () => unknown, what: string): void {
    try {
      const result = call();
      if (isPromiseLike(result)) result.then(undefined, (err) => this.log(`${what} failed`, err));
    } catch (err) {
      this.log(`${what} failed`, err);
    }
  }

  /** Writes a line about this request and an error to `wsgi.errors`. */
  log(message: string, err?: unknown): void {
    const env = this.environ;
    this.environ['wsgi.errors'].write(
      `node-wsgi: ${message} (${env.REQUEST_METHOD} ${env.SCRIPT_NAME}${env.PATH_INFO})${
        err === undefined ? '' : `\n${describeError(err)}`
      }\n`,
    );
  }

  /** Marks an iteration error: the iterator is finished, so only the body's close() remains. */
  failed(): void {
    // An iterator that threw was marked finished where it threw; one whose chunk the gateway
    // refused (C1, R6) is still suspended, so close() calls its return() and its finally runs.
    this.close();
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Calls the app and pulls its body until the head is known (SPEC R6). Settles synchronously when the
 * app answered synchronously with an array or synchronous iterable. On an error before the head is
 * known the body is closed and the error thrown; the caller answers 500 or hands it to its host.
 */
export function runApp(
  app: App,
  environ: Environ,
  response: AppResponse = new AppResponse(environ),
): AppResponse | Promise<AppResponse> {
  let result: unknown;
  try {
    result = app(environ, response.start.startResponse);
  } catch (err) {
    response.failed();
    throw err;
  }
  if (isPromiseLike(result)) return settleAsync(response, result);
  return settle(response, result);
}

function settle(response: AppResponse, body: unknown): AppResponse | Promise<AppResponse> {
  let pending: void | Promise<void>;
  try {
    response.adopt(body);
    pending = response.head();
  } catch (err) {
    response.failed();
    throw err;
  }
  if (pending === undefined) return response;
  return pending.then(
    () => response,
    (err: unknown) => {
      response.failed();
      throw err;
    },
  );
}

async function settleAsync(response: AppResponse, result: PromiseLike<unknown>): Promise<AppResponse> {
  let body: unknown;
  try {
    body = await result;
  } catch (err) {
    response.failed();
    throw err;
  }
  return settle(response, body);
}
