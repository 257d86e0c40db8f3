// The runnable examples do what their comments say.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, serverUrl, testClient, type App } from '@node-wsgi/core';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: examples are plain JavaScript without declarations.
import { hello } from '../examples/hello.js';
// @ts-expect-error: examples are plain JavaScript without declarations.
import { expressHost, fastifyHost, koaHost } from '../examples/mount-in-frameworks.js';
// @ts-expect-error: examples are plain JavaScript without declarations.
import { wrapped } from '../examples/wrap-frameworks.js';
// @ts-expect-error: examples are plain JavaScript without declarations.
import { migrating } from '../examples/migrate-express-behind-fastify.js';
// @ts-expect-error: examples are plain JavaScript without declarations.
import { expressHostWithRequestId, expressWithRequestId, requestId } from '../examples/neutral-middleware.js';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listen(listenable: { listen(port: number, host: string): Server }): Promise<string> {
  const server = listenable.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('examples', () => {
  it('hello.js greets through the test client', async () => {
    const res = await testClient(hello as App).get('/there');
    expect(res.text()).toBe('Hello, 127.0.0.1! You asked for /there\n');
  });

  it('mount-in-frameworks.js mounts one app under /legacy in Express, Fastify and Koa', async () => {
    const fastify = await fastifyHost();
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => fastify.close());
    const urls = [await listen(expressHost()), `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`, await listen(koaHost())];
    for (const url of urls) {
      expect(await (await fetch(`${url}/legacy/x`)).json()).toEqual({ SCRIPT_NAME: '/legacy', PATH_INFO: '/x' });
    }
  });

  it('wrap-frameworks.js serves Express, Koa and Fastify apps from one server', async () => {
    const server = await serve(wrapped() as App, { port: 0, handleSignals: false });
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = serverUrl(server);
    expect(await (await fetch(`${url}/shop/items?x=1`)).json()).toEqual({ from: 'express', url: '/items?x=1', originalUrl: '/shop/items?x=1' });
    expect(await (await fetch(`${url}/blog/post`)).json()).toEqual({ from: 'koa', path: '/post' });
    expect(await (await fetch(`${url}/api/status`)).json()).toEqual({ from: 'fastify', ok: true });
  });

  it('migrate-express-behind-fastify.js: ported routes in Fastify, the rest in Express, unknown paths a Fastify 404', async () => {
    const fastify = await migrating();
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => fastify.close());
    const url = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
    expect(await (await fetch(`${url}/users`)).json()).toEqual({ from: 'fastify', users: ['ada', 'grace'] });
    expect(await (await fetch(`${url}/orders`)).json()).toEqual({ from: 'legacy express', orders: [] });
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ message: 'Route GET:/nope not found' });
  });

  it('neutral-middleware.js adds its headers around Express, and around an app mounted back into Express', async () => {
    const server = await serve(expressWithRequestId() as App, { port: 0, handleSignals: false });
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const res = await fetch(`${serverUrl(server)}/`, { headers: { 'X-Request-Id': 'abc' } });
    expect(await res.text()).toBe('hello from Express');
    expect(res.headers.get('x-request-id')).toBe('abc');
    expect(res.headers.get('server-timing')).toMatch(/^app;dur=/);
    const url = await listen(expressHostWithRequestId(hello));
    const inner = await fetch(`${url}/wsgi/y`);
    expect(await inner.text()).toBe('Hello, 127.0.0.1! You asked for /y\n');
    expect(inner.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof requestId).toBe('function');
  });
});
