// The demo's Express app: a form and a cookie, written as any Express app is.
import express from 'express';
import { escapeHtml, page } from './page.js';

export function createExpressApp() {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.get('/', (req, res) => {
    res.send(
      page(
        'Express, wrapped',
        `<h1>An Express app, served through node-wsgi</h1>
<p>Express sees <code>req.originalUrl = ${escapeHtml(req.originalUrl)}</code>, <code>req.url = ${escapeHtml(req.url)}</code>.</p>
<form method="post" action="greet"><label>Your name <input name="name" value="Ada"></label> <button>Greet me</button></form>
<p><a href="cookie">Set a cookie with Express</a>, then <a href="../koa/cookie">read it back with Koa</a>.</p>
<p><a href="../">back to the index</a></p>`,
      ),
    );
  });
  app.post('/greet', (req, res) => {
    res.send(page('Greeting', `<h1 id="greeting">Hello, ${escapeHtml(req.body.name ?? 'stranger')}!</h1><p>Express parsed the form itself.</p><p><a href="./">back</a></p>`));
  });
  app.get('/cookie', (req, res) => {
    res.cookie('flavour', 'set-by-express', { path: '/' });
    res.send(page('Cookie set', `<h1>Express set <code>flavour=set-by-express</code></h1><p><a href="../koa/cookie">Read it with Koa</a></p>`));
  });
  return app;
}
