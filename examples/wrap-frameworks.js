// Wrap an Express, a Koa and a Fastify app as node-wsgi apps and serve them side by side from one
// server: `node examples/wrap-frameworks.js`.
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { mount, serve, serverUrl } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { fromFastify } from '@node-wsgi/fastify';
import { fromKoa } from '@node-wsgi/koa';

export function wrapped() {
  const shop = express();
  shop.get('/items', (req, res) => res.json({ from: 'express', url: req.url, originalUrl: req.originalUrl }));
  const blog = new Koa();
  blog.use((ctx) => {
    ctx.body = { from: 'koa', path: ctx.path };
  });
  const api = Fastify();
  api.get('/status', async () => ({ from: 'fastify', ok: true }));
  return mount({ '/shop': fromExpress(shop), '/blog': fromKoa(blog), '/api': fromFastify(api) });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(wrapped(), { port: Number(process.env.PORT ?? 8000) });
  const url = serverUrl(server);
  console.log(`${url}/shop/items  ${url}/blog/post  ${url}/api/status`);
}
