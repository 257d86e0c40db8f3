// `fromKoa`: a Koa app as a node-wsgi app.
import { fromNodeListener, type App } from '@node-wsgi/core';
import type Koa from 'koa';

/**
 * Wraps a Koa app through its own request handler (`app.callback()`), so its middleware, error
 * handling and `ctx.cookies` behave as when it listens itself.
 *
 * ```ts
 * await serve(fromKoa(koaApp), { port: 8000 });
 * ```
 */
export function fromKoa(app: Koa): App {
  if (app === null || typeof app !== 'object' || typeof (app as { callback?: unknown }).callback !== 'function') {
    throw new TypeError(`@node-wsgi/koa: fromKoa expects a Koa app (new Koa()), got ${app === null ? 'null' : typeof app}`);
  }
  return fromNodeListener(app.callback());
}
