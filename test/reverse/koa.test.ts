// fromKoa: the Koa behaviours users lean on most, through the bridge (issue 4).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { mount, testClient } from '@node-wsgi/core';
import { fromKoa } from '@node-wsgi/koa';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_BYTES } from '../differential/harness.js';
import { closeServed, fetchRaw, serveWrapped, type Served } from './support.js';

function buildApp(): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    switch (ctx.path) {
      case '/cookies':
        ctx.cookies.set('first', 'one');
        ctx.cookies.set('second', 'two', { httpOnly: false });
        ctx.body = `you sent ${ctx.cookies.get('sent') ?? 'nothing'}`;
        return;
      case '/secure-cookie':
        // Koa refuses a secure cookie unless the request came over TLS (ctx.secure).
        ctx.cookies.set('session', 'abc', { secure: true });
        ctx.body = 'set';
        return;
      case '/redirect':
        ctx.redirect('/next');
        return;
      case '/stream':
        ctx.body = Readable.from((function* () {
          for (let i = 0; i < 40; i++) yield ALL_BYTES;
        })());
        return;
      case '/missing':
        ctx.throw(404);
        return;
      case '/missing-item':
        ctx.throw(404, 'no such item');
        return;
      case '/empty':
        ctx.body = 'not sent';
        ctx.status = 204;
        return;
      case '/who':
      case '/who/a%2Fb':
        ctx.body = { ip: ctx.ip, protocol: ctx.protocol, secure: ctx.secure, host: ctx.host, hostname: ctx.hostname, url: ctx.url, originalUrl: ctx.originalUrl };
        return;
      default:
        // Falls through to Koa's own 404.
    }
  });
  return app;
}

describe('fromKoa(app) over HTTP', () => {
  let served: Served;

  beforeAll(async () => {
    served = await serveWrapped(fromKoa(buildApp()));
  });

  afterAll(closeServed);

  it('ctx.cookies.set twice sends two Set-Cookie lines, and ctx.cookies.get reads the request cookie', async () => {
    const response = await fetchRaw(`${served.url}/cookies`, { headers: { Cookie: 'other=x; sent=hello' } });
    expect(response.all('set-cookie')).toEqual(['first=one; path=/; httponly', 'second=two; path=/']);
    expect(response.body.toString()).toBe('you sent hello');
  });

  it('ctx.redirect answers 302 with the Location and Koa’s body', async () => {
    const response = await fetchRaw(`${served.url}/redirect`);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/next');
    expect(response.body.toString()).toBe('Redirecting to /next.');
  });

  it('a stream as ctx.body is streamed with every byte intact', async () => {
    const response = await fetchRaw(`${served.url}/stream`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.body.equals(Buffer.concat(Array.from({ length: 40 }, () => ALL_BYTES)))).toBe(true);
  });

  it('ctx.throw(404) answers 404 Not Found; with a message, the message', async () => {
    const plain = await fetchRaw(`${served.url}/missing`);
    expect([plain.status, plain.statusText, plain.body.toString()]).toEqual([404, 'Not Found', 'Not Found']);
    const item = await fetchRaw(`${served.url}/missing-item`);
    expect([item.status, item.body.toString()]).toEqual([404, 'no such item']);
  });

  it('an unmatched path gets Koa’s own 404', async () => {
    const response = await fetchRaw(`${served.url}/nowhere`);
    expect([response.status, response.body.toString()]).toEqual([404, 'Not Found']);
  });

  it('ctx.status = 204 after a body sends no body', async () => {
    const response = await fetchRaw(`${served.url}/empty`);
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
  });
});

describe('fromKoa(app) called with an environ', () => {
  it('ctx.ip, ctx.protocol, ctx.secure and ctx.host follow REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST', async () => {
    const client = testClient(fromKoa(buildApp()));
    const response = await client.get('/who', { scheme: 'https', headers: { Host: 'shop.example:8443' }, environ: { REMOTE_ADDR: '10.1.2.3' } });
    expect(response.json()).toMatchObject({ ip: '10.1.2.3', protocol: 'https', secure: true, host: 'shop.example:8443', hostname: 'shop.example' });
  });

  it('a secure cookie is set over https and refused over http, as Koa does natively', async () => {
    const client = testClient(fromKoa(buildApp()));
    const https = await client.get('/secure-cookie', { scheme: 'https' });
    expect(https.status).toBe(200);
    expect(https.header('set-cookie')).toBe('session=abc; path=/; secure; httponly');
    const http = await client.get('/secure-cookie');
    expect(http.status).toBe(500);
  });

  it('ctx.url is the path under SCRIPT_NAME and ctx.originalUrl the REQUEST_URI when mounted, as with koa-mount', async () => {
    const response = await testClient(mount({ '/koa': fromKoa(buildApp()) })).get('/koa/who/a%2Fb?x=1');
    expect(response.json()).toMatchObject({ url: '/who/a%2Fb?x=1', originalUrl: '/koa/who/a%2Fb?x=1' });
  });

  it('ctx.mountPath is the mount prefix when mounted, as koa-mount sets it, and absent when not', async () => {
    const app = buildApp();
    const seen: unknown[] = [];
    app.middleware.unshift(async (ctx, next) => {
      seen.push((ctx as { mountPath?: string }).mountPath);
      await next();
    });
    await testClient(mount({ '/koa': fromKoa(app) })).get('/koa/who');
    await testClient(fromKoa(app)).get('/who');
    expect(seen).toEqual(['/koa', undefined]);
  });

  it('hands the middleware the app itself as ctx.app', async () => {
    const app = buildApp();
    let seen: unknown;
    app.middleware.unshift(async (ctx, next) => {
      seen = ctx.app;
      await next();
    });
    await testClient(fromKoa(app)).get('/who');
    expect(seen).toBe(app);
  });

  it('leaves the app itself as it was: still served natively, with Koa’s own ctx.originalUrl', async () => {
    const app = buildApp();
    await testClient(mount({ '/koa': fromKoa(app) })).get('/koa/who');
    expect(Object.hasOwn(app, 'createContext')).toBe(false);
    const server = app.listen(0, '127.0.0.1');
    try {
      await once(server, 'listening');
      const response = await fetchRaw(`http://127.0.0.1:${(server.address() as AddressInfo).port}/who?y=2`);
      expect(JSON.parse(response.body.toString())).toMatchObject({ url: '/who?y=2', originalUrl: '/who?y=2' });
    } finally {
      server.close();
    }
  });
});
