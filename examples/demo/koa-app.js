// The demo's Koa app: reads back the cookie the Express app set.
import Koa from 'koa';
import { escapeHtml, page } from './page.js';

export function createKoaApp() {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.path === '/cookie') {
      const flavour = ctx.cookies.get('flavour');
      ctx.body = page(
        'Cookie read by Koa',
        `<h1>Koa reads <code id="cookie">${escapeHtml(flavour ?? '(no cookie yet)')}</code></h1>
<p>A cookie set by Express, read by Koa, both behind one node-wsgi server.</p><p><a href="../">back to the index</a></p>`,
      );
      return;
    }
    ctx.body = page('Koa, wrapped', `<h1>A Koa app, served through node-wsgi</h1><p>ctx.path is <code>${escapeHtml(ctx.path)}</code>.</p><p><a href="cookie">Read the cookie</a> · <a href="../">back</a></p>`);
  });
  return app;
}
