// `toExpress`: a node-wsgi app as Express middleware. The response goes out through Express's own
// `res`, so middleware that wraps it (compression, on-headers hooks) still applies.
import {
  AppResponse,
  closeOnDisconnect,
  guardKeepAlive,
  hostEnviron,
  runApp,
  sendResponse,
  stderrErrors,
  type App,
  type Errors,
} from '@node-wsgi/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface ToExpressOptions {
  /** When the app answers 404, close its body unsent and call `next()` instead. */
  fallthrough?: boolean;
  /** Where `wsgi.errors` writes; the process's stderr by default (Express has no logger). */
  errors?: Errors;
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
  const errors = options.errors ?? stderrErrors;

  return function nodeWsgiExpress(req: Request, res: Response, next: NextFunction): void {
    const environ = hostEnviron(req, res, {
      errors,
      fullTarget: req.originalUrl,
      innerTarget: req.url,
      body: { parsed: req.body, raw: (req as { rawBody?: unknown }).rawBody, host: 'Express' },
      extra: { 'express.request': req, 'express.response': res },
    });
    const pending = new AppResponse(environ);
    pending.fallthrough = fallthrough;
    const deliver = (response: AppResponse): void => {
      if (fallthrough && response.statusCode === 404) {
        response.close();
        next();
        return;
      }
      guardKeepAlive(req, res, environ['wsgi.input']);
      const sending = sendResponse(res, response);
      // sendResponse never rejects: body errors after the head abort the connection [B6].
      if (sending !== undefined) sending.catch(next);
    };
    let settled: AppResponse | Promise<AppResponse>;
    try {
      settled = runApp(app, environ, pending);
    } catch (err) {
      // Before the head: Express's error handling answers.
      next(err);
      return;
    }
    // [B7] a client that leaves before the head, or while a streamed body waits behind a pipelined
    // response, still stops the body (a body in hand is closed as it is sent).
    if (!(settled instanceof AppResponse) || !settled.complete) closeOnDisconnect(req, res, pending);
    if (settled instanceof AppResponse) deliver(settled);
    else settled.then(deliver, next);
  };
}
