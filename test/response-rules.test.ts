// SPEC §4 R1–R7, C1–C2 over real HTTP: what `startResponse`, `write` and the returned body do on
// the wire. Apps report what they caught in their own body, so the test sees it from the client.
import { afterEach, describe, expect, it } from 'vitest';
import type { App, Chunk, StartResponse } from '../packages/core/src/index.js';
import { cleanup, expectChunkedCutShort, get, pause, RawClient, roundTrip, serveApp, spy } from './support/wire.js';

afterEach(cleanup);

/** Calls `startResponse` with bad arguments, then again with good ones; the body names what was thrown. */
function refusing(status: unknown, headers: unknown): App {
  return (_environ, startResponse) => {
    let caught: unknown;
    try {
      (startResponse as (s: unknown, h: unknown) => unknown)(status, headers);
    } catch (err) {
      caught = err;
    }
    // A refused call sets nothing, so this is not a second call [R2, R5].
    if (caught !== undefined) startResponse('200 OK', [['Content-Type', 'application/json']]);
    const err = caught as Error | undefined;
    return [JSON.stringify(err === undefined ? { threw: false } : { threw: true, name: err.name, message: err.message })];
  };
}

async function outcome(app: App): Promise<{ threw: boolean; name?: string; message?: string }> {
  const { port } = await serveApp(app);
  const response = await roundTrip(port, get());
  expect(response.status).toBe(200);
  return JSON.parse(response.body.toString()) as { threw: boolean; name?: string; message?: string };
}

describe('startResponse(status) [R1]', () => {
  it('R1: the reason phrase reaches the client exactly as given', async () => {
    const { port } = await serveApp((_e, start) => {
      start('299 Very Custom Reason', []);
      return ['x'];
    });
    const response = await roundTrip(port, get());
    expect(response.statusLine).toBe('HTTP/1.1 299 Very Custom Reason');
  });

  it('R1: a latin-1 reason phrase goes out as its latin-1 bytes', async () => {
    const { port } = await serveApp((_e, start) => {
      start('404 Nicht gef\u00fcnden', []);
      return [];
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    const expected = Buffer.from('HTTP/1.1 404 Nicht gef\u00fcnden\r\n', 'latin1');
    expect(response.raw.subarray(0, expected.length)).toEqual(expected);
  });

  it('R1: an unusual but valid code and an empty reason are accepted', async () => {
    const { port } = await serveApp((_e, start) => {
      start('599 ', []);
      return [];
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(599);
    expect(response.reason).toBe('');
  });

  const bad: Array<[string, unknown]> = [
    ['no reason part', '200'],
    ['no space', '200OK'],
    ['four digits', '2000 OK'],
    ['two digits', '99 OK'],
    ['below 100', '099 Low'],
    ['above 599', '600 High'],
    ['letters', 'abc OK'],
    ['a sign', '+20 OK'],
    ['CR LF injection', '200 OK\r\nX-Evil: 1'],
    ['a NUL', '200 O\0K'],
    ['a code point above U+00FF', '200 \u20ac'],
    ['a number', 200],
    ['undefined', undefined],
  ];
  for (const [what, status] of bad) {
    it(`R1: a status with ${what} throws a TypeError inside startResponse and sets nothing`, async () => {
      const result = await outcome(refusing(status, []));
      expect(result).toMatchObject({ threw: true, name: 'TypeError' });
    });
  }

  it('R1: an app that only made a refused call gets a 500 (the refused call set nothing)', async () => {
    const { port, errors } = await serveApp((_e, start) => {
      try {
        start('2000 OK', []);
      } catch {
        // ignored on purpose
      }
      return ['body'];
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(response.body.toString()).not.toContain('body');
    expect(errors.text).toContain('startResponse');
  });
});

describe('startResponse(status, headers) [R2]', () => {
  const bad: Array<[string, unknown, string]> = [
    ['headers that are not an array', { 'Content-Type': 'text/plain' }, 'headers'],
    ['a pair of three', [['X-A', 'b', 'c']], 'header 0'],
    ['a pair that is an object', [{ name: 'X-A', value: 'b' }], 'header 0'],
    ['a name with a space', [['X A', 'b']], 'X A'],
    ['a name with a colon', [['X-A:', 'b']], 'X-A:'],
    ['an empty name', [['', 'b']], 'header 0'],
    ['a non-latin-1 name', [['X-\u00e9', 'b']], 'X-\u00e9'],
    ['a value with CR LF (response splitting)', [['X-A', 'ok\r\nSet-Cookie: evil=1']], 'X-A'],
    ['a value with a bare LF', [['X-Lf', 'a\nb']], 'X-Lf'],
    ['a value with a NUL', [['X-Nul', 'a\0b']], 'X-Nul'],
    ['a value above U+00FF', [['X-Euro', '\u20ac']], 'X-Euro'],
    ['a number value', [['X-Num', 5]], 'X-Num'],
    ['a bad header after good ones', [['X-Good', '1'], ['X-Bad', 'a\rb']], 'X-Bad'],
  ];
  for (const [what, headers, named] of bad) {
    it(`R2: ${what} throws a TypeError naming the header, and sets nothing`, async () => {
      const result = await outcome(refusing('201 Created', headers));
      expect(result).toMatchObject({ threw: true, name: 'TypeError' });
      expect(result.message).toContain(named);
    });
  }

  it('R2: a refused call keeps the headers of an earlier good call (excInfo path)', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [['X-First', '1']]);
      let name = 'none';
      try {
        start('500 Oops', [['X-Bad', 'a\r\nb']], new Error('boom'));
      } catch (err) {
        name = (err as Error).name;
      }
      return [name];
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(200);
    expect(response.header('x-first')).toBe('1');
    expect(response.header('x-bad')).toBeUndefined();
    expect(response.body.toString()).toBe('TypeError');
  });

  it('R2: latin-1 header values reach the client as their latin-1 bytes, tabs kept', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [['X-Latin', 'caf\u00e9\tau lait']]);
      return [];
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.raw.includes(Buffer.from('X-Latin: caf\u00e9\tau lait\r\n', 'latin1'))).toBe(true);
  });
});

describe('startResponse hop-by-hop headers [R3]', () => {
  const hopByHop = ['Connection', 'keep-alive', 'Proxy-Authenticate', 'proxy-authorization', 'TE', 'Trailer', 'Transfer-Encoding', 'UPGRADE'];
  for (const name of hopByHop) {
    it(`R3: ${name} is refused with a TypeError`, async () => {
      const result = await outcome(refusing('200 OK', [[name, 'x']]));
      expect(result).toMatchObject({ threw: true, name: 'TypeError' });
      expect(result.message).toContain(name);
    });
  }

  it('R3: names that only look similar are allowed (Keep-Alive-Extra, X-Connection)', async () => {
    const result = await outcome(refusing('200 OK', [['Keep-Alive-Extra', '1'], ['X-Connection', 'close']]));
    expect(result).toEqual({ threw: false });
  });
});

describe('repeated header names [R4]', () => {
  it('R4: two Set-Cookie pairs reach the client as two Set-Cookie lines, in order', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [
        ['Set-Cookie', 'a=1; Path=/'],
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'b=2, c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT'],
      ]);
      return ['ok'];
    });
    const response = await roundTrip(port, get());
    expect(response.all('set-cookie')).toEqual(['a=1; Path=/', 'b=2, c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT']);
  });

  it('R4: any repeated header stays separate lines, in the app’s order', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [
        ['X-Multi', 'one'],
        ['Vary', 'Accept'],
        ['X-Multi', 'two'],
        ['Vary', 'Cookie'],
      ]);
      return [];
    });
    const response = await roundTrip(port, get());
    const names = response.headers.map(([n]) => n).filter((n) => n === 'X-Multi' || n === 'Vary');
    expect(names).toEqual(['X-Multi', 'Vary', 'X-Multi', 'Vary']);
    expect(response.all('x-multi')).toEqual(['one', 'two']);
    expect(response.all('vary')).toEqual(['Accept', 'Cookie']);
  });
});

describe('startResponse called twice [R5]', () => {
  it('R5: a second startResponse without excInfo throws, and the first stands', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [['X-First', '1']]);
      let threw = false;
      try {
        start('404 Not Found', [['X-Second', '1']]);
      } catch {
        threw = true;
      }
      return [threw ? 'threw' : 'accepted'];
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(200);
    expect(response.header('x-first')).toBe('1');
    expect(response.header('x-second')).toBeUndefined();
    expect(response.body.toString()).toBe('threw');
  });

  it('R5: excInfo before the headers were sent replaces status and headers and returns normally', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', [['X-First', '1'], ['Content-Length', '100']]);
      start('503 Service Unavailable', [['X-Second', '2']], new Error('backend down'));
      return ['sorry'];
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(503);
    expect(response.reason).toBe('Service Unavailable');
    expect(response.header('x-first')).toBeUndefined();
    expect(response.header('x-second')).toBe('2');
    expect(response.header('content-length')).toBe('5');
    expect(response.body.toString()).toBe('sorry');
  });

  it('R5: excInfo inside a generator before its first non-empty chunk still replaces the head', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        yield '';
        start('500 Internal Server Error', [['Content-Type', 'text/plain']], new Error('late'));
        yield 'replaced';
      })();
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(response.body.toString()).toBe('replaced');
  });

  it('R5: excInfo after the headers were sent is thrown back to the app', async () => {
    const excInfo = new Error('mid-stream failure');
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        yield 'part;';
        try {
          start('500 Internal Server Error', [], excInfo);
          yield 'returned normally';
        } catch (err) {
          yield err === excInfo ? 'excInfo thrown back' : 'something else thrown';
        }
      })();
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('part;excInfo thrown back');
  });

  it('R5: after write() sent data, excInfo is thrown back too (the head is committed)', async () => {
    const excInfo = new Error('after write');
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      write('written;');
      try {
        start('500 Internal Server Error', [], excInfo);
        return ['replaced'];
      } catch (err) {
        return [err === excInfo ? 'thrown back' : 'other'];
      }
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('written;thrown back');
  });
});

describe('when the head goes out [R6]', () => {
  it('R6: startResponse may be called inside a sync generator’s first next()', async () => {
    const { port } = await serveApp((_e, start) =>
      (function* () {
        start('201 Created', [['X-Lazy', 'yes']]);
        yield 'lazy';
      })(),
    );
    const response = await roundTrip(port, get());
    expect(response.status).toBe(201);
    expect(response.header('x-lazy')).toBe('yes');
    expect(response.body.toString()).toBe('lazy');
  });

  it('R6: startResponse may be called inside an async generator’s first next()', async () => {
    const { port } = await serveApp((_e, start) =>
      (async function* () {
        await pause(1);
        start('202 Accepted', []);
        yield 'later';
      })(),
    );
    const response = await roundTrip(port, get());
    expect(response.status).toBe(202);
    expect(response.body.toString()).toBe('later');
  });

  it('R6: start 200 then throw before the first non-empty chunk gives a 500', async () => {
    const { port, errors } = await serveApp((_e, start) => {
      start('200 OK', [['X-App', '1']]);
      return (async function* () {
        yield '';
        yield new Uint8Array(0);
        throw new Error('failed before any data');
      })();
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(response.header('x-app')).toBeUndefined();
    expect(errors.text).toContain('failed before any data');
  });

  it('R6: a sync generator that throws before its first chunk gives a 500', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return (function* (): Generator<Chunk> {
        throw new Error('sync failure');
      })();
    });
    expect((await roundTrip(port, get())).status).toBe(500);
  });

  it('R6: an app that never calls startResponse gets a 500', async () => {
    const { port, errors } = await serveApp(() => ['forgot']);
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(response.body.toString()).not.toContain('forgot');
    expect(errors.text).toContain('startResponse');
  });

  it('R6: an async body that yields data before calling startResponse gets a 500', async () => {
    const { port } = await serveApp(() =>
      (async function* () {
        yield 'too early';
        yield 'more';
      })(),
    );
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(response.body.toString()).not.toContain('too early');
  });

  it('R6: a sync body that yields data before calling startResponse gets a 500', async () => {
    const { port } = await serveApp(() =>
      (function* () {
        yield 'too early';
      })(),
    );
    expect((await roundTrip(port, get())).status).toBe(500);
  });

  it('R6: startResponse sends nothing; the head waits for the first non-empty chunk', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        yield '';
        await gate;
        yield 'now';
      })();
    });
    const client = await RawClient.connect(port);
    client.write(get());
    await pause(150);
    expect(client.data.length).toBe(0);
    release();
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('now');
  });
});

describe('write() [R7]', () => {
  it('R7: write() data precedes the chunks of a returned array', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      write('first;');
      write(Buffer.from('second;'));
      return ['third'];
    });
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('first;second;third');
    expect(response.header('content-length')).toBe('18');
  });

  it('R7: write() data precedes the chunks of a generator', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      write('first;');
      return (async function* () {
        yield 'second';
      })();
    });
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('first;second');
  });

  it('R7: write() inside a generator keeps its place between the chunks around it', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      return (function* () {
        yield 'a';
        write('b');
        yield 'c';
        write('d');
      })();
    });
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('abcd');
  });

  it('R7: write() with an empty body sends just the written data', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      write('only');
      return [];
    });
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('only');
  });

  it('R7: write() counts string lengths in UTF-8 bytes', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      write('caf\u00e9 ');
      return ['\u6587'];
    });
    const response = await roundTrip(port, get());
    expect(response.header('content-length')).toBe('9');
    expect(response.body.toString('utf8')).toBe('caf\u00e9 \u6587');
  });

  it('R7: write() refuses a non-chunk with a TypeError the app can catch', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', []);
      try {
        (write as (c: unknown) => void)(42);
        return ['accepted'];
      } catch (err) {
        return [(err as Error).name];
      }
    });
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe('TypeError');
  });

  it('R7: write() past Content-Length is clamped like a body chunk', async () => {
    const { port } = await serveApp((_e, start) => {
      const write = start('200 OK', [['Content-Length', '4']]);
      write('abcdef');
      return ['ghi'];
    });
    const client = await RawClient.connect(port);
    client.write(get() + get());
    const first = await client.readResponse();
    const second = await client.readResponse();
    expect(first.body.toString()).toBe('abcd');
    expect(second.body.toString()).toBe('abcd');
  });
});

describe('body chunks [C1]', () => {
  const nonChunks: Array<[string, unknown]> = [
    ['a number', 42],
    ['null', null],
    ['a plain object', { data: 'x' }],
    ['an array of bytes', [104, 105]],
    ['an ArrayBuffer', new ArrayBuffer(2)],
  ];
  for (const [what, chunk] of nonChunks) {
    it(`C1: ${what} in an array body gives a 500`, async () => {
      const { port, errors } = await serveApp((_e, start) => {
        start('200 OK', []);
        return ['ok', chunk] as unknown as Chunk[];
      });
      const response = await roundTrip(port, get());
      expect(response.status).toBe(500);
      expect(errors.text).toContain('TypeError');
    });
  }

  it('C1: a non-chunk from an async generator before the headers gives a 500 and closes the body', async () => {
    const { body, probe } = spy(
      (async function* () {
        yield 5 as unknown as Chunk;
      })(),
    );
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return body;
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(probe.closes).toBe(1);
  });

  it('C1: a non-chunk after the headers aborts the response', async () => {
    const { port, errors } = await serveApp((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        yield 'good';
        yield { bad: true } as unknown as Chunk;
      })();
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expectChunkedCutShort(response);
    expect(errors.text).toContain('TypeError');
  });

  it('C1: Uint8Array views of any kind and Buffers are chunks', async () => {
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      const backing = new Uint8Array([0, 104, 105, 0]);
      return [Buffer.from('a'), backing.subarray(1, 3), new Uint8Array([0xff, 0x00])];
    });
    const response = await roundTrip(port, get());
    expect([...response.body]).toEqual([97, 104, 105, 0xff, 0x00]);
  });
});

describe('the returned body [C2]', () => {
  const notBodies: Array<[string, unknown]> = [
    ['a string', 'hello'],
    ['a Uint8Array', new Uint8Array([104, 105])],
    ['a Buffer', Buffer.from('hi')],
    ['null', null],
    ['undefined', undefined],
    ['a number', 7],
    ['a plain object', { body: 'x' }],
  ];
  for (const [what, value] of notBodies) {
    it(`C2: ${what} as the body gives a 500`, async () => {
      const { port, errors } = await serveApp((_e, start: StartResponse) => {
        start('200 OK', []);
        return value as never;
      });
      const response = await roundTrip(port, get());
      expect(response.status).toBe(500);
      expect(response.body.toString()).toBe('Internal Server Error');
      expect(errors.text).toContain('TypeError');
    });
  }

  it('C2: a string body from an async app gives a 500', async () => {
    const { port } = await serveApp(async (_e, start) => {
      start('200 OK', []);
      return 'hello' as never;
    });
    expect((await roundTrip(port, get())).status).toBe(500);
  });

  it('C2: a non-iterable body that has close() still gets closed', async () => {
    let closes = 0;
    const { port } = await serveApp((_e, start) => {
      start('200 OK', []);
      return { close: () => void closes++ } as never;
    });
    expect((await roundTrip(port, get())).status).toBe(500);
    expect(closes).toBe(1);
  });
});
