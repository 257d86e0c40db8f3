// `toKoa`: a node-wsgi app as Koa middleware. The response goes back the Koa way (`ctx.status`,
// headers, `ctx.body` as a stream), so middleware upstream sees it and may change it after `await next()`.
import {
  AppResponse,
  applyHeaders,
  closeOnDisconnect,
  errorForHost,
  hasAmbiguousEscape,
  hasHeader,
  guardKeepAlive,
  hostEnviron,
  ResponseReadable,
  runApp,
  stderrErrors,
  type App,
  type Errors,
  type HeaderTarget,
} from '@node-wsgi/core';
import type { ServerResponse } from 'node:http';
import type { Context, Middleware, Next } from 'koa';

export interface ToKoaOptions {
  /** When the app answers 404, close its body unsent and run the next Koa middleware instead. */
  fallthrough?: boolean;
  /**
   * Refuse (as not found) a path with an escaped `/`, `\` or unreserved character: host guards
   * match the raw path, the app's routes the decoded one (default true).
   */
  strictPaths?: boolean;
  /** Where `wsgi.errors` writes; the process's stderr by default (Koa has no logger). */
  errors?: Errors;
  /**
   * Throw the app's own error into Koa's chain before the head. By default the chain gets a
   * `WsgiAppError` ("Internal Server Error", `expose: false`, the app's error as `cause`) [B11];
   * the app's error goes to `wsgi.errors` either way.
   */
  debug?: boolean;
}

/**
 * A node-wsgi app as Koa middleware; mount it with koa-mount so `SCRIPT_NAME` is the mount path.
 *
 * ```ts
 * koa.use(mount('/legacy', toKoa(app)));
 * ```
 */
export function toKoa(app: App, options: ToKoaOptions = {}): Middleware {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/koa: toKoa expects an app function, got ${app === null ? 'null' : typeof app}`);
  }
  const fallthrough = options.fallthrough === true;
  const strictPaths = options.strictPaths !== false;
  const errors = options.errors ?? stderrErrors;
  const debug = options.debug === true;

  return async function nodeWsgiKoa(ctx: Context, next: Next): Promise<void> {
    if (strictPaths && hasAmbiguousEscape(ctx.originalUrl)) return next();
    const request = ctx.request as { body?: unknown; rawBody?: unknown };
    const environ = hostEnviron(ctx.req, ctx.res, {
      errors,
      fullTarget: ctx.originalUrl,
      innerTarget: ctx.url,
      // Koa keeps a parsed body on ctx.request, not on the Node request (graphql-yoga#3670).
      body: { parsed: request.body ?? (ctx.req as { body?: unknown }).body, raw: request.rawBody ?? (ctx.req as { rawBody?: unknown }).rawBody, host: 'Koa', textDecodedAsUtf8: true },
      extra: { 'koa.context': ctx },
    });
    const pending = new AppResponse(environ);
    pending.fallthrough = fallthrough;
    // An error before the head is thrown into Koa's chain: upstream handlers or Koa's onerror answer.
    let settled: AppResponse | Promise<AppResponse>;
    try {
      settled = runApp(app, environ, pending);
    } catch (err) {
      throw errorForHost(environ, err, debug);
    }
    // [B7] a client that leaves before the head, or while the body streams (or waits behind a
    // pipelined response), stops the body; a body already whole needs no watch.
    if (!(settled instanceof AppResponse) || !settled.complete) closeOnDisconnect(ctx.req, ctx.res, pending);
    let response: AppResponse;
    if (settled instanceof AppResponse) {
      response = settled;
    } else {
      try {
        response = await settled;
      } catch (err) {
        throw errorForHost(environ, err, debug);
      }
    }
    if (fallthrough && response.statusCode === 404) {
      response.close();
      return next();
    }
    guardKeepAlive(ctx.req, ctx.res, environ['wsgi.input']);
    ctx.status = response.statusCode;
    ctx.message = response.reason;
    const hostTyped = ctx.res.hasHeader('Content-Type');
    // The app's headers go first: a body set after them finds the app's type and skips Koa's own
    // 'bin' lookup, and a Buffer body gives Koa the length the head declares (the bytes are clamped to it).
    headerContext = ctx;
    applyHeaders(response.headers, contextHeaders);
    headerContext = null;
    if (!response.bodyless && response.complete && response.missingBytes === 0) {
      // Every byte is in hand: one Buffer, which Koa sends with one write and its own length.
      const chunks = response.takeReady();
      response.close();
      ctx.body = chunks.length === 1 ? asBuffer(chunks[0]!) : Buffer.concat(chunks);
    } else {
      // A stream body even when there is none to send: Koa would turn `null` into a 204 and an empty
      // Buffer into `Content-Length: 0`, where HEAD must keep the app's length.
      ctx.body = new ResponseReadable(response);
      // Koa drops the length when a stream replaces a body upstream set; a computed one is ours to add.
      if (response.contentLength !== -1 && !ctx.res.hasHeader('Content-Length')) ctx.length = response.contentLength;
    }
    if (!hostTyped && !hasHeader(response.headers, 'content-type')) ctx.remove('Content-Type');
    if (isEmptyForKoa(response.statusCode)) keepHeadersOfEmpty(ctx.res, response.headers);
  };
}

// Koa's respond() sets `ctx.body = null` for a 204, 205 or 304, which removes the Content-Type and
// Content-Length the app gave (a 304's describe the representation; a CORS preflight's 204 says
// `Content-Length: 0`), where B4 and B8 keep them. They are put back as the head goes out, for that
// one response: whatever writeHead was there (compression's on-headers) still runs.
function isEmptyForKoa(code: number): boolean {
  return code === 204 || code === 205 || code === 304;
}

const kKept = Symbol('node-wsgi.emptyStatusHeaders');
const kWriteHeadBefore = Symbol('node-wsgi.writeHeadBefore');
type HeaderKeeping = ServerResponse & { [kKept]?: Array<[string, string]>; [kWriteHeadBefore]?: ServerResponse['writeHead'] };

function keepHeadersOfEmpty(res: ServerResponse, headers: ReadonlyArray<readonly [string, string]>): void {
  let kept: Array<[string, string]> | null = null;
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (key === 'content-length' || key === 'content-type') (kept ??= []).push([name, value]);
  }
  if (kept === null) return;
  const keeping = res as HeaderKeeping;
  keeping[kKept] = kept;
  keeping[kWriteHeadBefore] = res.writeHead;
  keeping.writeHead = writeHeadKeepingHeaders as ServerResponse['writeHead'];
}

function writeHeadKeepingHeaders(this: HeaderKeeping, ...args: unknown[]): ServerResponse {
  const kept = this[kKept];
  if (kept !== undefined && isEmptyForKoa(this.statusCode)) {
    for (const [name, value] of kept) if (!this.hasHeader(name)) this.setHeader(name, value);
  }
  return (this[kWriteHeadBefore] as (...a: unknown[]) => ServerResponse).apply(this, args);
}

// Koa takes Buffers, not other Uint8Arrays; wrapping shares the memory, it does not copy.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// applyHeaders runs synchronously, so one target serves every request: no closures per request.
let headerContext: Context | null = null;
const contextHeaders: HeaderTarget = {
  set: (name, value) => headerContext!.set(name, value),
  appendCookie: (value) => headerContext!.append('Set-Cookie', value),
};
