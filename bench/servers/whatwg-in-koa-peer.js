// Peer: @whatwg-node/server inside Koa.
import Koa from 'koa';
import { createServerAdapter } from '@whatwg-node/server';
import { reportReady } from './report.js';
import { fetchHandler } from './routes.js';

const adapter = createServerAdapter(fetchHandler);
const koa = new Koa();
koa.use(async (ctx) => {
  const response = await adapter.handleNodeRequestAndResponse(ctx.request, ctx.res, ctx);
  ctx.status = response.status;
  response.headers.forEach((value, key) => ctx.append(key, value));
  ctx.body = response.body;
});
const server = koa.listen(0, '127.0.0.1', () => reportReady(server));
