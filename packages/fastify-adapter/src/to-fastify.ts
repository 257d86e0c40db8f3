// `toFastify`: a node-wsgi app as a Fastify plugin. It answers every method under its prefix, takes
// the raw body of any content type (a pass-through parser scoped to the plugin, so sibling routes
// keep theirs), and replies through `reply` so the host's hooks (onSend, compression) still run.
import {
  AppResponse,
  applyHeaders,
  closeOnDisconnect,
  errorForHost,
  guardKeepAlive,
  hasAmbiguousEscape,
  hasHeader,
  hostEnviron,
  ResponseReadable,
  runApp,
  type App,
  type Errors,
  type HeaderTarget,
} from '@node-wsgi/core';
import { METHODS } from 'node:http';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';

export interface ToFastifyOptions {
  /** When the app answers 404, close its body unsent and let Fastify's not-found handler answer. */
  fallthrough?: boolean;
  /**
   * Refuse (as not found) a path with an escaped `/`, `\` or unreserved character: host guards
   * match the raw path, the app's routes the decoded one (default true).
   */
  strictPaths?: boolean;
  /** Where `wsgi.errors` writes; the request's logger (`request.log.error`) by default. */
  errors?: Errors;
  /**
   * Hand Fastify's error handler the app's own error before the head. By default it gets a
   * `WsgiAppError` ("Internal Server Error", the app's error as `cause`), so the default handler's
   * JSON does not carry the app's message [B11]; the app's error goes to `wsgi.errors` either way.
   */
  debug?: boolean;
}

/**
 * A node-wsgi app as a Fastify plugin; register it with a prefix, which becomes `SCRIPT_NAME`.
 * Not wrapped in fastify-plugin on purpose: its body parser and routes stay inside its own context.
 *
 * ```ts
 * await fastify.register(toFastify(app), { prefix: '/legacy' });
 * ```
 */
export function toFastify(app: App, options: ToFastifyOptions = {}): FastifyPluginCallback {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/fastify: toFastify expects an app function, got ${app === null ? 'null' : typeof app}`);
  }
  const fallthrough = options.fallthrough === true;
  const strictPaths = options.strictPaths !== false;
  const fixedErrors = options.errors;
  const debug = options.debug === true;

  return function nodeWsgiPlugin(instance: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void {
    // The app reads the body itself, whatever its type: leave the stream untouched.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null, undefined));
    const prefix = instance.prefix;

    // Not an async function: a body already in hand is replied to before the handler returns, with no
    // promise for Fastify to wait on (an async handler costs a promise and a microtask per request).
    function handler(request: FastifyRequest, reply: FastifyReply): Promise<void> | void {
      const req = request.raw;
      if (strictPaths && hasAmbiguousEscape(req.url ?? '/')) {
        reply.callNotFound();
        return;
      }
      const environ = hostEnviron(req, reply.raw, {
        errors: fixedErrors ?? new RequestLogErrors(request),
        mountPrefix: prefix,
        body: { parsed: request.body, raw: (request as { rawBody?: unknown }).rawBody, host: 'Fastify' },
        extra: { 'fastify.request': request, 'fastify.reply': reply },
      });
      const pending = new AppResponse(environ);
      pending.fallthrough = fallthrough;
      // An error before the head goes to Fastify's error handler.
      let settled: AppResponse | Promise<AppResponse>;
      try {
        settled = runApp(app, environ, pending);
      } catch (err) {
        throw errorForHost(environ, err, debug);
      }
      // [B7] a client that leaves before the head, or while the body streams (or waits behind a
      // pipelined response), stops the body; a body already whole needs no watch.
      if (!(settled instanceof AppResponse) || !settled.complete) closeOnDisconnect(req, reply.raw, pending);
      if (settled instanceof AppResponse) return respond(request, reply, settled);
      // Resolving to `reply` (a thenable that settles when the response has finished) tells Fastify
      // the reply is handled, as `return reply` does in an async handler.
      return settled.then(
        (response): FastifyReply => {
          respond(request, reply, response);
          return reply;
        },
        (err: unknown) => {
          throw errorForHost(environ, err, debug);
        },
      ) as Promise<unknown> as Promise<void>;
    }

    function respond(request: FastifyRequest, reply: FastifyReply, response: AppResponse): void {
      const req = request.raw;
      if (fallthrough && response.statusCode === 404) {
        response.close();
        reply.callNotFound();
        return;
      }
      guardKeepAlive(req, reply.raw, response.environ['wsgi.input']);
      reply.code(response.statusCode);
      reply.raw.statusMessage = response.reason;
      headerReply = reply;
      applyHeaders(response.headers, replyHeaders);
      headerReply = null;
      // Fastify types a Buffer as octet-stream when the app gave no type [B8]; a stream it leaves alone.
      if (!response.bodyless && response.complete && response.missingBytes === 0 && hasHeader(response.headers, 'content-type')) {
        const chunks = response.takeReady();
        response.close();
        // A computed length is left to Fastify, which sets it from the Buffer after the onSend hooks
        // (as for a native route's Buffer), so a hook that changes the payload gets it right too.
        reply.send(chunks.length === 1 ? asBuffer(chunks[0]!) : Buffer.concat(chunks));
        return;
      }
      if (response.lengthComputed) reply.header('content-length', String(response.contentLength));
      if (response.bodyless) {
        // SPEC §7: no stream for HEAD, 1xx, 204 and 304: Fastify would pump it into the void.
        reply.send();
        return;
      }
      reply.send(new ResponseReadable(response, reply.raw));
    }

    try {
      // SPEC §7: every method under the prefix, also those Node parses and Fastify does not route by
      // default (LINK, PROPFIND, MKCOL ...); Fastify keeps one list, so the host accepts them too.
      // CONNECT never reaches a request listener.
      for (const method of METHODS) {
        if (method !== 'CONNECT' && !instance.supportedMethods.includes(method)) instance.addHttpMethod(method, { hasBody: true });
      }
      for (const url of ['/', '/*']) {
        // A route the host already has (@fastify/cors's OPTIONS '*' at the root) stays the host's.
        const free = instance.supportedMethods.filter((method) => !instance.hasRoute({ method, url: prefix + url }));
        if (free.length === 0) {
          throw new Error(`@node-wsgi/fastify: toFastify has no method left to answer at '${prefix + url}': the host already routes them all there; register it under a prefix of its own`);
        }
        instance.route({ method: free, url, handler });
      }
    } catch (err) {
      // Said at once, not as a plugin timeout ten seconds later.
      done(err as Error);
      return;
    }
    done();
  };
}

// applyHeaders runs synchronously, so one target serves every request: no closures per request.
let headerReply: FastifyReply | null = null;
const replyHeaders: HeaderTarget = {
  set: (name, value) => void headerReply!.header(name, value),
  appendCookie: (value) => void headerReply!.header('set-cookie', value),
};

/** `wsgi.errors` for one request: its logger, at error level. */
class RequestLogErrors implements Errors {
  constructor(private readonly request: FastifyRequest) {}

  write(s: string): void {
    try {
      this.request.log.error(typeof s === 'string' ? s.trimEnd() : String(s));
    } catch {
      // wsgi.errors accepts anything and never throws (PEP 3333).
    }
  }

  writelines(seq: Iterable<string>): void {
    for (const s of seq) this.write(s);
  }

  flush(): void {}
}

// Fastify takes Buffers, not other Uint8Arrays; wrapping shares the memory, it does not copy.
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
