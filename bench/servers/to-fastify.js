// The node-wsgi app registered in Fastify: toFastify(app).
import Fastify from 'fastify';
import { toFastify } from '@node-wsgi/fastify';
import { reportReady } from './report.js';
import { wsgiApp } from './routes.js';

const fastify = Fastify();
await fastify.register(toFastify(wsgiApp));
await fastify.listen({ port: 0, host: '127.0.0.1' });
reportReady(fastify.server);
