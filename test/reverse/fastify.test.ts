// fromFastify: a Fastify instance through the bridge, routed by the instance itself, its hooks,
// error and not-found handlers running as when it listens (issue 4; pitfall 13: 204 with a body).
import { Readable } from 'node:stream';
import { mount, testClient } from '@node-wsgi/core';
import { fromFastify } from '@node-wsgi/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_BYTES } from '../differential/harness.js';
import { closeServed, fetchRaw, serveWrapped, signal, type Served } from './support.js';

const responded: Array<(line: string) => void> = [];

function buildApp(): FastifyInstance {
  const app = Fastify();
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-On-Request', 'ran');
    if (request.headers.authorization === 'Bearer bad') return reply.code(401).send({ error: 'bad token' });
  });
  app.addHook('onSend', async (request, _reply, payload) => {
    return request.url.startsWith('/hooked') ? `${String(payload)} +onSend` : payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    responded.shift()?.(`${request.method} ${request.url} ${reply.statusCode}`);
  });
  app.setErrorHandler(async (error, _request, reply) => reply.code(418).send({ handled: (error as Error).message }));
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send(`no route for ${request.url}`));
  // A plugin that loads asynchronously: fromFastify must wait for ready() before routing.
  app.register(async (instance) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    instance.get('/late', async () => 'loaded late');
  });
  app.get('/stream', async (_request, reply) => {
    const stream = Readable.from((function* () {
      for (let i = 0; i < 64; i++) yield ALL_BYTES;
    })());
    return reply.type('application/octet-stream').send(stream);
  });
  app.get('/no-content', async (_request, reply) => reply.code(204).send('x'));
  app.get('/hooked', async () => 'handler');
  app.get('/boom', async () => {
    throw new Error('kaput');
  });
  app.get('/who', async (request) => ({
    ip: request.ip,
    protocol: request.protocol,
    hostname: request.hostname,
    url: request.url,
    originalUrl: request.originalUrl,
  }));
  return app;
}

describe('fromFastify(instance) over HTTP', () => {
  let served: Served;

  beforeAll(async () => {
    // Wrapped before ready(): the first request waits for the plugins.
    served = await serveWrapped(fromFastify(buildApp()));
  });

  afterAll(closeServed);

  it('waits for ready(): a route a plugin adds asynchronously answers from the first request', async () => {
    const response = await fetchRaw(`${served.url}/late`);
    expect([response.status, response.body.toString()]).toEqual([200, 'loaded late']);
  });

  it('reply.send(stream) streams every byte', async () => {
    const response = await fetchRaw(`${served.url}/stream`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.body.equals(Buffer.concat(Array.from({ length: 64 }, () => ALL_BYTES)))).toBe(true);
  });

  it('reply.code(204).send("x") answers 204 with no body, not a 500', async () => {
    const response = await fetchRaw(`${served.url}/no-content`);
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
    expect(served.errors.text).not.toContain('no-content');
  });

  it('runs onRequest, onSend and onResponse hooks', async () => {
    const done = signal<string>();
    responded.push(done.resolve);
    const response = await fetchRaw(`${served.url}/hooked`);
    expect(response.headers['x-on-request']).toBe('ran');
    expect(response.body.toString()).toBe('handler +onSend');
    expect(await done.promise).toBe('GET /hooked 200');
  });

  it('an onRequest hook can answer early, and onSend still runs on that answer', async () => {
    const response = await fetchRaw(`${served.url}/hooked`, { headers: { Authorization: 'Bearer bad' } });
    expect(response.status).toBe(401);
    expect(response.body.toString()).toBe('{"error":"bad token"} +onSend');
  });

  it('a thrown error goes to the instance’s error handler', async () => {
    const response = await fetchRaw(`${served.url}/boom`);
    expect(response.status).toBe(418);
    expect(JSON.parse(response.body.toString())).toEqual({ handled: 'kaput' });
  });

  it('an unknown route goes to the instance’s not-found handler', async () => {
    const response = await fetchRaw(`${served.url}/nowhere?x=1`);
    expect([response.status, response.body.toString()]).toEqual([404, 'no route for /nowhere?x=1']);
  });
});

describe('fromFastify(instance) called with an environ', () => {
  it('request.ip, request.protocol and request.hostname follow REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST', async () => {
    const response = await testClient(fromFastify(buildApp())).get('/who', {
      scheme: 'https',
      headers: { Host: 'shop.example:8443' },
      environ: { REMOTE_ADDR: '10.1.2.3' },
    });
    expect(response.json()).toMatchObject({ ip: '10.1.2.3', protocol: 'https', hostname: 'shop.example' });
  });

  it('request.url is the path under SCRIPT_NAME and request.originalUrl the REQUEST_URI when mounted', async () => {
    const response = await testClient(mount({ '/fast': fromFastify(buildApp()) })).get('/fast/who?x=%2F');
    expect(response.json()).toMatchObject({ url: '/who?x=%2F', originalUrl: '/fast/who?x=%2F' });
  });
});
