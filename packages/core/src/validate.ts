// `validate(app)`: the contract checker (SPEC §7), `wsgiref.validate` and Werkzeug's lint for node-wsgi.
//
// It sits between a gateway and an app and checks both sides of every request. A violation throws a
// `WsgiValidationError` whose `rule` is one of the ids below and whose `side` says who broke it.
//
// Gateway side (`side: 'gateway'`):
//   A1  the app is called with exactly two arguments, `environ` and a `startResponse` function
//   E1  environ is a plain object
//   E2  environ has REQUEST_METHOD SERVER_NAME SERVER_PORT SERVER_PROTOCOL SCRIPT_NAME PATH_INFO
//       QUERY_STRING wsgi.version wsgi.url_scheme wsgi.input wsgi.errors wsgi.multithread
//       wsgi.multiprocess wsgi.run_once
//   E3  no environ key holds `undefined`, nor REMOTE_ADDR / REMOTE_PORT `''`, and HTTPS is 'on' when present
//       (a variable that does not apply is left out)
//   E4  every key without a `.` holds a latin-1 string (code points <= U+00FF)
//   E5  no HTTP_CONTENT_TYPE / HTTP_CONTENT_LENGTH (they are CONTENT_TYPE / CONTENT_LENGTH)
//   E6  wsgi.version is [1, 0]
//   E7  wsgi.url_scheme is 'http' or 'https'
//   E8  SCRIPT_NAME is '' or starts with '/', and is never '/'
//   E9  PATH_INFO is '' or starts with '/'
//   E10 CONTENT_LENGTH, when present, is digits, and is absent when wsgi.input_terminated is true
//   E11 wsgi.input has read, readline, readlines and [Symbol.asyncIterator]
//   E12 wsgi.errors has write, writelines and flush
//   E13 wsgi.multithread, wsgi.multiprocess, wsgi.run_once (and wsgi.input_terminated when present)
//       are booleans; wsgi.file_wrapper, when present, is a function
//   E14 REQUEST_METHOD is an RFC 9110 token, SERVER_NAME is not empty, SERVER_PORT (and REMOTE_PORT) digits
//   S2  wsgi.input's read/readline resolve to a Uint8Array, readlines to an array of them, and its
//       async iterator yields them
//   S3  read(size) / readline(size) never resolve to more than `size` bytes
//   R5  startResponse given excInfo after the head went out (a non-empty chunk was written or
//       handed over, or the body ended) throws that excInfo back
//   R7  startResponse returns a write function
//   B5  the body is not read after close(), and close() is called once
// App side (`side: 'app'`):
//   A2  startResponse is called with 2 or 3 arguments
//   S1  read/readline/readlines get no size, or a whole number
//   S4  the app never calls close() on wsgi.input or wsgi.errors
//   S5  wsgi.errors.write gets a string (writelines: an iterable of strings)
//   R1  the status is 'NNN Reason': code 100-599, no control characters, latin-1
//   R2  headers are an array of [name, value] strings; names are tokens, never `Status`; values
//       have no control characters and no code point above U+00FF; one Content-Length
//   R3  no hop-by-hop header
//   R5  no second startResponse call without excInfo
//   R6  startResponse is called before the first non-empty chunk, and before the body ends
//   R7  write() gets a Uint8Array or a string
//   H1  no Content-Type on 1xx, 204 and 304 (as wsgiref); elsewhere a missing one is a warning
//   H2  an ETag is a quoted entity-tag, `"x"` or `W/"x"` (Werkzeug's lint)
//   B4  a 1xx or 204 declares no Content-Length other than 0
//   C1  every chunk is a Uint8Array or a string
//   C2  the app returns (or resolves to) an iterable or async iterable, not null, a string or bytes
//   B3  the bytes produced match Content-Length: write() never past it, and not fewer by the time the
//       body ends (not checked for HEAD, 1xx, 204 and 304, whose bodies are not sent); a body chunk
//       past it is a warning, since the gateway stops there and cuts it (PEP 3333)
// Warnings, written to wsgi.errors, never thrown:
//   W2  REQUEST_METHOD is not one wsgiref knows (GET HEAD POST OPTIONS PATCH PUT DELETE TRACE)
//   B5  (gateway) a body whose iteration ended or stopped was not closed within a second, or was
//       closed mid-iteration without its iterator's return(). A warning, not a throw: by then the
//       response is out and nobody is left to throw to. JavaScript has no reliable hook for garbage
//       collection, so a body the gateway drops without ending or closing goes unnoticed, and so
//       does an unclosed array (no code runs while an array is read, so it has no observable end).
//
// As wsgiref does, the environ is checked and then changed in place: wsgi.input and wsgi.errors are
// replaced by checking wrappers. The body is wrapped lazily and keeps its nature (an array stays a
// checked array copy, a sync iterable stays sync, an async one async) so the gateway's fast paths
// still apply [M1, M2]. Errors found while iterating are thrown from the wrapper's next(), so the
// gateway treats them as body errors.
import { checkHeaders, isHopByHop, parseStatus } from './start-response.js';
import type { App, Body, Chunk, Environ, Errors, Input, StartResponse, Write } from './types.js';

/** Who broke the contract: the app, or the gateway (or middleware) that called it. */
export type WsgiSide = 'app' | 'gateway';

/**
 * A contract violation found by `validate`: `rule` is its id (`'R2'`, `'E8'`, ...), `side` who broke it.
 * A `TypeError`, as `startResponse`'s own refusals are [R2], so an app that catches those under a
 * plain gateway catches them under `validate` (and `testClient`) too.
 */
export class WsgiValidationError extends TypeError {
  override name = 'WsgiValidationError';
  readonly rule: string;
  readonly side: WsgiSide;

  constructor(rule: string, side: WsgiSide, detail: string, options?: ErrorOptions) {
    super(`the ${side} broke rule ${rule}: ${detail}`, options);
    this.rule = rule;
    this.side = side;
  }
}

// How long a body may stay unclosed after its iteration ended before a warning [B5]. Generous, so a
// gateway that closes after flushing its socket is not reported; core's gateway closes at once.
const UNCLOSED_GRACE_MS = 1000;

const REQUIRED_KEYS = [
  'REQUEST_METHOD',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'SCRIPT_NAME',
  'PATH_INFO',
  'QUERY_STRING',
  'wsgi.version',
  'wsgi.url_scheme',
  'wsgi.input',
  'wsgi.errors',
  'wsgi.multithread',
  'wsgi.multiprocess',
  'wsgi.run_once',
] as const;

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'OPTIONS', 'PATCH', 'PUT', 'DELETE', 'TRACE']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOT_LATIN1 = /[^\x00-\xff]/;
const DIGITS = /^\d+$/;
// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text.
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/** Short text for a bad value in a message; strings are quoted with their control characters escaped. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (value === null || value === undefined) return String(value);
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (Array.isArray(value)) {
    try {
      const json = JSON.stringify(value);
      return json.length > 100 ? `an array of length ${value.length}` : `the array ${json}`;
    } catch {
      return `an array of length ${value.length}`;
    }
  }
  if (typeof value === 'function') return `a function${value.name ? ` ${value.name}` : ''}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== 'Object' ? `an instance of ${name}` : 'an object';
  }
  return `${typeof value} ${String(value)}`;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function hasMethod(value: unknown, name: string | symbol): boolean {
  return value !== null && value !== undefined && typeof (value as Record<string | symbol, unknown>)[name] === 'function';
}

function warn(errors: Errors, rule: string, side: WsgiSide, detail: string): void {
  try {
    errors.write(`node-wsgi validate: warning ${rule} (${side}): ${detail}\n`);
  } catch (err) {
    // The sink broke §3 itself; there is nobody left to tell but the process.
    process.emitWarning(`node-wsgi validate: wsgi.errors threw while a warning was written: ${String(err)}`);
  }
}

function fail(rule: string, detail: string): never {
  throw new WsgiValidationError(rule, 'gateway', detail);
}

/** Checks the environ a gateway hands the app [E1–E14]; warns about an unusual method [W2]. */
function checkEnviron(environ: unknown): asserts environ is Environ {
  if (environ === null || typeof environ !== 'object' || Array.isArray(environ)) {
    fail('E1', `environ must be a plain object, got ${show(environ)}`);
  }
  // A plain object of any realm: its prototype is null or a prototype-less Object.prototype.
  const proto: unknown = Object.getPrototypeOf(environ);
  if (proto !== null && Object.getPrototypeOf(proto) !== null) {
    fail('E1', `environ must be a plain object, got ${show(environ)}`);
  }
  const env = environ as Record<string, unknown>;
  const missing = REQUIRED_KEYS.filter((key) => !Object.hasOwn(env, key));
  if (missing.length > 0) fail('E2', `environ lacks ${missing.join(', ')}`);
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
    if (Object.hasOwn(env, key)) fail('E5', `environ has ${key} (${show(env[key])}); it must be ${key.slice(5)}`);
  }
  for (const key of Object.keys(env)) {
    const value = env[key];
    if (value === undefined) fail('E3', `environ.${key} is undefined; a variable that does not apply is left out`);
    if (key.includes('.')) continue;
    if (typeof value !== 'string') fail('E4', `environ.${key} must be a string, got ${show(value)}`);
    if (NOT_LATIN1.test(value as string)) {
      fail('E4', `environ.${key} has a code point above U+00FF (not a latin-1 string): ${show(value)}`);
    }
  }
  // SPEC §2: a variable that does not apply is left out, never ''. (CONTENT_TYPE may be '': a
  // client can send the header empty.)
  for (const key of ['REMOTE_ADDR', 'REMOTE_PORT']) {
    if (env[key] === '') fail('E3', `environ.${key} is ''; a variable that does not apply is left out`);
  }
  if (Object.hasOwn(env, 'REMOTE_PORT') && !DIGITS.test(env.REMOTE_PORT as string)) {
    fail('E14', `REMOTE_PORT must be digits, got ${show(env.REMOTE_PORT)}`);
  }
  if (Object.hasOwn(env, 'HTTPS') && env.HTTPS !== 'on') {
    fail('E3', `environ.HTTPS must be 'on' on a TLS connection and absent otherwise, got ${show(env.HTTPS)}`);
  }
  const version = env['wsgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || version[1] !== 0) {
    fail('E6', `wsgi.version must be [1, 0], got ${show(version)}`);
  }
  const scheme = env['wsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') fail('E7', `wsgi.url_scheme must be 'http' or 'https', got ${show(scheme)}`);
  const scriptName = env.SCRIPT_NAME as string;
  if (scriptName === '/' || (scriptName !== '' && scriptName[0] !== '/')) {
    fail('E8', `SCRIPT_NAME must be '' or start with '/', and never be '/', got ${show(scriptName)}`);
  }
  const pathInfo = env.PATH_INFO as string;
  if (pathInfo !== '' && pathInfo[0] !== '/') fail('E9', `PATH_INFO must be '' or start with '/', got ${show(pathInfo)}`);
  if (Object.hasOwn(env, 'CONTENT_LENGTH')) {
    const length = env.CONTENT_LENGTH as string;
    if (!DIGITS.test(length)) fail('E10', `CONTENT_LENGTH must be digits, got ${show(length)}`);
    if (env['wsgi.input_terminated'] === true) {
      fail('E10', `CONTENT_LENGTH (${show(length)}) must be absent when wsgi.input_terminated is true`);
    }
  }
  const input = env['wsgi.input'];
  for (const method of ['read', 'readline', 'readlines', Symbol.asyncIterator]) {
    if (!hasMethod(input, method)) fail('E11', `wsgi.input has no ${String(method)}() method: ${show(input)}`);
  }
  const errors = env['wsgi.errors'];
  for (const method of ['write', 'writelines', 'flush']) {
    if (!hasMethod(errors, method)) fail('E12', `wsgi.errors has no ${method}() method: ${show(errors)}`);
  }
  for (const key of ['wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once']) {
    if (typeof env[key] !== 'boolean') fail('E13', `${key} must be a boolean, got ${show(env[key])}`);
  }
  if (Object.hasOwn(env, 'wsgi.input_terminated') && typeof env['wsgi.input_terminated'] !== 'boolean') {
    fail('E13', `wsgi.input_terminated must be a boolean, got ${show(env['wsgi.input_terminated'])}`);
  }
  if (Object.hasOwn(env, 'wsgi.file_wrapper') && typeof env['wsgi.file_wrapper'] !== 'function') {
    fail('E13', `wsgi.file_wrapper must be a function, got ${show(env['wsgi.file_wrapper'])}`);
  }
  const method = env.REQUEST_METHOD as string;
  if (!TOKEN.test(method)) fail('E14', `REQUEST_METHOD must be an RFC 9110 token, got ${show(method)}`);
  if (env.SERVER_NAME === '') fail('E14', `SERVER_NAME must not be empty`);
  if (!DIGITS.test(env.SERVER_PORT as string)) fail('E14', `SERVER_PORT must be digits, got ${show(env.SERVER_PORT)}`);
  if (!KNOWN_METHODS.has(method)) {
    warn(errors as Errors, 'W2', 'gateway', `unknown REQUEST_METHOD ${show(method)}`);
  }
}

function checkSize(what: string, size: unknown): void {
  if (size !== undefined && !Number.isInteger(size)) {
    throw new WsgiValidationError('S1', 'app', `wsgi.input.${what} expects no argument or a whole number, got ${show(size)}`);
  }
}

function checkBytes(what: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new WsgiValidationError('S2', 'gateway', `wsgi.input.${what} must give a Uint8Array, got ${show(value)}`);
  }
  return value;
}

function checkNotMore(what: string, size: number | undefined, bytes: Uint8Array): void {
  if (size !== undefined && size >= 0 && bytes.byteLength > size) {
    throw new WsgiValidationError('S3', 'gateway', `wsgi.input.${what}(${size}) returned ${bytes.byteLength} bytes, more than asked`);
  }
}

/** `wsgi.input` as the app sees it under `validate`: the same calls, with what comes back checked [S1–S4]. */
class CheckedInput implements Input {
  constructor(private readonly inner: Input) {}

  async read(size?: number): Promise<Uint8Array> {
    checkSize('read', size);
    // A bare read() stays bare: the PEP allows it, even though wsgiref refuses it.
    const bytes = checkBytes('read()', await (size === undefined ? this.inner.read() : this.inner.read(size)));
    checkNotMore('read', size, bytes);
    return bytes;
  }

  async readline(size?: number): Promise<Uint8Array> {
    checkSize('readline', size);
    const bytes = checkBytes('readline()', await (size === undefined ? this.inner.readline() : this.inner.readline(size)));
    checkNotMore('readline', size, bytes);
    return bytes;
  }

  async readlines(hint?: number): Promise<Uint8Array[]> {
    checkSize('readlines', hint);
    const lines: unknown = await (hint === undefined ? this.inner.readlines() : this.inner.readlines(hint));
    if (!Array.isArray(lines)) {
      throw new WsgiValidationError('S2', 'gateway', `wsgi.input.readlines() must give an array of Uint8Array, got ${show(lines)}`);
    }
    for (const line of lines) checkBytes('readlines() item', line);
    return lines as Uint8Array[];
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inner = this.inner[Symbol.asyncIterator]();
    return {
      async next() {
        const step = await inner.next();
        if (step.done !== true) checkBytes('async iterator', step.value);
        return step;
      },
      async return(value?: unknown) {
        if (typeof inner.return === 'function') return inner.return(value);
        return { done: true as const, value };
      },
    };
  }

  close(): never {
    throw new WsgiValidationError('S4', 'app', 'wsgi.input.close() must not be called; the gateway owns the request body');
  }
}

/** `wsgi.errors` under `validate`: text only, and never closed by the app [S4, S5]. */
class CheckedErrors implements Errors {
  constructor(readonly inner: Errors) {}

  write(s: string): void {
    if (typeof s !== 'string') {
      throw new WsgiValidationError('S5', 'app', `wsgi.errors.write() expects a string, got ${show(s)}`);
    }
    this.inner.write(s);
  }

  writelines(seq: Iterable<string>): void {
    if (!hasMethod(seq, Symbol.iterator)) {
      throw new WsgiValidationError('S5', 'app', `wsgi.errors.writelines() expects an iterable of strings, got ${show(seq)}`);
    }
    for (const s of seq) this.write(s);
  }

  flush(): void {
    this.inner.flush();
  }

  close(): never {
    throw new WsgiValidationError('S4', 'app', 'wsgi.errors.close() must not be called; the gateway owns the error stream');
  }
}

function isBodylessStatus(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}

function chunkLength(chunk: unknown): number {
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, 'utf8');
  return -1;
}

/** What one request's app has done so far, and the checks on `startResponse`, `write` and chunks. */
class ResponseCheck {
  /** A startResponse call went through; its values follow. */
  started = false;
  status = '';
  statusCode = 0;
  declaredLength = -1;
  /** Bytes produced through write() and the body. */
  produced = 0;
  /** The head counts as sent: a non-empty chunk reached the gateway (by write() or the body), or the body ended [R6]. */
  headSent = false;
  private readonly isHead: boolean;

  constructor(
    readonly errors: Errors,
    private readonly gatewayStart: StartResponse,
    method: string,
  ) {
    this.isHead = method === 'HEAD';
  }

  /** Whether the produced bytes must match Content-Length [B3]: not when no body is sent. */
  private get lengthChecked(): boolean {
    return this.declaredLength !== -1 && !this.isHead && !isBodylessStatus(this.statusCode);
  }

  readonly startResponse = (...args: unknown[]): Write => {
    if (args.length < 2 || args.length > 3) {
      throw new WsgiValidationError('A2', 'app', `startResponse takes (status, headers, excInfo?), got ${args.length} arguments`);
    }
    const [status, headers, excInfo] = args;
    const hasExcInfo = excInfo !== undefined && excInfo !== null;
    if (!hasExcInfo && this.started) {
      throw new WsgiValidationError(
        'R5',
        'app',
        `startResponse was called a second time without excInfo (first ${show(this.status)}, now ${show(status)})`,
      );
    }
    if (hasExcInfo && this.headSent) return this.rethrowExcInfo(args, excInfo);
    const [code, declared] = this.checkHead(status, headers);
    const gatewayWrite: unknown = this.gatewayStart(...(args as [string, Array<[string, string]>, unknown?]));
    if (typeof gatewayWrite !== 'function') {
      throw new WsgiValidationError('R7', 'gateway', `startResponse must return a write function, got ${show(gatewayWrite)}`);
    }
    // Only a call the gateway took counts: a refused call sets nothing [R2].
    this.started = true;
    this.status = status as string;
    this.statusCode = code;
    this.declaredLength = declared;
    return (chunk: Chunk) => this.write(gatewayWrite as Write, chunk);
  };

  // [R5] PEP 3333: once the head is out, startResponse with excInfo throws that excInfo back.
  private rethrowExcInfo(args: unknown[], excInfo: unknown): never {
    let returned: unknown;
    try {
      returned = this.gatewayStart(...(args as [string, Array<[string, string]>, unknown?]));
    } catch (thrown) {
      if (thrown === excInfo) throw thrown;
      throw new WsgiValidationError(
        'R5',
        'gateway',
        `startResponse was given excInfo after the head went out and threw ${show(thrown)} instead of excInfo`,
        { cause: thrown },
      );
    }
    throw new WsgiValidationError(
      'R5',
      'gateway',
      `startResponse was given excInfo after the head went out and returned ${show(returned)} instead of throwing excInfo back`,
      { cause: excInfo },
    );
  }

  /** Checks a status and header list [R1–R3, H1, H2, B4]; returns the code and the declared length. */
  private checkHead(status: unknown, headers: unknown): [number, number] {
    let code: number;
    try {
      [code] = parseStatus(status);
    } catch (err) {
      throw new WsgiValidationError('R1', 'app', (err as Error).message, { cause: err });
    }
    // Hop-by-hop first, so it gets its own rule rather than checkHeaders' message.
    if (Array.isArray(headers)) {
      for (const pair of headers as unknown[]) {
        const name = Array.isArray(pair) ? (pair[0] as unknown) : undefined;
        if (typeof name === 'string' && isHopByHop(name)) {
          throw new WsgiValidationError('R3', 'app', `startResponse: ${show(name)} is a hop-by-hop header, which only the gateway may set`);
        }
      }
    }
    let declared: number;
    try {
      declared = checkHeaders(headers);
    } catch (err) {
      throw new WsgiValidationError('R2', 'app', (err as Error).message, { cause: err });
    }
    let contentType = false;
    for (const [name, value] of headers as Array<[string, string]>) {
      const lower = name.toLowerCase();
      if (lower === 'status') {
        throw new WsgiValidationError('R2', 'app', `startResponse: a header named ${show(name)} is not allowed; the status is the first argument`);
      }
      if (lower === 'content-type') contentType = true;
      if (lower === 'etag' && !ENTITY_TAG.test(value)) {
        throw new WsgiValidationError('H2', 'app', `startResponse: ETag must be a quoted entity-tag like '"v1"' or 'W/"v1"', got ${show(value)}`);
      }
    }
    const bodyless = isBodylessStatus(code);
    if (bodyless && contentType) {
      throw new WsgiValidationError('H1', 'app', `startResponse: a ${code} response must not have a Content-Type header`);
    }
    if (!bodyless && !contentType) {
      // A warning, not a throw: the contract lets an app leave the type out [B8], and a wrapped
      // framework app does (`res.status(200).end()`); wsgiref asserts, Werkzeug's lint warns.
      warn(this.errors, 'H1', 'app', `startResponse: a ${code} response has no Content-Type header (status ${show(status)})`);
    }
    if ((code < 200 || code === 204) && declared > 0) {
      throw new WsgiValidationError('B4', 'app', `startResponse: a ${code} response has no body, but declares Content-Length ${declared}`);
    }
    return [code, declared];
  }

  private write(gatewayWrite: Write, chunk: unknown): void {
    const length = chunkLength(chunk);
    if (length === -1) {
      throw new WsgiValidationError('R7', 'app', `write() expects a Uint8Array or a string, got ${show(chunk)}`);
    }
    this.count(length, 'write()');
    gatewayWrite(chunk as Chunk);
    // [R6] a non-empty write() chunk commits the head, as it does in PEP 3333.
    if (length > 0) this.headSent = true;
  }

  // PEP 3333: past its Content-Length a write() raises, while the gateway stops iterating a body
  // there and cuts the chunk that crosses it [B3] (a file served through file_wrapper under the
  // length of its first part, §5): that is a warning.
  private count(length: number, where: 'write()' | 'a body chunk'): void {
    const before = this.produced;
    this.produced += length;
    if (!this.lengthChecked || this.produced <= this.declaredLength) return;
    const detail = `${where} brought the body to ${this.produced} bytes, more than its Content-Length of ${this.declaredLength}`;
    if (where === 'write()') throw new WsgiValidationError('B3', 'app', detail);
    if (before <= this.declaredLength) warn(this.errors, 'B3', 'app', `${detail}; the gateway sends only the first ${this.declaredLength}`);
  }

  /** Checks one chunk of the body on its way to the gateway [C1, R6, B3]. */
  chunk(chunk: unknown): void {
    const length = chunkLength(chunk);
    if (length === -1) {
      throw new WsgiValidationError('C1', 'app', `a body chunk must be a Uint8Array or a string, got ${show(chunk)}`);
    }
    if (length === 0) return; // [B2] an empty chunk sends nothing, so it may come first
    if (!this.started) {
      throw new WsgiValidationError('R6', 'app', `the body produced ${show(chunk)} before startResponse was called`);
    }
    this.count(length, 'a body chunk');
    this.headSent = true;
  }

  /** Checks the end of the body [R6, B3]. */
  ended(): void {
    if (!this.started) {
      throw new WsgiValidationError('R6', 'app', 'the body ended and startResponse was never called');
    }
    this.headSent = true;
    if (this.lengthChecked && this.produced < this.declaredLength) {
      throw new WsgiValidationError(
        'B3',
        'app',
        `the body ended after ${this.produced} bytes, fewer than its Content-Length of ${this.declaredLength}`,
      );
    }
  }

  /** Adopts what the app returned [C2]: a checked body of the same nature. */
  adopt(body: unknown): Body {
    if (body === null || body === undefined || (typeof body !== 'object' && typeof body !== 'function') || body instanceof Uint8Array) {
      const hint = typeof body === 'string' || body instanceof Uint8Array ? ' (return [body] instead)' : '';
      throw new WsgiValidationError('C2', 'app', `the app must return an iterable of chunks, if only [], got ${show(body)}${hint}`);
    }
    if (Array.isArray(body)) return this.adoptArray(body);
    if (hasMethod(body, Symbol.iterator)) return new SyncBody(this, body as Iterable<Chunk> & Closable);
    if (hasMethod(body, Symbol.asyncIterator)) return new AsyncBody(this, body as AsyncIterable<Chunk> & Closable);
    this.closeQuietly(body);
    throw new WsgiValidationError('C2', 'app', `the app must return an iterable or async iterable of chunks, got ${show(body)}`);
  }

  // An array is every chunk at once, and no app code runs while it is read: check it all now.
  private adoptArray(body: unknown[]): Body {
    const copy: Chunk[] & Closable = new Array<Chunk>(body.length);
    try {
      for (let i = 0; i < body.length; i++) {
        this.chunk(body[i]);
        copy[i] = body[i] as Chunk;
      }
      this.ended();
    } catch (err) {
      this.closeQuietly(body);
      throw err;
    }
    const original = body as Closable;
    if (typeof original.close === 'function') {
      let closed = false;
      copy.close = () => {
        if (closed) throw new WsgiValidationError('B5', 'gateway', 'close() was called a second time on the body');
        closed = true;
        return original.close!();
      };
    }
    return copy;
  }

  // A body the app will never see again: close it so a refusal leaks nothing [B5].
  closeQuietly(body: unknown): void {
    const close = (body as Closable | null)?.close;
    if (typeof close !== 'function') return;
    try {
      const result = close.call(body);
      if (isPromiseLike(result)) result.then(undefined, (err: unknown) => this.report('the refused body’s close()', err));
    } catch (err) {
      this.report('the refused body’s close()', err);
    }
  }

  /** Logs an error that has nobody left to be thrown to: a violation is already on its way. */
  report(what: string, err: unknown): void {
    const text = err instanceof Error ? (err.stack ?? err.message) : show(err);
    try {
      this.errors.write(`node-wsgi validate: ${what} failed while a violation was reported: ${text}\n`);
    } catch {
      process.emitWarning(`node-wsgi validate: ${what} failed: ${text}`);
    }
  }
}

interface Closable {
  close?(): void | Promise<void>;
}

type AnyIterator = Iterator<Chunk> | AsyncIterator<Chunk>;

/** What the sync and async body wrappers share: close(), and the audit of how the gateway ended it [B5]. */
abstract class CheckedBody {
  protected iterator: AnyIterator | null = null;
  protected nextCalls = 0;
  /** The iteration is over: done, an error, or return(). */
  protected finished = false;
  private closeCalls = 0;
  private audited = false;

  constructor(
    protected readonly check: ResponseCheck,
    protected readonly original: Closable,
  ) {}

  protected beforeNext(): void {
    if (this.closeCalls > 0) throw new WsgiValidationError('B5', 'gateway', 'iterator read after closed: next() was called after close()');
    this.nextCalls++;
  }

  /** Checks a step the child produced; on a violation the child's iterator is already ended. */
  protected afterStep(step: IteratorResult<Chunk>): void {
    if (this.closeCalls > 0 || this.finished) return; // a read begun before close(): the gateway drops it
    if (step.done === true) {
      this.finished = true;
      this.scheduleAudit();
      this.check.ended();
    } else {
      this.check.chunk(step.value);
    }
  }

  protected markReturned(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.scheduleAudit();
    return true;
  }

  close(): void | Promise<void> {
    if (this.closeCalls++ > 0) throw new WsgiValidationError('B5', 'gateway', 'close() was called a second time on the body');
    this.scheduleAudit();
    if (typeof this.original.close === 'function') return this.original.close();
  }

  private scheduleAudit(): void {
    if (this.audited) return;
    this.audited = true;
    // Nothing to miss: no close() to forget, no return() to skip.
    if (typeof this.original.close !== 'function' && (this.finished || typeof this.iterator?.return !== 'function')) return;
    setTimeout(() => this.audit(), UNCLOSED_GRACE_MS).unref();
  }

  private audit(): void {
    const errors = this.check.errors;
    if (typeof this.original.close === 'function' && this.closeCalls === 0) {
      warn(errors, 'B5', 'gateway', `the body's iteration ended ${UNCLOSED_GRACE_MS} ms ago and its close() was never called`);
    }
    const iterator = this.iterator;
    if (this.nextCalls > 0 && !this.finished && iterator !== null && typeof iterator.return === 'function') {
      warn(errors, 'B5', 'gateway', 'the body was closed in mid-iteration without a call to its iterator’s return()');
    }
  }
}

/** A synchronous body stays synchronous, so the gateway can still read it ahead without waiting [B3]. */
class SyncBody extends CheckedBody implements Iterable<Chunk>, Iterator<Chunk> {
  constructor(
    check: ResponseCheck,
    private readonly child: Iterable<Chunk> & Closable,
  ) {
    super(check, child);
  }

  // One iteration per body, as for a generator object.
  [Symbol.iterator](): this {
    this.iterator ??= this.child[Symbol.iterator]();
    return this;
  }

  next(): IteratorResult<Chunk> {
    this.beforeNext();
    const iterator = (this.iterator ??= this.child[Symbol.iterator]()) as Iterator<Chunk>;
    let step: IteratorResult<Chunk>;
    try {
      step = iterator.next();
    } catch (err) {
      this.finished = true; // a throwing iterator is finished; the gateway only closes it
      throw err;
    }
    try {
      this.afterStep(step);
    } catch (err) {
      this.stopChild(iterator, step);
      throw err;
    }
    return step;
  }

  // A violation ends the iteration from the gateway's view, so end the child too: its finally runs.
  private stopChild(iterator: Iterator<Chunk>, step: IteratorResult<Chunk>): void {
    this.finished = true;
    if (step.done === true || typeof iterator.return !== 'function') return;
    try {
      iterator.return();
    } catch (err) {
      this.check.report('the body iterator’s return()', err);
    }
  }

  return(value?: unknown): IteratorResult<Chunk> {
    const iterator = this.iterator as Iterator<Chunk> | null;
    if (this.markReturned() && iterator !== null && typeof iterator.return === 'function') return iterator.return(value);
    return { done: true, value };
  }
}

/** An asynchronous body stays asynchronous. */
class AsyncBody extends CheckedBody implements AsyncIterable<Chunk>, AsyncIterator<Chunk> {
  constructor(
    check: ResponseCheck,
    private readonly child: AsyncIterable<Chunk> & Closable,
  ) {
    super(check, child);
  }

  [Symbol.asyncIterator](): this {
    this.iterator ??= this.child[Symbol.asyncIterator]();
    return this;
  }

  async next(): Promise<IteratorResult<Chunk>> {
    this.beforeNext();
    const iterator = (this.iterator ??= this.child[Symbol.asyncIterator]()) as AsyncIterator<Chunk>;
    let step: IteratorResult<Chunk>;
    try {
      step = await iterator.next();
    } catch (err) {
      this.finished = true;
      throw err;
    }
    try {
      this.afterStep(step);
    } catch (err) {
      await this.stopChild(iterator, step);
      throw err;
    }
    return step;
  }

  private async stopChild(iterator: AsyncIterator<Chunk>, step: IteratorResult<Chunk>): Promise<void> {
    this.finished = true;
    if (step.done === true || typeof iterator.return !== 'function') return;
    try {
      await iterator.return();
    } catch (err) {
      this.check.report('the body iterator’s return()', err);
    }
  }

  async return(value?: unknown): Promise<IteratorResult<Chunk>> {
    const iterator = this.iterator as AsyncIterator<Chunk> | null;
    if (this.markReturned() && iterator !== null && typeof iterator.return === 'function') return iterator.return(value);
    return { done: true, value };
  }
}

/**
 * Wraps an app so that every request checks both sides of the contract: the environ and input the
 * gateway gives, and everything the app does. A violation throws a `WsgiValidationError`.
 *
 * ```ts
 * const listener = toNodeListener(validate(app));
 * // a header value with CR LF now answers 500, and the log names rule R2
 * ```
 */
export function validate(app: App): App {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/core: validate expects an app function, got ${show(app)}`);
  }
  return function validated(...args: unknown[]): Body | Promise<Body> {
    if (args.length !== 2) {
      throw new WsgiValidationError('A1', 'gateway', `the app takes (environ, startResponse), but was called with ${args.length} arguments`);
    }
    const [environ, startResponse] = args;
    checkEnviron(environ);
    if (typeof startResponse !== 'function') {
      throw new WsgiValidationError('A1', 'gateway', `startResponse must be a function, got ${show(startResponse)}`);
    }
    const errors = environ['wsgi.errors'];
    const check = new ResponseCheck(errors, startResponse as StartResponse, environ.REQUEST_METHOD);
    environ['wsgi.input'] = new CheckedInput(environ['wsgi.input']);
    environ['wsgi.errors'] = new CheckedErrors(errors);
    const result: unknown = app(environ, check.startResponse);
    // An app that answered synchronously is answered synchronously: the gateway's fast path stays.
    if (isPromiseLike(result)) return Promise.resolve(result).then((body) => check.adopt(body));
    return check.adopt(result);
  };
}
