// `toNodeListener`: a node-wsgi app as a `node:http` request listener (SPEC §7), and `runOnNode`, the
// delivery every gateway that writes to a Node `ServerResponse` shares (our server, Express).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorForHost } from './app-error.js';
import { describeError, stderrErrors } from './errors.js';
import { AppResponse, runApp } from './gateway.js';
import { closeOnDisconnect, DEFAULT_DRAIN_LIMIT, hostEnviron } from './host.js';
import type { StreamInput } from './input.js';
import { sendResponse } from './node-response.js';
import { markAppListener, wrappedListener } from './round-trip.js';
import type { App, Environ, Errors } from './types.js';

export interface NodeListenerOptions {
  /** Show the error's stack in 500 bodies. Never in production [B11]. */
  debug?: boolean;
  /** Where `wsgi.errors` writes; the process's stderr by default. */
  errors?: Errors;
  /** `wsgi.multiprocess`; defaults to whether this process is a cluster worker. */
  multiprocess?: boolean;
  /** Unread request body the gateway drains to keep a connection alive; past it, it closes (default 1 MiB). */
  drainLimit?: number;
}

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface RunOnNodeOptions {
  debug: boolean;
  drainLimit: number;
  /**
   * An error before the head: the host's handler answers (Express `next(err)`) with a `WsgiAppError`
   * whose `cause` is the app's error (the error itself with `debug`); without it, a 500.
   */
  onError?: (err: unknown) => void;
  /** With fallthrough, a 404 from the app is closed unsent and this runs instead (Express `next()`). */
  onNotFound?: () => void;
}

/**
 * A node-wsgi app as a request listener for any `node:http` / `node:https` server. Register it for
 * `'checkContinue'` as well as `'request'` so that `100 Continue` waits for the app's first read.
 *
 * ```ts
 * const listener = toNodeListener(app);
 * http.createServer(listener).on('checkContinue', listener).listen(8000);
 * ```
 */
export function toNodeListener(app: App, options: NodeListenerOptions = {}): NodeListener {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/core: toNodeListener expects an app function, got ${app === null ? 'null' : typeof app}`);
  }
  // A round trip adds no layers: the listener an app wraps is served as it is.
  const inner = wrappedListener(app);
  if (typeof inner === 'function') return inner as NodeListener;
  const errors = options.errors ?? stderrErrors;
  const multiprocess = options.multiprocess;
  const run: RunOnNodeOptions = { debug: options.debug === true, drainLimit: options.drainLimit ?? DEFAULT_DRAIN_LIMIT };
  const environOptions = { errors, multiprocess };

  return markAppListener(function nodeWsgiListener(req: IncomingMessage, res: ServerResponse): void {
    runOnNode(app, hostEnviron(req, res, environOptions), req, res, run);
  }, app);
}

/** Runs an app for a Node request/response pair and delivers its answer to `res`. */
export function runOnNode(app: App, environ: Environ, req: IncomingMessage, res: ServerResponse, options: RunOnNodeOptions): void {
  const response = new AppResponse(environ);
  response.fallthrough = options.onNotFound !== undefined;
  let settled: AppResponse | Promise<AppResponse>;
  try {
    settled = runApp(app, environ, response);
  } catch (err) {
    fail(req, res, environ, err, options);
    return;
  }
  // [B7] a client that leaves while the head is pending, or while a streamed body waits behind a
  // pipelined response, still stops the body (a body in hand is closed as it is sent).
  if (settled instanceof AppResponse) {
    if (!settled.complete) closeOnDisconnect(req, res, settled);
    deliver(req, res, settled, options);
    return;
  }
  closeOnDisconnect(req, res, response);
  settled.then(
    (ready) => deliver(req, res, ready, options),
    (err: unknown) => fail(req, res, environ, err, options),
  );
}

function deliver(req: IncomingMessage, res: ServerResponse, response: AppResponse, options: RunOnNodeOptions): void {
  if (options.onNotFound !== undefined && response.statusCode === 404 && response.isClosed) {
    options.onNotFound();
    return;
  }
  const input = response.environ['wsgi.input'] as StreamInput;
  const keepAlive = settleKeepAlive(req, res, input, options.drainLimit);
  const sending = sendResponse(res, response);
  if (!keepAlive) return;
  if (sending === undefined) drainAfter(req, res, input);
  else sending.then(() => drainAfter(req, res, input));
}

// SPEC §3: an unread body is drained up to a bound so the connection can be reused; past the bound
// (or when its length is unknown) the connection closes after the response. Decided before the head.
function settleKeepAlive(req: IncomingMessage, res: ServerResponse, input: StreamInput, drainLimit: number): boolean {
  const bodyLength = bodyLengthOf(input);
  if (bodyLength === 0 || req.complete) return true;
  if (bodyLength - (input.receivedBytes ?? 0) <= drainLimit) return true;
  res.shouldKeepAlive = false;
  return false;
}

function drainAfter(req: IncomingMessage, res: ServerResponse, input: StreamInput): void {
  // A request without a body has nothing to drain, though Node marks it complete only later.
  if (bodyLengthOf(input) === 0 || req.complete || res.destroyed) return;
  // Node dumps a body nobody touched; one the app read in part would stall the connection.
  input.detach?.();
  req.resume();
}

// The declared length where the input is a live stream; a recovered body has nothing left to drain.
function bodyLengthOf(input: StreamInput): number {
  return typeof input.declared === 'number' ? input.declared : 0;
}

function fail(req: IncomingMessage, res: ServerResponse, environ: Environ, err: unknown, options: RunOnNodeOptions): void {
  if (options.onError !== undefined && !res.headersSent) {
    options.onError(errorForHost(environ, err, options.debug));
    return;
  }
  environ['wsgi.errors'].write(
    `node-wsgi: the app failed before the response started (${environ.REQUEST_METHOD} ${environ.REQUEST_URI ?? environ.PATH_INFO}); answering 500\n${describeError(err)}\n`,
  );
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const keepAlive = settleKeepAlive(req, res, environ['wsgi.input'] as StreamInput, options.drainLimit);
  const body = options.debug ? describeError(err) : 'Internal Server Error';
  res.writeHead(500, 'Internal Server Error', [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
  ]);
  res.end(body);
  if (keepAlive) drainAfter(req, res, environ['wsgi.input'] as StreamInput);
}
