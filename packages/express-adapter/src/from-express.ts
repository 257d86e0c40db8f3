// `fromExpress`: an Express app (or router) as a node-wsgi app, so it can be served by `serve()`,
// composed with node-wsgi middleware, or mounted in another framework.
import { fromNodeListener, type App } from '@node-wsgi/core';
import express, { type Express, type Router } from 'express';

type Listener = Parameters<typeof fromNodeListener>[0];

/**
 * Wraps an Express app. Inside it, `req.url` is the path under `SCRIPT_NAME`, `req.originalUrl` the
 * full `REQUEST_URI`, and `req.ip`, `req.protocol`, `req.hostname` follow `REMOTE_ADDR`,
 * `wsgi.url_scheme` and `HTTP_HOST`. A router runs inside a bare Express app, as it always does
 * natively (alone it has no final handler: `router(req, res)` throws without a `next`).
 *
 * ```ts
 * await serve(fromExpress(expressApp), { port: 8000 });
 * ```
 */
export function fromExpress(app: Express | Router): App {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/express: fromExpress expects an Express app or router, got ${app === null ? 'null' : typeof app}`);
  }
  const isApp = typeof (app as Partial<Express>).set === 'function' && typeof (app as Partial<Express>).settings === 'object';
  if (isApp) return fromNodeListener(app as unknown as Listener);
  const host = express();
  host.disable('x-powered-by');
  host.use(app);
  return fromNodeListener(host as unknown as Listener);
}
