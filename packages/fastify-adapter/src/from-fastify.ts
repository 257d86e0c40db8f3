// `fromFastify`: a Fastify instance as a node-wsgi app, routed through the instance itself (its
// router, hooks and error handling), never through a listening socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNodeListener, type App, type Environ, type StartResponse } from '@node-wsgi/core';
import type { FastifyInstance } from 'fastify';

/**
 * Wraps a Fastify instance. Requests wait for its `ready()` (plugins loaded) the first time only.
 *
 * ```ts
 * await serve(fromFastify(fastify), { port: 8000 });
 * ```
 */
export function fromFastify(instance: FastifyInstance): App {
  if (instance === null || typeof instance !== 'object' || typeof (instance as { routing?: unknown }).routing !== 'function') {
    throw new TypeError(`@node-wsgi/fastify: fromFastify expects a Fastify instance (Fastify()), got ${instance === null ? 'null' : typeof instance}`);
  }
  const inner = fromNodeListener((req: IncomingMessage, res: ServerResponse) => instance.routing(req, res));
  let ready = false;
  const readying: Promise<void> = Promise.resolve(instance.ready()).then(() => {
    ready = true;
  });
  // Until then a failed ready() is reported by each request that waits on it.
  readying.catch(() => {});
  return function fastifyApp(environ: Environ, startResponse: StartResponse) {
    if (ready) return inner(environ, startResponse);
    return readying.then(async () => inner(environ, startResponse));
  };
}
