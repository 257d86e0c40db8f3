// fromExpress: the Express behaviours users lean on most, through the bridge and mounted under a
// prefix with core's `mount` (issue 4; pitfall 20: Express swaps the prototypes of req and res).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mount, testClient } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServed, fetchRaw, serveWrapped, type Served } from './support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'node-wsgi-express-'));
const file = path.join(dir, 'report.txt');
// Bigger than the bridge's 16 KiB high-water mark, so `send` has to wait for 'drain'.
const content = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => 97 + (i % 26)));
writeFileSync(file, content);

function buildApp(): express.Express {
  const app = express();
  app.set('env', 'production');
  app.get('/json', (_req, res) => {
    res.json({ ok: true, text: 'café' });
  });
  app.get('/cookies', (_req, res) => {
    res.cookie('a', '1');
    res.cookie('b', '2', { httpOnly: true });
    res.send('cookies set');
  });
  app.get('/redirect', (_req, res) => {
    res.redirect('/elsewhere');
  });
  app.get('/file', (_req, res, next) => {
    res.sendFile(file, (err) => err && next(err));
  });
  app.get('/download', (_req, res, next) => {
    res.download(file, 'quarterly report.txt', (err) => err && next(err));
  });
  app.get('/format', (_req, res) => {
    res.format({
      'text/plain': () => res.send('plain text'),
      'application/json': () => res.json({ format: 'json' }),
    });
  });
  app.get(/^\/who/, (req, res) => {
    res.json({
      ip: req.ip,
      protocol: req.protocol,
      secure: req.secure,
      hostname: req.hostname,
      originalUrl: req.originalUrl,
      url: req.url,
      path: req.path,
    });
  });
  app.post('/json-body', express.json(), (req, res) => {
    res.json({ received: req.body as unknown });
  });
  // Quiet: the default handler would log the 406 of res.format to the console.
  app.use((err: { status?: number; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).send(err.message);
  });
  return app;
}

describe('fromExpress(app) mounted under /app over HTTP', () => {
  let served: Served;
  const base = () => `${served.url}/app`;

  beforeAll(async () => {
    served = await serveWrapped(mount({ '/app': fromExpress(buildApp()) }));
  });

  afterAll(async () => {
    await closeServed();
    rmSync(dir, { recursive: true, force: true });
  });

  it('res.json sends JSON with its content type and length', async () => {
    const response = await fetchRaw(`${base()}/json`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['content-length']).toBe(String(response.body.length));
    expect(JSON.parse(response.body.toString())).toEqual({ ok: true, text: 'café' });
  });

  it('res.cookie twice sends two separate Set-Cookie lines', async () => {
    const response = await fetchRaw(`${base()}/cookies`);
    expect(response.all('set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
  });

  it('res.redirect answers 302 Found with the Location', async () => {
    const response = await fetchRaw(`${base()}/redirect`);
    expect(response.status).toBe(302);
    expect(response.statusText).toBe('Found');
    expect(response.headers.location).toBe('/elsewhere');
  });

  it('res.sendFile sends the file whole, with its validators', async () => {
    const response = await fetchRaw(`${base()}/file`);
    expect(response.status).toBe(200);
    expect(response.body.equals(content)).toBe(true);
    expect(response.headers['content-length']).toBe(String(content.length));
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['last-modified']).toBeDefined();
    expect(response.headers.etag).toMatch(/^W\/"/);
  });

  it('res.sendFile honours Range with 206 Partial Content', async () => {
    const response = await fetchRaw(`${base()}/file`, { headers: { Range: 'bytes=5-9' } });
    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes 5-9/${content.length}`);
    expect(response.body.equals(content.subarray(5, 10))).toBe(true);
  });

  it('res.sendFile answers 304 Not Modified to If-None-Match with its ETag, with no body', async () => {
    const first = await fetchRaw(`${base()}/file`);
    const response = await fetchRaw(`${base()}/file`, { headers: { 'If-None-Match': first.headers.etag! } });
    expect(response.status).toBe(304);
    expect(response.body.length).toBe(0);
  });

  it('res.download sends the file as an attachment under the given name', async () => {
    const response = await fetchRaw(`${base()}/download`);
    expect(response.headers['content-disposition']).toBe('attachment; filename="quarterly report.txt"');
    expect(createHash('sha256').update(response.body).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('res.format picks the representation the Accept header asks for, or answers 406', async () => {
    const json = await fetchRaw(`${base()}/format`, { headers: { Accept: 'application/json' } });
    expect(JSON.parse(json.body.toString())).toEqual({ format: 'json' });
    const text = await fetchRaw(`${base()}/format`, { headers: { Accept: 'text/plain' } });
    expect(text.body.toString()).toBe('plain text');
    expect(text.headers.vary).toBe('Accept');
    const none = await fetchRaw(`${base()}/format`, { headers: { Accept: 'image/png' } });
    expect(none.status).toBe(406);
  });

  it('req.originalUrl is the full REQUEST_URI and req.url the part under the mount, escapes kept', async () => {
    const response = await fetchRaw(`${base()}/who/a%2Fb/caf%C3%A9?x=%2F+1`);
    expect(JSON.parse(response.body.toString())).toMatchObject({
      originalUrl: '/app/who/a%2Fb/caf%C3%A9?x=%2F+1',
      url: '/who/a%2Fb/caf%C3%A9?x=%2F+1',
      path: '/who/a%2Fb/caf%C3%A9',
    });
  });

  it('express.json() reads the body the client sent', async () => {
    const response = await fetchRaw(`${base()}/json-body`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ list: [1, 'two'], text: 'naïve' }),
    });
    expect(JSON.parse(response.body.toString())).toEqual({ received: { list: [1, 'two'], text: 'naïve' } });
  });
});

describe('fromExpress(router)', () => {
  it('answers the router’s routes, and Express’s own 404 for the rest', async () => {
    const router = express.Router();
    router.get('/hi', (_req, res) => {
      res.send('hi from a router');
    });
    const client = testClient(fromExpress(router));
    const hi = await client.get('/hi');
    expect([hi.status, hi.text()]).toEqual([200, 'hi from a router']);
    const missing = await client.get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.text()).toContain('Cannot GET /nope');
  });
});

describe('fromExpress(app) called with an environ', () => {
  it('req.ip, req.protocol, req.secure and req.hostname follow REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST', async () => {
    const client = testClient(fromExpress(buildApp()));
    const response = await client.get('/who', {
      scheme: 'https',
      headers: { Host: 'shop.example:8443' },
      environ: { REMOTE_ADDR: '10.1.2.3' },
    });
    expect(response.json()).toMatchObject({ ip: '10.1.2.3', protocol: 'https', secure: true, hostname: 'shop.example' });
    const plain = await client.get('/who', { headers: { Host: 'plain.example' }, environ: { REMOTE_ADDR: '192.0.2.7' } });
    expect(plain.json()).toMatchObject({ ip: '192.0.2.7', protocol: 'http', secure: false, hostname: 'plain.example' });
  });

  it('req.url is the path under SCRIPT_NAME and req.originalUrl the REQUEST_URI when mounted', async () => {
    const client = testClient(mount({ '/shop/v1': fromExpress(buildApp()) }));
    const response = await client.get('/shop/v1/who/item?id=7');
    expect(response.json()).toMatchObject({ originalUrl: '/shop/v1/who/item?id=7', url: '/who/item?id=7', path: '/who/item' });
  });

  it('req.url follows PATH_INFO when a middleware rewrote it', async () => {
    const wrapped = fromExpress(buildApp());
    const response = await testClient((environ, startResponse) => {
      environ.PATH_INFO = '/who/rewritten café'.replace('é', '\u00c3\u00a9');
      environ.QUERY_STRING = 'q=1';
      return wrapped(environ, startResponse);
    }).get('/anything');
    expect(response.json()).toMatchObject({ url: '/who/rewritten%20caf%C3%A9?q=1', path: '/who/rewritten%20caf%C3%A9' });
  });
});
