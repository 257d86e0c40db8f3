// Differential: an Express app served natively and as `serve(fromExpress(app))` answers every request
// of one list with the same status, status text, headers (but Date and connection management) and
// body bytes (issue 4).
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mount } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import compression from 'compression';
import express from 'express';
import { afterAll } from 'vitest';
import { ALL_BYTES, describeDifferential, listening, serveBoth, standardProbes, type Probe } from './harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'node-wsgi-diff-'));
const file = path.join(dir, 'page.txt');
writeFileSync(file, 'a file served by res.sendFile\n'.repeat(100));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The weak ETag `send` gives a file (size and mtime in hex).
const stat = statSync(file);
const fileEtag = `W/"${stat.size.toString(16)}-${stat.mtime.getTime().toString(16)}"`;

function buildApp(): express.Express {
  const app = express();
  // Production mode: the default error handler then shows no stack, whose frames differ by design.
  app.set('env', 'production');
  app.get('/json', (_req, res) => {
    res.json({ hello: 'world', list: [1, 2, 3], text: 'café ☕' });
  });
  app.get('/cookies', (_req, res) => {
    res.cookie('first', 'one', { httpOnly: true, path: '/' });
    res.cookie('second', 'two=2; x', { sameSite: 'lax', expires: new Date(0) });
    res.send('two cookies');
  });
  app.get('/redirect', (_req, res) => {
    res.redirect('/json');
  });
  app.get('/empty', (_req, res) => {
    res.sendStatus(204);
  });
  app.get('/etag', (_req, res) => {
    res.set('ETag', '"v1"');
    res.send('tagged body');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/bytes', (_req, res) => {
    res.type('application/octet-stream').send(ALL_BYTES);
  });
  app.post('/echo', express.raw({ type: '*/*', limit: '2mb' }), (req, res) => {
    res.type('application/octet-stream').send(req.body as Buffer);
  });
  app.post('/json-body', express.json(), (req, res) => {
    res.json({ received: req.body as unknown });
  });
  app.post('/form', express.urlencoded({ extended: false }), (req, res) => {
    res.json({ received: req.body as unknown });
  });
  app.get('/stream', async (_req, res) => {
    res.type('application/octet-stream');
    for (let i = 0; i < 64; i++) {
      if (!res.write(Buffer.alloc(16 * 1024, i))) await once(res, 'drain');
    }
    res.end();
  });
  app.get('/query', (req, res) => {
    res.json({ url: req.url, originalUrl: req.originalUrl, query: req.query });
  });
  app.get('/path/:a/:b', (req, res) => {
    res.json({ url: req.url, path: req.path, params: req.params });
  });
  app.get('/headers', (req, res) => {
    res.json({ headers: req.headers, rawHeaders: req.rawHeaders });
  });
  app.get('/large', (_req, res) => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    res.type('application/octet-stream').send(big);
  });
  app.get('/file', (_req, res, next) => {
    res.sendFile(file, (err) => err && next(err));
  });
  app.get('/format', (_req, res) => {
    res.format({
      'text/plain': () => res.send('plain'),
      'application/json': () => res.json({ format: 'json' }),
    });
  });
  app.use('/static', express.static(dir));
  // Connect middleware that wraps res.write/res.end/res.writeHead as own properties (pitfall 22).
  app.get('/compressed', compression({ threshold: 0 }), (_req, res) => {
    res.json({ rows: Array.from({ length: 2000 }, (_, i) => ({ i, text: `row ${i}` })) });
  });
  app.get('/compressed-stream', compression({ threshold: 0 }), async (_req, res) => {
    res.type('text/plain');
    for (let i = 0; i < 200; i++) {
      if (!res.write(`line ${i} `.repeat(200) + '\n')) await once(res, 'drain');
    }
    res.end();
  });
  return app;
}

const expressProbes: Probe[] = [
  { name: 'res.sendFile', method: 'GET', target: '/file' },
  { name: 'res.sendFile with a Range', method: 'GET', target: '/file', headers: [['Range', 'bytes=10-39']] },
  { name: 'res.sendFile with an unsatisfiable Range', method: 'GET', target: '/file', headers: [['Range', 'bytes=99999-']] },
  { name: 'res.sendFile with a matching If-None-Match', method: 'GET', target: '/file', headers: [['If-None-Match', fileEtag]] },
  { name: 'res.sendFile with a later If-Modified-Since', method: 'GET', target: '/file', headers: [['If-Modified-Since', new Date(Date.now() + 3_600_000).toUTCString()]] },
  { name: 'HEAD of res.sendFile', method: 'HEAD', target: '/file' },
  { name: 'res.format choosing JSON', method: 'GET', target: '/format', headers: [['Accept', 'application/json']] },
  { name: 'res.format with nothing acceptable', method: 'GET', target: '/format', headers: [['Accept', 'image/png']] },
  { name: 'express.static', method: 'GET', target: '/static/page.txt' },
  { name: 'compression() on a JSON body', method: 'GET', target: '/compressed', headers: [['Accept-Encoding', 'gzip']] },
  { name: 'compression() on a stream written with drain handling', method: 'GET', target: '/compressed-stream', headers: [['Accept-Encoding', 'gzip']] },
  { name: 'compression() when the client takes no encoding', method: 'GET', target: '/compressed-stream' },
  { name: 'express.static redirecting a folder', method: 'GET', target: '/static' },
];

describeDifferential(
  'fromExpress(app) against the same app served natively',
  async () => {
    const app = buildApp();
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { native: listening(server), ...(await serveBoth(fromExpress(app))) };
  },
  [...standardProbes(), ...expressProbes],
);

// Mounted the node-wsgi way (`mount({ '/app': fromExpress(sub) })`) against mounted the Express way
// (`host.use('/app', sub)`): the sub-app sees the same baseUrl, originalUrl, url and path.
function buildSubApp(): express.Express {
  const sub = express();
  sub.set('env', 'production');
  sub.get(/^\/who/, (req, res) => {
    res.json({ baseUrl: req.baseUrl, originalUrl: req.originalUrl, url: req.url, path: req.path });
  });
  sub.get('/', (req, res) => {
    res.json({ root: true, baseUrl: req.baseUrl, originalUrl: req.originalUrl, url: req.url });
  });
  sub.get('/back', (req, res) => {
    res.redirect(`${req.baseUrl}/who`);
  });
  sub.use('/static', express.static(dir));
  return sub;
}

describeDifferential(
  "mount({ '/app': fromExpress(sub) }) against host.use('/app', sub)",
  async () => {
    const host = express();
    host.use('/app', buildSubApp());
    const server = http.createServer(host);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { native: listening(server), ...(await serveBoth(mount({ '/app': fromExpress(buildSubApp()) }))) };
  },
  [
    { name: 'the mount seen from inside', method: 'GET', target: '/app/who/a%2Fb/caf%C3%A9?x=%2F+1' },
    { name: 'the mount point itself', method: 'GET', target: '/app' },
    { name: 'the mount point with a slash', method: 'GET', target: '/app/?q=1' },
    { name: 'a redirect built from req.baseUrl', method: 'GET', target: '/app/back' },
    { name: 'express.static redirecting a folder under the mount', method: 'GET', target: '/app/static' },
    { name: 'a file from express.static under the mount', method: 'GET', target: '/app/static/page.txt' },
    { name: 'a path the sub-app does not know', method: 'GET', target: '/app/nope' },
  ],
);
