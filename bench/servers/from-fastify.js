// Through the bridge: served by serve() behind a pass-through middleware (so not the round trip).
import Fastify from 'fastify';
import { serve } from '@node-wsgi/core';
import { fromFastify } from '@node-wsgi/fastify';
import { reportReady } from './report.js';
import { fastifyRoutes, passThrough } from './routes.js';

const fastify = Fastify();
await fastifyRoutes(fastify);
reportReady(await serve(passThrough(fromFastify(fastify)), { port: 0, handleSignals: false }));
