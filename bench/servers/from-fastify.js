// Behind a pass-through node-wsgi middleware, served by serve(): the synthetic request and response
// are used (no round trip), which is what composing with middleware costs.
import Fastify from 'fastify';
import { serve } from '@node-wsgi/core';
import { fromFastify } from '@node-wsgi/fastify';
import { reportReady } from './report.js';
import { fastifyRoutes, passThrough } from './routes.js';

const fastify = Fastify();
await fastifyRoutes(fastify);
reportReady(await serve(passThrough(fromFastify(fastify)), { port: 0, handleSignals: false }));
