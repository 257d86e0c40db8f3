// Counter-examples the property tests (properties.test.ts) and the fault matrix found, kept as fixed
// cases: each says what it once showed and what a user observes now.
import { afterEach, expect, it } from 'vitest';
import type { App } from '@node-wsgi/core';
import { closeClients, closeHosts, deferred, describeHosts, expectClosedOnce, never, PREFIX, rawRequest, RawSocket, spyBody, within, type BodyWatch } from './support.js';

afterEach(async () => {
  closeClients();
  await closeHosts();
});

describeHosts((host) => {
  // fast-check, seed 4: `PATCH /` with `Expect: 100-continue` and `Content-Length: 0`. Our gateway
  // sends no 100 Continue when there is no body to ask for (SPEC §3); Node, answering on its own for
  // a host without a 'checkContinue' listener, sends one. Either way the client must get its answer.
  it('Expect: 100-continue with an empty body: the app reads an empty body at once and the client gets its answer', async () => {
    const server = await host.start(async (environ, start) => {
      const body = await environ['wsgi.input'].read();
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [`read ${body.length} bytes`];
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('PATCH', `${PREFIX}/`, ['Expect: 100-continue', 'Content-Length: 0', 'Connection: close']));
    await within(client.waitForClose(), 5000, 'the answer');
    const finals = client.text.split('\r\n\r\n').filter((part) => part.startsWith('HTTP/1.1 2'));
    expect(finals).toHaveLength(1);
    expect(client.text.endsWith('read 0 bytes')).toBe(true);
    expect((client.text.match(/100 Continue/g) ?? []).length).toBeLessThanOrEqual(1);
  });

  // fast-check, seed 20261122: a 204 planned with the app's own Content-Length (an app error that
  // validate reports as B4). Koa drops the header, our server, Express and Fastify send it; no host
  // may send body bytes, or a keep-alive client would read them as the next response.
  it('a 204 with an app-declared Content-Length sends no body bytes: the next response on the connection parses', async () => {
    const app: App = (environ, start) => {
      if (environ.PATH_INFO === '/no-content') {
        start('204 No Content', [['Content-Length', '11']]);
        return ['hello world'];
      }
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '4']]);
      return ['next'];
    };
    const server = await host.start(app);
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', `${PREFIX}/no-content`) + rawRequest('GET', `${PREFIX}/after`, ['Connection: close']));
    await within(client.waitForClose(), 5000, 'both responses');
    const [first, second] = client.text.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 204 /);
    expect(first!.endsWith('\r\n\r\n')).toBe(true);
    expect(second).toMatch(/^HTTP\/1\.1 200 /);
    expect(second!.endsWith('\r\n\r\nnext')).toBe(true);
    expect(client.text).not.toContain('hello world');
  });

  // The fault matrix: toExpress, toFastify and toKoa left a body whose first chunk never came open
  // for good when the client left (only our own listener watched the response before the head).
  it('a body still waiting for its first chunk is closed when the client leaves', async () => {
    const pulled = deferred();
    const { body, watch } = spyBody(() => {
      pulled.resolve();
      return never();
    });
    const server = await host.start((_e, start) => {
      start('200 OK', [['Content-Type', 'text/event-stream']]);
      return body;
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', `${PREFIX}/events`));
    await within(pulled.promise, 5000, 'the first pull');
    client.destroy();
    await expectClosedOnce(watch);
  });

  // The fault matrix: with two pipelined requests, the second response waits behind the first and
  // Node never emits 'close' on it when the connection drops (its socket is not assigned yet), so
  // its body stayed open on every host. The gateway now watches the connection itself.
  it('a pipelined response still queued when the client leaves has its body closed', async () => {
    const watches: BodyWatch[] = [];
    const server = await host.start((environ, start) => {
      const { body, watch } = spyBody((n) =>
        environ.PATH_INFO === '/first' ? new Promise((resolve) => setImmediate(() => resolve('x'.repeat(16 * 1024)))) : `queued ${n};`,
      );
      watches.push(watch);
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', `${PREFIX}/first`) + rawRequest('GET', `${PREFIX}/second`));
    await within(client.waitFor(() => client.data.length > 64 * 1024, 'part of the first response'), 5000, 'part of the first response');
    await within(
      (async () => {
        while (watches.length < 2) await new Promise((resolve) => setImmediate(resolve));
      })(),
      5000,
      'the second request to reach the app',
    );
    client.destroy();
    for (const watch of watches) await expectClosedOnce(watch);
  });

  // Beside it, a whole body in hand (an array with close()), larger than what a queued response
  // buffers: every host takes it at once, so close() runs once even though it never goes out.
  it('a pipelined response with a whole body, queued when the client leaves, has close() called once', async () => {
    let closes = 0;
    const closed = deferred();
    const started = deferred();
    const server = await host.start((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/first') {
        started.resolve();
        return (async function* () {
          for (;;) yield await new Promise<string>((resolve) => setImmediate(() => resolve('x'.repeat(16 * 1024))));
        })();
      }
      return Object.assign(['y'.repeat(256 * 1024)], {
        close() {
          closes++;
          closed.resolve();
        },
      });
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', `${PREFIX}/first`) + rawRequest('GET', `${PREFIX}/second`));
    await within(started.promise, 5000, 'the first request');
    await within(client.waitFor(() => client.data.length > 64 * 1024, 'part of the first response'), 5000, 'part of the first response');
    client.destroy();
    await within(closed.promise, 5000, "the queued body's close()");
    expect(closes).toBe(1);
  });
});
