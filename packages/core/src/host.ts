// What every gateway on top of a Node request/response pair shares: our own listener and each
// framework adapter. Environ under a mount, the body (recovered if a host parser read it),
// `100 Continue` on the first read, and keep-alive kept sound when the app leaves the body unread.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildEnviron, isChunked } from './environ.js';
import { fileWrapper } from './file-wrapper.js';
import { recoverInput, type HostBody } from './host-input.js';
import { StreamInput, type BaseInput } from './input.js';
import { splitMount } from './mount-path.js';
import type { Environ, Errors } from './types.js';

/** Unread request body drained to keep a connection alive; past it the connection closes (SPEC §3). */
export const DEFAULT_DRAIN_LIMIT = 1024 * 1024;

export interface HostRequestOptions {
  errors: Errors;
  /** The request-target as the client sent it (Express `req.originalUrl`); default `req.url`. */
  fullTarget?: string;
  /** The part the host left for the app under its mount (Express `req.url`); default `fullTarget`. */
  innerTarget?: string;
  /** The host's mount prefix, decoded (Fastify's `instance.prefix`): an alternative to `innerTarget`. */
  mountPrefix?: string;
  /** What a host body parser left, if one may have run. */
  body?: HostBody;
  /** Dotted extension keys (`express.request` ...). */
  extra?: Record<string, unknown>;
  multiprocess?: boolean;
}

// Stands in for `wsgi.input` while environ is built; replaced before anyone sees environ.
const NO_INPUT_YET = null as unknown as BaseInput;

/** Node's private 100-continue bookkeeping on ServerResponse (stable since Node 0.x). */
interface ContinueState {
  _expect_continue?: boolean;
  _sent100?: boolean;
}

/** The body length a request declares: its Content-Length, unbounded when chunked, else none. */
export function declaredBodyLength(req: IncomingMessage): number {
  if (isChunked(req)) return Infinity;
  const header = req.headers['content-length'];
  if (header === undefined) return 0;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : 0;
}

/** The body length environ declares: CONTENT_LENGTH, unbounded when chunked, else none. */
function bodyLengthOf(environ: Environ): number {
  if (environ['wsgi.input_terminated'] === true) return Infinity;
  const header = environ.CONTENT_LENGTH;
  if (header === undefined) return 0;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : 0;
}

/** Builds environ for a request a host (or our own server) hands over, with its body as `wsgi.input`. */
export function hostEnviron(req: IncomingMessage, res: ServerResponse, options: HostRequestOptions): Environ {
  // The body's length comes from the headers environ has just read from `req.rawHeaders`, so
  // `req.headers` (which Node builds lazily, a second time) is never needed on this path.
  const environ = buildEnviron(req, {
    input: NO_INPUT_YET,
    errors: options.errors,
    fileWrapper,
    multiprocess: options.multiprocess,
    extra: options.extra,
  });
  const limit = bodyLengthOf(environ);
  const recovered = options.body === undefined ? null : recoverInput(req, options.body, limit);
  const input: BaseInput = recovered === null ? new StreamInput(req, limit) : recovered.input;
  environ['wsgi.input'] = input;
  const state = res as ContinueState;
  if (state._expect_continue === true && state._sent100 !== true && limit !== 0) {
    // SPEC §3: 100 Continue goes out on the first read, and never after the final head.
    input.onFirstRead = () => {
      if (!res.headersSent && state._sent100 !== true) res.writeContinue();
    };
  }
  const fullTarget = options.fullTarget;
  if (fullTarget !== undefined) environ.REQUEST_URI = fullTarget;
  if (options.innerTarget !== undefined && fullTarget !== undefined && options.innerTarget !== fullTarget) {
    const split = splitMount(fullTarget, options.innerTarget);
    environ.SCRIPT_NAME = split.scriptName;
    environ.PATH_INFO = split.pathInfo;
    environ.QUERY_STRING = split.query;
  }
  const prefix = options.mountPrefix;
  if (prefix !== undefined && prefix !== '' && prefix !== '/') {
    // The host matched its prefix on the decoded path, so the split is made on the decoded path too.
    const path = environ.PATH_INFO;
    if (path === prefix || (path.startsWith(prefix) && (prefix.endsWith('/') || path.charCodeAt(prefix.length) === 47))) {
      const scriptName = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
      environ.SCRIPT_NAME = scriptName;
      environ.PATH_INFO = path.slice(scriptName.length);
    }
  }
  if (recovered?.contentLength !== undefined) {
    // The recovered bytes are the body now: their length is known, whatever the framing was, and
    // they are decoded (body parsers inflate gzip/deflate before they parse or keep the bytes).
    environ.CONTENT_LENGTH = recovered.contentLength;
    environ['wsgi.input_terminated'] = false;
    delete environ.HTTP_CONTENT_ENCODING;
  }
  return environ;
}

// The responses still in flight on each connection, for `closeOnDisconnect`: one 'close' listener per
// connection however many pipelined requests wait on it.
const inFlight = new WeakMap<object, Set<() => void>>();

function closeInFlight(this: object): void {
  const pending = inFlight.get(this);
  inFlight.delete(this);
  if (pending !== undefined) for (const close of pending) close();
}

/**
 * Closes the app's body when the connection drops before its response finished [B5, B7]: while the
 * head is still pending (an app or a first chunk that waits), and for a pipelined response queued
 * behind another, on which Node never emits 'close' (its socket is not assigned yet). Call it once
 * per request, before the app runs.
 */
export function closeOnDisconnect(req: IncomingMessage, res: ServerResponse, response: { close(): void }): void {
  const socket = req.socket;
  if (socket === null || socket === undefined) return;
  if (socket.destroyed) {
    response.close();
    return;
  }
  let pending = inFlight.get(socket);
  if (pending === undefined) {
    pending = new Set();
    inFlight.set(socket, pending);
    socket.once('close', closeInFlight);
  }
  const close = (): void => {
    if (!res.writableFinished) response.close();
  };
  pending.add(close);
  const set = pending;
  res.once('finish', () => set.delete(close));
}

/**
 * Keeps a keep-alive connection sound when the app may leave the body unread: call it just before
 * the head goes out. Up to `drainLimit` unread bytes are drained after the response; past it, or when
 * the length is unknown, the connection closes after the response instead (SPEC §3).
 */
export function guardKeepAlive(req: IncomingMessage, res: ServerResponse, input: unknown, drainLimit = DEFAULT_DRAIN_LIMIT): void {
  if (req.complete && req.readableLength === 0) return;
  const limit = declaredBodyLength(req);
  if (limit === 0) return;
  const received = (input as { receivedBytes?: number }).receivedBytes ?? 0;
  if (limit - received > drainLimit) {
    res.shouldKeepAlive = false;
    return;
  }
  res.once('finish', () => {
    if (req.readableEnded || req.destroyed) return;
    // Node dumps a body nobody touched; one the app read in part would stall the connection.
    (input as { detach?: () => void }).detach?.();
    req.resume();
  });
}
