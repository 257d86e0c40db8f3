// Native Fastify routes whose hello answer is a Buffer, as a node-wsgi body always is (a reference:
// Node writes a string body with its head in one write, a Buffer after it in a second).
import Fastify from 'fastify';
import { reportReady } from './report.js';
import { fastifyRoutes } from './routes.js';

const fastify = Fastify();
await fastifyRoutes(fastify, { bytes: true });
await fastify.listen({ port: 0, host: '127.0.0.1' });
reportReady(fastify.server);
