// Builds `environ` (SPEC §2) from a Node `IncomingMessage`.
// Hot path: one object literal with a fixed key order, header names translated through a cache.
import cluster from 'node:cluster';
import type { IncomingMessage } from 'node:http';
import type { Environ, Errors, FileWrapper, Input } from './types.js';

export const WSGI_VERSION: readonly [1, 0] = Object.freeze([1, 0] as const);

export const SERVER_SOFTWARE = `node-wsgi/0.1.0 Node.js/${process.versions.node}`;

export interface EnvironOptions {
  /** The mount prefix, already decoded: `''` or a path starting with `/`, never `'/'`. */
  scriptName?: string;
  /** The request-target below the mount (path and query); defaults to `req.url`. */
  target?: string;
  /** The request body; built lazily by the caller so that nothing is read before the app asks. */
  input: Input;
  errors: Errors;
  fileWrapper?: FileWrapper;
  /** `wsgi.multiprocess`; defaults to whether this process is a cluster worker. */
  multiprocess?: boolean;
  /** Dotted extension keys the host adds (`express.request`, ...). */
  extra?: Record<string, unknown>;
}

const IS_WORKER = cluster.isWorker;

/**
 * Percent-decodes a path to bytes, each byte one code point (latin-1), as `wsgiref` does with
 * `unquote(path, 'iso-8859-1')`. Malformed escapes stay as they are, like Python's `unquote`.
 */
export function decodePathLatin1(path: string): string {
  let i = path.indexOf('%');
  if (i === -1) return path;
  // Copies the runs between escapes whole instead of one character at a time.
  let out = '';
  let copied = 0;
  const n = path.length;
  while (i !== -1 && i + 2 < n) {
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi !== -1 && lo !== -1) {
      out += path.slice(copied, i) + String.fromCharCode((hi << 4) | lo);
      copied = i + 3;
      i = path.indexOf('%', copied);
    } else {
      i = path.indexOf('%', i + 1);
    }
  }
  return copied === 0 ? path : out + path.slice(copied);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Splits a request-target into its raw path and raw query. The absolute form
 * (`GET http://host/p HTTP/1.1`, sent to proxies) is reduced to its path.
 */
export function splitRequestTarget(target: string): [path: string, query: string] {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') {
    const scheme = target.indexOf('://');
    if (scheme !== -1) {
      const slash = target.indexOf('/', scheme + 3);
      const mark = target.indexOf('?', scheme + 3);
      start = slash === -1 || (mark !== -1 && mark < slash) ? -1 : slash;
      if (start === -1) {
        // `http://host?x` has an empty path
        return ['', mark === -1 ? '' : target.slice(mark + 1)];
      }
    }
  }
  const q = target.indexOf('?', start);
  if (q === -1) return [start === 0 ? target : target.slice(start), ''];
  return [target.slice(start, q), target.slice(q + 1)];
}

// Raw header name → CGI key, or null for a name that must be dropped. Bounded so that a client
// sending endless distinct names cannot grow it.
const headerKeyCache = new Map<string, string | null>();
const HEADER_KEY_CACHE_LIMIT = 2048;

export function cgiKeyFor(name: string): string | null {
  let key = headerKeyCache.get(name);
  if (key !== undefined) return key;
  const upper = name.toUpperCase();
  if (upper.includes('_') || name.charCodeAt(0) === 58 /* HTTP/2 pseudo-header */) {
    // A name with `_` would collide with its `-` twin once translated (gunicorn#2799).
    key = null;
  } else if (upper === 'CONTENT-TYPE') {
    key = 'CONTENT_TYPE';
  } else if (upper === 'CONTENT-LENGTH') {
    key = 'CONTENT_LENGTH';
  } else {
    key = 'HTTP_' + upper.replaceAll('-', '_');
  }
  if (headerKeyCache.size < HEADER_KEY_CACHE_LIMIT) headerKeyCache.set(name, key);
  return key;
}

/** Adds every request header to `environ` from the raw list, keeping repeats Node's `req.headers` drops. */
export function addHeaders(environ: Record<string, unknown>, rawHeaders: readonly string[]): void {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = cgiKeyFor(rawHeaders[i]!);
    if (key === null) continue;
    const value = rawHeaders[i + 1]!;
    const prev = environ[key] as string | undefined;
    if (prev === undefined) {
      environ[key] = value;
    } else if (key === 'HTTP_COOKIE') {
      environ[key] = prev + '; ' + value;
    } else if (key === 'CONTENT_LENGTH' || key === 'CONTENT_TYPE') {
      // Node has already refused conflicting lengths; one value is the meaning.
    } else {
      environ[key] = prev + ', ' + value;
    }
  }
}

/** What environ takes from a connection: the same for every request on it. */
interface Endpoints {
  serverName: string;
  serverPort: string;
  remoteAddr: string | undefined;
  remotePort: string | undefined;
}

// Per connection, so keep-alive requests skip Node's address getters (each a chain of `_handle`
// lookups) and the port-to-string conversions. Weak: it goes when the socket does.
const endpointsOf = new WeakMap<object, Endpoints>();

function endpoints(socket: IncomingMessage['socket'] | null | undefined, encrypted: boolean): Endpoints {
  if (socket === null || socket === undefined) {
    return { serverName: 'localhost', serverPort: encrypted ? '443' : '80', remoteAddr: undefined, remotePort: undefined };
  }
  let known = endpointsOf.get(socket);
  if (known === undefined) {
    const remoteAddr = socket.remoteAddress;
    known = {
      serverName: socket.localAddress || 'localhost',
      serverPort: socket.localPort ? String(socket.localPort) : encrypted ? '443' : '80',
      remoteAddr,
      remotePort: remoteAddr !== undefined && socket.remotePort !== undefined ? String(socket.remotePort) : undefined,
    };
    // A socket that is not connected yet (or no longer) has no addresses to keep.
    if (remoteAddr !== undefined) endpointsOf.set(socket, known);
  }
  return known;
}

/** Builds a new environ for one Node request. */
export function buildEnviron(req: IncomingMessage, options: EnvironOptions): Environ {
  const requestUri = req.url ?? '/';
  const [rawPath, query] = splitRequestTarget(options.target ?? requestUri);
  const socket = req.socket;
  const encrypted = (socket as { encrypted?: boolean } | null)?.encrypted === true;
  const ends = endpoints(socket, encrypted);
  // SPEC §2: SCRIPT_NAME is never '/' (a host mounted at the root reports '/'; PATH_INFO keeps it).
  const scriptName = options.scriptName === undefined || options.scriptName === '/' ? '' : options.scriptName;
  const environ: Environ = {
    REQUEST_METHOD: req.method ?? 'GET',
    SCRIPT_NAME: scriptName,
    PATH_INFO: rawPath === '*' ? '' : decodePathLatin1(rawPath),
    QUERY_STRING: query,
    REQUEST_URI: requestUri,
    SERVER_NAME: ends.serverName,
    SERVER_PORT: ends.serverPort,
    SERVER_PROTOCOL: req.httpVersion === '1.1' ? 'HTTP/1.1' : 'HTTP/' + req.httpVersion,
    SERVER_SOFTWARE,
    'wsgi.version': WSGI_VERSION,
    'wsgi.url_scheme': encrypted ? 'https' : 'http',
    'wsgi.input': options.input,
    'wsgi.errors': options.errors,
    'wsgi.multithread': true,
    'wsgi.multiprocess': options.multiprocess ?? IS_WORKER,
    'wsgi.run_once': false,
    'wsgi.input_terminated': false,
    'node.request': req,
  };
  if (options.fileWrapper !== undefined) environ['wsgi.file_wrapper'] = options.fileWrapper;
  if (ends.remoteAddr !== undefined) {
    environ.REMOTE_ADDR = ends.remoteAddr;
    if (ends.remotePort !== undefined) environ.REMOTE_PORT = ends.remotePort;
  }
  if (encrypted) environ.HTTPS = 'on';
  addHeaders(environ, req.rawHeaders);
  // A chunked body's length is unknown up front: `wsgi.input_terminated` says the input ends itself.
  // Read from the raw headers just scanned: `req.headers` would make Node build a second copy.
  const te = environ.HTTP_TRANSFER_ENCODING;
  if (te !== undefined && te !== 'identity') {
    environ['wsgi.input_terminated'] = true;
    delete environ.CONTENT_LENGTH;
  }
  const extra = options.extra;
  if (extra !== undefined) for (const key in extra) environ[key] = extra[key];
  return environ;
}

/** Whether the request body is chunked (its length unknown until it ends). */
export function isChunked(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  return te !== undefined && te !== 'identity';
}
