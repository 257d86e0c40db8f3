// Mount one node-wsgi app in Express, Fastify and Koa: `node examples/mount-in-frameworks.js`.
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaMount from 'koa-mount';
import { toExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';
import { toKoa } from '@node-wsgi/koa';

/** The app every framework mounts: it tells where it was mounted. */
export function whereAmI(environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({ SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO })];
}

export function expressHost() {
  const app = express();
  app.use('/legacy', toExpress(whereAmI));
  return app;
}

export async function fastifyHost() {
  const fastify = Fastify();
  await fastify.register(toFastify(whereAmI), { prefix: '/legacy' });
  return fastify;
}

export function koaHost() {
  const koa = new Koa();
  koa.use(koaMount('/legacy', toKoa(whereAmI)));
  return koa;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  expressHost().listen(3001, () => console.log('Express: http://127.0.0.1:3001/legacy/x'));
  await (await fastifyHost()).listen({ port: 3002 });
  console.log('Fastify: http://127.0.0.1:3002/legacy/x');
  koaHost().listen(3003, () => console.log('Koa:     http://127.0.0.1:3003/legacy/x'));
}
