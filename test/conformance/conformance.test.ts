// The conformance table: one list of cases, each run on every host of the matrix (our own server,
// Express, Fastify, Koa), each host mounting the probe app under '/mnt'. A case that needs a piece
// only some hosts have (a next handler for `fallthrough`) says so with `when`; nothing is skipped.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import type { App, Body, Chunk } from '@node-wsgi/core';
import { closeClients, deferred, parseHead, rawRequest, RawSocket, request, within, type HttpResult } from './client.js';
import { closeHosts, describeHosts, HOST_NEXT, PREFIX, type Host } from './hosts.js';

afterEach(async () => {
  closeClients();
  await closeHosts();
});

interface Case {
  it: string;
  when?: (host: Host) => boolean;
  run(host: Host): Promise<void>;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every byte value, 257 times over (65,792 bytes): no value may be lost or re-encoded. */
const ALL_BYTES = (() => {
  const one = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) one[i] = i;
  return Buffer.concat(Array.from({ length: 257 }, () => one));
})();

/** Answers with the environ keys a mount changes, as JSON. */
const environProbe: App = (environ, startResponse) => {
  const keys = [
    'REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'SERVER_NAME', 'SERVER_PORT',
    'SERVER_PROTOCOL', 'REMOTE_ADDR', 'HTTP_HOST', 'HTTP_X_REPEAT', 'HTTP_COOKIE', 'CONTENT_TYPE', 'CONTENT_LENGTH',
  ];
  const seen: Record<string, unknown> = {};
  for (const key of keys) if (key in environ) seen[key] = environ[key];
  startResponse('200 OK', [['Content-Type', 'application/json'], ['X-App', 'probe']]);
  return [JSON.stringify(seen)];
};

/** Reads the whole body and answers it back, with what environ said of its length. */
const echoProbe: App = async (environ, startResponse) => {
  const bytes = await environ['wsgi.input'].read();
  startResponse('200 OK', [
    ['Content-Type', 'application/octet-stream'],
    ['X-Content-Length', String(environ.CONTENT_LENGTH ?? 'none')],
    ['X-Received-Sha256', sha256(bytes)],
  ]);
  return [bytes];
};

/** A body that counts its pulls and reports its ending: the generator's `finally` and `close()`. */
function watchedBody(produce: (n: number) => Chunk | null, options: { async?: boolean } = {}) {
  const finished = deferred();
  const closed = deferred();
  const state = { pulled: 0, finished, closed, closeCalls: 0 };
  function* sync(): Generator<Chunk> {
    try {
      for (;;) {
        const chunk = produce(state.pulled);
        if (chunk === null) return;
        state.pulled++;
        yield chunk;
      }
    } finally {
      finished.resolve();
    }
  }
  // The same producer, a turn of the event loop before each pull; its `finally` is the sync one's.
  async function* asynchronous(): AsyncGenerator<Chunk> {
    const inner = sync();
    try {
      for (;;) {
        await tick();
        const step = inner.next();
        if (step.done === true) return;
        yield step.value;
      }
    } finally {
      inner.return(undefined);
    }
  }
  const body = Object.assign(options.async === false ? sync() : asynchronous(), {
    close() {
      state.closeCalls++;
      closed.resolve();
    },
  }) as Body;
  return { body, state };
}

/** Waits until `read()` stops changing for a while: how long a stalled producer is given to run on. */
async function quiesce(read: () => number): Promise<number> {
  for (;;) {
    const before = read();
    await sleep(250);
    if (read() === before) return before;
  }
}

async function get(host: Host, app: App, path: string, init: Parameters<typeof request>[1] = {}): Promise<HttpResult> {
  const server = await host.start(app);
  return request(server.url + path, init);
}

const cases: Case[] = [
  // --- environ under a mount (SPEC §2) ---
  {
    it: 'environ: SCRIPT_NAME is the mount, PATH_INFO the decoded rest, QUERY_STRING and REQUEST_URI raw, repeated headers joined',
    async run(host) {
      // An escaped '/' is decoded into PATH_INFO where no host router could see it differently:
      // framework hosts refuse it by default (strictPaths), so this case turns that off.
      const server = await host.start(environProbe, { strictPaths: false });
      const client = await RawSocket.connect(server.port);
      const target = `${PREFIX}/a%2Fb/caf%C3%A9?x=1+2&y=%2F&z=caf%C3%A9`;
      client.write(rawRequest('GET', target, ['X-Repeat: one', 'Cookie: a=1', 'X-Repeat: two', 'Cookie: b=2', 'Connection: close']));
      await client.waitForClose();
      const head = parseHead(client.data)!;
      expect(head.status).toBe(200);
      const seen = JSON.parse(client.data.subarray(head.bodyStart).toString('utf8')) as Record<string, string>;
      expect(seen).toEqual({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '/mnt',
        PATH_INFO: '/a/b/caf\u00c3\u00a9',
        QUERY_STRING: 'x=1+2&y=%2F&z=caf%C3%A9',
        REQUEST_URI: target,
        SERVER_NAME: '127.0.0.1',
        SERVER_PORT: String(server.port),
        SERVER_PROTOCOL: 'HTTP/1.1',
        REMOTE_ADDR: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
        HTTP_X_REPEAT: 'one, two',
        HTTP_COOKIE: 'a=1; b=2',
      });
    },
  },
  {
    it: "environ: '/mnt' is ('/mnt', ''), '/mnt/' is ('/mnt', '/'), and the query stays out of both",
    async run(host) {
      const server = await host.start(environProbe);
      const rows: Array<[string, string, string, string]> = [
        ['/mnt', '/mnt', '', ''],
        ['/mnt/', '/mnt', '/', ''],
        ['/mnt?q=%2F', '/mnt', '', 'q=%2F'],
        ['/mnt/?q=1', '/mnt', '/', 'q=1'],
        ['/mnt/x/', '/mnt', '/x/', ''],
        ['/mnt//x', '/mnt', '//x', ''],
        ['/mnt/x?a=1?b', '/mnt', '/x', 'a=1?b'],
      ];
      for (const [target, scriptName, pathInfo, query] of rows) {
        const response = await request(server.url + target);
        expect(response.status, target).toBe(200);
        const seen = JSON.parse(response.body.toString()) as Record<string, string>;
        expect([seen.SCRIPT_NAME, seen.PATH_INFO, seen.QUERY_STRING, seen.REQUEST_URI], target).toEqual([scriptName, pathInfo, query, target]);
      }
    },
  },
  {
    it: "strictPaths: in a framework host an escaped '/', '\\' or unreserved character is not found by default (host guards match raw paths); our server decodes it",
    async run(host) {
      const server = await host.start(environProbe);
      for (const target of ['/mnt/a%2Fb', '/mnt/%61dmin', '/mnt/a%5Cb', '/mnt/%2e%2e/x']) {
        const response = await request(server.url + target);
        if (host.name === 'node') {
          // Decoded, '/mnt/%2e%2e/x' is '/mnt/../x', which the test's mount wrapper does not own.
          if (!target.includes('%2e')) expect(response.status, target).toBe(200);
        } else {
          expect(response.status, target).toBe(404);
          expect(response.header('x-app'), target).toBeUndefined();
        }
      }
      // Escapes a client must send (non-ASCII, space, '?' in a segment) are never refused.
      const fine = await request(server.url + '/mnt/caf%C3%A9%20x%3F');
      expect(fine.status).toBe(200);
      expect((JSON.parse(fine.body.toString()) as Record<string, string>).PATH_INFO).toBe('/caf\u00c3\u00a9 x?');
    },
  },
  {
    it: "environ: an encoded prefix ('/%6Dnt/x') is either the app's, split as the router saw it, or not the app's at all",
    async run(host) {
      const server = await host.start(environProbe);
      const response = await request(server.url + '/%6Dnt/x%2Fy');
      if (response.status === 404) {
        expect(response.header('x-app')).toBeUndefined();
        return;
      }
      const seen = JSON.parse(response.body.toString()) as Record<string, string>;
      expect([seen.SCRIPT_NAME, seen.PATH_INFO, seen.REQUEST_URI]).toEqual(['/mnt', '/x/y', '/%6Dnt/x%2Fy']);
    },
  },
  {
    it: 'methods: every method reaches the app under the mount, as sent',
    async run(host) {
      const server = await host.start(environProbe);
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const response = await request(server.url + '/mnt/m', { method, headers: { 'content-length': '0' } });
        expect(response.status, method).toBe(200);
        expect((JSON.parse(response.body.toString()) as Record<string, string>).REQUEST_METHOD, method).toBe(method);
      }
    },
  },
  {
    it: "environ: '/mntx' is not under the mount, so the app never sees it",
    async run(host) {
      const server = await host.start(environProbe);
      const response = await request(server.url + '/mntx/y');
      expect(response.status).toBe(404);
      expect(response.header('x-app')).toBeUndefined();
    },
  },

  // --- request and response bodies ---
  {
    it: 'body: all 256 byte values go in and come back exactly (Content-Length upload)',
    async run(host) {
      const response = await get(host, echoProbe, '/mnt/echo', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(ALL_BYTES.length) },
        body: ALL_BYTES,
      });
      expect(response.status).toBe(200);
      expect(response.header('x-content-length')).toBe(String(ALL_BYTES.length));
      expect(response.header('x-received-sha256')).toBe(sha256(ALL_BYTES));
      expect(sha256(response.body)).toBe(sha256(ALL_BYTES));
    },
  },
  {
    it: 'body: a chunked upload arrives whole with no CONTENT_LENGTH, and comes back exactly',
    async run(host) {
      const response = await get(host, echoProbe, '/mnt/echo', {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        body: ALL_BYTES,
      });
      expect(response.status).toBe(200);
      expect(response.header('x-content-length')).toBe('none');
      expect(sha256(response.body)).toBe(sha256(ALL_BYTES));
    },
  },
  {
    it: 'body: an upload with no Content-Type is still the raw bytes',
    async run(host) {
      const response = await get(host, echoProbe, '/mnt/echo', {
        method: 'POST',
        headers: { 'content-length': '256' },
        body: ALL_BYTES.subarray(0, 256),
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(ALL_BYTES.subarray(0, 256));
    },
  },

  {
    it: 'body: the request streams in as the response streams out (each echoed chunk arrives before the next is sent)',
    async run(host) {
      const server = await host.start((environ, start) => {
        start('200 OK', [['Content-Type', 'application/octet-stream']]);
        return (async function* () {
          for await (const chunk of environ['wsgi.input']) yield chunk;
        })();
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('POST', '/mnt/duplex', ['Content-Type: application/octet-stream', 'Transfer-Encoding: chunked']));
      for (const part of ['ping-1;', 'ping-2;', 'ping-3;']) {
        client.write(`${part.length.toString(16)}\r\n${part}\r\n`);
        // The next part is sent only once this one came back: neither side may wait for the whole body.
        await within(client.waitFor(() => client.text.includes(part), `the echo of ${part}`), 5000, `the echo of ${part}`);
      }
      client.write('0\r\n\r\n');
      await within(client.waitFor(() => client.text.endsWith('0\r\n\r\n'), 'the end of the response'), 5000, 'the end of the response');
    },
  },
  {
    it: 'Expect: 100-continue: the client gets 100 Continue, sends the body, and the app reads it',
    async run(host) {
      const server = await host.start(echoProbe);
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('POST', '/mnt/upload', ['Content-Type: application/octet-stream', 'Content-Length: 5', 'Expect: 100-continue']));
      await within(client.waitFor(() => client.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), '100 Continue'), 5000, '100 Continue');
      client.write('hello');
      const head = await client.head('HTTP/1.1 100 Continue\r\n\r\n'.length);
      expect(head.status).toBe(200);
      await client.waitFor(() => client.data.length >= head.bodyStart + 5, 'the echo');
      expect(client.data.subarray(head.bodyStart).toString()).toBe('hello');
    },
  },
  {
    it: 'keep-alive: a body the app leaves unread does not spill into the next request on the connection',
    async run(host) {
      const server = await host.start((environ, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return [environ.REQUEST_METHOD === 'POST' ? 'ignored the body' : `second ${environ.PATH_INFO}`];
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('POST', '/mnt/ignore', ['Content-Type: text/plain', 'Content-Length: 26']) + 'GET /mnt/smuggled HTTP/1.1' + rawRequest('GET', '/mnt/next'));
      const first = await client.head();
      expect(first.status).toBe(200);
      const second = await within(client.head(first.bodyStart + Number(first.header('content-length'))), 5000, 'the second response');
      expect(second.status).toBe(200);
      await client.waitFor(() => client.text.includes('second /next'), 'the second body');
      expect(client.text).not.toContain('smuggled');
    },
  },
  {
    it: 'keep-alive: a large body the app leaves unread is not read on; the connection closes after the response',
    async run(host) {
      const server = await host.start((_e, start) => {
        start('413 Content Too Large', [['Content-Type', 'text/plain']]);
        return ['too large'];
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('POST', '/mnt/upload', ['Content-Type: application/octet-stream', `Content-Length: ${64 * 1024 * 1024}`]));
      client.write(Buffer.alloc(1024));
      const head = await within(client.head(), 5000, 'the response');
      expect(head.status).toBe(413);
      await within(client.waitForClose(), 5000, 'the server to close the connection');
      expect(client.text).toContain('too large');
    },
  },
  // --- headers ---
  {
    it: 'repeated headers: two Set-Cookie (or Link) pairs from the app reach the client as two header lines, in order, where the name first appears [R4]',
    async run(host) {
      const server = await host.start((environ, start) => {
        start('200 OK', [
          ['Content-Type', 'text/plain'],
          ['Set-Cookie', 'a=1; Path=/'],
          ['Link', '</a.css>; rel=preload'],
          ['Set-Cookie', 'b=2'],
          ['Link', '</b.js>; rel=preload'],
          ['X-After', 'last'],
        ]);
        if (environ.PATH_INFO === '/stream') {
          return (async function* () {
            yield 'ok';
          })();
        }
        return ['ok'];
      });
      for (const path of ['/mnt/whole', '/mnt/stream']) {
        const response = await request(server.url + path);
        expect(response.lines('set-cookie'), path).toEqual(['a=1; Path=/', 'b=2']);
        expect(response.lines('link'), path).toEqual(['</a.css>; rel=preload', '</b.js>; rel=preload']);
        // The app's order of names is kept: a repeated name does not move behind the names after it.
        const names = response.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
        expect(names.lastIndexOf('link'), path).toBeLessThan(names.indexOf('x-after'));
      }
    },
  },
  {
    it: "host headers: a cookie and a CORS header the host set are kept beside the app's; the app's value wins for a shared name, in the host's place",
    async run(host) {
      const server = await host.start((environ, start) => {
        start('200 OK', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['X-Both', 'app'], ['Set-Cookie', 'b=2'], ['X-Both', 'app again']]);
        if (environ.PATH_INFO === '/stream') {
          return (async function* () {
            await tick();
            yield 'streamed';
          })();
        }
        return ['whole'];
      }, { hostHeaders: true });
      for (const path of ['/mnt/whole', '/mnt/stream']) {
        const response = await request(server.url + path);
        expect(response.status, path).toBe(200);
        const cookies = response.lines('set-cookie');
        expect(cookies.filter((c) => c.startsWith('host=1')), path).toHaveLength(1);
        expect(cookies.filter((c) => !c.startsWith('host=1')), path).toEqual(['a=1', 'b=2']);
        expect(response.header('access-control-allow-origin'), path).toBe('*');
        expect(response.lines('x-both'), path).toEqual(['app', 'app again']);
        expect(response.lines('content-type'), path).toEqual(['text/plain']);
        // The app's value takes the host's place, as it would had the host's own route set it.
        const names = response.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
        expect(names.indexOf('x-both'), path).toBeLessThan(names.indexOf('content-type'));
      }
    },
  },

  {
    it: 'status: an unusual code and its reason phrase reach the client as the app gave them',
    async run(host) {
      const server = await host.start((_e, start) => {
        start('299 Very Custom Reason', [['Content-Type', 'text/plain']]);
        return ['x'];
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', '/mnt/', ['Connection: close']));
      await client.waitForClose();
      expect(client.text.split('\r\n')[0]).toBe('HTTP/1.1 299 Very Custom Reason');
    },
  },
  {
    it: 'headers: no Content-Type is invented when the app gave none, for a whole body or a stream [B8]',
    async run(host) {
      const server = await host.start((environ, start) => {
        start('200 OK', [['X-App', 'untyped']]);
        if (environ.PATH_INFO === '/stream') {
          return (async function* () {
            yield Buffer.from([0xff, 0x00]);
          })();
        }
        return [Buffer.from([0xff, 0x00])];
      });
      for (const path of ['/mnt/whole', '/mnt/stream']) {
        const response = await request(server.url + path);
        expect([response.status, response.header('x-app')], path).toEqual([200, 'untyped']);
        expect(response.lines('content-type'), path).toEqual([]);
        expect(response.body, path).toEqual(Buffer.from([0xff, 0x00]));
      }
    },
  },

  // --- streaming, disconnect, backpressure (B1, B5, B7) ---
  {
    it: 'streaming: the first chunk reaches the client before the app produces the last',
    async run(host) {
      const gate = deferred();
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          yield 'first;';
          await gate.promise;
          yield 'last';
        })();
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', '/mnt/stream', ['Connection: close']));
      // The app cannot produce 'last' until the client has seen 'first;': a host that buffers hangs here.
      await within(client.waitFor(() => client.text.includes('first;'), "the first chunk"), 5000, 'the first chunk');
      expect(client.text).not.toContain('last');
      gate.resolve();
      await client.waitForClose();
      const head = parseHead(client.data)!;
      expect(head.header('transfer-encoding')).toBe('chunked');
      expect(client.text).toContain('last');
      expect(client.text.endsWith('0\r\n\r\n')).toBe(true);
    },
  },
  {
    it: "disconnect: a client that leaves mid-stream stops the body: the generator's finally and close() run",
    async run(host) {
      const chunk = 'x'.repeat(16 * 1024);
      const { body, state } = watchedBody(() => chunk);
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return body;
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', '/mnt/endless'));
      await within(client.waitFor(() => client.data.length > 32 * 1024, 'some body bytes'), 5000, 'some body bytes');
      client.destroy();
      await within(Promise.all([state.finished.promise, state.closed.promise]), 5000, "the body's finally and close()");
      expect(state.closeCalls).toBe(1);
      const pulled = state.pulled;
      await sleep(50);
      expect(state.pulled).toBe(pulled);
    },
  },
  {
    it: 'disconnect: a client that leaves before the app answered still gets the body closed, not run on',
    async run(host) {
      const { body, state } = watchedBody(() => 'tick');
      const called = deferred();
      const server = await host.start(async (environ, start) => {
        called.resolve();
        const req = environ['node.request'] as IncomingMessage;
        // Answer only once the client is gone, so the head is settled after the disconnect.
        await new Promise<void>((resolve) => (req.socket.destroyed ? resolve() : req.socket.once('close', () => resolve())));
        start('200 OK', [['Content-Type', 'text/plain']]);
        return body;
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', '/mnt/slow'));
      await within(called.promise, 5000, 'the app to be called');
      client.destroy();
      await within(state.closed.promise, 5000, "the body's close()");
      const pulled = state.pulled;
      expect(pulled).toBeLessThanOrEqual(1);
      await sleep(50);
      expect(state.pulled).toBe(pulled);
      expect(state.closeCalls).toBe(1);
    },
  },
  {
    it: 'backpressure: a client that does not read holds the app to a bounded number of chunks, and leaving ends it',
    async run(host) {
      const total = 2000;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const { body, state } = watchedBody((n) => (n < total ? chunk : null), { async: false });
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'application/octet-stream']]);
        return body;
      });
      const client = await RawSocket.connect(server.port);
      client.socket.pause();
      client.write(rawRequest('GET', '/mnt/big'));
      await within(
        (async () => {
          while (state.pulled === 0) await sleep(10);
        })(),
        5000,
        'the first pull',
      );
      const produced = await quiesce(() => state.pulled);
      // Socket buffers on loopback hold a few MiB; an unbounded producer would reach all 2000 (125 MiB).
      expect(produced).toBeLessThan(400);
      client.destroy();
      await within(Promise.all([state.finished.promise, state.closed.promise]), 5000, "the body's finally and close()");
      expect(state.pulled).toBeLessThan(total);
    },
  },

  // --- HEAD, 204, 304 (B4, B9) ---
  {
    it: "HEAD: the app's Content-Length is kept and no body bytes follow the head",
    async run(host) {
      const server = await host.start((environ, start) => {
        start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
        return (async function* () {
          yield 'hello';
        })();
      });
      const client = await RawSocket.connect(server.port);
      // Pipelined: the GET's status line must start right where the HEAD's head ends.
      client.write(rawRequest('HEAD', '/mnt/x') + rawRequest('GET', '/mnt/x'));
      const first = await client.head();
      expect(first.status).toBe(200);
      expect(first.lines('content-length')).toEqual(['5']);
      const second = await client.head(first.bodyStart);
      expect(second.status).toBe(200);
      await client.waitFor(() => client.data.length >= second.bodyStart + 5, 'the GET body');
      expect(client.data.subarray(second.bodyStart).toString()).toBe('hello');
    },
  },
  {
    it: 'HEAD: an endless body is not pulled on; it is closed once the head is out',
    async run(host) {
      const { body, state } = watchedBody(() => 'data: tick\n\n');
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'text/event-stream']]);
        return body;
      });
      const response = await request(server.url + '/mnt/events', { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.body.length).toBe(0);
      await within(state.closed.promise, 5000, "the body's close()");
      // startResponse came before the body was returned, so nothing needed pulling [B4, B9].
      expect(state.pulled).toBe(0);
      expect(state.closeCalls).toBe(1);
    },
  },
  {
    it: 'HEAD: a whole body gets its computed Content-Length, and no body bytes',
    async run(host) {
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['hello world'];
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('HEAD', '/mnt/x') + rawRequest('GET', '/mnt/x'));
      const first = await client.head();
      expect(first.status).toBe(200);
      const second = await client.head(first.bodyStart);
      expect(second.status).toBe(200);
      expect(second.lines('content-length')).toEqual(['11']);
      expect(first.lines('content-length')).toEqual(['11']);
    },
  },
  {
    it: '204 and 304: no body bytes and no Content-Length added; an endless 304 body is closed',
    async run(host) {
      const { body, state } = watchedBody(() => 'never sent');
      const server = await host.start((environ, start) => {
        if (environ.PATH_INFO === '/204') {
          start('204 No Content', [['X-App', '204']]);
          return ['never sent'];
        }
        if (environ.PATH_INFO === '/304') {
          start('304 Not Modified', [['ETag', '"v1"'], ['X-App', '304']]);
          return body;
        }
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['after'];
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', '/mnt/204') + rawRequest('GET', '/mnt/304', ['If-None-Match: "v1"']) + rawRequest('GET', '/mnt/ok'));
      const noContent = await client.head();
      expect([noContent.status, noContent.header('x-app')]).toEqual([204, '204']);
      expect(noContent.lines('content-length')).toEqual([]);
      expect(noContent.lines('transfer-encoding')).toEqual([]);
      const notModified = await client.head(noContent.bodyStart);
      expect([notModified.status, notModified.header('etag')]).toEqual([304, '"v1"']);
      expect(notModified.lines('content-length')).toEqual([]);
      const after = await client.head(notModified.bodyStart);
      expect(after.status).toBe(200);
      await client.waitFor(() => client.data.length >= after.bodyStart + 5, 'the last body');
      expect(client.data.subarray(after.bodyStart).toString()).toBe('after');
      expect(client.text).not.toContain('never sent');
      await within(state.closed.promise, 5000, "the 304 body's close()");
      expect([state.pulled, state.closeCalls]).toEqual([0, 1]);
    },
  },
  {
    it: "204 and 205 with the app's own headers (a CORS preflight's Content-Length: 0, a Content-Type): kept as the app gave them [B8]",
    async run(host) {
      const server = await host.start((environ, start) => {
        const code = environ.PATH_INFO === '/205' ? '205 Reset Content' : '204 No Content';
        start(code, [['Access-Control-Allow-Methods', 'GET,PUT'], ['Content-Type', 'text/plain'], ['Content-Length', '0']]);
        return [];
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('OPTIONS', '/mnt/preflight') + rawRequest('GET', '/mnt/205'));
      const preflight = await client.head();
      expect([preflight.status, preflight.header('access-control-allow-methods')]).toEqual([204, 'GET,PUT']);
      expect([preflight.lines('content-type'), preflight.lines('content-length')]).toEqual([['text/plain'], ['0']]);
      const reset = await client.head(preflight.bodyStart);
      expect([reset.status, reset.lines('content-type'), reset.lines('content-length')]).toEqual([205, ['text/plain'], ['0']]);
    },
  },

  // --- errors (B6) ---
  {
    it: "error before the headers: the host's error path answers 500, never a hang",
    async run(host) {
      const server = await host.start((environ) => {
        if (environ.PATH_INFO === '/sync') throw new Error('boom before headers');
        return (async function* () {
          await tick();
          throw new Error('boom in the body before headers');
        })();
      });
      for (const path of ['/mnt/sync', '/mnt/async']) {
        const response = await within(request(server.url + path), 5000, path);
        expect(response.status, path).toBe(500);
        expect(response.body.toString(), path).not.toContain('    at ');
        expectHostErrorPage(host, response);
      }
    },
  },
  {
    it: 'error after the headers: the client sees an incomplete response, never one that looks whole',
    async run(host) {
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          yield 'partial;';
          await tick();
          await tick();
          throw new Error('boom after headers');
        })();
      });
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', '/mnt/fail'));
      await within(client.waitForClose(), 5000, 'the connection to close');
      const head = parseHead(client.data)!;
      expect(head.status).toBe(200);
      expect(head.header('transfer-encoding')).toBe('chunked');
      expect(client.text).toContain('partial;');
      expect(client.text.endsWith('0\r\n\r\n')).toBe(false);
      expect(server.errors.text).toContain('boom after headers');
    },
  },
  {
    it: 'error after the headers: a body that ends short of its Content-Length aborts the connection',
    async run(host) {
      const server = await host.start((_e, start) => {
        start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '100']]);
        return (async function* () {
          yield 'only ten b';
        })();
      });
      await expect(within(request(server.url + '/mnt/short'), 5000, 'the short response')).rejects.toThrow();
    },
  },

  // --- fallthrough (SPEC §7) ---
  {
    it: "fallthrough: a 404 from the app hands over to the host's next handler; the app's body is closed unsent",
    when: (host) => host.fallthrough,
    async run(host) {
      const plain = watchedBody(() => 'app 404 body');
      const lateFinished = deferred();
      const server = await host.start((environ, start) => {
        if (environ.PATH_INFO === '/found') {
          start('200 OK', [['Content-Type', 'text/plain']]);
          return ['app answered'];
        }
        if (environ.PATH_INFO === '/late') {
          // startResponse inside the body's first iteration (R6): the gateway pulls once to see it.
          return (async function* () {
            try {
              start('404 Not Found', [['Content-Type', 'text/plain'], ['X-App', 'late']]);
              yield 'late 404 body';
              yield 'more';
            } finally {
              lateFinished.resolve();
            }
          })();
        }
        start('404 Not Found', [['Content-Type', 'text/plain'], ['X-App', '404']]);
        return plain.body;
      }, { fallthrough: true });
      const found = await request(server.url + '/mnt/found');
      expect([found.status, found.body.toString()]).toEqual([200, 'app answered']);
      for (const path of ['/mnt/missing', '/mnt/late']) {
        const response = await request(server.url + path);
        expect([response.status, response.body.toString()], path).toEqual([200, HOST_NEXT]);
        expect(response.header('x-app'), path).toBeUndefined();
      }
      // Set before the body was asked for anything: not one chunk pulled.
      expect(plain.state.pulled).toBe(0);
      await within(Promise.all([plain.state.closed.promise, lateFinished.promise]), 5000, "the 404 bodies' close() and finally");
      expect(plain.state.closeCalls).toBe(1);
    },
  },
];

/** The host's own error page is what answered, not one the adapter made up. */
function expectHostErrorPage(host: Host, response: HttpResult): void {
  const type = response.header('content-type') ?? '';
  if (host.name === 'node' || host.name === 'koa') {
    expect(response.body.toString()).toBe('Internal Server Error');
    expect(type).toMatch(/^text\/plain/);
  } else if (host.name === 'express') {
    expect(type).toMatch(/^text\/html/);
  } else {
    expect(type).toMatch(/^application\/json/);
    expect((JSON.parse(response.body.toString()) as { statusCode: number }).statusCode).toBe(500);
  }
}

// --- the pre-parsed body (SPEC §3): each host with each of its usual parsers in front ---

const PAYLOADS: Array<{ type: string; body: Buffer }> = [
  { type: 'application/json', body: Buffer.from('{"name":"caf\u00e9","n":[1,2],"nested":{"ok":true}}') },
  { type: 'application/x-www-form-urlencoded', body: Buffer.from('a=1&b=x+y&c=caf%C3%A9&c=two') },
  { type: 'text/plain; charset=utf-8', body: Buffer.from('caf\u00e9 \u2603 text\nline two\n') },
  { type: 'application/octet-stream', body: ALL_BYTES.subarray(0, 4096) },
  {
    type: 'multipart/form-data; boundary=XyZ',
    body: Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n\u00ff\u0000\u0001\r\n--XyZ--\r\n', 'latin1'),
  },
];

/** Reads the body with a bound, answering what it got or the error the read gave. */
const bodyProbe: App = async (environ, startResponse) => {
  try {
    const bytes = await environ['wsgi.input'].read();
    startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['X-Content-Length', String(environ.CONTENT_LENGTH ?? 'none')]]);
    return [bytes];
  } catch (err) {
    const error = err as Error;
    startResponse('500 Internal Server Error', [['Content-Type', 'application/json']]);
    return [JSON.stringify({ name: error.name, message: error.message })];
  }
};

describeHosts((host) => {
  for (const c of cases) {
    if (c.when !== undefined && !c.when(host)) continue;
    it(c.it, () => c.run(host));
  }

  for (const parser of host.parsers.filter((p) => p !== 'drain')) {
    it(`pre-parsed body: behind ${parser === 'none' ? 'no parser' : parser}, the app reads the exact bytes of every content type, CONTENT_LENGTH matching`, async () => {
      const server = await host.start(bodyProbe, { parser });
      for (const { type, body } of PAYLOADS) {
        const response = await within(
          request(server.url + '/mnt/body', { method: 'POST', headers: { 'content-type': type, 'content-length': String(body.length) }, body }),
          5000,
          `${parser} ${type}`,
        );
        expect(response.status, `${parser} ${type}: ${response.body.toString().slice(0, 300)}`).toBe(200);
        expect(response.body.toString('latin1'), `${parser} ${type}`).toBe(body.toString('latin1'));
        expect(response.header('x-content-length'), `${parser} ${type}`).toBe(String(body.length));
      }
    });
  }

  it('pre-parsed body: a body the host read and kept nothing of gives a clear error on the first read, not a hang', async () => {
    const server = await host.start(bodyProbe, { parser: 'drain' });
    const body = Buffer.from('{"lost":true}');
    const response = await within(
      request(server.url + '/mnt/body', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body }),
      5000,
      'the response',
    );
    expect(response.status).toBe(500);
    const error = JSON.parse(response.body.toString()) as { name: string; message: string };
    expect(error.name).toBe('InputError');
    if (host.label !== null) expect(error.message).toContain(host.label);
  });
});
