// `toExpress`: a node-wsgi app as Express middleware. The response goes out through Express's own
// `res`, so middleware that wraps it (compression, on-headers hooks) still applies. The delivery is
// core's, the same as our own server's; what this file adds is what only Express knows.
import { DEFAULT_DRAIN_LIMIT, hasAmbiguousEscape, hostEnviron, runOnNode, stderrErrors, type App, type Errors, type RunOnNodeOptions } from '@node-wsgi/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface ToExpressOptions {
  /** When the app answers 404, close its body unsent and call `next()` instead. */
  fallthrough?: boolean;
  /** Where `wsgi.errors` writes; the process's stderr by default (Express has no logger). */
  errors?: Errors;
  /**
   * Refuse (with `next()`, so Express answers 404) a path with an escaped `/`, `\` or unreserved
   * character: Express guards match the raw path, the app's routes the decoded one (default true).
   */
  strictPaths?: boolean;
  /**
   * Hand Express's error handling the app's own error before the head. By default it gets a
   * `WsgiAppError` ("Internal Server Error", the app's error as `cause`), so no page shows the app's
   * message or stack [B11]; the app's error goes to `wsgi.errors` either way.
   */
  debug?: boolean;
}

/**
 * A node-wsgi app as Express middleware; the mount path becomes `SCRIPT_NAME`.
 *
 * ```ts
 * expressApp.use('/legacy', toExpress(app));
 * ```
 */
export function toExpress(app: App, options: ToExpressOptions = {}): RequestHandler {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/express: toExpress expects an app function, got ${app === null ? 'null' : typeof app}`);
  }
  const fallthrough = options.fallthrough === true;
  const strictPaths = options.strictPaths !== false;
  const errors = options.errors ?? stderrErrors;
  const debug = options.debug === true;

  return function nodeWsgiExpress(req: Request, res: Response, next: NextFunction): void {
    // Outside Express (a bare `(req, res, next)` caller, connect before its first `use`) there is
    // no `originalUrl`: the target is `req.url` as Node parsed it.
    const fullTarget = req.originalUrl ?? req.url;
    if (strictPaths && hasAmbiguousEscape(fullTarget)) {
      next();
      return;
    }
    const environ = hostEnviron(req, res, {
      errors,
      fullTarget,
      innerTarget: req.url,
      body: { parsed: req.body, raw: (req as { rawBody?: unknown }).rawBody, host: 'Express' },
      extra: { 'express.request': req, 'express.response': res },
    });
    // Errors before the head go to Express's error handling; with fallthrough, a 404 to next().
    const run: RunOnNodeOptions = { debug, drainLimit: DEFAULT_DRAIN_LIMIT, onError: next };
    if (fallthrough) run.onNotFound = next;
    runOnNode(app, environ, req, res, run);
  };
}
