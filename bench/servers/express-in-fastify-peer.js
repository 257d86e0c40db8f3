// Peer: Express inside Fastify through @fastify/express.
import Fastify from 'fastify';
import fastifyExpress from '@fastify/express';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

const fastify = Fastify();
await fastify.register(fastifyExpress);
fastify.use(await expressApp());
await fastify.listen({ port: 0, host: '127.0.0.1' });
reportReady(fastify.server);
