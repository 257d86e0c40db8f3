// Fault injection, the app's side (issue 7, item 1): a node-wsgi app that misbehaves, mounted in each
// host of the matrix (our server, Express, Fastify, Koa). Each case states what the client sees, checks
// that the body's close() ran where there is a body, that nothing is left pending (active handles and
// timers back to the baseline taken after the server started), and that the next request on the same
// server is answered.
import { afterEach, expect, it } from 'vitest';
import type { App } from '@node-wsgi/core';
import {
  closeClients,
  closeHosts,
  deferred,
  describeHosts,
  expectClosedOnce,
  faultCase,
  never,
  parseHead,
  PREFIX,
  rawRequest,
  RawSocket,
  spyBody,
  within,
  type Host,
  type Started,
} from './support.js';

afterEach(async () => {
  closeClients();
  await closeHosts();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A GET on a fresh raw connection that waits for the server to close it: every byte it sent. */
async function getUntilClosed(server: Started, path: string): Promise<RawSocket> {
  const client = await RawSocket.connect(server.port);
  client.write(rawRequest('GET', PREFIX + path, ['Connection: close']));
  await within(client.waitForClose(), 5000, `the server to close the connection of ${path}`);
  return client;
}

/**
 * The host answered 500 through its own error path. What that page shows is the host's policy
 * (security.test.ts); our own server's shows no message and logs the error to wsgi.errors.
 */
function expectServerError(host: Host, server: Started, client: RawSocket, message: string): void {
  const head = parseHead(client.data);
  expect(head?.status, client.text.slice(0, 200)).toBe(500);
  if (host.name === 'node') {
    expect(client.text).not.toContain(message);
    expect(server.errors.text).toContain(message);
  }
}

/**
 * The injected bytes never reach the wire as HTTP: no CR LF followed by the injected header, no
 * second head. (A host's error page may quote the refused value, escaped: Express's and Fastify's do.)
 */
function expectNoInjectedBytes(raw: string): void {
  expect(raw).not.toMatch(/[\r\n]X-Injected/i);
  expect(raw).not.toContain('\r\n\r\n<html>smuggled');
}

describeHosts((host) => {
  it('the app throws synchronously: the client gets a 500, never a hang', async () => {
    await faultCase(host, () => {
      throw new Error('sync-throw-secret');
    }, async (server) => {
      expectServerError(host, server, await getUntilClosed(server, '/x'), 'sync-throw-secret');
    });
  });

  it('the app rejects: the client gets a 500', async () => {
    await faultCase(host, async () => {
      await tick();
      throw new Error('async-reject-secret');
    }, async (server) => {
      expectServerError(host, server, await getUntilClosed(server, '/x'), 'async-reject-secret');
    });
  });

  it('the body throws before its first chunk: a 500, and close() runs once', async () => {
    const { body, watch } = spyBody(async () => {
      throw new Error('first-pull-secret');
    });
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      expectServerError(host, server, await getUntilClosed(server, '/x'), 'first-pull-secret');
      await expectClosedOnce(watch);
    });
  });

  it('the body throws in the middle: the client sees the first chunk, then the connection ends with no last chunk; close() runs once', async () => {
    const { body, watch } = spyBody(async (n) => {
      if (n === 0) return 'first-chunk;';
      await tick();
      throw new Error('mid-body-secret');
    });
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      const client = await getUntilClosed(server, '/x');
      const head = parseHead(client.data)!;
      expect(head.status).toBe(200);
      expect(head.header('transfer-encoding')).toBe('chunked');
      expect(client.text).toContain('first-chunk;');
      // An aborted chunked body: no terminating chunk, so no client takes it for whole [B6].
      expect(client.text.endsWith('0\r\n\r\n')).toBe(false);
      expect(client.text).not.toContain('mid-body-secret');
      await expectClosedOnce(watch);
      expect(server.errors.text).toContain('mid-body-secret');
    });
  });

  it('startResponse with a bad status (CR LF in the reason) throws: a 500 that carries none of it', async () => {
    await faultCase(host, (_e, start) => {
      start('200 OK\r\nX-Injected: status', [['Content-Type', 'text/plain']]);
      return ['never sent'];
    }, async (server) => {
      const client = await getUntilClosed(server, '/x');
      expect(parseHead(client.data)?.status).toBe(500);
      expectNoInjectedBytes(client.text);
      expect(client.text).not.toContain('never sent');
    });
  });

  it('startResponse with CR LF in a header value throws: a 500, and the injected header never reaches the client', async () => {
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['X-Split', 'a\r\nX-Injected: value\r\n\r\n<html>smuggled']]);
      return ['never sent'];
    }, async (server) => {
      const client = await getUntilClosed(server, '/x');
      const head = parseHead(client.data)!;
      expect(head.status).toBe(500);
      expect(head.header('x-split')).toBeUndefined();
      expectNoInjectedBytes(client.text);
      expect(client.text).not.toContain('never sent');
    });
  });

  it('startResponse called twice without excInfo: the second call throws, and the client gets a 500, not either status', async () => {
    const seen = deferred<string>();
    await faultCase(host, (_e, start) => {
      start('201 Created', [['Content-Type', 'text/plain']]);
      try {
        start('202 Accepted', [['Content-Type', 'text/plain']]);
      } catch (err) {
        seen.resolve((err as Error).name);
        throw err;
      }
      return ['never sent'];
    }, async (server) => {
      const client = await getUntilClosed(server, '/x');
      expect(parseHead(client.data)?.status).toBe(500);
      expect(await seen.promise).toBe('HeadersAlreadySetError');
    });
  });

  it('the app returns a non-iterable that has close(): a 500, and its close() still runs', async () => {
    const { watch, body } = spyBody(() => null);
    const notIterable = { close: (body as { close(): void }).close };
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return notIterable as unknown as ReturnType<App>;
    }, async (server) => {
      const client = await getUntilClosed(server, '/x');
      expect(parseHead(client.data)?.status).toBe(500);
      await expectClosedOnce(watch);
    });
  });

  it('the app returns a number or a string: a 500', async () => {
    await faultCase(host, (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (environ.PATH_INFO === '/number' ? 42 : 'a string body') as unknown as ReturnType<App>;
    }, async (server) => {
      for (const path of ['/number', '/string']) {
        const client = await getUntilClosed(server, path);
        expect(parseHead(client.data)?.status, path).toBe(500);
        expect(client.text, path).not.toContain('a string body');
      }
    });
  });

  it('the body never ends: the client gets the head and the first chunk; when it leaves, close() runs and nothing is left pending', async () => {
    const { body, watch } = spyBody((n) => (n === 0 ? 'first-chunk;' : never()));
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/endless'));
      await within(client.waitFor(() => client.text.includes('first-chunk;'), 'the first chunk'), 5000, 'the first chunk');
      expect(parseHead(client.data)?.status).toBe(200);
      client.destroy();
      await expectClosedOnce(watch);
      expect(watch.returns).toBe(1);
      expect(watch.pulls).toBe(2);
    });
  });

  it('the app never answers at all: a client that leaves leaves nothing pending, and the server goes on', async () => {
    const called = deferred();
    await faultCase(host, () => {
      called.resolve();
      return never();
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/silent'));
      await within(called.promise, 5000, 'the app to be called');
      expect(client.data.length).toBe(0);
      client.destroy();
    });
  });

  it('a 500 page from a failing app is complete: a keep-alive client can send its next request on the same connection', async () => {
    await faultCase(host, (environ) => {
      if (environ.PATH_INFO === '/fail') throw new Error('keep-alive-secret');
      return never();
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/fail'));
      const first = await within(client.head(), 5000, 'the 500');
      expect(first.status).toBe(500);
      const length = Number(first.header('content-length'));
      await within(client.waitFor(() => client.data.length >= first.bodyStart + length, 'the 500 body'), 5000, 'the 500 body');
      client.write(rawRequest('GET', PREFIX + '/ok'));
      const second = await within(client.head(first.bodyStart + length), 5000, 'the second response on the connection');
      expect(second.status).toBe(200);
      client.destroy();
    });
  });
});
