// SPEC §4 B1, B7, B10: backpressure, a client that leaves mid-response, and a normal request that
// must never look like one that left. Raw sockets: the client decides when to read and when to go.
import { afterEach, describe, expect, it } from 'vitest';
import type { Chunk } from '../packages/core/src/index.js';
import { cleanup, get, listenApp, pause, RawClient, serveApp, spy, until } from './support/wire.js';

afterEach(cleanup);

/** Waits until `read()` has not changed for half a second (checked every 100 ms); bounded at 12 s. */
async function settles(read: () => number, what: string): Promise<number> {
  const deadline = Date.now() + 12_000;
  let last = read();
  let same = 0;
  while (same < 5) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(100);
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

// A runaway producer stops itself here, so a gateway that ignores backpressure fails the test
// instead of filling memory or spinning forever.
const RUNAWAY = 4000;
const CHUNK = Buffer.alloc(64 * 1024, 'z');

describe('backpressure [B1]', () => {
  for (const kind of ['async', 'sync'] as const) {
    it(`B1: a client that does not read stops the pulling of an endless ${kind} body; close() runs when it leaves`, async () => {
      let finallyRan = false;
      const source =
        kind === 'async'
          ? (async function* () {
              try {
                for (let i = 0; i < RUNAWAY; i++) yield CHUNK;
              } finally {
                finallyRan = true;
              }
            })()
          : (function* () {
              try {
                for (let i = 0; i < RUNAWAY; i++) yield CHUNK;
              } finally {
                finallyRan = true;
              }
            })();
      const { body, probe } = spy(source);
      const { port } = await serveApp((_e, start) => {
        start('200 OK', [['Content-Type', 'application/octet-stream']]);
        return body;
      });
      const client = await RawClient.connect(port);
      client.socket.pause();
      client.write(get('/download'));
      await until(() => probe.pulls > 0, 'the first pull');
      const pulls = await settles(() => probe.pulls, 'the pulling to stop');
      // Kernel buffers on loopback hold a few MiB; 4000 pulls would be 250 MiB.
      expect(pulls).toBeLessThan(RUNAWAY / 4);
      expect(probe.closes).toBe(0);
      client.destroy();
      await until(() => probe.closes === 1, 'close() after the client left');
      await until(() => finallyRan, 'the generator’s finally');
      expect(probe.returns).toBe(1);
      expect(probe.pulls).toBeLessThan(RUNAWAY / 4);
    });
  }

  it('B1: each chunk reaches the client before the next one is pulled', async () => {
    let client!: RawClient;
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        for (const word of ['alpha', 'beta', 'gamma']) {
          yield word;
          // A gateway that gathers chunks before sending never gets past this.
          await until(() => client.data.includes(word), `${word} to reach the client`, 5000);
        }
      })();
    });
    client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('alphabetagamma');
    expect(response.terminated).toBe(true);
  });
});

describe('client disconnect [B7]', () => {
  it('B7: a disconnect mid-stream stops the iteration, calls return() and close() once, and runs finally', async () => {
    let finallyRan = false;
    let afterLoop = false;
    const { body, probe } = spy(
      (async function* () {
        try {
          for (let i = 0; ; i++) {
            await new Promise((resolve) => setImmediate(resolve));
            yield `event ${i}\n`;
          }
          afterLoop = true;
        } finally {
          finallyRan = true;
        }
      })(),
    );
    const { port, errors } = await serveApp((_e, start) => {
      start('200 OK', [['Content-Type', 'text/event-stream']]);
      return body;
    });
    const client = await RawClient.connect(port);
    client.write(get('/events'));
    await until(() => client.data.includes('event 2'), 'a few events');
    client.destroy();
    await until(() => probe.closes === 1, 'close()');
    await until(() => finallyRan, 'finally');
    const pullsAtClose = probe.pulls;
    await pause(100);
    expect(probe.pulls).toBeLessThanOrEqual(pullsAtClose + 1);
    expect(probe.returns).toBe(1);
    expect(probe.closes).toBe(1);
    expect(afterLoop).toBe(false);
    // A client leaving is not an app error.
    expect(errors.text).not.toMatch(/failed/);
  });

  it('B7: a disconnect while the body waits before its first chunk closes it at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { body, probe } = spy(
      (async function* () {
        await gate;
        yield 'too late';
        yield 'never';
      })(),
    );
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return body;
    });
    const client = await RawClient.connect(port);
    client.write(get());
    await until(() => probe.pulls === 1, 'the first pull');
    client.destroy();
    // close() comes while the app is still waiting: the app can cancel its work.
    await until(() => probe.closes === 1, 'close() while the first chunk is pending');
    expect(probe.returns).toBe(1);
    release();
    await pause(50);
    expect(probe.pulls).toBe(1);
    expect(probe.closes).toBe(1);
  });

  it('B7: a body returned after the client already left is closed, never pulled', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { body, probe } = spy((async function* (): AsyncGenerator<Chunk> {
      yield 'never';
    })());
    let called = false;
    const { port } = await serveApp(async (_e, start) => {
      called = true;
      await gate;
      start('200 OK', []);
      return body;
    });
    const client = await RawClient.connect(port);
    client.write(get());
    await until(() => called, 'the app to be called');
    client.destroy();
    await pause(50);
    release();
    await until(() => probe.closes === 1, 'close() of the late body');
    expect(probe.pulls).toBe(0);
  });

  it('B7: a disconnect while the socket is full (waiting for drain) closes the body', async () => {
    const { body, probe } = spy(
      (async function* () {
        for (let i = 0; i < RUNAWAY; i++) yield CHUNK;
      })(),
    );
    const { port } = await listenApp((_e, start) => {
      start('200 OK', []);
      return body;
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    client.write(get());
    await settles(() => probe.pulls, 'the pulling to stop');
    client.destroy();
    await until(() => probe.closes === 1, 'close()');
    expect(probe.returns).toBe(1);
  });
});

describe('a normal request [B10]', () => {
  it('B10: a streamed response that ends normally is never treated as aborted', async () => {
    let completed = false;
    let finallyRan = false;
    const { body, probe } = spy(
      (async function* () {
        try {
          for (let i = 0; i < 3; i++) {
            await new Promise((resolve) => setImmediate(resolve));
            yield `${i};`;
          }
          completed = true;
        } finally {
          finallyRan = true;
        }
      })(),
    );
    const { port, errors } = await serveApp((_e, start) => {
      start('200 OK', []);
      return body;
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('0;1;2;');
    await until(() => probe.closes === 1, 'close()');
    expect(completed && finallyRan).toBe(true);
    // return() is the early-stop path; a whole response never takes it.
    expect(probe.returns).toBe(0);
    await pause(50);
    expect(probe.closes).toBe(1);
    expect(errors.text).toBe('');
    expect(client.closed).toBe(false);
  });

  it('B10: a POST whose body the app read (the request stream already closed) still completes', async () => {
    const { body, probe } = spy(
      (async function* () {
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          yield `${i}`;
        }
      })(),
    );
    let received = '';
    const { port, errors } = await serveApp(async (environ, start) => {
      received = Buffer.from(await environ['wsgi.input'].read()).toString();
      start('200 OK', []);
      return body;
    });
    const client = await RawClient.connect(port);
    client.write(`POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`);
    const response = await client.readResponse();
    expect(received).toBe('hello');
    expect(response.body.toString()).toBe('012');
    expect(probe.returns).toBe(0);
    expect(probe.closes).toBe(1);
    expect(errors.text).toBe('');
  });

  it('B10: many sequential requests on one keep-alive connection each close their body exactly once', async () => {
    const probes: Array<ReturnType<typeof spy>['probe']> = [];
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      const { body, probe } = spy(
        probes.length % 2 === 0
          ? ['array']
          : (async function* () {
              yield 'async';
            })(),
      );
      probes.push(probe);
      return body;
    });
    const client = await RawClient.connect(port);
    for (let i = 0; i < 6; i++) {
      client.write(get(`/${i}`));
      const response = await client.readResponse();
      expect(response.body.toString()).toBe(i % 2 === 0 ? 'array' : 'async');
    }
    await until(() => probes.every((p) => p.closes === 1), 'every close()');
    expect(probes.map((p) => [p.closes, p.returns])).toEqual(Array.from({ length: 6 }, () => [1, 0]));
  });
});
