// SPEC §4 B2–B4, B8, B9 on the wire: how the body is framed (Content-Length, chunked, close), what
// HEAD, 204 and 304 send, and which headers the gateway adds. Raw sockets, since the bytes are the rule.
import http from 'node:http';
import type net from 'node:net';
import { toExpress } from '@node-wsgi/express';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { App, Body, Chunk } from '../packages/core/src/index.js';
import { cleanup, get, listenApp, RawClient, roundTrip, serveApp, spy, until } from './support/wire.js';

afterEach(cleanup);

function ok(body: () => Body, headers: Array<[string, string]> = [], status = '200 OK'): App {
  return (_e, start) => {
    start(status, headers);
    return body();
  };
}

async function* asyncChunks(...chunks: Chunk[]): AsyncGenerator<Chunk> {
  for (const chunk of chunks) yield chunk;
}

function* syncChunks(...chunks: Chunk[]): Generator<Chunk> {
  for (const chunk of chunks) yield chunk;
}

describe('empty chunks [B2]', () => {
  it("B2: ['', 'Test'] from an async body arrives as 'Test' in a well-formed chunked response", async () => {
    const { port } = await serveApp(ok(() => asyncChunks('', 'Test')));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.framing).toBe('chunked');
    expect(response.terminated).toBe(true);
    expect(response.body.toString()).toBe('Test');
  });

  it('B2: empty chunks in the middle never end a chunked response early', async () => {
    const { port } = await serveApp(ok(() => asyncChunks('a', '', new Uint8Array(0), 'b', '', 'c')));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('abc');
    // Exactly one terminating chunk on the wire, at the very end.
    const raw = response.raw.toString('latin1');
    expect(raw.indexOf('\r\n0\r\n\r\n')).toBe(raw.length - 7);
    expect(raw.match(/\r\n0\r\n/g)).toHaveLength(1);
  });

  it('B2: a body of only empty chunks sends an empty body with Content-Length 0', async () => {
    const { port } = await serveApp(ok(() => ['', new Uint8Array(0), '']));
    const response = await roundTrip(port, get());
    expect(response.header('content-length')).toBe('0');
    expect(response.body.length).toBe(0);
  });
});

describe('framing without Content-Length [B3]', () => {
  it('B3: an array body gets a computed Content-Length counted in bytes', async () => {
    const { port } = await serveApp(ok(() => ['h\u00e9llo', ' ', Buffer.from('w\u00f6rld')]));
    const response = await roundTrip(port, get());
    expect(response.framing).toBe('content-length');
    expect(response.header('content-length')).toBe('13');
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.body.toString()).toBe('h\u00e9llo w\u00f6rld');
  });

  it('B3: a short synchronous iterable gets a computed Content-Length', async () => {
    const { port } = await serveApp(ok(() => syncChunks('one,', 'two,', 'three')));
    const response = await roundTrip(port, get());
    expect(response.header('content-length')).toBe('13');
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.body.toString()).toBe('one,two,three');
  });

  it('B3: a Set or other built-in iterable counts as a synchronous body', async () => {
    const { port } = await serveApp(ok(() => new Set(['a', 'b'])));
    const response = await roundTrip(port, get());
    expect(response.header('content-length')).toBe('2');
    expect(response.body.toString()).toBe('ab');
  });

  it('B3: a synchronous iterable longer than the 64 KiB read-ahead is chunked, and arrives whole', async () => {
    const block = Buffer.alloc(40 * 1024, 'x');
    const { port } = await serveApp(ok(() => syncChunks(block, block, block, 'end')));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.framing).toBe('chunked');
    expect(response.header('content-length')).toBeUndefined();
    expect(response.body.length).toBe(3 * block.length + 3);
    expect(response.body.subarray(-3).toString()).toBe('end');
  });

  it('B3: an async iterable is chunked on HTTP/1.1', async () => {
    const { port } = await serveApp(ok(() => asyncChunks('stream', 'ed')));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.header('transfer-encoding')).toBe('chunked');
    expect(response.header('content-length')).toBeUndefined();
    expect(response.terminated).toBe(true);
    expect(response.body.toString()).toBe('streamed');
  });

  it('B3: an async iterable on HTTP/1.0 is close-delimited: no chunking, the connection closes', async () => {
    const { port } = await serveApp(ok(() => asyncChunks('old ', 'client')));
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'GET', '1.0'));
    const response = await client.readUntilClose();
    expect(response.framing).toBe('close');
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.header('content-length')).toBeUndefined();
    expect(response.body.toString()).toBe('old client');
  });

  it('B3: an array body on HTTP/1.0 still gets its computed Content-Length', async () => {
    const { port } = await serveApp(ok(() => ['known']));
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'GET', '1.0'));
    const response = await client.readResponse();
    expect(response.header('content-length')).toBe('5');
    expect(response.body.toString()).toBe('known');
  });

  it('B3: responses on one keep-alive connection stay in step (array, async, sync)', async () => {
    const bodies: Array<() => Body> = [() => ['first'], () => asyncChunks('sec', 'ond'), () => syncChunks('th', 'ird')];
    let n = 0;
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return bodies[n++ % 3]!();
    });
    const client = await RawClient.connect(port);
    client.write(get() + get() + get());
    const texts = [];
    for (let i = 0; i < 3; i++) texts.push((await client.readResponse()).body.toString());
    expect(texts).toEqual(['first', 'second', 'third']);
    expect(client.closed).toBe(false);
  });
});

describe('framing with the app’s Content-Length [B3]', () => {
  it('B3: clamps an array body longer than its Content-Length; the connection is reused', async () => {
    const { port } = await serveApp(ok(() => ['abc', 'def'], [['Content-Length', '4']]));
    const client = await RawClient.connect(port);
    client.write(get() + get());
    const first = await client.readResponse();
    const second = await client.readResponse();
    expect(first.header('content-length')).toBe('4');
    expect(first.body.toString()).toBe('abcd');
    expect(second.body.toString()).toBe('abcd');
    expect(client.rest.length).toBe(0);
  });

  it('B3: clamps a body longer than its Content-Length and stops iterating', async () => {
    let finallyRan = 0;
    const probes: Array<ReturnType<typeof spy>['probe']> = [];
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [['Content-Length', '5']]);
      const { body, probe } = spy(
        (async function* () {
          try {
            for (let i = 0; ; i++) yield `${i}${i}${i}`;
          } finally {
            finallyRan++;
          }
        })(),
      );
      probes.push(probe);
      return body;
    });
    const client = await RawClient.connect(port);
    // Pipelined: the second response must start right where the clamped first one stopped.
    client.write(get() + get('/again'));
    const first = await client.readResponse();
    const second = await client.readResponse();
    expect(first.body.toString()).toBe('00011');
    expect(second.body.toString()).toBe('00011');
    expect(probes.map((p) => [p.pulls, p.returns, p.closes])).toEqual([
      [2, 1, 1],
      [2, 1, 1],
    ]);
    await until(() => finallyRan === 2, 'the generators’ finally');
    expect(client.closed).toBe(false);
  });

  it('B3: a sync body is clamped too, and pulled no further than the Content-Length needs', async () => {
    const { body, probe } = spy(syncChunks('ab', 'cd', 'ef', 'gh'));
    const { port } = await serveApp(ok(() => body, [['Content-Length', '3']]));
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('abc');
    expect(probe.pulls).toBe(2);
    expect(probe.returns).toBe(1);
    expect(probe.closes).toBe(1);
  });

  it('B3: an array body shorter than its Content-Length closes the connection and logs it', async () => {
    const { port, errors } = await serveApp(ok(() => ['abc'], [['Content-Length', '10']]));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expect(response.header('content-length')).toBe('10');
    expect(response.body.toString()).toBe('abc');
    expect(errors.text).toMatch(/short of its Content-Length/);
  });

  it('B3: a streamed body shorter than its Content-Length closes the connection and logs it', async () => {
    const { body, probe } = spy(asyncChunks('abc', 'de'));
    const { port, errors } = await serveApp(ok(() => body, [['Content-Length', '10']]));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expect(response.body.toString()).toBe('abcde');
    expect(errors.text).toMatch(/short of its Content-Length/);
    expect(probe.closes).toBe(1);
  });

  it('B3: a body of exactly its Content-Length keeps the connection alive', async () => {
    const { port, errors } = await serveApp(ok(() => asyncChunks('ab', 'c'), [['Content-Length', '3']]));
    const client = await RawClient.connect(port);
    client.write(get() + get());
    expect((await client.readResponse()).body.toString()).toBe('abc');
    expect((await client.readResponse()).body.toString()).toBe('abc');
    expect(client.closed).toBe(false);
    expect(errors.text).toBe('');
  });
});

describe('HEAD [B4]', () => {
  it('B4: HEAD keeps the app’s Content-Length, sends no body bytes, and the connection is reused', async () => {
    const { body, probe } = spy(syncChunks('hello'));
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Length', '5'], ['Content-Type', 'text/plain']]);
      return environ.REQUEST_METHOD === 'HEAD' ? body : ['hello'];
    });
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD'));
    const head = await client.readResponse({ head: true });
    expect(head.header('content-length')).toBe('5');
    expect(head.header('transfer-encoding')).toBeUndefined();
    client.write(get('/next'));
    const next = await client.readResponse();
    // Nothing came between the HEAD's header block and the next response.
    expect(next.statusLine).toBe('HTTP/1.1 200 OK');
    expect(next.body.toString()).toBe('hello');
    expect(probe.closes).toBe(1);
  });

  it('B4: HEAD of an array body gets the same computed Content-Length as GET', async () => {
    const { port } = await serveApp(ok(() => ['twelve bytes']));
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD') + get());
    const head = await client.readResponse({ head: true });
    const full = await client.readResponse();
    expect(head.header('content-length')).toBe('12');
    expect(full.header('content-length')).toBe('12');
    expect(full.body.toString()).toBe('twelve bytes');
  });

  it('B4: HEAD of a short synchronous body gets the computed Content-Length GET gets', async () => {
    const { port } = await serveApp(ok(() => syncChunks('ab', 'cd')));
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD') + get());
    const head = await client.readResponse({ head: true });
    const full = await client.readResponse();
    expect(full.header('content-length')).toBe('4');
    expect(head.header('content-length')).toBe('4');
  });

  it('B4: HEAD of an async body: no length, no chunked framing, no 0\\r\\n\\r\\n, body closed after one pull', async () => {
    const { body, probe } = spy(asyncChunks('never', 'sent'));
    const { port } = await serveApp((environ, start) => {
      start('200 OK', []);
      return environ.REQUEST_METHOD === 'HEAD' ? body : ['x'];
    });
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD'));
    const head = await client.readResponse({ head: true });
    expect(head.header('content-length')).toBeUndefined();
    expect(head.header('transfer-encoding')).toBeUndefined();
    client.write(get());
    const next = await client.readResponse();
    expect(next.statusLine).toBe('HTTP/1.1 200 OK');
    expect(next.body.toString()).toBe('x');
    expect(probe.pulls).toBe(0);
    expect(probe.closes).toBe(1);
  });

  it('B4: HEAD with startResponse inside the generator pulls only that far, then closes', async () => {
    let finallyRan = false;
    const { body, probe } = spy(
      (async function* () {
        try {
          yield 'first';
          yield 'second';
        } finally {
          finallyRan = true;
        }
      })(),
    );
    const { port } = await serveApp((_e, start) => {
      const lazy = (async function* () {
        start('200 OK', [['X-Lazy', '1']]);
        yield* body as AsyncIterable<Chunk>;
      })();
      return Object.assign(lazy, { close: () => (body as { close(): void }).close() });
    });
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD'));
    const head = await client.readResponse({ head: true });
    expect(head.header('x-lazy')).toBe('1');
    await until(() => probe.closes === 1, 'close()');
    expect(probe.pulls).toBeLessThanOrEqual(1);
    await until(() => finallyRan, 'the generator’s finally');
  });

  it('B4: a 204 sends no body and no added Content-Length, and closes the body it did not send', async () => {
    const probes: Array<ReturnType<typeof spy>['probe']> = [];
    const { port } = await serveApp((_e, start) => {
      start('204 No Content', []);
      const { body, probe } = spy(syncChunks('ignored'));
      probes.push(probe);
      return body;
    });
    const client = await RawClient.connect(port);
    client.write(get() + get());
    const first = await client.readResponse({ head: true });
    expect(first.status).toBe(204);
    expect(first.header('content-length')).toBeUndefined();
    expect(first.header('transfer-encoding')).toBeUndefined();
    const second = await client.readResponse({ head: true });
    expect(second.status).toBe(204);
    expect(client.rest.length).toBe(0);
    expect(probes.map((p) => [p.pulls, p.closes])).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('B4: a 304 keeps only an app-given Content-Length and sends no body', async () => {
    let withLength = true;
    const { port } = await serveApp((_e, start) => {
      start('304 Not Modified', withLength ? [['Content-Length', '1234'], ['ETag', '"v1"']] : [['ETag', '"v1"']]);
      withLength = !withLength;
      return ['would-be body'];
    });
    const client = await RawClient.connect(port);
    client.write(get() + get() + get());
    const first = await client.readResponse({ head: true });
    const second = await client.readResponse({ head: true });
    expect(first.header('content-length')).toBe('1234');
    expect(first.header('etag')).toBe('"v1"');
    expect(second.header('content-length')).toBeUndefined();
    // The third response starts right after the second's header block: no stray body bytes.
    const third = await client.readResponse({ head: true });
    expect(third.status).toBe(304);
    expect(client.rest.length).toBe(0);
  });
});

describe('headers the gateway adds [B8]', () => {
  it('B8: Date is added when the app gave none; the app’s headers go out as given, in order', async () => {
    const { port } = await serveApp(
      ok(() => ['{}'], [
        ['content-type', 'application/json'],
        ['X-Custom', 'Value With  Spaces'],
        ['cache-control', 'no-store'],
      ]),
    );
    const response = await roundTrip(port, get());
    expect(response.header('date')).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const appLines = response.headers.filter(([n]) => ['content-type', 'X-Custom', 'cache-control'].includes(n));
    expect(appLines).toEqual([
      ['content-type', 'application/json'],
      ['X-Custom', 'Value With  Spaces'],
      ['cache-control', 'no-store'],
    ]);
    // Only framing, Date and connection management are added.
    const added = response.headers.map(([n]) => n.toLowerCase()).filter((n) => !['content-type', 'x-custom', 'cache-control'].includes(n));
    expect(added.sort()).toEqual(['connection', 'content-length', 'date', 'keep-alive']);
  });

  it('B8: the app’s own Date is kept, not doubled', async () => {
    const date = 'Tue, 01 Jan 2030 00:00:00 GMT';
    const { port } = await serveApp(ok(() => [], [['Date', date]]));
    const response = await roundTrip(port, get());
    expect(response.all('date')).toEqual([date]);
  });

  it('B8: no Content-Type is invented when the app gave none', async () => {
    const { port } = await serveApp(ok(() => asyncChunks('raw')));
    const response = await roundTrip(port, get());
    expect(response.header('content-type')).toBeUndefined();
  });

  it('B8: the same holds through toNodeListener on a plain http server', async () => {
    const { port } = await listenApp(ok(() => ['x'], [['X-App', '1'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]));
    const response = await roundTrip(port, get());
    expect(response.header('date')).toBeDefined();
    expect(response.header('x-app')).toBe('1');
    expect(response.all('set-cookie')).toEqual(['a=1', 'b=2']);
  });
});

describe('bodies that will not be sent [B9]', () => {
  function endless(probe: { finallyRan: boolean }): AsyncGenerator<Chunk> {
    return (async function* () {
      try {
        for (;;) {
          await new Promise((resolve) => setImmediate(resolve));
          yield 'data: tick\n\n';
        }
      } finally {
        probe.finallyRan = true;
      }
    })();
  }

  for (const [what, method, status] of [
    ['a HEAD request', 'HEAD', '200 OK'],
    ['a 204', 'GET', '204 No Content'],
    ['a 304', 'GET', '304 Not Modified'],
  ] as const) {
    it(`B9: ${what} with an endless async body finishes, and the body is closed and pulled no more`, async () => {
      const seen = { finallyRan: false };
      const { body, probe } = spy(endless(seen));
      const { port } = await serveApp((_e, start) => {
        start(status, [['Content-Type', 'text/event-stream']]);
        return body;
      });
      const client = await RawClient.connect(port);
      client.write(get('/events', '', method));
      const response = await client.readResponse({ head: true });
      expect(response.status).toBe(Number(status.slice(0, 3)));
      await until(() => probe.closes === 1, 'close()');
      expect(probe.returns).toBe(1);
      expect(probe.pulls).toBe(0);
      // The connection is free for the next request.
      client.write(get('/events', '', 'HEAD'));
      await client.readResponse({ head: true });
      expect(client.rest.length).toBe(0);
    });
  }

  it('B9: HEAD with an endless sync body finishes; the read-ahead is bounded', async () => {
    const { body, probe } = spy(
      (function* () {
        for (;;) yield 'x'.repeat(1024);
      })(),
    );
    const { port } = await serveApp(ok(() => body));
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD'));
    const head = await client.readResponse({ head: true });
    expect(head.header('content-length')).toBeUndefined();
    expect(probe.closes).toBe(1);
    expect(probe.pulls).toBeLessThanOrEqual(65);
  });
});

describe('a short body goes out with its head', () => {
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  // What reaches the connection, one entry per socket write: Node merges a head with a string body
  // into one, a Buffer body is a second write behind it.
  function recordSocketWrites(server: http.Server): Buffer[] {
    const writes: Buffer[] = [];
    server.prependListener('request', (req: http.IncomingMessage) => {
      const socket = req.socket as net.Socket & { recording?: true };
      if (socket.recording) return;
      socket.recording = true;
      const write = socket.write;
      socket.write = function (this: net.Socket, data: string | Uint8Array, ...rest: unknown[]) {
        const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
        const bytes = typeof data === 'string' ? Buffer.from(data, encoding) : Buffer.from(data);
        if (bytes.length > 0) writes.push(bytes);
        return (write as (...a: unknown[]) => boolean).call(this, data, ...rest);
      } as typeof socket.write;
    });
    return writes;
  }

  it('every byte value of a short body arrives unchanged, in the same write as the head', async () => {
    const served = await serveApp(ok(() => [everyByte], [['Content-Type', 'application/octet-stream']]));
    const writes = recordSocketWrites(served.server);
    const client = await RawClient.connect(served.port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.body.equals(everyByte)).toBe(true);
    expect(response.header('content-length')).toBe('256');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.subarray(writes[0]!.length - 256).equals(everyByte)).toBe(true);
    // The connection stays in step for the next request.
    client.write(get());
    expect((await client.readResponse()).body.equals(everyByte)).toBe(true);
  });

  it('a Uint8Array that views part of a larger buffer sends only its own bytes', async () => {
    const backing = new Uint8Array(512).fill(33);
    backing.set(everyByte, 100);
    const view = backing.subarray(100, 356);
    const { port } = await serveApp(ok(() => [view], [['Content-Type', 'application/octet-stream']]));
    const response = await roundTrip(port, get());
    expect(response.body.equals(everyByte)).toBe(true);
  });

  it('a body over 8 KiB goes as it is, byte for byte', async () => {
    const big = Buffer.alloc(8 * 1024 + 1);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const served = await serveApp(ok(() => [big], [['Content-Type', 'application/octet-stream']]));
    const writes = recordSocketWrites(served.server);
    const response = await roundTrip(served.port, get());
    expect(response.body.equals(big)).toBe(true);
    expect(writes.length).toBeGreaterThan(1);
  });

  it('a wrapped res.end (toExpress behind a middleware) gets the body as a Buffer', async () => {
    const seen: unknown[] = [];
    const host = express();
    host.use((_req, res, next) => {
      const end = res.end;
      res.end = function (this: express.Response, chunk?: unknown, ...rest: unknown[]) {
        seen.push(chunk);
        return (end as (...a: unknown[]) => express.Response).call(this, chunk, ...rest);
      } as typeof res.end;
      next();
    });
    host.use(toExpress(ok(() => [everyByte], [['Content-Type', 'application/octet-stream']])));
    const server = http.createServer(host);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await roundTrip((server.address() as net.AddressInfo).port, get());
      expect(response.body.equals(everyByte)).toBe(true);
      expect(seen).toHaveLength(1);
      expect(Buffer.isBuffer(seen[0])).toBe(true);
      expect((seen[0] as Buffer).equals(everyByte)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('HEAD of a short body sends its length and no body bytes', async () => {
    const { port } = await serveApp(ok(() => [everyByte], [['Content-Type', 'application/octet-stream']]));
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD'));
    const response = await client.readResponse({ head: true });
    expect(response.header('content-length')).toBe('256');
    expect(response.body.length).toBe(0);
    client.write(get());
    expect((await client.readResponse()).body.equals(everyByte)).toBe(true);
  });
});

describe('a streamed body’s first chunk goes out with its head', () => {
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  // The socket's own flush methods, which Writable calls with what it hands to the kernel.
  interface Flushing {
    recording?: true;
    _writev(chunks: Array<{ chunk: string | Buffer }>, callback: unknown): void;
    _write(chunk: string | Buffer, encoding: unknown, callback: unknown): void;
  }

  function recordFlushes(server: http.Server): number[] {
    // One entry per batch handed to the kernel: how many pieces it had.
    const flushes: number[] = [];
    server.prependListener('request', (req: http.IncomingMessage) => {
      const socket = req.socket as unknown as Flushing;
      if (socket.recording) return;
      socket.recording = true;
      const writev = socket._writev;
      const write = socket._write;
      socket._writev = function (this: Flushing, chunks, callback) {
        flushes.push(chunks.filter((c) => c.chunk.length > 0).length);
        return writev.call(this, chunks, callback);
      };
      socket._write = function (this: Flushing, chunk, encoding, callback) {
        if (chunk.length > 0) flushes.push(1);
        return write.call(this, chunk, encoding, callback);
      };
    });
    return flushes;
  }

  it('under a Content-Length, the head and a short first chunk are one piece; every byte arrives', async () => {
    const served = await serveApp(ok(() => asyncChunks(everyByte, everyByte), [['Content-Type', 'application/octet-stream'], ['Content-Length', '512']]));
    const flushes = recordFlushes(served.server);
    const client = await RawClient.connect(served.port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.body.equals(Buffer.concat([everyByte, everyByte]))).toBe(true);
    // Head and first chunk in one piece, the second chunk in another.
    expect(flushes.reduce((a, b) => a + b, 0)).toBe(2);
    client.write(get());
    expect((await client.readResponse()).body.length).toBe(512);
  });

  it('an empty first chunk does not use up the merge, and a chunked body stays well framed', async () => {
    const { port } = await serveApp(ok(() => asyncChunks(new Uint8Array(0), everyByte, 'tail')));
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.framing).toBe('chunked');
    expect(response.terminated).toBe(true);
    expect(response.body.equals(Buffer.concat([everyByte, Buffer.from('tail')]))).toBe(true);
  });

  it('a wrapped res.write gets the first chunk as a Buffer', async () => {
    const seen: unknown[] = [];
    const host = express();
    host.use((_req, res, next) => {
      const write = res.write;
      res.write = function (this: express.Response, chunk: unknown, ...rest: unknown[]) {
        seen.push(chunk);
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof res.write;
      next();
    });
    host.use(toExpress(ok(() => asyncChunks(everyByte), [['Content-Type', 'application/octet-stream'], ['Content-Length', '256']])));
    const server = http.createServer(host);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await roundTrip((server.address() as net.AddressInfo).port, get());
      expect(response.body.equals(everyByte)).toBe(true);
      expect(seen.length).toBeGreaterThan(0);
      expect(Buffer.isBuffer(seen[0])).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
