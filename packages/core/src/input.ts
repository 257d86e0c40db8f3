// `wsgi.input` (SPEC §3): file semantics over a request body that arrives asynchronously.
import type { Readable } from 'node:stream';
import type { Input } from './types.js';

const EMPTY = new Uint8Array(0);
const NEWLINE = 10;

/** The request body could not be read: the client left early, or a host parser consumed it. */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * File semantics over a source of chunks. Subclasses supply `pull()`: the next chunk, or null at the end.
 * Chunks are handed out without copying wherever a read takes them whole.
 */
export abstract class BaseInput implements Input {
  // Bytes pulled but not yet handed out, oldest first; `head` indexes the first live chunk.
  private pending: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  private done = false;
  private started = false;
  // Reads run one at a time: a read that overlaps another waits for it instead of racing it for
  // chunks (a source has one waiter; a second would leave the first pending forever).
  private busy = false;
  private queue: Array<() => void> = [];
  /** Called once, before the first read of any kind (sends `100 Continue`). */
  onFirstRead: (() => void) | null = null;

  protected abstract pull(): Promise<Uint8Array | null> | Uint8Array | null;

  private begin(): void {
    this.started = true;
    const hook = this.onFirstRead;
    if (hook !== null) {
      this.onFirstRead = null;
      hook();
    }
  }

  // Takes the read lock; only an overlapping read allocates (its place in the queue).
  private lock(): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    return new Promise<void>((resolve) => this.queue.push(resolve));
  }

  // Hands the lock to the next waiting read, if any (it stays busy), or frees it.
  private unlock(): void {
    const next = this.queue.shift();
    if (next === undefined) this.busy = false;
    else next();
  }

  /** True once anything asked for the body. */
  get touched(): boolean {
    return this.started;
  }

  // Pulls one chunk into `pending`; false at the end.
  private async fill(): Promise<boolean> {
    if (this.done) return false;
    return this.accept(await this.pull());
  }

  // Keeps what a pull gave; false at the end.
  private accept(chunk: Uint8Array | null): boolean {
    if (chunk === null) {
      this.done = true;
      return false;
    }
    if (chunk.byteLength > 0) {
      this.pending.push(chunk);
      this.buffered += chunk.byteLength;
    }
    return true;
  }

  // Removes and returns the first `n` bytes of `pending` (n <= buffered).
  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const first = this.pending[this.head]!;
    this.buffered -= n;
    if (first.byteLength === n) {
      this.shift();
      return first;
    }
    if (first.byteLength > n) {
      this.pending[this.head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.pending[this.head]!;
      const want = n - offset;
      if (chunk.byteLength <= want) {
        out.set(chunk, offset);
        offset += chunk.byteLength;
        this.shift();
      } else {
        out.set(chunk.subarray(0, want), offset);
        this.pending[this.head] = chunk.subarray(want);
        offset = n;
      }
    }
    return out;
  }

  private shift(): void {
    this.pending[this.head++] = EMPTY;
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    }
  }

  async read(size?: number): Promise<Uint8Array> {
    const limit = sizeLimit(size, 'read');
    if (!this.started) this.begin();
    const wait = this.lock();
    if (wait !== undefined) await wait;
    try {
      while (this.buffered < limit && (await this.fill()));
      return this.take(Math.min(limit, this.buffered));
    } finally {
      this.unlock();
    }
  }

  async readline(size?: number): Promise<Uint8Array> {
    const limit = sizeLimit(size, 'readline');
    if (!this.started) this.begin();
    const wait = this.lock();
    if (wait !== undefined) await wait;
    try {
      let scanned = 0;
      for (;;) {
        const end = this.indexOfNewline(scanned);
        if (end !== -1) return this.take(Math.min(end + 1, limit));
        if (this.buffered >= limit) return this.take(limit);
        scanned = this.buffered;
        if (!(await this.fill())) return this.take(Math.min(this.buffered, limit));
      }
    } finally {
      this.unlock();
    }
  }

  // Offset of the first `\n` at or after `from` within the buffered bytes, or -1.
  private indexOfNewline(from: number): number {
    let base = 0;
    for (let i = this.head; i < this.pending.length; i++) {
      const chunk = this.pending[i]!;
      if (base + chunk.byteLength > from) {
        const at = chunk.indexOf(NEWLINE, Math.max(0, from - base));
        if (at !== -1) return base + at;
      }
      base += chunk.byteLength;
    }
    return -1;
  }

  async readlines(hint?: number): Promise<Uint8Array[]> {
    const lines: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.byteLength === 0) return lines;
      lines.push(line);
      total += line.byteLength;
      if (hint !== undefined && hint !== null && hint > 0 && total >= hint) return lines;
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    if (!this.started) this.begin();
    return new InputIterator(this);
  }

  /**
   * The next chunk for iteration. A chunk already buffered, or one the source has ready, is handed
   * out without a promise chain (one settled promise per chunk: what `for await` costs anyway).
   * @internal
   */
  nextResult(iteration: { finished: boolean }): Promise<IteratorResult<Uint8Array>> {
    if (this.busy) return this.nextChunk().then(resultOf, failing(iteration));
    if (this.buffered > 0) return Promise.resolve({ value: this.take(this.pending[this.head]!.byteLength), done: false });
    if (this.done) return Promise.resolve(DONE);
    let pulled: Promise<Uint8Array | null> | Uint8Array | null;
    try {
      pulled = this.pull();
    } catch (err) {
      iteration.finished = true;
      return Promise.reject(err);
    }
    if (!(pulled instanceof Promise)) {
      if (!this.accept(pulled)) return Promise.resolve(DONE);
      if (this.buffered > 0) return Promise.resolve({ value: this.take(this.pending[this.head]!.byteLength), done: false });
      return this.nextChunk().then(resultOf, failing(iteration));
    }
    this.busy = true;
    return this.nextChunkAfter(pulled).then(resultOf, failing(iteration));
  }

  // The next buffered or arriving chunk for iteration, or null at the end. The lock is held while a
  // chunk is fetched, never across a yield: the loop body may read too.
  private async nextChunk(): Promise<Uint8Array | null> {
    const wait = this.lock();
    if (wait !== undefined) await wait;
    try {
      while (this.buffered === 0) if (!(await this.fill())) return null;
      return this.take(this.pending[this.head]!.byteLength);
    } finally {
      this.unlock();
    }
  }

  // nextChunk() for a pull already started under the lock.
  private async nextChunkAfter(pulled: Promise<Uint8Array | null>): Promise<Uint8Array | null> {
    try {
      if (!this.accept(await pulled)) return null;
      while (this.buffered === 0) if (!(await this.fill())) return null;
      return this.take(this.pending[this.head]!.byteLength);
    } finally {
      this.unlock();
    }
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

// As a generator that threw, an iteration that failed is over.
function failing(iteration: { finished: boolean }): (err: unknown) => never {
  return (err) => {
    iteration.finished = true;
    throw err;
  };
}

function resultOf(chunk: Uint8Array | null): IteratorResult<Uint8Array> {
  return chunk === null ? DONE : { value: chunk, done: false };
}

/** Iteration over an input: what an async generator would be, without a generator per chunk. */
class InputIterator implements AsyncIterableIterator<Uint8Array> {
  finished = false;

  constructor(private readonly input: BaseInput) {}

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.finished) return Promise.resolve(DONE);
    return this.input.nextResult(this);
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.finished = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

// A read size as a byte limit: none (or a negative one, as in Python) means the rest of the body.
function sizeLimit(size: number | undefined | null, method: string): number {
  if (size === undefined || size === null || size < 0) return Infinity;
  if (!Number.isInteger(size)) throw new TypeError(`wsgi.input.${method} expects a whole number of bytes, got ${size}`);
  return size;
}

/**
 * The body of a live Node stream (an `IncomingMessage`), read on demand so that TCP backpressure holds.
 * Never yields more than `limit` bytes, so it can never read into a following pipelined request.
 */
export class StreamInput extends BaseInput {
  private remaining: number;
  private received = 0;
  private failure: Error | null = null;
  private waiting: (() => void) | null = null;
  private listening = false;
  private detached = false;
  // Chunks as Node delivered them, not yet handed out: never concatenated, so never copied. The
  // stream is paused while QUEUE_HIGH_WATER_MARK bytes wait here, so TCP backpressure holds.
  private arrived: Uint8Array[] = [];
  private arrivedHead = 0;
  private arrivedBytes = 0;
  private paused = false;
  // Bound once the body is first read: a request whose body nobody reads allocates no listeners.
  private onData: ((chunk: Uint8Array | string) => void) | null = null;
  private onWake: (() => void) | null = null;
  private onFail: ((err: Error) => void) | null = null;

  constructor(
    private readonly stream: Readable,
    /** The body length the request declared: its Content-Length, Infinity when chunked, 0 for none. */
    readonly declared: number,
  ) {
    super();
    this.remaining = declared;
  }

  /** Bytes taken from the stream so far. */
  get receivedBytes(): number {
    return this.received;
  }

  /**
   * Gives the stream up, so the owner may resume it to drain what is left. A read still pending, or
   * any later one, rejects: it must neither hang nor touch the stream again.
   */
  detach(): void {
    this.detached = true;
    if (this.listening) {
      this.listening = false;
      const stream = this.stream;
      stream.off('data', this.onData!);
      stream.off('end', this.onWake!);
      stream.off('close', this.onWake!);
      stream.off('error', this.onFail!);
    }
    this.arrived = [];
    this.arrivedHead = 0;
    this.arrivedBytes = 0;
    // Only a read that is waiting needs its error now; most requests detach with none.
    if (this.waiting !== null) this.refuseDetached();
    this.wake();
  }

  private refuseDetached(): Error {
    return (this.failure ??= new InputError(
      `wsgi.input: the response was sent before the body was read; the rest was discarded (${this.progress()})`,
    ));
  }

  private wake(): void {
    const resolve = this.waiting;
    if (resolve !== null) {
      this.waiting = null;
      resolve();
    }
  }

  private fail(err: Error): void {
    this.failure ??= new InputError(`wsgi.input: the request body could not be read (${err.message}; ${this.progress()})`, {
      cause: err,
    });
    this.wake();
  }

  private receive(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    this.arrived.push(bytes);
    this.arrivedBytes += bytes.byteLength;
    if (this.arrivedBytes >= QUEUE_HIGH_WATER_MARK && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
    this.wake();
  }

  // How far the body got, for error messages.
  private progress(): string {
    return `received ${this.received} bytes${Number.isFinite(this.remaining) ? `, ${this.remaining} more were declared` : ''}`;
  }

  private listen(): void {
    this.listening = true;
    const stream = this.stream;
    const wake = (this.onWake ??= () => this.wake());
    stream.on('end', wake);
    stream.on('close', wake);
    stream.on('error', (this.onFail ??= (err: Error) => this.fail(err)));
    // A 'data' listener puts the stream in flowing mode: chunks arrive as Node reads them.
    stream.on('data', (this.onData ??= (chunk: Uint8Array | string) => this.receive(chunk)));
    if (stream.isPaused()) stream.resume();
  }

  // A chunk at once when one has arrived (no promise), else one when it arrives.
  protected pull(): Promise<Uint8Array | null> | Uint8Array | null {
    const ready = this.ready();
    return ready === undefined ? this.arrival() : ready;
  }

  private async arrival(): Promise<Uint8Array | null> {
    for (;;) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
      const ready = this.ready();
      if (ready !== undefined) return ready;
    }
  }

  // The next chunk, null at the end, or undefined while nothing has arrived; throws what failed.
  private ready(): Uint8Array | null | undefined {
    if (this.remaining <= 0) return null;
    if (this.failure !== null) throw this.failure;
    if (this.detached) throw this.refuseDetached();
    const stream = this.stream;
    if (!this.listening) this.listen();
    if (this.arrivedHead < this.arrived.length) {
      const chunk = this.arrived[this.arrivedHead]!;
      this.arrived[this.arrivedHead++] = EMPTY;
      if (this.arrivedHead === this.arrived.length) {
        this.arrived.length = 0;
        this.arrivedHead = 0;
      }
      this.arrivedBytes -= chunk.byteLength;
      if (this.paused && this.arrivedBytes < QUEUE_HIGH_WATER_MARK) {
        this.paused = false;
        stream.resume();
      }
      return this.count(chunk);
    }
    if (stream.readableEnded) return this.ended();
    if (stream.destroyed) {
      throw (this.failure = new InputError(`wsgi.input: the client disconnected before the body ended (${this.progress()})`));
    }
    return undefined;
  }

  private count(chunk: Uint8Array): Uint8Array {
    this.received += chunk.byteLength;
    if (chunk.byteLength >= this.remaining) {
      const allowed = this.remaining;
      this.remaining = 0;
      return allowed === chunk.byteLength ? chunk : chunk.subarray(0, allowed);
    }
    this.remaining -= chunk.byteLength;
    return chunk;
  }

  private ended(): null {
    if (Number.isFinite(this.remaining) && this.remaining > 0) {
      throw (this.failure = new InputError(
        `wsgi.input: the body ended after ${this.received} bytes, ${this.remaining} fewer than CONTENT_LENGTH declared`,
      ));
    }
    this.remaining = 0;
    return null;
  }
}

/**
 * Bytes of request body queued before the stream is paused: a few socket reads (64 KiB each), so a
 * reader that keeps up never pauses and resumes the stream once per chunk.
 */
const QUEUE_HIGH_WATER_MARK = 256 * 1024;

/** A body that is already in memory (a raw body kept by a host parser, or a test client's body). */
export class BytesInput extends BaseInput {
  constructor(private bytes: Uint8Array | null) {
    super();
  }

  protected pull(): Uint8Array | null {
    const bytes = this.bytes;
    this.bytes = null;
    return bytes;
  }
}

/** A body that cannot be recovered: every read rejects with the reason, none hangs. */
export class UnreadableInput extends BaseInput {
  constructor(private readonly reason: string) {
    super();
  }

  protected pull(): never {
    throw new InputError(this.reason);
  }
}
