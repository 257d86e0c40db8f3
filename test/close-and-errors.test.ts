// SPEC §4 B5, B6, B11: the body's close() on every ending, what the client sees when the app fails
// before or after the head, and what a 500 never shows.
import { afterEach, describe, expect, it } from 'vitest';
import type { App, Body, Chunk } from '../packages/core/src/index.js';
import { cleanup, expectChunkedCutShort, get, listenApp, pause, RawClient, roundTrip, serveApp, spy, until } from './support/wire.js';

afterEach(cleanup);

function streaming(body: Body, headers: Array<[string, string]> = []): App {
  return (_e, start) => {
    start('200 OK', headers);
    return body;
  };
}

describe('close() on every ending [B5]', () => {
  it('B5: an array body with close() is closed once after a normal end', async () => {
    let closes = 0;
    const { port } = await serveApp(streaming(Object.assign(['a', 'b'], { close: () => void closes++ })));
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('ab');
    await until(() => closes === 1, 'close()');
    await pause(30);
    expect(closes).toBe(1);
  });

  it('B5: a sync iterable is closed once after a normal end, with no return()', async () => {
    const { body, probe } = spy(['x', 'y', 'z'].values());
    const { port } = await serveApp(streaming(body));
    expect((await roundTrip(port, get())).body.toString()).toBe('xyz');
    await until(() => probe.closes === 1, 'close()');
    expect(probe.returns).toBe(0);
  });

  it('B5: a throw mid-iteration (after the head) closes the body once and runs finally', async () => {
    let finallyRan = false;
    const { body, probe } = spy(
      (async function* () {
        try {
          yield 'partial';
          await pause(1);
          throw new Error('mid-stream');
        } finally {
          finallyRan = true;
        }
      })(),
    );
    const { port } = await serveApp(streaming(body));
    const client = await RawClient.connect(port);
    client.write(get());
    await client.readUntilClose();
    await until(() => probe.closes === 1, 'close()');
    expect(finallyRan).toBe(true);
    // The generator already finished by throwing: return() has nothing to stop.
    expect(probe.returns).toBe(0);
    await pause(30);
    expect(probe.closes).toBe(1);
  });

  it('B5: a generator whose chunk the gateway refuses (C1) gets return(), so its finally runs, before and after the head', async () => {
    for (const first of [42, 'ok']) {
      let finallyRan = false;
      // Async, so nothing is read ahead: the second chunk is refused after the head went out.
      const generator = (async function* (): AsyncGenerator<Chunk> {
        try {
          yield first as unknown as Chunk;
          yield 42 as unknown as Chunk;
        } finally {
          finallyRan = true;
        }
      })();
      const { port } = await serveApp(streaming(generator));
      if (first === 42) {
        // Refused before the head: a 500.
        expect((await roundTrip(port, get())).status).toBe(500);
      } else {
        // Refused after the head: an aborted response.
        const client = await RawClient.connect(port);
        client.write(get());
        expect((await client.readUntilClose()).status).toBe(200);
      }
      await until(() => finallyRan, 'the generator’s finally');
    }
  });

  it('B5: a throw before the head closes the body once (and answers 500)', async () => {
    const { body, probe } = spy(
      (function* (): Generator<Chunk> {
        throw new Error('first next() failed');
      })(),
    );
    const { port } = await serveApp(streaming(body));
    expect((await roundTrip(port, get())).status).toBe(500);
    expect(probe.closes).toBe(1);
  });

  it('B5: stopping at Content-Length calls return() and close() once; a sync generator’s finally runs', async () => {
    let finallyRan = false;
    const { body, probe } = spy(
      (function* () {
        try {
          yield 'abc';
          yield 'def';
          yield 'ghi';
        } finally {
          finallyRan = true;
        }
      })(),
    );
    const { port } = await serveApp(streaming(body, [['Content-Length', '4']]));
    expect((await roundTrip(port, get())).body.toString()).toBe('abcd');
    expect([probe.returns, probe.closes, finallyRan]).toEqual([1, 1, true]);
  });

  it('B5: a close() that throws is logged; the response is unharmed and close() is not retried', async () => {
    let closes = 0;
    const body = Object.assign(['fine'], {
      close: () => {
        closes++;
        throw new Error('close exploded');
      },
    });
    const { port, errors } = await serveApp(streaming(body));
    const client = await RawClient.connect(port);
    client.write(get() + get());
    expect((await client.readResponse()).body.toString()).toBe('fine');
    expect((await client.readResponse()).body.toString()).toBe('fine');
    expect(closes).toBe(2);
    expect(errors.text).toContain('close exploded');
  });

  it('B5: a close() that returns a rejected promise is logged, not an unhandled rejection', async () => {
    const body = Object.assign(['fine'], { close: () => Promise.reject(new Error('async close failed')) });
    const { port, errors } = await serveApp(streaming(body));
    expect((await roundTrip(port, get())).body.toString()).toBe('fine');
    await until(() => errors.text.includes('async close failed'), 'the log line');
  });

  it('B5: an app that throws after startResponse (no body) answers 500', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      throw new Error('thrown by the app');
    });
    expect((await roundTrip(port, get())).status).toBe(500);
  });
});

describe('errors [B6]', () => {
  it('B6: an error before the head becomes a text/plain 500 with no message or stack, logged to wsgi.errors', async () => {
    const { port, errors } = await serveApp(() => {
      throw new Error('database password is hunter2');
    });
    const response = await roundTrip(port, get('/path'));
    expect(response.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(response.header('content-type')).toMatch(/^text\/plain/);
    expect(response.body.toString()).toBe('Internal Server Error');
    expect(errors.text).toContain('database password is hunter2');
    expect(errors.text).toContain('GET /path');
  });

  it('B6: a rejected async app is a 500 as well, and the connection stays usable', async () => {
    const { port } = await serveApp(async () => {
      await pause(1);
      throw new TypeError('async failure');
    });
    const client = await RawClient.connect(port);
    client.write(get() + get());
    expect((await client.readResponse()).status).toBe(500);
    expect((await client.readResponse()).status).toBe(500);
    expect(client.closed).toBe(false);
  });

  it('B6: with { debug: true } the 500 body shows the message and stack', async () => {
    const { port } = await serveApp(
      () => {
        throw new Error('visible in debug');
      },
      { debug: true },
    );
    const body = (await roundTrip(port, get())).body.toString();
    expect(body).toContain('visible in debug');
    expect(body).toMatch(/\n\s+at /);
  });

  it('B6: an error after the head aborts a chunked response: no terminating chunk, connection closed', async () => {
    const { port, errors } = await serveApp(
      streaming(
        (async function* () {
          yield 'first part;';
          await pause(1);
          throw new Error('stream broke');
        })(),
      ),
    );
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expectChunkedCutShort(response);
    expect(response.body.toString()).toBe('first part;');
    expect(response.raw.includes('0\r\n\r\n')).toBe(false);
    expect(errors.text).toContain('stream broke');
  });

  it('B6: an error right after the first chunk still lets the client see that chunk, then the abort', async () => {
    const { port } = await serveApp(
      streaming(
        (async function* () {
          yield 'only this;';
          throw new Error('immediately');
        })(),
      ),
    );
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('only this;');
    expect(response.terminated).toBe(false);
  });

  it('B6: an error after the head of a Content-Length response leaves it visibly short and closed', async () => {
    const { port } = await serveApp(
      streaming(
        (function* () {
          yield 'abc';
          throw new Error('sync stream broke');
        })(),
        [['Content-Length', '100']],
      ),
    );
    const client = await RawClient.connect(port);
    client.write(get() + get());
    const response = await client.readUntilClose();
    expect(response.header('content-length')).toBe('100');
    expect(response.body.length).toBeLessThan(100);
  });

  it('B6: an error after the head of an HTTP/1.0 (close-delimited) response resets the connection', async () => {
    const served = await serveApp(
      streaming(
        (async function* () {
          yield 'looks';
          await pause(1);
          throw new Error('broke');
        })(),
      ),
    );
    // A clean close would make the partial body look whole; only a reset tells the client it is not.
    // Loopback in some VMs does not deliver a linger-0 reset reliably, so the server's side is what
    // is asserted: it resets the socket instead of ending it.
    let resets = 0;
    let ends = 0;
    served.server.on('connection', (socket: import('node:net').Socket) => {
      const reset = socket.resetAndDestroy.bind(socket);
      socket.resetAndDestroy = () => (resets++, reset());
      const end = socket.end.bind(socket) as (...args: unknown[]) => import('node:net').Socket;
      socket.end = ((...args: unknown[]) => (ends++, end(...args))) as typeof socket.end;
    });
    const client = await RawClient.connect(served.port);
    client.write(get('/', '', 'GET', '1.0'));
    await until(() => served.errors.text.includes('aborting the connection'), 'the abort');
    await until(() => resets === 1, 'the reset');
    expect(ends).toBe(0);
  });


  it('B6: an error after write() but before anything reached the wire is still a 500', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      write('queued');
      throw new Error('after write');
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(response.body.toString()).not.toContain('queued');
  });

  it('B6: a thrown non-Error value is a 500 too', async () => {
    const { port, errors } = await serveApp(() => {
      throw 'a string, not an Error';
    });
    expect((await roundTrip(port, get())).status).toBe(500);
    expect(errors.text).toContain('a string, not an Error');
  });

  it('B6: a header list changed after startResponse checked it is a 500, not a crash', async () => {
    const { port } = await listenApp((_e, start) => {
      const headers: Array<[string, string]> = [['X-Ok', '1']];
      start('200 OK', headers);
      headers.push(['X-Bad', 'split\r\nSet-Cookie: evil=1']);
      return ['x'];
    });
    const client = await RawClient.connect(port);
    client.write(get() + get());
    const first = await client.readResponse();
    expect(first.status).toBe(500);
    expect(first.header('set-cookie')).toBeUndefined();
    expect((await client.readResponse()).status).toBe(500);
  });
});

describe('what a 500 never shows [B11]', () => {
  const secret = 'sk_live_SECRET_4242';

  for (const [what, app] of [
    ['an Error thrown by the app', () => {
      throw new Error(secret);
    }],
    ['a string thrown by the app', () => {
      throw secret;
    }],
    ['an error from the body before the head', (_e: unknown, start: (s: string, h: Array<[string, string]>) => void) => {
      start('200 OK', []);
      return (async function* () {
        throw new RangeError(secret);
      })();
    }],
    ['a TypeError from a bad chunk', (_e: unknown, start: (s: string, h: Array<[string, string]>) => void) => {
      start('200 OK', []);
      return [{ secret }];
    }],
  ] as Array<[string, App]>) {
    it(`B11: ${what}: the 500 has neither the message nor a stack`, async () => {
      const { port, errors } = await serveApp(app);
      const response = await roundTrip(port, get());
      expect(response.status).toBe(500);
      expect(response.raw.toString('latin1')).not.toContain(secret);
      expect(response.body.toString()).not.toMatch(/\bat\b|Error:/);
      expect(response.body.toString()).toBe('Internal Server Error');
      // It is logged for the operator instead.
      expect(errors.text.length).toBeGreaterThan(0);
    });
  }

  it('B11: serving leaves the Fetch globals alone', async () => {
    const before = [globalThis.fetch, globalThis.Request, globalThis.Response, globalThis.Headers];
    const { port } = await serveApp(streaming(['x']));
    await roundTrip(port, get());
    expect([globalThis.fetch, globalThis.Request, globalThis.Response, globalThis.Headers]).toEqual(before);
  });

  it('B11: X-Forwarded-* headers are not trusted for the scheme or the client address', async () => {
    const { port } = await serveApp((environ, start) => {
      start('200 OK', []);
      return [JSON.stringify([environ['wsgi.url_scheme'], environ.REMOTE_ADDR, environ.HTTPS ?? null])];
    });
    const response = await roundTrip(port, get('/', 'X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n'));
    expect(JSON.parse(response.body.toString())).toEqual(['http', '127.0.0.1', null]);
  });
});
