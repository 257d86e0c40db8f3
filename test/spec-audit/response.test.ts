// SPEC §4 (startResponse and the response: R1–R7, C1–C2, B1–B11) on every host. The conformance
// suite covers framing, HEAD, disconnects and host headers per host; this file holds the rules an
// app sees directly: what startResponse refuses and how, excInfo, write(), chunk types, close().
import { afterEach, expect, it } from 'vitest';
import type { App, Environ, StartResponse } from '@node-wsgi/core';
import { PREFIX, RawClient, closeEverything, deferred, describeAuditHosts, head, rawRequest } from './support.js';

afterEach(closeEverything);

/** Waits (event loop turns, bounded by the test timeout) until `check()` holds. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

/** An app that tries `bad` first, then answers 200 with what the refusal was. */
function refusing(bad: (sr: StartResponse) => void): App {
  return (_environ, startResponse) => {
    let report = 'accepted';
    try {
      bad(startResponse);
    } catch (err) {
      report = JSON.stringify({ type: err instanceof TypeError ? 'TypeError' : (err as Error).name, message: (err as Error).message });
    }
    // A refused call sets nothing, and this call is not "a second call" [R2, R5].
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [report];
  };
}

describeAuditHosts((host) => {
  const get = async (app: App, method = 'GET', target = `${PREFIX}/`, headers: string[] = [], version = '1.1') => {
    const started = await host.start(app);
    return { ...(await rawRequest(started.port, method, target, headers, '', version)), started };
  };

  for (const [status, why] of [
    ['200', 'no reason phrase'],
    ['200OK', 'no space'],
    ['2000 OK', 'four digits'],
    ['099 Low', 'code below 100'],
    ['600 High', 'code above 599'],
    ['abc OK', 'not digits'],
    ['200 O\r\nX-Evil: 1', 'CR LF in the reason'],
    ['200 O\u0000K', 'NUL in the reason'],
  ] as const) {
    it(`[R1] startResponse(${JSON.stringify(status)}) is refused (${why}), with a TypeError, and the app may call again`, async () => {
      const res = await get(refusing((sr) => sr(status, [['Content-Type', 'text/plain']])));
      expect(res.status).toBe(200);
      const report = JSON.parse(res.body.toString());
      expect(report.type).toBe('TypeError');
      expect(res.headers.some(([n]) => n === 'x-evil')).toBe(false);
    });
  }

  it('[R1] a latin-1 reason phrase reaches the client byte for byte', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 Caf\u00e9 Cr\u00e8me', [['Content-Type', 'text/plain']]);
      return ['x'];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/`));
    await client.readResponse();
    const line = client.data.subarray(0, client.data.indexOf('\r\n'));
    expect(line.equals(Buffer.from('HTTP/1.1 200 Caf\u00e9 Cr\u00e8me', 'latin1'))).toBe(true);
  });

  for (const code of [599]) {
    it(`[R1] the edge code ${code} is accepted and reaches the client`, async () => {
      const res = await get((_e, sr) => {
        sr(`${code} Edge Case`, [['Content-Type', 'text/plain']]);
        return ['edge'];
      });
      expect(res.status).toBe(code);
      expect(res.reason).toBe('Edge Case');
    });
  }

  it('[R2] a latin-1 header value reaches the client as its latin-1 bytes', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['X-Latin', 'caf\u00e9']]);
      return ['x'];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/`));
    await client.readResponse();
    expect(client.data.includes(Buffer.from('caf\u00e9', 'latin1'))).toBe(true);
    expect(client.data.includes(Buffer.from('caf\u00e9', 'utf8'))).toBe(false);
  });

  it('[R1] the reason phrase reaches the client as given', async () => {
    const res = await get((_e, sr) => {
      sr('299 Entirely Made Up', [['Content-Type', 'text/plain']]);
      return ['x'];
    });
    expect(res.status).toBe(299);
    expect(res.reason).toBe('Entirely Made Up');
  });

  for (const [name, value, why] of [
    ['X-Bad', 'a\r\nSet-Cookie: evil=1', 'CR LF in the value'],
    ['X-Bad', 'a\nb', 'LF in the value'],
    ['X-Bad', 'a\u0000b', 'NUL in the value'],
    ['X Bad', 'v', 'a space in the name'],
    ['X-Bad:', 'v', 'a colon in the name'],
    ['', 'v', 'an empty name'],
    ['X-Bad', 'caf\u0113', 'a value beyond latin-1'],
  ] as const) {
    it(`[R2] a header with ${why} is refused with a TypeError naming it; nothing is sanitised into the response`, async () => {
      const res = await get(refusing((sr) => sr('200 OK', [['Content-Type', 'text/plain'], [name, value]])));
      expect(res.status).toBe(200);
      const report = JSON.parse(res.body.toString());
      expect(report.type).toBe('TypeError');
      if (name !== '') expect(report.message).toContain(JSON.stringify(name).slice(1, -1).replace(':', ''));
      expect(res.headers.some(([n]) => n === 'x-bad' || n === 'set-cookie')).toBe(false);
    });
  }

  for (const [label, pairs] of [
    ['two different Content-Length values', [['Content-Length', '1'], ['Content-Length', '2']]],
    ['the same Content-Length twice (clients refuse two lines)', [['Content-Length', '1'], ['Content-Length', '1']]],
    ['a Content-Length that is not a number', [['Content-Length', 'ten']]],
    ['a negative Content-Length', [['Content-Length', '-1']]],
  ] as const) {
    it(`[R2] ${label} is refused with a TypeError, and the app may answer again`, async () => {
      const res = await get(refusing((sr) => sr('200 OK', [['Content-Type', 'text/plain'], ...pairs.map(([n, v]) => [n, v] as [string, string])])));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString()).type).toBe('TypeError');
    });
  }

  for (const [label, status, pairs] of [
    ['DEL in a value', '200 OK', [['X-A', 'a\x7fb']]],
    ['ESC in a value', '200 OK', [['X-A', 'a\x1bb']]],
    ['a non-ASCII name', '200 OK', [['X-\u00e9', 'v']]],
    ['DEL in the reason phrase', '200 O\x7fK', []],
  ] as const) {
    it(`[R1/R2] ${label} is refused with a TypeError`, async () => {
      const res = await get(refusing((sr) => sr(status, [['Content-Type', 'text/plain'], ...pairs.map(([n, v]) => [n, v] as [string, string])])));
      expect(JSON.parse(res.body.toString()).type).toBe('TypeError');
    });
  }

  it("[R2] every RFC 9110 tchar is allowed in a name, and HTAB in a value: both reach the client", async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ["X-Ok!#$%&'*+.^_`|~", 'v'], ['X-Tab', 'a\tb']]);
      return ['x'];
    });
    expect(res.header("x-ok!#$%&'*+.^_`|~")).toBe('v');
    expect(res.header('x-tab')).toBe('a\tb');
  });

  it('[R2] headers that are not an array of string pairs are refused with a TypeError', async () => {
    const res = await get(refusing((sr) => sr('200 OK', { 'Content-Type': 'text/plain' } as unknown as Array<[string, string]>)));
    expect(JSON.parse(res.body.toString()).type).toBe('TypeError');
    const res2 = await get(refusing((sr) => sr('200 OK', [['X-Num', 5 as unknown as string]])));
    expect(JSON.parse(res2.body.toString()).type).toBe('TypeError');
  });

  for (const hop of ['Connection', 'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Authorization', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'transfer-encoding']) {
    it(`[R3] the hop-by-hop header ${hop} is refused with a TypeError naming it`, async () => {
      const res = await get(refusing((sr) => sr('200 OK', [['Content-Type', 'text/plain'], [hop, 'x']])));
      const report = JSON.parse(res.body.toString());
      expect(report.type).toBe('TypeError');
      expect(report.message.toLowerCase()).toContain(hop.toLowerCase());
    });
  }

  it('[R5] a second call without excInfo throws; the first status stands', async () => {
    const res = await get((_e, sr) => {
      sr('201 Created', [['Content-Type', 'text/plain']]);
      let threw = false;
      try {
        sr('500 Oops', [['Content-Type', 'text/plain']]);
      } catch {
        threw = true;
      }
      return [`threw=${threw}`];
    });
    expect(res.status).toBe(201);
    expect(res.body.toString()).toBe('threw=true');
  });

  it('[R5] a call with excInfo before the headers were sent replaces status and headers', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['X-First', '1']]);
      sr('503 Service Unavailable', [['Content-Type', 'text/plain'], ['X-Second', '2']], new Error('boom'));
      return ['replaced'];
    });
    expect(res.status).toBe(503);
    expect(res.header('x-second')).toBe('2');
    expect(res.header('x-first')).toBeUndefined();
    expect(res.body.toString()).toBe('replaced');
  });

  it('[R5] a call with excInfo after the headers were sent throws excInfo back', async () => {
    const caught = deferred<unknown>();
    const original = new Error('the original');
    const started = await host.start((_e, sr) => {
      const write = sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'first';
        await new Promise((r) => setImmediate(r));
        try {
          sr('500 Late', [['Content-Type', 'text/plain']], original);
          caught.resolve('nothing thrown');
        } catch (err) {
          caught.resolve(err);
        }
        void write;
        yield 'second';
      })();
    });
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/`));
    expect(await caught.promise).toBe(original);
  });

  it('[R6] startResponse may be called inside the first iteration of a generator body', async () => {
    const res = await get((_e, sr) =>
      (function* () {
        sr('202 Accepted', [['Content-Type', 'text/plain'], ['X-Late', 'yes']]);
        yield 'late';
      })(),
    );
    expect(res.status).toBe(202);
    expect(res.header('x-late')).toBe('yes');
    expect(res.body.toString()).toBe('late');
  });

  it('[R6] empty chunks before startResponse are fine; startResponse by the first non-empty chunk', async () => {
    const res = await get((_e, sr) =>
      (async function* () {
        yield '';
        yield new Uint8Array(0);
        sr('200 OK', [['Content-Type', 'text/plain']]);
        yield 'x';
      })(),
    );
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('x');
  });

  it('[R6] an app that never calls startResponse gets a 500', async () => {
    const res = await get(() => ['no start']);
    expect(res.status).toBe(500);
    expect(res.body.toString()).not.toContain('no start');
  });

  it('[R6] an app that never calls startResponse and returns an empty body gets a 500', async () => {
    const res = await get(() => []);
    expect(res.status).toBe(500);
  });

  it('[R7] write() chunks are sent in order before any chunk of the returned body', async () => {
    const res = await get((_e, sr) => {
      const write = sr('200 OK', [['Content-Type', 'text/plain']]);
      write('one ');
      write(new TextEncoder().encode('two '));
      return ['three'];
    });
    expect(res.body.toString()).toBe('one two three');
  });

  it('[R7] write() from inside a generator body keeps the order', async () => {
    const res = await get((_e, sr) => {
      const write = sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        write('a');
        yield 'b';
        write('c');
        yield 'd';
      })();
    });
    expect(res.body.toString()).toBe('abcd');
  });

  it('strings are sent as UTF-8 and Content-Length counts bytes', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return ['caf\u00e9 \u20ac'];
    });
    expect(res.body.toString('utf8')).toBe('caf\u00e9 \u20ac');
    expect(res.header('content-length')).toBe(String(Buffer.byteLength('caf\u00e9 \u20ac')));
  });

  for (const [label, chunk] of [['a number', 42], ['null', null], ['a plain object', { a: 1 }], ['an array of numbers', [1, 2]]] as const) {
    it(`[C1] ${label} as a chunk before the headers is a 500`, async () => {
      const res = await get((_e, sr) => {
        sr('200 OK', [['Content-Type', 'text/plain']]);
        return [chunk as unknown as string];
      });
      expect(res.status).toBe(500);
    });
  }

  for (const [label, body] of [['a string', 'hello'], ['a Uint8Array', new TextEncoder().encode('hello')], ['a Buffer', Buffer.from('hello')]] as const) {
    it(`[C2] ${label} as the body itself is refused: 500, never "h e l l o" or numbers`, async () => {
      const res = await get((_e, sr) => {
        sr('200 OK', [['Content-Type', 'text/plain']]);
        return body as unknown as string[];
      });
      expect(res.status).toBe(500);
      expect(res.body.toString()).not.toContain('hello');
    });
  }

  // Only where the gateway answers the 500 itself: the to* adapters hand the error to the host's
  // error handling instead and write nothing to wsgi.errors (see the audit report).
  if (host.name === 'serve' || host.name === 'node') it('[C2] the body refusal is logged to wsgi.errors as a TypeError', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return 'hello' as unknown as string[];
    });
    expect(res.status).toBe(500);
    expect(res.started.errors.text).toMatch(/TypeError/);
  });

  it('[B2] empty chunks are skipped and never end a chunked response', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'a';
        yield '';
        yield new Uint8Array(0);
        yield 'b';
      })();
    });
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.body.toString()).toBe('ab');
  });

  it('[B3] an app-set Content-Length caps the body; iteration stops there (return() and close() run)', async () => {
    const ended = deferred<string[]>();
    const events: string[] = [];
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
      const gen = (function* () {
        try {
          yield 'abc';
          yield 'defgh';
          events.push('pulled past the length');
          yield 'never';
        } finally {
          events.push('finally');
        }
      })();
      return Object.assign(gen, {
        close() {
          events.push('close');
          ended.resolve(events);
        },
      });
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.header('content-length')).toBe('5');
    expect(res.body.toString()).toBe('abcde');
    expect(await ended.promise).toEqual(['finally', 'close']);
  });

  it('[B3] a body ending short of its Content-Length closes the connection and is logged', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '10']]);
      return ['abc'];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/`));
    await client.waitFor(() => client.closed, 'the connection to close');
    // Whatever was sent, the client never holds 10 body bytes: the response is visibly incomplete.
    const text = client.text;
    const bodyStart = text.indexOf('\r\n\r\n');
    if (bodyStart !== -1) expect(text.length - bodyStart - 4).toBeLessThan(10);
    await until(() => started.errors.text.length > 0);
    expect(started.errors.text).toMatch(/Content-Length/);
  });

  it('[B3] an array body without Content-Length gets a computed Content-Length, not chunked', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['ab', new Uint8Array([0x63]), 'd'];
    });
    expect(res.header('content-length')).toBe('4');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.body.toString()).toBe('abcd');
  });

  it('[B3] a short synchronous generator without Content-Length gets a computed Content-Length', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        yield 'x';
        yield 'yz';
      })();
    });
    expect(res.header('content-length')).toBe('3');
    expect(res.body.toString()).toBe('xyz');
  });

  it('[B3] an array body of 1 MiB still gets a computed Content-Length (all chunks are there)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'application/octet-stream']]);
      return Array.from({ length: 16 }, () => chunk);
    });
    expect(res.header('content-length')).toBe(String(16 * 64 * 1024));
    expect(res.body.length).toBe(16 * 64 * 1024);
  });

  it('[B3] a synchronous generator that runs past the 64 KiB read-ahead is chunked, every byte there', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'application/octet-stream']]);
      return (function* () {
        for (let i = 0; i < 8; i++) yield Buffer.alloc(32 * 1024, 'g');
      })();
    });
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.header('content-length')).toBeUndefined();
    expect(res.body.length).toBe(8 * 32 * 1024);
  });

  it('[B3] an async body without Content-Length is chunked on HTTP/1.1', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'x';
      })();
    });
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.header('content-length')).toBeUndefined();
    expect(res.body.toString()).toBe('x');
  });

  it('[B3] an async body without Content-Length on HTTP/1.0 is delimited by closing the connection', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'x';
        yield 'y';
      })();
    });
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/`, [], '1.0'));
    await client.waitFor(() => client.closed, 'the server to close');
    const text = client.text;
    expect(text).toMatch(/^HTTP\/1\.[01] 200/);
    expect(text.toLowerCase()).not.toContain('transfer-encoding');
    expect(text.endsWith('xy')).toBe(true);
  });

  it('[B5] close() is called exactly once on a normal end', async () => {
    const closed = deferred<void>();
    let calls = 0;
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign(['a', 'b'], {
        close() {
          calls += 1;
          closed.resolve();
        },
      });
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.body.toString()).toBe('ab');
    await closed.promise;
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
  });

  it('[B5] close() is called exactly once when the iteration throws', async () => {
    const closed = deferred<void>();
    let calls = 0;
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      const gen = (function* (): Generator<string> {
        throw new Error('iteration failed');
      })();
      return Object.assign(gen, {
        close() {
          calls += 1;
          closed.resolve();
        },
      });
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.status).toBe(500);
    await closed.promise;
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1);
  });

  it('[B6] an error before the headers is a 500 Internal Server Error, text/plain, logged to wsgi.errors', async () => {
    const res = await get(() => {
      throw new Error('secret-detail-xyz');
    });
    expect(res.status).toBe(500);
    if (host.name === 'serve' || host.name === 'node') {
      expect(res.reason).toBe('Internal Server Error');
      expect(res.header('content-type')).toMatch(/^text\/plain/);
      expect(res.started.errors.text).toContain('secret-detail-xyz');
    }
  });

  it('[B6] an async app that rejects before the headers is a 500', async () => {
    const res = await get(async () => {
      throw new Error('async-secret');
    });
    expect(res.status).toBe(500);
  });

  it('[B6] an error after the headers (chunked): the connection is destroyed, no terminating chunk', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'partial';
        await new Promise((r) => setImmediate(r));
        throw new Error('mid-stream');
      })();
    });
    const client = await RawClient.connect(started.port);
    client.write(head('GET', `${PREFIX}/`));
    await client.waitFor(() => client.closed, 'the connection to be destroyed');
    expect(client.text).toContain('partial');
    expect(client.text).not.toContain('\r\n0\r\n\r\n');
  });

  it('[B8] Date is added when the app left it out; an app-given Date is kept', async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['x'];
    });
    expect(res.header('date')).toMatch(/GMT$/);
    const res2 = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['Date', 'Sun, 06 Nov 1994 08:49:37 GMT']]);
      return ['x'];
    });
    expect(res2.headers.filter(([n]) => n === 'date').map(([, v]) => v)).toEqual(['Sun, 06 Nov 1994 08:49:37 GMT']);
  });

  it("[B8] the app's headers reach the client unchanged (names' values, custom casing of values)", async () => {
    const res = await get((_e, sr) => {
      sr('200 OK', [['Content-Type', 'application/x-Odd; Charset=Latin-1'], ['X-Value', '  spaced  value'], ['Cache-Control', 'no-store']]);
      return ['x'];
    });
    expect(res.header('content-type')).toBe('application/x-Odd; Charset=Latin-1');
    expect(res.header('cache-control')).toBe('no-store');
    expect(res.header('x-value')).toBe('spaced  value');
  });

  it('[B4] HEAD keeps the app-given Content-Length and sends no body bytes, no chunk terminator', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '11']]);
      return ['hello world'];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('HEAD', `${PREFIX}/`));
    client.write(head('GET', `${PREFIX}/`));
    await client.waitFor(() => client.text.includes('hello world'), 'the GET body');
    const text = client.text;
    const first = text.indexOf('\r\n\r\n');
    expect(text.slice(0, first).toLowerCase()).toContain('content-length: 11');
    expect(text.slice(first + 4).startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('[B4] HEAD of a chunked-looking async body: no Content-Length invented, no body, no terminator', async () => {
    const started = await host.start((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'data';
      })();
    });
    const client = await RawClient.connect(started.port);
    client.write(head('HEAD', `${PREFIX}/`));
    client.write(head('GET', `${PREFIX}/next`));
    await client.waitFor(() => (client.text.match(/HTTP\/1\.1 200/g) ?? []).length === 2, 'two heads');
    const text = client.text;
    const firstEnd = text.indexOf('\r\n\r\n') + 4;
    expect(text.slice(firstEnd).startsWith('HTTP/1.1 200')).toBe(true);
  });

  // Express's default error handler (NODE_ENV is not 'production' under vitest) and Fastify's print
  // the error handed to next()/the error handler: see the audit report.
  if (host.name !== 'express' && host.name !== 'fastify') it('[B11] a 500 body carries neither the message nor a stack trace by default', async () => {
    const res = await get(() => {
      const err = new Error('do-not-leak');
      err.stack = 'Error: do-not-leak\n    at secretFunction (/srv/app.js:1:1)';
      throw err;
    });
    expect(res.status).toBe(500);
    expect(res.body.toString()).not.toContain('do-not-leak');
    expect(res.body.toString()).not.toContain('secretFunction');
  });
});

it('[B11] core does not touch globals (Request, Response, fetch, Headers)', async () => {
  const before = [globalThis.Request, globalThis.Response, globalThis.fetch, globalThis.Headers];
  const core = await import('@node-wsgi/core');
  await core.testClient((_e: Environ, sr: StartResponse) => {
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return ['x'];
  }).get('/');
  expect([globalThis.Request, globalThis.Response, globalThis.fetch, globalThis.Headers]).toEqual(before);
});
