// Framework-neutral middleware, written once as a node-wsgi middleware and used in Express, Koa and
// Fastify alike: it adds a request id header and times the response.
// `node examples/neutral-middleware.js`.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { serve, serverUrl } from '@node-wsgi/core';
import { fromExpress, toExpress } from '@node-wsgi/express';

/** A middleware is an app that wraps an app (SPEC §6): it passes excInfo on and keeps the body as is. */
export function requestId(app) {
  return function withRequestId(environ, startResponse) {
    const id = environ.HTTP_X_REQUEST_ID ?? randomUUID();
    const started = performance.now();
    return app(environ, (status, headers, excInfo) =>
      startResponse(status, [...headers, ['X-Request-Id', id], ['Server-Timing', `app;dur=${(performance.now() - started).toFixed(1)}`]], excInfo),
    );
  };
}

/** Used around an Express app, served by node-wsgi... */
export function expressWithRequestId() {
  const app = express();
  app.get('/', (req, res) => res.send('hello from Express'));
  return requestId(fromExpress(app));
}

/** ...or around any node-wsgi app, mounted back into Express. */
export function expressHostWithRequestId(inner) {
  const host = express();
  host.use('/wsgi', toExpress(requestId(inner)));
  return host;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(expressWithRequestId(), { port: Number(process.env.PORT ?? 8000) });
  console.log(`${serverUrl(server)}/  (see the X-Request-Id and Server-Timing headers)`);
}
