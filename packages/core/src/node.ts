// `toNodeListener`: a node-wsgi app as a `node:http` request listener (SPEC §7), the gateway our
// server and every host that hands us a Node request/response pair share.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildEnviron, isChunked } from './environ.js';
import { describeError, stderrErrors } from './errors.js';
import { fileWrapper } from './file-wrapper.js';
import { AppResponse, runApp } from './gateway.js';
import { StreamInput } from './input.js';
import { sendResponse } from './node-response.js';
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

/** Node's private 100-continue bookkeeping on ServerResponse (stable since Node 0.x). */
interface ContinueState {
  _expect_continue?: boolean;
  _sent100?: boolean;
}

const DEFAULT_DRAIN_LIMIT = 1024 * 1024;

/** The body length a request declares: its Content-Length, unbounded when chunked, else none. */
export function declaredBodyLength(req: IncomingMessage): number {
  if (isChunked(req)) return Infinity;
  const header = req.headers['content-length'];
  if (header === undefined) return 0;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : 0;
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
  const errors = options.errors ?? stderrErrors;
  const debug = options.debug === true;
  const multiprocess = options.multiprocess;
  const drainLimit = options.drainLimit ?? DEFAULT_DRAIN_LIMIT;

  return function nodeWsgiListener(req: IncomingMessage, res: ServerResponse): void {
    const bodyLength = declaredBodyLength(req);
    const input = new StreamInput(req, bodyLength);
    const state = res as ContinueState;
    if (state._expect_continue === true && state._sent100 !== true) {
      // SPEC §3: 100 Continue goes out on the first read, and never after the final head.
      input.onFirstRead = () => {
        if (!res.headersSent && state._sent100 !== true) res.writeContinue();
      };
    }
    const environ = buildEnviron(req, { input, errors, multiprocess, fileWrapper });
    const response = new AppResponse(environ);
    let settled: AppResponse | Promise<AppResponse>;
    try {
      settled = runApp(app, environ, response);
    } catch (err) {
      sendError(req, res, input, environ, err, debug, bodyLength, drainLimit);
      return;
    }
    if (settled instanceof AppResponse) {
      deliver(req, res, input, settled, bodyLength, drainLimit);
      return;
    }
    // The head is not known yet: a client that leaves meanwhile still stops the body [B7].
    const onClose = (): void => {
      if (!res.writableEnded) response.close();
    };
    res.on('close', onClose);
    settled.then(
      (ready) => {
        res.off('close', onClose);
        deliver(req, res, input, ready, bodyLength, drainLimit);
      },
      (err: unknown) => {
        res.off('close', onClose);
        sendError(req, res, input, environ, err, debug, bodyLength, drainLimit);
      },
    );
  };
}

function deliver(
  req: IncomingMessage,
  res: ServerResponse,
  input: StreamInput,
  response: AppResponse,
  bodyLength: number,
  drainLimit: number,
): void {
  const keepAlive = settleKeepAlive(req, res, input, bodyLength, drainLimit);
  const sending = sendResponse(res, response);
  if (!keepAlive) return;
  if (sending === undefined) drainAfter(req, res, input);
  else sending.then(() => drainAfter(req, res, input));
}

// SPEC §3: an unread body is drained up to a bound so the connection can be reused; past the bound
// (or when its length is unknown) the connection closes after the response. Decided before the head.
function settleKeepAlive(
  req: IncomingMessage,
  res: ServerResponse,
  input: StreamInput,
  bodyLength: number,
  drainLimit: number,
): boolean {
  if (bodyLength === 0 || req.complete) return true;
  if (bodyLength - input.receivedBytes <= drainLimit) return true;
  res.shouldKeepAlive = false;
  return false;
}

function drainAfter(req: IncomingMessage, res: ServerResponse, input: StreamInput): void {
  if (req.complete || res.destroyed) return;
  // Node dumps a body nobody touched; one the app read in part would stall the connection.
  input.detach();
  req.resume();
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  input: StreamInput,
  environ: Environ,
  err: unknown,
  debug: boolean,
  bodyLength: number,
  drainLimit: number,
): void {
  environ['wsgi.errors'].write(
    `node-wsgi: the app failed before the response started (${environ.REQUEST_METHOD} ${environ.PATH_INFO}); answering 500\n${describeError(err)}\n`,
  );
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const keepAlive = settleKeepAlive(req, res, input, bodyLength, drainLimit);
  const body = debug ? describeError(err) : 'Internal Server Error';
  res.writeHead(500, 'Internal Server Error', [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
  ]);
  res.end(body);
  if (keepAlive) drainAfter(req, res, input);
}
