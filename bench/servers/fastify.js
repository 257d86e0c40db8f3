// Native Fastify routes.
import Fastify from 'fastify';
import { reportReady } from './report.js';
import { fastifyRoutes } from './routes.js';

const fastify = Fastify();
await fastifyRoutes(fastify);
await fastify.listen({ port: 0, host: '127.0.0.1' });
reportReady(fastify.server);
