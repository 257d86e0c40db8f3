// The real-world WSGI server bugs of research/pep3333-requirements.md §4, each written as "the test
// that catches it" there, run on every host of the conformance matrix (our server, Express, Fastify,
// Koa; the app mounted at '/mnt'). Items the suite already covered on every host are not repeated.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { decodeLatin1, validate, type App, type Body, type Chunk, type Environ } from '@node-wsgi/core';
import { closeClients, deferred, parseHead, rawRequest, RawSocket, request, within } from '../conformance/client.js';
import { closeHosts, describeHosts, PREFIX } from '../conformance/hosts.js';
import { spy, until } from '../support/wire.js';

afterEach(async () => {
  closeClients();
  await closeHosts();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Answers the environ's CGI keys and wsgi.url_scheme as JSON. */
const environJson: App = (environ, startResponse) => {
  const seen: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(environ)) if (!key.includes('.') || key === 'wsgi.url_scheme') seen[key] = value;
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(seen)];
};

/** Sends `head` on a new raw socket with Connection: close and returns the parsed environ. */
async function environOver(port: number, target: string, headers: string[]): Promise<Record<string, string>> {
  const client = await RawSocket.connect(port);
  client.write(rawRequest('GET', target, [...headers, 'Connection: close']));
  await within(client.waitForClose(), 5000, 'the response');
  const head = parseHead(client.data)!;
  expect(head.status).toBe(200);
  return JSON.parse(client.data.subarray(head.bodyStart).toString('utf8')) as Record<string, string>;
}

describeHosts((host) => {
  it('checklist 2, 4–22 (wsgiref.validate V5–V17): the environ each host builds passes validate(), is a new plain object per request, with wsgi.* keys of the right values', async () => {
    const seen: Environ[] = [];
    const server = await host.start(
      validate((environ, start) => {
        seen.push(environ);
        const leaked = 'x.leak' in environ;
        (environ as Record<string, unknown>)['x.leak'] = 1;
        for (const [key, value] of Object.entries(environ)) {
          if (key.includes('.')) continue;
          if (typeof value !== 'string' || /[^\u0000-\u00ff]/.test(value)) throw new Error(`CGI key ${key} is not a latin-1 string`);
        }
        start('200 OK', [['Content-Type', 'text/plain']]);
        return [leaked ? 'leaked' : 'fresh'];
      }),
    );
    for (const path of ['/mnt/a', '/mnt/b']) {
      const response = await request(server.url + path, { headers: { 'x-one': 'caf\u00e9' } });
      expect([response.status, response.body.toString()], `${path}: ${server.errors.text}`).toEqual([200, 'fresh']);
    }
    expect(seen[0]).not.toBe(seen[1]);
    for (const environ of seen) {
      expect(Object.getPrototypeOf(environ)).toBe(Object.prototype);
      expect(environ['wsgi.version']).toEqual([1, 0]);
      expect(Object.isFrozen(environ['wsgi.version'])).toBe(true);
      expect(environ['wsgi.url_scheme']).toBe('http');
      expect([environ['wsgi.multithread'], environ['wsgi.multiprocess'], environ['wsgi.run_once']]).toEqual([true, false, false]);
      expect(Object.values(environ)).not.toContain(undefined);
      expect(environ.HTTP_X_ONE).toBe('caf\u00e9');
    }
    expect(server.errors.text).toBe('');
  });

  it('checklist 45, 53 (wsgiref "write() before start_response()"): a body that ends with no startResponse is a 500, never a hang; write() data goes out before the returned chunks', async () => {
    const server = await host.start((environ, start) => {
      if (environ.PATH_INFO === '/never') return (function* () {})();
      const write = start('200 OK', [['Content-Type', 'text/plain']]);
      write('written;');
      write(Buffer.from('also;'));
      return (async function* () {
        await tick();
        yield 'yielded';
      })();
    });
    const never = await within(request(server.url + '/mnt/never'), 5000, 'the 500');
    expect(never.status).toBe(500);
    const written = await request(server.url + '/mnt/write');
    expect([written.status, written.body.toString()]).toEqual([200, 'written;also;yielded']);
  });

  it('bug 3/4 (gunicorn#2650, #2799): SCRIPT_NAME, underscore and X-Forwarded-* request headers change nothing in the environ', async () => {
    const server = await host.start(environJson);
    const seen = await environOver(server.port, `${PREFIX}/x`, [
      'X-A: 1',
      'X_A: 2',
      'SCRIPT_NAME: /admin',
      'X_Forwarded_For: 6.6.6.6',
      'X-Forwarded-Prefix: /evil',
      'X-Forwarded-Proto: https',
      'X-Forwarded-For: 1.2.3.4',
      'X-Forwarded-Host: evil.example',
      'X-Forwarded-Port: 8443',
    ]);
    expect(seen.HTTP_X_A).toBe('1');
    expect(seen.SCRIPT_NAME).toBe('/mnt');
    expect(seen.PATH_INFO).toBe('/x');
    expect(seen).not.toHaveProperty('HTTP_SCRIPT_NAME');
    expect(seen.HTTP_X_FORWARDED_FOR).toBe('1.2.3.4');
    expect(seen['wsgi.url_scheme']).toBe('http');
    expect(seen).not.toHaveProperty('HTTPS');
    expect(seen.REMOTE_ADDR).toBe('127.0.0.1');
    expect(seen.HTTP_HOST).toBe('127.0.0.1');
    expect(seen.SERVER_NAME).toBe('127.0.0.1');
    expect(seen.SERVER_PORT).toBe(String(server.port));
  });

  it('bug 7 (asgiref PR#587, tornado PR#824, werkzeug#1259): close() runs exactly once on the returned iterable on a normal end, a throw mid-iteration and the stop at Content-Length', async () => {
    const finallies = { normal: 0, thrown: 0, clamped: 0 };
    const probes: Record<string, ReturnType<typeof spy>['probe']> = {};
    const server = await host.start((environ, start) => {
      const kind = environ.PATH_INFO.slice(1) as keyof typeof finallies;
      if (kind === 'clamped') start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '3']]);
      else start('200 OK', [['Content-Type', 'text/plain']]);
      const source = (async function* (): AsyncGenerator<Chunk> {
        try {
          yield 'abc';
          await tick();
          if (kind === 'thrown') throw new Error('boom mid-iteration');
          yield 'def';
          yield 'ghi';
        } finally {
          finallies[kind]++;
        }
      })();
      const { body, probe } = spy(source);
      probes[kind] = probe;
      return body;
    });
    const normal = await request(server.url + '/mnt/normal');
    expect(normal.body.toString()).toBe('abcdefghi');
    const clamped = await request(server.url + '/mnt/clamped');
    expect(clamped.body.toString()).toBe('abc');
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', '/mnt/thrown'));
    await within(client.waitForClose(), 5000, 'the aborted response');
    expect(client.text).toContain('abc');
    expect(client.text.endsWith('0\r\n\r\n')).toBe(false);
    await until(() => Object.values(probes).every((p) => p.closes === 1) && Object.keys(probes).length === 3, 'every close()');
    await sleep(50);
    expect(Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.closes]))).toEqual({ normal: 1, clamped: 1, thrown: 1 });
    expect(finallies).toEqual({ normal: 1, thrown: 1, clamped: 1 });
    // Stopped at the Content-Length: the iterator's return() ran, and 'ghi' was never pulled.
    expect(probes.clamped!.returns).toBe(1);
    expect(probes.clamped!.pulls).toBeLessThanOrEqual(2);
  });

  it('bug 8 (hypercorn#320, #331): startResponse inside the first next() works; start 200, yield "", then throw gives a 500', async () => {
    const server = await host.start((environ, start) => {
      if (environ.PATH_INFO === '/lazy-sync') {
        return (function* () {
          start('200 OK', [['Content-Type', 'text/plain']]);
          yield 'lazy sync';
        })();
      }
      if (environ.PATH_INFO === '/lazy-async') {
        return (async function* () {
          await tick();
          start('200 OK', [['Content-Type', 'text/plain']]);
          yield 'lazy async';
        })();
      }
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield '';
        await tick();
        throw new Error('boom before the first byte');
      })();
    });
    const sync = await request(server.url + '/mnt/lazy-sync');
    expect([sync.status, sync.body.toString()]).toEqual([200, 'lazy sync']);
    const asyncResponse = await request(server.url + '/mnt/lazy-async');
    expect([asyncResponse.status, asyncResponse.body.toString()]).toEqual([200, 'lazy async']);
    const failed = await within(request(server.url + '/mnt/empty-then-throw'), 5000, 'the 500');
    expect(failed.status).toBe(500);
  });

  it('bug 9 (waitress#51, cherrypy#820): startResponse(500, excInfo) after a 200 but before any body returns normally, and the client gets the 500', async () => {
    let returned = false;
    const server = await host.start((_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['X-First', 'yes']]);
      try {
        throw new Error('the app failed after startResponse');
      } catch (err) {
        start('500 Internal Server Error', [['Content-Type', 'text/plain'], ['X-Second', 'yes']], [Error, err, undefined]);
        returned = true;
      }
      return ['replaced'];
    });
    const response = await request(server.url + '/mnt/x');
    expect(returned).toBe(true);
    expect([response.status, response.body.toString()]).toEqual([500, 'replaced']);
    expect(response.header('x-second')).toBe('yes');
    expect(response.header('x-first')).toBeUndefined();
  });

  it('bug 10 (gunicorn#989, waitress PR#428): HEAD with Content-Length 5 keeps it, sends no body and no Transfer-Encoding, the next request on the socket works, and close() runs', async () => {
    const probes: Array<ReturnType<typeof spy>['probe']> = [];
    const server = await host.start((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
      const { body, probe } = spy(
        (async function* () {
          yield 'hello';
        })(),
      );
      if (environ.REQUEST_METHOD === 'HEAD') probes.push(probe);
      return body;
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('HEAD', '/mnt/x') + rawRequest('GET', '/mnt/x'));
    const first = await client.head();
    expect(first.status).toBe(200);
    expect(first.lines('content-length')).toEqual(['5']);
    expect(first.lines('transfer-encoding')).toEqual([]);
    const second = await within(client.head(first.bodyStart), 5000, 'the GET after the HEAD');
    expect(second.status).toBe(200);
    await client.waitFor(() => client.data.length >= second.bodyStart + 5, 'the GET body');
    expect(client.data.subarray(second.bodyStart).toString()).toBe('hello');
    await until(() => probes.length === 1 && probes[0]!.closes === 1, "the HEAD body's close()");
  });

  it('bug 11 (asgiref PR#196, twisted#3618): Content-Length 3 with "abcdef" sends exactly "abc" and keeps the socket in step; Content-Length 10 with "abc" closes the connection and logs it', async () => {
    const server = await host.start((environ, start) => {
      if (environ.PATH_INFO === '/short') {
        start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '10']]);
        return (async function* () {
          yield 'abc';
        })();
      }
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '3']]);
      return (async function* () {
        yield 'abcdef';
      })();
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', '/mnt/long') + rawRequest('GET', '/mnt/long'));
    const first = await client.head();
    const second = await within(client.head(first.bodyStart + 3), 5000, 'the second response');
    expect(client.data.subarray(first.bodyStart, first.bodyStart + 3).toString()).toBe('abc');
    expect(second.status).toBe(200);
    await client.waitFor(() => client.data.length >= second.bodyStart + 3, 'the second body');
    expect(client.data.subarray(second.bodyStart).toString()).toBe('abc');

    const short = await RawSocket.connect(server.port);
    short.write(rawRequest('GET', '/mnt/short'));
    await within(short.waitForClose(), 5000, 'the connection to close after a short body');
    const head = parseHead(short.data)!;
    expect(head.header('content-length')).toBe('10');
    expect(short.data.length - head.bodyStart).toBe(3);
    await until(() => server.errors.text.length > 0, 'the short body to be logged');
  });

  it('bug 12 (gunicorn#2953, #3301): an app that ignores a 9 KB body leaves the next request on the connection parseable', async () => {
    const server = await host.start((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`];
    });
    const client = await RawSocket.connect(server.port);
    const body = 'GET /mnt/smuggled HTTP/1.1\r\nHost: x\r\n\r\n'.padEnd(9 * 1024, 'z');
    client.write(rawRequest('POST', '/mnt/ignore', ['Content-Type: text/plain', `Content-Length: ${body.length}`]) + body + rawRequest('GET', '/mnt/next'));
    const first = await client.head();
    expect(first.status).toBe(200);
    const second = await within(client.head(first.bodyStart + Number(first.header('content-length'))), 5000, 'the next response');
    expect(second.status).toBe(200);
    await client.waitFor(() => client.text.includes('GET /next'), 'the next body');
    expect(client.text).not.toContain('smuggled');
  });

  it('bug 13 (werkzeug#1149, gunicorn#1653): a chunked POST "hello" has wsgi.input_terminated true and no CONTENT_LENGTH; read() gives "hello", then ""', async () => {
    const server = await host.start(async (environ, start) => {
      const first = Buffer.from(await environ['wsgi.input'].read());
      const after = await environ['wsgi.input'].read();
      start('200 OK', [['Content-Type', 'application/json']]);
      return [
        JSON.stringify({
          terminated: environ['wsgi.input_terminated'],
          hasLength: 'CONTENT_LENGTH' in environ,
          first: first.toString(),
          after: after.length,
        }),
      ];
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('POST', '/mnt/upload', ['Content-Type: text/plain', 'Transfer-Encoding: chunked', 'Connection: close']) + '3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n');
    await within(client.waitForClose(), 5000, 'the response');
    const head = parseHead(client.data)!;
    expect(head.status).toBe(200);
    const text = client.data.subarray(head.bodyStart).toString();
    const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
    expect(JSON.parse(json)).toEqual({ terminated: true, hasLength: false, first: 'hello', after: 0 });
  });

  it('bug 14 (starlette#997, uvicorn#961): GET /%E6%96%87 gives PATH_INFO "/\\u00e6\\u0096\\u0087", which decodes back to "/文"; never a 500', async () => {
    const server = await host.start(environJson);
    const seen = await environOver(server.port, `${PREFIX}/%E6%96%87`, []);
    expect(seen.PATH_INFO).toBe('/\u00e6\u0096\u0087');
    expect(Buffer.from(seen.PATH_INFO!, 'latin1').toString()).toBe('/文');
    expect(decodeLatin1(seen.PATH_INFO!)).toBe('/文');
  });

  // SPEC §2 says raw non-ASCII query bytes arrive as latin-1 code points; node:http's parser (every
  // host here runs on it) refuses such a request line with 400 before any listener runs, so the
  // research file's `?q=中` test can only check that nothing crashes and the encoded form is raw.
  it('bug 15 (asgiref#317, granian#690): a non-ASCII query is never a 500: raw bytes are a clean 400 from node:http, the %-encoded form stays undecoded', async () => {
    const seen: Environ[] = [];
    const server = await host.start((environ, start) => {
      seen.push(environ);
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [environ.QUERY_STRING];
    });
    const raw = await RawSocket.connect(server.port);
    raw.write(Buffer.concat([Buffer.from(`GET ${PREFIX}/q?q=`), Buffer.from('中'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
    await within(raw.waitForClose(), 5000, 'the raw request to be refused');
    const head = parseHead(raw.data);
    if (seen.length === 0) expect(head?.status).toBe(400);
    else expect(seen[0]!.QUERY_STRING).toBe(Buffer.from('q=中').toString('latin1'));
    const encoded = await request(`${server.url}${PREFIX}/q?q=%E4%B8%AD+x`);
    expect([encoded.status, encoded.body.toString()]).toEqual([200, 'q=%E4%B8%AD+x']);
  });

  it("bug 16 (cherrypy#635): a body ['', 'Test'] with no Content-Length reaches an HTTP/1.1 client as 'Test', sync or async", async () => {
    const server = await host.start((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/array') return ['', 'Test'];
      return (async function* () {
        yield '';
        await tick();
        yield 'Test';
        yield '';
      })();
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', '/mnt/async', ['Connection: close']));
    await within(client.waitForClose(), 5000, 'the response');
    const head = parseHead(client.data)!;
    expect(head.header('transfer-encoding')).toBe('chunked');
    expect(client.data.subarray(head.bodyStart).toString()).toBe('4\r\nTest\r\n0\r\n\r\n');
    const array = await request(server.url + '/mnt/array');
    expect(array.body.toString()).toBe('Test');
  });

  it('bug 17 (werkzeug#1174, eventlet PR#557, gevent#93): Expect: 100-continue — an app that answers 401 unread gets no 100 after its head; one that reads gets exactly one 100', async () => {
    const server = await host.start(async (environ, start) => {
      if (environ.PATH_INFO === '/deny') {
        start('401 Unauthorized', [['Content-Type', 'text/plain']]);
        return ['denied'];
      }
      const first = await environ['wsgi.input'].read(2);
      const rest = await environ['wsgi.input'].read();
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [first, rest];
    });
    const denied = await RawSocket.connect(server.port);
    denied.write(rawRequest('POST', '/mnt/deny', ['Content-Type: text/plain', 'Content-Length: 5', 'Expect: 100-continue']));
    await within(denied.waitFor(() => denied.text.includes('HTTP/1.1 401'), 'the 401'), 5000, 'the 401');
    const at401 = denied.text.indexOf('HTTP/1.1 401');
    denied.write('hello');
    await sleep(100);
    expect(denied.text.indexOf('100 Continue', at401)).toBe(-1);
    // Our own server never sends it to an app that did not read (node:http answers 100 itself for
    // the framework hosts, which register no 'checkContinue' listener).
    if (host.name === 'node') expect(denied.text).not.toContain('100 Continue');

    const reads = await RawSocket.connect(server.port);
    reads.write(rawRequest('POST', '/mnt/read', ['Content-Type: text/plain', 'Content-Length: 5', 'Expect: 100-continue']));
    await within(reads.waitFor(() => reads.text.includes('100 Continue'), '100 Continue'), 5000, '100 Continue');
    reads.write('hello');
    await within(reads.waitFor(() => reads.text.includes('hello'), 'the echo'), 5000, 'the echo');
    expect(reads.text.split('100 Continue').length - 1).toBe(1);
    expect(reads.text.indexOf('100 Continue')).toBeLessThan(reads.text.indexOf('HTTP/1.1 200'));
  });

  it('bug 18 (hypercorn#98): wsgi.errors.write("é") and writelines of any text never throw', async () => {
    const server = await host.start((environ, start) => {
      const errors = environ['wsgi.errors'];
      errors.write('caf\u00e9 \u2603 \ud83d\ude00\n');
      errors.writelines(['\u00e9\n', '\u6587\n']);
      errors.flush();
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['written'];
    });
    const response = await request(server.url + '/mnt/log');
    expect([response.status, response.body.toString()]).toEqual([200, 'written']);
  });

  it('bug 19 (django PR#12431): middleware around a wsgi.file_wrapper response — the file and the response are both closed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'research-fw-'));
    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, Buffer.alloc(200_000, 0x62));
    try {
      const fileClosed = deferred();
      let outerCloses = 0;
      const inner: App = (environ, start) => {
        const stream = fs.createReadStream(file);
        stream.once('close', () => fileClosed.resolve());
        start('200 OK', [['Content-Type', 'application/octet-stream']]);
        const wrap = environ['wsgi.file_wrapper'];
        if (wrap === undefined) throw new Error('no wsgi.file_wrapper in this host');
        return wrap(stream);
      };
      // A middleware that replaces the body (it loses the fast path), forwarding close() [M2].
      const middleware: App = async (environ, start) => {
        const child = (await inner(environ, start)) as Body;
        const source = child as AsyncIterable<Chunk> & Iterable<Chunk>;
        return {
          async *[Symbol.asyncIterator]() {
            if (typeof source[Symbol.asyncIterator] === 'function') for await (const c of source) yield c;
            else for (const c of source) yield c;
          },
          async close() {
            outerCloses++;
            if (child.close !== undefined) await child.close();
          },
        } as Body;
      };
      const server = await host.start(middleware);
      const response = await request(server.url + '/mnt/file');
      expect(response.body.length).toBe(200_000);
      await within(fileClosed.promise, 5000, 'the file to be closed');
      await until(() => outerCloses === 1, "the response's close()");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bug 20 (cpython PR#12955, gunicorn PR#3493): 304 and 204 get no Content-Length the app did not give, and no body', async () => {
    const server = await host.start((environ, start) => {
      if (environ.PATH_INFO === '/304-without') start('304 Not Modified', [['ETag', '"v1"']]);
      else if (environ.PATH_INFO === '/204') start('204 No Content', [['X-App', '204']]);
      else {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return ['after'];
      }
      return ['never sent'];
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', '/mnt/304-without') + rawRequest('GET', '/mnt/204') + rawRequest('GET', '/mnt/ok'));
    const without = await client.head();
    expect([without.status, without.lines('content-length')]).toEqual([304, []]);
    const noContent = await client.head(without.bodyStart);
    expect([noContent.status, noContent.lines('content-length'), noContent.lines('transfer-encoding')]).toEqual([204, [], []]);
    const after = await client.head(noContent.bodyStart);
    expect(after.status).toBe(200);
    await client.waitFor(() => client.data.length >= after.bodyStart + 5, 'the last body');
    expect(client.data.subarray(after.bodyStart).toString()).toBe('after');
    expect(client.text).not.toContain('never sent');
  });

  it("bug 20 (gunicorn PR#3493): a 304 keeps the app's own Content-Length, with no body bytes after it", async () => {
    const server = await host.start((environ, start) => {
      if (environ.PATH_INFO === '/304') {
        start('304 Not Modified', [['ETag', '"v1"'], ['Content-Length', '42']]);
        return ['never sent'];
      }
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['after'];
    });
    const client = await RawSocket.connect(server.port);
    client.write(rawRequest('GET', '/mnt/304') + rawRequest('GET', '/mnt/ok'));
    const notModified = await client.head();
    expect([notModified.status, notModified.lines('content-length')]).toEqual([304, ['42']]);
    const after = await within(client.head(notModified.bodyStart), 5000, 'the response after the 304');
    expect(after.status).toBe(200);
    expect(client.text).not.toContain('never sent');
  });
});
