// `npm start`: one node-wsgi server whose mount table holds a plain node-wsgi app, an Express app,
// a Koa app and a Fastify app (wrapped with from*), and the node-wsgi app again inside an Express host.
import express from 'express';
import { mount, serve, serverUrl } from '@node-wsgi/core';
import { fromExpress, toExpress } from '@node-wsgi/express';
import { fromFastify } from '@node-wsgi/fastify';
import { fromKoa } from '@node-wsgi/koa';
import { createExpressApp } from './express-app.js';
import { createFastifyApp } from './fastify-app.js';
import { createKoaApp } from './koa-app.js';
import { page } from './page.js';
import { demoApp } from './wsgi-app.js';

// The other direction: an Express host with the node-wsgi app mounted in it as middleware.
const expressHost = express();
expressHost.get('/', (req, res) => res.send(page('Express host', '<h1>An Express host</h1><p>It mounts the node-wsgi app at <a href="wsgi/">wsgi/</a> with <code>toExpress(app)</code>.</p><p><a href="../">back</a></p>')));
expressHost.use('/wsgi', toExpress(demoApp));

function index(environ, startResponse) {
  if (environ.PATH_INFO !== '/' && environ.PATH_INFO !== '') {
    startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
    return ['Not Found\n'];
  }
  startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
  return [
    page(
      'node-wsgi demo',
      `<h1>node-wsgi: one contract, every framework</h1>
<p>One server, one <code>mount</code> table. Each link is a different framework's app behind the same node-wsgi gateway.</p>
<ul>
<li><a href="/wsgi/">/wsgi/</a>: a plain node-wsgi app that lists its environ (and <a href="/wsgi/stream">a streaming body</a>)</li>
<li><a href="/express/">/express/</a>: an Express app, <code>fromExpress(app)</code>: a form, and a cookie</li>
<li><a href="/koa/">/koa/</a>: a Koa app, <code>fromKoa(app)</code>: reads the cookie Express set</li>
<li><a href="/fastify/">/fastify/</a>: a Fastify app, <code>fromFastify(app)</code>: server-sent events through the bridge</li>
<li><a href="/inside-express/wsgi/">/inside-express/wsgi/</a>: the node-wsgi app again, mounted inside an Express host with <code>toExpress(app)</code></li>
</ul>`,
    ),
  ];
}

export const demo = mount(
  {
    '/wsgi': demoApp,
    '/express': fromExpress(createExpressApp()),
    '/koa': fromKoa(createKoaApp()),
    '/fastify': fromFastify(createFastifyApp()),
    '/inside-express': fromExpress(expressHost),
  },
  index,
);

// Serve only when run, not when a test imports `demo`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(demo, {
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 8000),
  });
  console.log(`node-wsgi demo: ${serverUrl(server)}/`);
}
