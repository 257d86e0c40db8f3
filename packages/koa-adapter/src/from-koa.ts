// `fromKoa`: a Koa app as a node-wsgi app.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNodeListener, type App } from '@node-wsgi/core';
import type Koa from 'koa';

/**
 * Wraps a Koa app through its own request handler (`app.callback()`), so its middleware, error
 * handling and `ctx.cookies` behave as when it listens itself. Mounted under a prefix, `ctx.url` is
 * the path under `SCRIPT_NAME` and `ctx.originalUrl` the full `REQUEST_URI`, as with `koa-mount`.
 *
 * ```ts
 * await serve(fromKoa(koaApp), { port: 8000 });
 * ```
 */
export function fromKoa(app: Koa): App {
  if (app === null || typeof app !== 'object' || typeof (app as { callback?: unknown }).callback !== 'function') {
    throw new TypeError(`@node-wsgi/koa: fromKoa expects a Koa app (new Koa()), got ${app === null ? 'null' : typeof app}`);
  }
  // Koa takes ctx.originalUrl from req.url; behind a mount the full target is req.originalUrl. A view
  // of the app (its prototype is the app) carries the one change, so the app itself stays untouched.
  // callback() adds Koa's default error listener when there is none; add it to the app itself first,
  // as app.listen() would, so that the view does not write to the app's listener bookkeeping.
  if (app.listenerCount('error') === 0) app.on('error', app.onerror);
  const view = Object.create(app) as Koa;
  view.createContext = function createContext(req: IncomingMessage, res: ServerResponse) {
    // Made by the app itself, so ctx.app is the app, not the view.
    const ctx = app.createContext(req, res);
    const mounted = req as { originalUrl?: string; baseUrl?: string };
    if (mounted.originalUrl !== undefined) ctx.originalUrl = ctx.request.originalUrl = mounted.originalUrl;
    // What koa-mount sets for a mounted app: the prefix (SCRIPT_NAME), so links can be built under it.
    if (mounted.baseUrl) (ctx as { mountPath?: string }).mountPath = mounted.baseUrl;
    return ctx;
  } as Koa['createContext'];
  return fromNodeListener(app.callback.call(view));
}
