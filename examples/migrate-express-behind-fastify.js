// Migrate an Express app to Fastify one route at a time: Fastify answers what has been ported, and
// the legacy Express app, mounted with `fallthrough`, answers the rest; what neither knows gets
// Fastify's own 404. `node examples/migrate-express-behind-fastify.js`.
import express from 'express';
import Fastify from 'fastify';
import { fromExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';

export async function migrating() {
  const legacy = express();
  legacy.get('/users', (req, res) => res.json({ from: 'legacy express', users: ['ada'] }));
  legacy.get('/orders', (req, res) => res.json({ from: 'legacy express', orders: [] }));

  const fastify = Fastify();
  // Already ported: Fastify's own route wins.
  fastify.get('/users', async () => ({ from: 'fastify', users: ['ada', 'grace'] }));
  // Everything else goes to the legacy app; its 404s come back to Fastify's not-found handler.
  await fastify.register(toFastify(fromExpress(legacy), { fallthrough: true }));
  return fastify;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fastify = await migrating();
  await fastify.listen({ port: Number(process.env.PORT ?? 8000) });
  console.log('http://127.0.0.1:8000/users (Fastify)  /orders (legacy Express)  /nope (Fastify 404)');
}
