// The Node request a wrapped listener sees, rebuilt from environ: a real `IncomingMessage` on a
// socket-like Duplex that carries the peer, the local address and TLS (SPEC §7 fromNodeListener).
import { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { cgiKeyFor, decodePathLatin1, splitRequestTarget } from './environ.js';
import type { Environ, Input } from './types.js';

function ignore(): void {}

/**
 * The socket a synthetic request and response sit on. Nothing goes over it: writes are discarded
 * (the response is captured before framing), reads never happen (the body comes from `wsgi.input`).
 */
export class SyntheticSocket extends Duplex {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string;
  localPort: number;
  readonly remoteFamily: string | undefined;
  /** Present (true) on TLS sockets only, as on `tls.TLSSocket`; Express reads it for `req.protocol`. */
  encrypted?: true;
  readonly connecting = false;
  readonly bytesRead = 0;
  bytesWritten = 0;

  constructor(environ: Environ) {
    super({ allowHalfOpen: true });
    this.remoteAddress = environ.REMOTE_ADDR;
    this.remotePort = environ.REMOTE_PORT === undefined ? undefined : Number(environ.REMOTE_PORT);
    this.remoteFamily = this.remoteAddress === undefined ? undefined : this.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = environ.SERVER_NAME;
    this.localPort = Number(environ.SERVER_PORT);
    if (environ['wsgi.url_scheme'] === 'https') {
      this.encrypted = true;
      // On a TLS connection the listener finds what a `tls.TLSSocket` tells about it (client-certificate
      // auth reads `authorized` and `getPeerCertificate()`), answered by the real one.
      const original = (environ['node.request'] as IncomingMessage | undefined)?.socket as TLSSocket | undefined;
      if (original !== undefined && original !== null && original.encrypted === true) {
        const self = this as unknown as TlsView;
        self[kTls] = original;
        self.authorized = original.authorized;
        self.authorizationError = original.authorizationError;
        self.alpnProtocol = original.alpnProtocol;
        self.servername = (original as { servername?: string | false }).servername;
        self.getPeerCertificate = getPeerCertificate;
        self.getCipher = getCipher;
        self.getProtocol = getProtocol;
      }
    }
    // `res.destroy(err)` hands its error to the socket; nobody is on the other end to hear it.
    this.on('error', ignore);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.byteLength;
    callback();
  }

  // The response's bytes are captured before they reach the socket, so writes here are discarded at
  // once: no Writable buffering, no corking. A corked write still pending when the socket is
  // destroyed at the end of the response would cost an ERR_STREAM_DESTROYED error per request.
  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof chunk === 'string') this.bytesWritten += chunk.length;
    else if (chunk instanceof Uint8Array) this.bytesWritten += chunk.byteLength;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }

  override cork(): void {}

  override uncork(): void {}

  get readyState(): string {
    return this.destroyed ? 'closed' : 'open';
  }

  // Keys in the order net.Socket's address() gives them, so what a listener prints of it is the same.
  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.localAddress.includes(':') ? 'IPv6' : 'IPv4', port: this.localPort };
  }

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

const kTls = Symbol('node-wsgi.tls');
type TlsView = Pick<TLSSocket, 'authorized' | 'authorizationError' | 'alpnProtocol' | 'getCipher' | 'getProtocol'> & {
  [kTls]: TLSSocket;
  getPeerCertificate: typeof getPeerCertificate;
  servername: string | false | undefined;
};

// Shared by every TLS request (own properties of the socket, set only on TLS, as a plain socket has none).
function getPeerCertificate(this: TlsView, detailed?: boolean): ReturnType<TLSSocket['getPeerCertificate']> {
  return this[kTls].getPeerCertificate(detailed);
}

function getCipher(this: TlsView): ReturnType<TLSSocket['getCipher']> {
  return this[kTls].getCipher();
}

function getProtocol(this: TlsView): ReturnType<TLSSocket['getProtocol']> {
  return this[kTls].getProtocol();
}

// CGI key → header name, for keys no raw header line backs: HTTP_X_FORWARDED_FOR → X-Forwarded-For.
// Cached like cgiKeyFor: an environ that did not come from a Node request (a test client, a
// middleware's added headers) takes this path for every header of every request. Bounded, so keys
// a client invents cannot grow it.
const headerNameCache = new Map<string, string>();
const HEADER_NAME_CACHE_LIMIT = 2048;

function headerNameFor(key: string): string {
  let name = headerNameCache.get(key);
  if (name !== undefined) return name;
  if (key === 'CONTENT_TYPE') name = 'Content-Type';
  else if (key === 'CONTENT_LENGTH') name = 'Content-Length';
  else name = key.slice(5).toLowerCase().replace(/(^|_)([a-z])/g, (_m, sep: string, c: string) => (sep ? '-' : '') + c.toUpperCase());
  if (headerNameCache.size < HEADER_NAME_CACHE_LIMIT) headerNameCache.set(key, name);
  return name;
}

// The common case, checked without building anything: environ holds exactly the headers of the
// original lines, each sent once (a repeat is joined in environ, so it fails the comparison and takes
// the general path). Then the lines come back as they are.
function unchangedHeaders(environ: Environ, lines: readonly string[]): string[] | null {
  let keys = 0;
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    const key = cgiKeyFor(name);
    if (key === null) {
      if (name.includes('_')) continue;
      return null;
    }
    if (environ[key] !== lines[i + 1]) return null;
    keys++;
  }
  for (const key in environ) {
    if (key.startsWith('HTTP_') || key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') {
      if (--keys < 0) return null;
    }
  }
  return keys === 0 ? lines.slice() : null;
}

/**
 * The raw header list for the synthetic request. Where environ came from a Node request and a
 * header is unchanged, its original lines come back as sent (case, repeats, names with `_`);
 * anything a middleware set or changed comes from environ.
 */
export function rebuildRawHeaders(environ: Environ): string[] {
  const original = environ['node.request'] as IncomingMessage | undefined;
  const raw: string[] = [];
  let kept: Set<string> | null = null;
  if (original !== undefined && Array.isArray(original.rawHeaders)) {
    const lines = original.rawHeaders;
    const unchanged = unchangedHeaders(environ, lines);
    if (unchanged !== null) return unchanged;
    // Join each key's original values as environ did, to see whether environ still says the same.
    const joined = new Map<string, string>();
    for (let i = 0; i < lines.length; i += 2) {
      const key = cgiKeyFor(lines[i]!);
      if (key === null) continue;
      const prev = joined.get(key);
      const value = lines[i + 1]!;
      if (prev === undefined) joined.set(key, value);
      else if (key === 'HTTP_COOKIE') joined.set(key, prev + '; ' + value);
      else if (key !== 'CONTENT_TYPE' && key !== 'CONTENT_LENGTH') joined.set(key, prev + ', ' + value);
    }
    kept = new Set();
    for (const [key, value] of joined) if (environ[key] === value) kept.add(key);
    for (let i = 0; i < lines.length; i += 2) {
      const key = cgiKeyFor(lines[i]!);
      // A name with `_` has no environ key (SPEC §2), but a Node listener sees it natively under its
      // own name, where it collides with nothing.
      if (key === null ? lines[i]!.includes('_') : kept.has(key)) raw.push(lines[i]!, lines[i + 1]!);
    }
  }
  for (const key in environ) {
    if (kept !== null && kept.has(key)) continue;
    if (key.startsWith('HTTP_') || key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') {
      const value = environ[key];
      if (typeof value === 'string') raw.push(headerNameFor(key), value);
    }
  }
  return raw;
}

// The raw mount prefix and the raw target under it: REQUEST_URI's own escapes (`%2F`) kept when
// environ still agrees with it; otherwise SCRIPT_NAME and PATH_INFO, re-encoded.
function targetUnderMount(environ: Environ): [base: string, url: string] {
  const query = environ.QUERY_STRING;
  const suffix = query ? '?' + query : '';
  const scriptName = environ.SCRIPT_NAME;
  const pathInfo = environ.PATH_INFO;
  const requestUri = environ.REQUEST_URI;
  if (typeof requestUri === 'string') {
    const [rawPath, rawQuery] = splitRequestTarget(requestUri);
    const decoded = rawPath === '*' ? '' : decodePathLatin1(rawPath);
    if (rawQuery === (query ?? '') && decoded === scriptName + pathInfo) {
      // Unmounted, the target is what Node would have given: `*`, the absolute form, a bare `?`.
      if (scriptName === '') return ['', requestUri];
      // Walk the raw path until its decoded form covers SCRIPT_NAME.
      let i = 0;
      let decodedLength = 0;
      while (decodedLength < scriptName.length && i < rawPath.length) {
        i += rawPath.charCodeAt(i) === 37 && /^%[0-9A-Fa-f]{2}/.test(rawPath.slice(i, i + 3)) ? 3 : 1;
        decodedLength++;
      }
      const rest = rawPath.slice(i);
      return [rawPath.slice(0, i), (rest === '' ? '/' : rest) + suffix];
    }
  }
  return [encodePath(scriptName), (pathInfo === '' ? '/' : encodePath(pathInfo)) + suffix];
}

function encodePath(latin1: string): string {
  let out = '';
  for (let i = 0; i < latin1.length; i++) {
    const c = latin1.charCodeAt(i);
    // Keep what is legal in a path as it is; escape the rest byte by byte (latin-1 = one byte each).
    if (c > 0x20 && c < 0x7f && c !== 0x25 && c !== 0x3f && c !== 0x23) out += latin1[i];
    else out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
  }
  return out;
}

interface BodyState {
  input: Input;
  /** The Node request environ came from, if any: its trailers are the body's trailers. */
  original: IncomingMessage | undefined;
  iterator: AsyncIterator<Uint8Array> | null;
  reading: boolean;
  /** The response completed with the body unread: the request ends without reading on. */
  discarded?: boolean;
}
const kBody = Symbol('node-wsgi.body');

// Own property, not a subclass override: Express swaps the request's prototype (express#2805).
function readFromInput(this: IncomingMessage & { [kBody]: BodyState; _consuming?: boolean }): void {
  const state = this[kBody];
  // What Node's own _read marks: the listener has started reading, so a response that finishes
  // leaves the rest of the body alone instead of dumping it (resOnFinish).
  this._consuming = true;
  if (state.discarded) {
    endDiscarded(this);
    return;
  }
  if (state.reading) return;
  state.reading = true;
  const iterator = (state.iterator ??= state.input[Symbol.asyncIterator]());
  iterator.next().then(
    (step) => {
      state.reading = false;
      if (this.destroyed) return;
      if (state.discarded) {
        endDiscarded(this);
        return;
      }
      if (step.done) {
        this.complete = true;
        // A chunked body's trailers, which Node parsed on the original request by the time its body
        // ended: the listener finds them on `req.trailers` / `req.rawTrailers` after 'end', as natively.
        const trailers = state.original?.rawTrailers;
        if (trailers !== undefined && trailers.length > 0) {
          (this as unknown as { _addHeaderLines(headers: string[], n: number): void })._addHeaderLines(trailers, trailers.length);
        }
        this.push(null);
      } else if (this.push(step.value)) {
        readFromInput.call(this);
      }
    },
    (err: unknown) => {
      state.reading = false;
      if (state.discarded) {
        endDiscarded(this);
        return;
      }
      // The outer client went away mid-upload: the wrapped app sees what a Node server shows it.
      const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET', cause: err });
      this.destroy(reset);
    },
  );
}

function endDiscarded(req: IncomingMessage): void {
  // Dumped (nobody read it): it ends, as Node's _dump() lets it. Read part-way and left so: natively
  // the parser lets go of it and it neither ends nor aborts; nor does it here.
  if (req.readableEnded || req.destroyed || (req as { _dumped?: boolean })._dumped !== true) return;
  req.complete = true;
  req.push(null);
}

/**
 * The response is complete and the listener left the body unread: what is left of it is the
 * gateway's to drain or discard, so the request ends without reading on (Node's `_dump()`, which
 * reads on, would meet an input the gateway has already given up and abort the request).
 */
export function discardBody(req: IncomingMessage): void {
  const state = (req as unknown as { [kBody]?: BodyState })[kBody];
  if (state !== undefined) state.discarded = true;
}

/** A real `IncomingMessage` for environ, its body fed from `wsgi.input` as the listener reads. */
export function buildSyntheticRequest(environ: Environ, socket: SyntheticSocket): IncomingMessage {
  const req = new IncomingMessage(socket as never);
  const protocol = environ.SERVER_PROTOCOL;
  if (protocol === 'HTTP/1.1' || protocol === 'HTTP/1.0') {
    req.httpVersionMajor = 1;
    req.httpVersionMinor = protocol === 'HTTP/1.1' ? 1 : 0;
    req.httpVersion = protocol.slice(5);
  } else {
    const version = /^HTTP\/(\d+)(?:\.(\d+))?$/.exec(protocol ?? '');
    req.httpVersionMajor = version === null ? 1 : Number(version[1]);
    req.httpVersionMinor = version === null ? 1 : Number(version[2] ?? 0);
    req.httpVersion = `${req.httpVersionMajor}.${req.httpVersionMinor}`;
  }
  req.method = environ.REQUEST_METHOD;
  const [base, url] = targetUnderMount(environ);
  req.url = url;
  const raw = rebuildRawHeaders(environ);
  req.rawHeaders = raw;
  // Node builds `req.headers` lazily from rawHeaders, with its own rules for repeats.
  (req as unknown as { _addHeaderLines(headers: string[], n: number): void })._addHeaderLines(raw, raw.length);
  // Under a mount the listener sees what Express's own `app.use(prefix, sub)` shows a sub-app: the
  // full target as `originalUrl` (Express, Fastify and Koa's view read it) and the prefix as
  // `baseUrl` (Express's router starts from it). Unmounted, neither is there, as natively.
  const requestUri = environ.REQUEST_URI;
  if (typeof requestUri === 'string' && requestUri !== url) (req as { originalUrl?: string }).originalUrl = requestUri;
  if (base !== '') (req as { baseUrl?: string }).baseUrl = base;
  const hasBody = environ.CONTENT_LENGTH !== undefined ? environ.CONTENT_LENGTH !== '0' : environ['wsgi.input_terminated'] === true;
  if (hasBody) {
    (req as unknown as { [kBody]: BodyState })[kBody] = {
      input: environ['wsgi.input'],
      original: environ['node.request'] as IncomingMessage | undefined,
      iterator: null,
      reading: false,
    };
    req._read = readFromInput;
  } else {
    // Ended, but not yet `complete`: Node emits 'request' from the parser's headers-complete step and
    // marks a bodyless message complete only after the listener's synchronous part has returned.
    req.push(null);
  }
  return req;
}

/** After the listener's synchronous part: a bodyless request is complete now, as natively. */
export function completeIfBodyless(req: IncomingMessage): void {
  if (!(kBody in req)) req.complete = true;
}
