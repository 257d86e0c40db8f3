// Peer: @whatwg-node/server inside a Fastify route.
import Fastify from 'fastify';
import { createServerAdapter } from '@whatwg-node/server';
import { reportReady } from './report.js';
import { fetchHandler } from './routes.js';

const adapter = createServerAdapter(fetchHandler);
const fastify = Fastify();
fastify.addContentTypeParser('*', (request, payload, done) => done(null));
fastify.route({ url: '/*', method: ['GET', 'POST'], handler: async (req, reply) => {
  const response = await adapter.handleNodeRequestAndResponse(req, reply, { req, reply });
  response.headers.forEach((value, key) => reply.header(key, value));
  reply.status(response.status);
  reply.send(response.body);
  return reply;
} });
await fastify.listen({ port: 0, host: '127.0.0.1' });
reportReady(fastify.server);
