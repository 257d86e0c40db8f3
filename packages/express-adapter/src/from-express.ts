// `fromExpress`: an Express app (or router) as a node-wsgi app, so it can be served by `serve()`,
// composed with node-wsgi middleware, or mounted in another framework.
import { fromNodeListener, type App } from '@node-wsgi/core';
import type { Express, Router } from 'express';

/**
 * Wraps an Express app. Inside it, `req.url` is the path under `SCRIPT_NAME`, `req.originalUrl` the
 * full `REQUEST_URI`, and `req.ip`, `req.protocol`, `req.hostname` follow `REMOTE_ADDR`,
 * `wsgi.url_scheme` and `HTTP_HOST`.
 *
 * ```ts
 * await serve(fromExpress(expressApp), { port: 8000 });
 * ```
 */
export function fromExpress(app: Express | Router): App {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/express: fromExpress expects an Express app or router, got ${app === null ? 'null' : typeof app}`);
  }
  return fromNodeListener(app as unknown as Parameters<typeof fromNodeListener>[0]);
}
