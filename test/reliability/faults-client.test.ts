// Fault injection, the client's side (issue 7, item 1): a well-behaved node-wsgi app in each host of
// the matrix, and a client that leaves at the worst moments or never reads. Each case states what the
// app sees, checks that the body's close() ran, that nothing is left pending, and that the next
// request on the same server is answered.
import { afterEach, expect, it } from 'vitest';
import { InputError, type Environ } from '@node-wsgi/core';
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
  type BodyWatch,
} from './support.js';

afterEach(async () => {
  closeClients();
  await closeHosts();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `read()` stops changing for a while: how far a producer gets once the client stalls. */
async function quiesce(read: () => number): Promise<number> {
  for (;;) {
    const before = read();
    await sleep(200);
    if (read() === before) return before;
  }
}

/** How an upload the client abandoned ended for the app: the error its read gave, by name. */
async function readAll(environ: Environ): Promise<string> {
  try {
    await environ['wsgi.input'].read();
    return 'read the whole body';
  } catch (err) {
    return err instanceof InputError ? 'InputError' : `another error: ${String(err)}`;
  }
}

describeHosts((host) => {
  it('the client leaves before the headers (startResponse called, first chunk pending): close() runs while the pull is pending', async () => {
    const pulled = deferred();
    const { body, watch } = spyBody((n) => {
      if (n === 0) pulled.resolve();
      return never();
    });
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/slow-first-chunk'));
      await within(pulled.promise, 5000, 'the first pull');
      expect(client.data.length).toBe(0);
      client.destroy();
      await expectClosedOnce(watch);
      expect(watch.pulls).toBe(1);
    });
  });

  it('the client leaves during the body: iteration stops, return() and close() run once, nothing more is pulled', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const { body, watch } = spyBody(() => new Promise((resolve) => setImmediate(() => resolve(chunk))));
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/stream'));
      await within(client.waitFor(() => client.data.length > 64 * 1024, 'some body'), 5000, 'some body');
      client.destroy();
      await expectClosedOnce(watch);
      expect(watch.returns).toBe(1);
      const pulls = watch.pulls;
      await sleep(50);
      expect(watch.pulls).toBe(pulls);
    });
  });

  it('the client leaves right after the headers, while the body waits for its next chunk: close() runs at once', async () => {
    const gate = deferred<string>();
    const { body, watch } = spyBody((n) => (n === 0 ? 'head-and-first;' : n === 1 ? gate.promise : null));
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/gated'));
      const head = await within(client.head(), 5000, 'the head');
      expect(head.status).toBe(200);
      client.destroy();
      await expectClosedOnce(watch);
      // The pending chunk arrives after the client left: nothing takes it, nothing more is pulled.
      gate.resolve('too late');
      await sleep(20);
      expect(watch.pulls).toBe(2);
    });
  });

  it.each([
    ['a Content-Length upload', 'Content-Length: 1048576', Buffer.alloc(64 * 1024, 0x61)],
    ['a chunked upload', 'Transfer-Encoding: chunked', '400\r\n' + 'b'.repeat(0x400) + '\r\n'],
  ])('the client leaves during %s: the app’s read() rejects with InputError instead of hanging', async (_what, framing, part) => {
    const outcome = deferred<string>();
    await faultCase(host, async (environ, start) => {
      outcome.resolve(await readAll(environ));
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['unreachable'];
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('POST', PREFIX + '/upload', ['Content-Type: application/octet-stream', framing]));
      client.write(part);
      await sleep(20);
      client.destroy();
      expect(await within(outcome.promise, 5000, 'the read to settle')).toBe('InputError');
    });
  });

  it('the client leaves while the app streams its upload back: the body is closed and the read ends', async () => {
    const outcome = deferred<string>();
    const closed = deferred();
    await faultCase(host, (environ, start) => {
      start('200 OK', [['Content-Type', 'application/octet-stream']]);
      const input = environ['wsgi.input'];
      return Object.assign(
        (async function* () {
          try {
            for await (const chunk of input) yield chunk;
            outcome.resolve('the upload ended');
          } catch (err) {
            outcome.resolve(err instanceof InputError ? 'InputError' : String(err));
            throw err;
          }
        })(),
        { close: () => closed.resolve() },
      );
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('POST', PREFIX + '/echo', ['Content-Type: application/octet-stream', 'Transfer-Encoding: chunked']));
      client.write('10\r\n' + 'c'.repeat(16) + '\r\n');
      await within(client.waitFor(() => client.text.includes('c'.repeat(16)), 'the echoed chunk'), 5000, 'the echoed chunk');
      client.destroy();
      await within(closed.promise, 5000, "the body's close()");
      // The generator was suspended at its read: return() ends it there, or the read fails first.
      await sleep(20);
      expect(['InputError', undefined]).toContain(outcome.settled ? await outcome.promise : undefined);
    });
  });

  it('the client never reads: the app is held to a bounded number of chunks, and when the client leaves close() runs', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const { body, watch } = spyBody((n) => (n < 2000 ? chunk : null), { sync: true });
    await faultCase(host, (_e, start) => {
      start('200 OK', [['Content-Type', 'application/octet-stream']]);
      return body;
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.socket.pause();
      client.write(rawRequest('GET', PREFIX + '/big'));
      await within(
        (async () => {
          while (watch.pulls === 0) await sleep(10);
        })(),
        5000,
        'the first pull',
      );
      // Loopback socket buffers hold a few MiB; an unbounded producer would reach all 2000 (125 MiB).
      expect(await quiesce(() => watch.pulls)).toBeLessThan(400);
      expect(watch.closes).toBe(0);
      client.destroy();
      await expectClosedOnce(watch);
    });
  });

  it('the client sends half a request head and leaves: the app never runs and nothing is left pending', async () => {
    let calls = 0;
    await faultCase(host, (_e, start) => {
      calls++;
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['x'];
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(`GET ${PREFIX}/half HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: `);
      await sleep(20);
      client.destroy();
      await sleep(20);
      expect(calls).toBe(0);
    });
  });

  it('the client pipelines two requests and leaves during the first response: every body that started is closed once', async () => {
    const watches: BodyWatch[] = [];
    await faultCase(host, (_e, start) => {
      const { body, watch } = spyBody(() => new Promise((resolve) => setImmediate(() => resolve('y'.repeat(8192)))));
      watches.push(watch);
      start('200 OK', [['Content-Type', 'text/plain']]);
      return body;
    }, async (server) => {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + '/one') + rawRequest('GET', PREFIX + '/two'));
      await within(client.waitFor(() => client.data.length > 32 * 1024, 'some of the first body'), 5000, 'some of the first body');
      expect(parseHead(client.data)?.status).toBe(200);
      client.destroy();
      // Node hands a pipelined request to the app at once; its response waits its turn on the socket.
      expect(watches.length).toBeGreaterThanOrEqual(1);
      for (const watch of watches) await expectClosedOnce(watch);
    });
  });
});
