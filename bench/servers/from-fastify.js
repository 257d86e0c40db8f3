// The Fastify instance wrapped as a node-wsgi app: serve(fromFastify(instance)).
import Fastify from 'fastify';
import { serve } from '@node-wsgi/core';
import { fromFastify } from '@node-wsgi/fastify';
import { reportReady } from './report.js';
import { fastifyRoutes } from './routes.js';

const fastify = Fastify();
await fastifyRoutes(fastify);
reportReady(await serve(fromFastify(fastify), { port: 0, handleSignals: false }));
