// SPEC §7 core API seen from outside: testClient's exact response shape, validate's
// WsgiValidationError (name, rule, side in the message), and the wsgiref.util helpers (expected
// values computed with CPython's wsgiref.util).
import { describe, expect, it } from 'vitest';
import { applicationUri, decodeLatin1, requestUri, shiftPathInfo, testClient, validate, WsgiValidationError, type App, type Environ, type StartResponse } from '@node-wsgi/core';

/** An app that answers with a JSON of what it saw. */
const echo: App = async (environ, startResponse) => {
  const body = Buffer.from(await environ['wsgi.input'].read()).toString('latin1');
  startResponse('200 OK', [['Content-Type', 'application/json'], ['X-Echo', 'yes'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
  return [
    JSON.stringify({
      method: environ.REQUEST_METHOD,
      path: environ.PATH_INFO,
      query: environ.QUERY_STRING,
      uri: environ.REQUEST_URI,
      type: environ.CONTENT_TYPE ?? null,
      length: environ.CONTENT_LENGTH ?? null,
      custom: environ.HTTP_X_CUSTOM ?? null,
      body,
    }),
  ];
};

describe('testClient', () => {
  it('returns { status: number, statusText, headers: [name, value][], body: Buffer, text(), json() }', async () => {
    const res = await testClient(echo).get('/x?q=1');
    expect(res.status).toBe(200);
    expect(typeof res.status).toBe('number');
    expect(res.statusText).toBe('OK');
    expect(Array.isArray(res.headers)).toBe(true);
    for (const pair of res.headers) {
      expect(Array.isArray(pair)).toBe(true);
      expect(pair).toHaveLength(2);
      expect(typeof pair[0]).toBe('string');
      expect(typeof pair[1]).toBe('string');
    }
    expect(Buffer.isBuffer(res.body)).toBe(true);
    expect(typeof res.text()).toBe('string');
    expect(res.json()).toMatchObject({ method: 'GET', path: '/x', query: 'q=1', uri: '/x?q=1' });
    expect(res.text()).toBe(res.body.toString('utf8'));
  });

  it("keeps the app's headers as given, repeated Set-Cookie as two pairs in order", async () => {
    const res = await testClient(echo).get('/');
    const cookies = res.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v);
    expect(cookies).toEqual(['a=1', 'b=2']);
    expect(res.headers.find(([n]) => n.toLowerCase() === 'x-echo')?.[1]).toBe('yes');
  });

  it('sends a non-ASCII path as an HTTP client would, percent-encoded UTF-8: PATH_INFO is its latin-1 bytes (SPEC §2)', async () => {
    const res = await testClient(echo).get('/café/€?q=é');
    expect(res.json()).toMatchObject({ path: '/caf\u00c3\u00a9/\u00e2\u0082\u00ac', query: 'q=%C3%A9', uri: '/caf%C3%A9/%E2%82%AC?q=%C3%A9' });
    // An already encoded path stays as it is.
    expect((await testClient(echo).get('/caf%C3%A9')).json()).toMatchObject({ path: '/caf\u00c3\u00a9', uri: '/caf%C3%A9' });
  });

  it('statusText is the reason phrase the app gave', async () => {
    const res = await testClient((_e, sr) => {
      sr('418 I Am A Teapot Today', [['Content-Type', 'text/plain']]);
      return ['short and stout'];
    }).get('/');
    expect(res.status).toBe(418);
    expect(res.statusText).toBe('I Am A Teapot Today');
    expect(res.text()).toBe('short and stout');
  });

  it('get() with headers given as an object reaches the app as HTTP_*', async () => {
    const res = await testClient(echo).get('/h', { headers: { 'X-Custom': 'v1' } });
    expect(res.json()).toMatchObject({ custom: 'v1', type: null, length: null });
  });

  it('headers given as an array of pairs reach the app too', async () => {
    const res = await testClient(echo).get('/h', { headers: [['X-Custom', 'v2']] });
    expect(res.json()).toMatchObject({ custom: 'v2' });
  });

  it('post() with a string body: the bytes as UTF-8, CONTENT_LENGTH in bytes', async () => {
    const res = await testClient(echo).post('/p', { body: 'caf\u00e9', headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    const seen = res.json() as { body: string; length: string; type: string; method: string };
    expect(seen.method).toBe('POST');
    expect(seen.length).toBe('5');
    expect(seen.type).toBe('text/plain; charset=utf-8');
    expect(decodeLatin1(seen.body)).toBe('caf\u00e9');
  });

  it('post() with a Uint8Array body: the exact bytes', async () => {
    const bytes = new Uint8Array([0, 1, 2, 0xff, 0x80]);
    const res = await testClient(echo).post('/b', { body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    const seen = res.json() as { body: string; length: string };
    expect(seen.length).toBe('5');
    expect([...Buffer.from(seen.body, 'latin1')]).toEqual([0, 1, 2, 0xff, 0x80]);
  });

  for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    it(`request('${method}') and the ${method.toLowerCase()}() shorthand reach the app with that method and body`, async () => {
      const client = testClient(echo);
      const a = (await client.request(method, '/m', { body: 'x', headers: { 'Content-Type': 'text/plain' } })).json() as { method: string; body: string };
      expect(a).toMatchObject({ method, body: 'x' });
      const short = (client as unknown as Record<string, (p: string, i?: unknown) => Promise<{ json(): unknown }>>)[method.toLowerCase()]!;
      const b = (await short.call(client, '/m', { body: 'y', headers: { 'Content-Type': 'text/plain' } })).json();
      expect(b).toMatchObject({ method, body: 'y' });
    });
  }

  it('HEAD: status and headers, an empty body', async () => {
    const res = await testClient((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
      return ['hello'];
    }).request('HEAD', '/');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });

  it('json() of a body that is not JSON throws', async () => {
    const res = await testClient((_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['not json'];
    }).get('/');
    expect(() => res.json()).toThrow();
  });

  it("an app error before the headers rejects with the app's own error (as Werkzeug's client propagates it)", async () => {
    const boom = new Error('boom');
    await expect(
      testClient(() => {
        throw boom;
      }).get('/'),
    ).rejects.toBe(boom);
  });

  it('the environ it builds passes validate: the keys §2 requires, as strings', async () => {
    let env: Environ | undefined;
    await testClient((e, sr) => {
      env = e;
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [''];
    }).get('/a%20b?c=d');
    expect(env!.PATH_INFO).toBe('/a b');
    expect(env!.QUERY_STRING).toBe('c=d');
    expect(env!.REQUEST_URI).toBe('/a%20b?c=d');
    expect(env!.SCRIPT_NAME).toBe('');
    expect(typeof env!.SERVER_PORT).toBe('string');
    expect(env!['wsgi.version']).toEqual([1, 0]);
    expect(Object.isFrozen(env!['wsgi.version'])).toBe(true);
    expect('HTTPS' in env!).toBe(false);
    expect('CONTENT_TYPE' in env!).toBe(false);
  });

  const violations: Array<[string, string, App]> = [
    ['R1', 'a status without a reason phrase', (_e, sr) => (sr('200', [['Content-Type', 'text/plain']]), ['x'])],
    ['R2', 'a header value with CR LF', (_e, sr) => (sr('200 OK', [['X-A', 'a\r\nb']]), ['x'])],
    ['R3', 'a hop-by-hop header', (_e, sr) => (sr('200 OK', [['Connection', 'close']]), ['x'])],
    ['R5', 'a second startResponse without excInfo', (_e, sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), sr('200 OK', [['Content-Type', 'text/plain']]), ['x'])],
    ['C1', 'a number as a chunk', (_e, sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), [5 as unknown as string])],
    ['C2', 'a string as the body', (_e, sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), 'abc' as unknown as string[])],
  ];
  for (const [rule, what, app] of violations) {
    it(`rejects with WsgiValidationError (rule ${rule}) for ${what}`, async () => {
      const err = await testClient(app).get('/').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WsgiValidationError);
      expect((err as WsgiValidationError).name).toBe('WsgiValidationError');
      expect((err as WsgiValidationError).rule).toBe(rule);
      expect((err as Error).message).toMatch(/\bapp\b/);
    });
  }
});

/** A gateway-side harness for validate: call the checked app with a hand-made environ. */
function baseEnviron(): Environ {
  const input = {
    read: async () => new Uint8Array(0),
    readline: async () => new Uint8Array(0),
    readlines: async () => [],
    async *[Symbol.asyncIterator]() {},
  };
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    'wsgi.version': Object.freeze([1, 0]) as unknown as [1, 0],
    'wsgi.url_scheme': 'http',
    'wsgi.input': input,
    'wsgi.errors': { write() {}, writelines() {}, flush() {} },
    'wsgi.multithread': true,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
  } as unknown as Environ;
}

const ok: App = (_e, sr) => {
  sr('200 OK', [['Content-Type', 'text/plain']]);
  return ['ok'];
};

async function runChecked(environ: Environ, app: App = ok): Promise<unknown> {
  const sr: StartResponse = () => () => {};
  try {
    const body = await validate(app)(environ, sr);
    for await (const _ of body as AsyncIterable<unknown>);
    (body as { close?(): void }).close?.();
    return null;
  } catch (err) {
    return err;
  }
}

describe('validate, gateway side', () => {
  it('accepts a well-formed environ and app', async () => {
    expect(await runChecked(baseEnviron())).toBeNull();
  });

  for (const [label, mutate] of [
    ['REQUEST_METHOD missing', (e: Record<string, unknown>) => delete e.REQUEST_METHOD],
    ["SCRIPT_NAME '/'", (e: Record<string, unknown>) => (e.SCRIPT_NAME = '/')],
    ["PATH_INFO not starting with '/'", (e: Record<string, unknown>) => (e.PATH_INFO = 'x')],
    ['SERVER_PORT a number', (e: Record<string, unknown>) => (e.SERVER_PORT = 80)],
    ['HTTP_CONTENT_TYPE present', (e: Record<string, unknown>) => (e.HTTP_CONTENT_TYPE = 'text/plain')],
    ["wsgi.version [1, 1]", (e: Record<string, unknown>) => (e['wsgi.version'] = Object.freeze([1, 1]))],
    ["wsgi.url_scheme 'ftp'", (e: Record<string, unknown>) => (e['wsgi.url_scheme'] = 'ftp')],
    ['a key holding undefined', (e: Record<string, unknown>) => (e.REMOTE_ADDR = undefined)],
    ['a CGI key holding a non-latin-1 string', (e: Record<string, unknown>) => (e.PATH_INFO = '/\u0113')],
  ] as const) {
    it(`throws WsgiValidationError blaming the gateway for ${label}`, async () => {
      const env = baseEnviron() as unknown as Record<string, unknown>;
      mutate(env);
      const err = await runChecked(env as unknown as Environ);
      expect(err).toBeInstanceOf(WsgiValidationError);
      expect((err as Error).name).toBe('WsgiValidationError');
      expect(typeof (err as WsgiValidationError).rule).toBe('string');
      expect((err as Error).message).toMatch(/gateway/);
    });
  }

  it('a wsgi.input whose read(size) gives more than size is the gateway breaking S3', async () => {
    const env = baseEnviron();
    (env as unknown as Record<string, unknown>)['wsgi.input'] = { ...env['wsgi.input'], read: async () => new Uint8Array(10) };
    const err = await runChecked(env, async (environ, sr) => {
      await environ['wsgi.input'].read(2);
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [''];
    });
    expect(err).toBeInstanceOf(WsgiValidationError);
    expect((err as WsgiValidationError).rule).toBe('S3');
    expect((err as Error).message).toMatch(/gateway/);
  });

  it("the message says who broke the rule and what came: the app's bad status is quoted", async () => {
    const err = await testClient((_e, sr) => (sr('20 OK', [['Content-Type', 'text/plain']]), [''])).get('/').catch((e: unknown) => e);
    expect((err as WsgiValidationError).rule).toBe('R1');
    expect((err as Error).message).toContain('app');
    expect((err as Error).message).toContain('20 OK');
  });

  it('an app read past the end of wsgi.input still gets an empty array (validate wraps, does not break, the input)', async () => {
    let got: number | undefined;
    await runChecked(baseEnviron(), async (environ, sr) => {
      got = (await environ['wsgi.input'].read()).length;
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [''];
    });
    expect(got).toBe(0);
  });
});

describe('wsgiref.util helpers', () => {
  const env = (over: Record<string, string>): Environ =>
    ({ 'wsgi.url_scheme': 'http', SERVER_NAME: '127.0.0.1', SERVER_PORT: '80', SCRIPT_NAME: '', PATH_INFO: '', QUERY_STRING: '', ...over }) as unknown as Environ;
  const cases: Array<[Record<string, string>, string, string, string]> = [
    [{ HTTP_HOST: 'example.com:8080', SCRIPT_NAME: '/app', PATH_INFO: '/a b;c=d,e', QUERY_STRING: 'x=1&y=%20' }, 'http://example.com:8080/app/a%20b;c=d,e?x=1&y=%20', 'http://example.com:8080/app/a%20b;c=d,e', 'http://example.com:8080/app'],
    [{ PATH_INFO: '/caf\u00c3\u00a9' }, 'http://127.0.0.1/caf%C3%A9', 'http://127.0.0.1/caf%C3%A9', 'http://127.0.0.1/'],
    [{ 'wsgi.url_scheme': 'https', SERVER_PORT: '443', SERVER_NAME: 'h.test' }, 'https://h.test/', 'https://h.test/', 'https://h.test/'],
    [{ 'wsgi.url_scheme': 'https', SERVER_PORT: '80', SERVER_NAME: 'h.test' }, 'https://h.test:80/', 'https://h.test:80/', 'https://h.test:80/'],
    [{ SERVER_PORT: '8000', SCRIPT_NAME: '/sp ace', PATH_INFO: '/x?y#z' }, 'http://127.0.0.1:8000/sp%20ace/x%3Fy%23z', 'http://127.0.0.1:8000/sp%20ace/x%3Fy%23z', 'http://127.0.0.1:8000/sp%20ace'],
    [{}, 'http://127.0.0.1/', 'http://127.0.0.1/', 'http://127.0.0.1/'],
  ];
  for (const [over, full, noQuery, app] of cases) {
    it(`requestUri/applicationUri match wsgiref for ${JSON.stringify(over)}`, () => {
      expect(requestUri(env(over))).toBe(full);
      expect(requestUri(env(over), false)).toBe(noQuery);
      expect(applicationUri(env(over))).toBe(app);
    });
  }

  const shifts: Array<[[string, string], string | undefined, string, string]> = [
    [['', '/a/b'], 'a', '/a', '/b'],
    [['/x', '/a/b/'], 'a', '/x/a', '/b/'],
    [['/x', '/'], '', '/x/', ''],
    [['/x', ''], undefined, '/x', ''],
    [['', '/./a/../b'], 'a', '/a', '/../b'],
    [['/a', '//b'], 'b', '/a/b', ''],
    [['/a', '/b/./c'], 'b', '/a/b', '/c'],
    [['/a', '/../b'], '..', '', '/b'],
    [['', '/a//b'], 'a', '/a', '/b'],
  ];
  for (const [[sn, pi], name, sn2, pi2] of shifts) {
    it(`shiftPathInfo(${JSON.stringify([sn, pi])}) → ${JSON.stringify(name)}, (${JSON.stringify(sn2)}, ${JSON.stringify(pi2)}) as wsgiref`, () => {
      const e = { SCRIPT_NAME: sn, PATH_INFO: pi };
      expect(shiftPathInfo(e)).toBe(name);
      expect(e).toEqual({ SCRIPT_NAME: sn2, PATH_INFO: pi2 });
    });
  }

  it('decodeLatin1 gives the UTF-8 text a latin-1 string carries; plain ASCII is unchanged', () => {
    expect(decodeLatin1('/caf\u00c3\u00a9')).toBe('/caf\u00e9');
    expect(decodeLatin1('\u00e2\u0082\u00ac')).toBe('\u20ac');
    expect(decodeLatin1('plain/ascii?x')).toBe('plain/ascii?x');
    expect(decodeLatin1('')).toBe('');
  });

  it('decodeLatin1 refuses a string that is not latin-1 with a TypeError', () => {
    expect(() => decodeLatin1('\u0113')).toThrow(TypeError);
  });
});
