// Express inside Fastify through node-wsgi: toFastify(fromExpress(app)).
import Fastify from 'fastify';
import { fromExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

const fastify = Fastify();
await fastify.register(toFastify(fromExpress(await expressApp())));
await fastify.listen({ port: 0, host: '127.0.0.1' });
reportReady(fastify.server);
