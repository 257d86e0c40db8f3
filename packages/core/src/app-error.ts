// What a host's own error handling is handed for an app error before the head (SPEC §7): Express's
// `next(err)`, Fastify's error handler, Koa's chain. Hosts put an error's message, and outside
// production its stack, on their 500 pages, which B11 forbids unless the gateway was told to show
// them; so the host gets an error that says only "Internal Server Error", with the app's error as
// its `cause`, and the app's error itself goes to `wsgi.errors` [B6].
import { describeError } from './errors.js';
import type { Environ } from './types.js';

/** The error a host's error handling gets for an app that failed before its head; `cause` is the app's error. */
export class WsgiAppError extends Error {
  override name = 'WsgiAppError';
  /** Read by Express (`status`), Fastify (`statusCode`) and Koa (`status`, `expose`). */
  readonly status = 500;
  readonly statusCode = 500;
  readonly expose = false;

  constructor(cause: unknown) {
    super('Internal Server Error', { cause });
    // No frames: a host that prints the stack on its page shows nothing of the app's internals.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * Logs an app error before the head to `wsgi.errors` and returns what the host's error handling
 * should get: the error itself with `debug`, else a `WsgiAppError` carrying it as `cause`.
 */
export function errorForHost(environ: Environ, err: unknown, debug: boolean): unknown {
  environ['wsgi.errors'].write(
    `node-wsgi: the app failed before the response started (${environ.REQUEST_METHOD} ${environ.REQUEST_URI ?? environ.PATH_INFO}); the host's error handling answers\n${describeError(err)}\n`,
  );
  return debug ? err : new WsgiAppError(err);
}
