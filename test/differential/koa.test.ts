// Differential: a Koa app served by `app.listen()` and as `serve(fromKoa(app))` answers every request
// of one list with the same status, status text, headers (but Date and connection management) and
// body bytes (issue 4).
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { mount } from '@node-wsgi/core';
import { fromKoa } from '@node-wsgi/koa';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import koaMount from 'koa-mount';
import { ALL_BYTES, describeDifferential, listening, serveBoth, standardProbes } from './harness.js';

function buildApp(): Koa {
  const app = new Koa();
  app.use(bodyParser());
  app.use(async (ctx, next) => {
    const get = ctx.method === 'GET' || ctx.method === 'HEAD';
    const post = ctx.method === 'POST';
    const p = ctx.path;
    if (get && p === '/json') {
      ctx.body = { hello: 'world', list: [1, 2, 3], text: 'café ☕' };
    } else if (get && p === '/cookies') {
      ctx.cookies.set('first', 'one', { httpOnly: true });
      ctx.cookies.set('second', 'two', { sameSite: 'lax', expires: new Date(0) });
      ctx.body = 'two cookies';
    } else if (get && p === '/redirect') {
      ctx.redirect('/json');
    } else if (get && p === '/empty') {
      ctx.status = 204;
    } else if (get && p === '/etag') {
      ctx.status = 200;
      ctx.set('ETag', '"v1"');
      if (ctx.fresh) ctx.status = 304;
      else ctx.body = 'tagged body';
    } else if (get && p === '/boom') {
      throw new Error('boom');
    } else if (get && p === '/bytes') {
      ctx.type = 'application/octet-stream';
      ctx.body = ALL_BYTES;
    } else if (post && p === '/echo') {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      ctx.type = 'application/octet-stream';
      ctx.body = Buffer.concat(chunks);
    } else if (post && (p === '/json-body' || p === '/form')) {
      ctx.body = { received: ctx.request.body };
    } else if (get && p === '/stream') {
      // A stream the app writes itself, minding backpressure.
      const stream = new PassThrough();
      ctx.type = 'application/octet-stream';
      ctx.body = stream;
      void (async () => {
        for (let i = 0; i < 64; i++) {
          if (!stream.write(Buffer.alloc(16 * 1024, i))) await once(stream, 'drain');
        }
        stream.end();
      })();
    } else if (get && p === '/query') {
      ctx.body = { url: ctx.url, originalUrl: ctx.originalUrl, querystring: ctx.querystring, query: ctx.query };
    } else if (get && p.startsWith('/path/')) {
      ctx.body = { url: ctx.url, path: ctx.path, segments: p.split('/').slice(2).map(decodeURIComponent) };
    } else if (get && p === '/headers') {
      ctx.body = { headers: ctx.headers, rawHeaders: ctx.req.rawHeaders };
    } else if (get && p === '/large') {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      ctx.type = 'application/octet-stream';
      ctx.body = big;
    } else {
      await next();
    }
  });
  return app;
}

describeDifferential(
  'fromKoa(app) against the same app served by app.listen()',
  async () => {
    const app = buildApp();
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { native: listening(server), ...(await serveBoth(fromKoa(app))) };
  },
  standardProbes(),
);

// Mounted the node-wsgi way (`mount({ '/koa': fromKoa(sub) })`) against mounted the Koa way
// (`host.use(koaMount('/koa', sub))`): the sub-app sees the same url, originalUrl, path and href.
function buildSubApp(): Koa {
  const sub = new Koa();
  sub.use(async (ctx) => {
    if (ctx.path === '/back') {
      ctx.redirect('back');
      return;
    }
    ctx.body = { url: ctx.url, originalUrl: ctx.originalUrl, path: ctx.path, href: ctx.href, querystring: ctx.querystring };
  });
  return sub;
}

describeDifferential(
  "mount({ '/koa': fromKoa(sub) }) against koaMount('/koa', sub)",
  async () => {
    const host = new Koa();
    host.use(koaMount('/koa', buildSubApp()));
    const server = host.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { native: listening(server), ...(await serveBoth(mount({ '/koa': fromKoa(buildSubApp()) }))) };
  },
  [
    { name: 'the mount seen from inside', method: 'GET', target: '/koa/who/a%2Fb/caf%C3%A9?x=%2F+1' },
    { name: 'the mount point itself', method: 'GET', target: '/koa' },
    { name: 'the mount point with a slash', method: 'GET', target: '/koa/?q=1' },
    { name: 'a redirect back to the Referer', method: 'GET', target: '/koa/back', headers: [['Referer', '/koa/from']] },
  ],
);
