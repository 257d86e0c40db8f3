import { describe, expect, it } from 'vitest';
import { testClient, type TestHeaders, type TestRequestInit } from '../testing.js';
import type { App, Body, Environ, StartResponse } from '../types.js';
import { requestUri } from '../util.js';
import { proxyFix, type ProxyFixOptions } from './proxy-fix.js';
import { expectOptionError, servePerTest } from './support.test-support.js';

const KEYS = ['REMOTE_ADDR', 'REMOTE_PORT', 'wsgi.url_scheme', 'HTTPS', 'HTTP_HOST', 'SERVER_NAME', 'SERVER_PORT', 'SCRIPT_NAME', 'PATH_INFO'];

type Seen = Record<string, unknown> & { url: string; orig?: Record<string, string> };

/** An app that answers with the environ values proxyFix may change. */
const echo: App = (environ, startResponse) => {
  const seen: Seen = { url: requestUri(environ) };
  for (const key of KEYS) if (key in environ) seen[key] = environ[key];
  if ('proxyfix.orig' in environ) seen.orig = environ['proxyfix.orig'] as Record<string, string>;
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(seen)];
};

async function seen(app: App, headers: TestHeaders, init: TestRequestInit = {}, path = '/x'): Promise<Seen> {
  const res = await testClient(app).get(path, { ...init, headers });
  expect(res.status).toBe(200);
  return res.json() as Seen;
}

const THREE = { 'X-Forwarded-For': '6.6.6.6, 198.51.100.2, 203.0.113.9' };

describe('an app without proxyFix', () => {
  it('trusts no X-Forwarded-* header and no Forwarded header', async () => {
    const got = await seen(echo, {
      ...THREE,
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Prefix': '/admin',
      Forwarded: 'for=6.6.6.6;proto=https;host=evil.example',
    });
    expect(got).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http', HTTP_HOST: 'localhost', SCRIPT_NAME: '' });
    expect(got.url).toBe('http://localhost/x');
  });
});

describe('proxyFix(app) with the defaults (for: 1, proto: 1)', () => {
  const app = proxyFix(echo);

  it('takes REMOTE_ADDR and the scheme from the last proxy, and leaves the host and prefix alone', async () => {
    const got = await seen(app, {
      ...THREE,
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Port': '8443',
      'X-Forwarded-Prefix': '/admin',
    });
    expect(got).toMatchObject({
      REMOTE_ADDR: '203.0.113.9',
      'wsgi.url_scheme': 'https',
      HTTPS: 'on',
      HTTP_HOST: 'localhost',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SCRIPT_NAME: '',
    });
    expect(got.url).toBe('https://localhost/x');
  });

  it('changes nothing when no proxy header came', async () => {
    const got = await seen(app, {});
    expect(got).toMatchObject({ REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '50000', 'wsgi.url_scheme': 'http' });
    expect(got).not.toHaveProperty('HTTPS');
  });
});

describe('proxyFix(app, { for })', () => {
  it.each<[number, string, string]>([
    [0, '203.0.113.9', '127.0.0.1'],
    [1, '203.0.113.9', '203.0.113.9'],
    // a client-sent value on the left is never taken (spoofing)
    [1, '6.6.6.6, 198.51.100.2, 203.0.113.9', '203.0.113.9'],
    [2, '6.6.6.6, 198.51.100.2, 203.0.113.9', '198.51.100.2'],
    [3, '6.6.6.6, 198.51.100.2, 203.0.113.9', '6.6.6.6'],
    // fewer values than trusted hops: the request skipped a proxy, so none is trusted
    [2, '203.0.113.9', '127.0.0.1'],
    [4, '6.6.6.6, 198.51.100.2, 203.0.113.9', '127.0.0.1'],
    [1, '2001:db8::7', '2001:db8::7'],
    [1, '[2001:db8::7]', '2001:db8::7'],
    // values that are not addresses are ignored
    [1, 'unknown', '127.0.0.1'],
    [1, 'evil.example', '127.0.0.1'],
    [1, '6.6.6.6, ', '127.0.0.1'],
  ])('with for: %i and X-Forwarded-For %j sets REMOTE_ADDR %j', async (hops, header, addr) => {
    const got = await seen(proxyFix(echo, { for: hops }), { 'X-Forwarded-For': header });
    expect(got.REMOTE_ADDR).toBe(addr);
  });

  it('reads repeated X-Forwarded-For lines as one list', async () => {
    const headers: Array<[string, string]> = [
      ['X-Forwarded-For', '6.6.6.6'],
      ['X-Forwarded-For', '203.0.113.9'],
    ];
    expect((await seen(proxyFix(echo, { for: 1 }), headers)).REMOTE_ADDR).toBe('203.0.113.9');
    expect((await seen(proxyFix(echo, { for: 2 }), headers)).REMOTE_ADDR).toBe('6.6.6.6');
  });

  it('takes the client port when the proxy sent one, and otherwise drops the proxy’s REMOTE_PORT', async () => {
    const app = proxyFix(echo, { for: 1 });
    expect(await seen(app, { 'X-Forwarded-For': '203.0.113.9:5123' })).toMatchObject({ REMOTE_ADDR: '203.0.113.9', REMOTE_PORT: '5123' });
    expect(await seen(app, { 'X-Forwarded-For': '[2001:db8::7]:443' })).toMatchObject({ REMOTE_ADDR: '2001:db8::7', REMOTE_PORT: '443' });
    expect(await seen(app, { 'X-Forwarded-For': '203.0.113.9' })).not.toHaveProperty('REMOTE_PORT');
  });
});

describe('proxyFix(app, { proto })', () => {
  it.each<[number, string, TestRequestInit['scheme'], string]>([
    [1, 'https', 'http', 'https'],
    [1, 'HTTPS', 'http', 'https'],
    [1, 'http', 'https', 'http'],
    [0, 'https', 'http', 'http'],
    [2, 'http, https', 'http', 'http'],
    [1, 'http, https', 'http', 'https'],
    [2, 'https', 'http', 'http'],
    [1, 'ftp', 'http', 'http'],
    [1, 'javascript', 'https', 'https'],
  ])('with proto: %i and X-Forwarded-Proto %j over %s sets the scheme %j', async (hops, header, scheme, expected) => {
    const got = await seen(proxyFix(echo, { proto: hops }), { 'X-Forwarded-Proto': header }, { scheme });
    expect(got['wsgi.url_scheme']).toBe(expected);
    if (expected === 'https') expect(got.HTTPS).toBe('on');
    else expect(got).not.toHaveProperty('HTTPS');
  });
});

describe('proxyFix(app, { host })', () => {
  it.each<[string, Record<string, string>]>([
    ['example.com', { HTTP_HOST: 'example.com', SERVER_NAME: 'example.com', SERVER_PORT: '80' }],
    ['example.com:8443', { HTTP_HOST: 'example.com:8443', SERVER_NAME: 'example.com', SERVER_PORT: '8443' }],
    ['[2001:db8::1]:8080', { HTTP_HOST: '[2001:db8::1]:8080', SERVER_NAME: '2001:db8::1', SERVER_PORT: '8080' }],
    ['[2001:db8::1]', { HTTP_HOST: '[2001:db8::1]', SERVER_NAME: '2001:db8::1', SERVER_PORT: '80' }],
    // not a host: ignored
    ['evil.example/path', { HTTP_HOST: 'localhost', SERVER_NAME: 'localhost' }],
    ['evil.example:port', { HTTP_HOST: 'localhost', SERVER_NAME: 'localhost' }],
    ['evil.example:99999', { HTTP_HOST: 'localhost', SERVER_NAME: 'localhost' }],
    ['[not-ipv6]:80', { HTTP_HOST: 'localhost', SERVER_NAME: 'localhost' }],
    ['user@evil.example', { HTTP_HOST: 'localhost', SERVER_NAME: 'localhost' }],
  ])('with host: 1 and X-Forwarded-Host %j sets %j', async (header, expected) => {
    const got = await seen(proxyFix(echo, { host: 1 }), { 'X-Forwarded-Host': header });
    expect(got).toMatchObject(expected);
  });

  it('takes the default port of the forwarded scheme when the host names none', async () => {
    const got = await seen(proxyFix(echo, { proto: 1, host: 1 }), { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'example.com' });
    expect(got).toMatchObject({ HTTP_HOST: 'example.com', SERVER_PORT: '443' });
    expect(got.url).toBe('https://example.com/x');
  });

  it('takes the host the trusted proxy saw, not one the client added', async () => {
    const got = await seen(proxyFix(echo, { host: 1 }), { 'X-Forwarded-Host': 'evil.example, example.com' });
    expect(got.HTTP_HOST).toBe('example.com');
  });
});

describe('proxyFix(app, { port })', () => {
  it.each<[string, string, Record<string, string>]>([
    ['example.com', '8443', { HTTP_HOST: 'example.com:8443', SERVER_PORT: '8443' }],
    ['example.com:80', '8443', { HTTP_HOST: 'example.com:8443', SERVER_PORT: '8443' }],
    ['[2001:db8::1]:80', '8443', { HTTP_HOST: '[2001:db8::1]:8443', SERVER_PORT: '8443' }],
    ['[2001:db8::1]', '8443', { HTTP_HOST: '[2001:db8::1]:8443', SERVER_PORT: '8443' }],
    ['example.com', 'https', { HTTP_HOST: 'example.com', SERVER_PORT: '80' }],
    ['example.com', '0', { HTTP_HOST: 'example.com', SERVER_PORT: '80' }],
    ['example.com', '65536', { HTTP_HOST: 'example.com', SERVER_PORT: '80' }],
    ['example.com', '84 43', { HTTP_HOST: 'example.com', SERVER_PORT: '80' }],
  ])('with Host %j and X-Forwarded-Port %j sets %j', async (host, port, expected) => {
    const got = await seen(proxyFix(echo, { port: 1 }), { Host: host, 'X-Forwarded-Port': port });
    expect(got).toMatchObject(expected);
  });

  it('puts the forwarded port on the forwarded host', async () => {
    const got = await seen(proxyFix(echo, { host: 1, port: 1 }), { 'X-Forwarded-Host': 'example.com', 'X-Forwarded-Port': '8080' });
    expect(got).toMatchObject({ HTTP_HOST: 'example.com:8080', SERVER_NAME: 'example.com', SERVER_PORT: '8080' });
    expect(got.url).toBe('http://example.com:8080/x');
  });
});

describe('proxyFix(app, { prefix })', () => {
  it.each<[number, string, string]>([
    [1, '/app', '/app'],
    [1, '/app/', '/app'],
    [1, '/', ''],
    [1, '/caf%C3%A9', '/caf\u00c3\u00a9'],
    [2, '/public, /app', '/public'],
    [1, 'app', ''],
    [1, 'https://evil.example/app', ''],
    [1, '/app?x=1', ''],
    [1, '/app%00', ''],
    [0, '/app', ''],
    [2, '/app', ''],
  ])('with prefix: %i and X-Forwarded-Prefix %j sets SCRIPT_NAME %j', async (hops, header, scriptName) => {
    const got = await seen(proxyFix(echo, { prefix: hops }), { 'X-Forwarded-Prefix': header });
    expect(got.SCRIPT_NAME).toBe(scriptName);
    expect(got.PATH_INFO).toBe('/x');
  });

  it('puts the prefix in front of a SCRIPT_NAME the host already set, so URLs come out whole', async () => {
    const got = await seen(proxyFix(echo, { prefix: 1 }), { 'X-Forwarded-Prefix': '/public' }, { environ: { SCRIPT_NAME: '/api' } });
    expect(got.SCRIPT_NAME).toBe('/public/api');
    expect(got.url).toBe('http://localhost/public/api/x');
  });
});

describe('proxyFix(app, { forwarded })', () => {
  it.each<[number, string, Record<string, string>]>([
    [1, 'for=192.0.2.60;proto=https;host=example.com', { REMOTE_ADDR: '192.0.2.60', 'wsgi.url_scheme': 'https', HTTP_HOST: 'example.com', SERVER_PORT: '443' }],
    [1, 'for="[2001:db8:cafe::17]:4711"', { REMOTE_ADDR: '2001:db8:cafe::17', REMOTE_PORT: '4711' }],
    [1, 'for="[::1]"', { REMOTE_ADDR: '::1' }],
    [1, 'For=192.0.2.60; Proto=HTTPS', { REMOTE_ADDR: '192.0.2.60', 'wsgi.url_scheme': 'https' }],
    [1, 'host="example.com:8443";proto=https', { HTTP_HOST: 'example.com:8443', SERVER_NAME: 'example.com', SERVER_PORT: '8443' }],
    [1, 'host="[2001:db8::1]:8080"', { HTTP_HOST: '[2001:db8::1]:8080', SERVER_NAME: '2001:db8::1', SERVER_PORT: '8080' }],
    // the rightmost element is the trusted proxy's; a client's element on the left is ignored
    [1, 'for=6.6.6.6;host=evil.example;proto=https, for=192.0.2.60', { REMOTE_ADDR: '192.0.2.60', HTTP_HOST: 'localhost', 'wsgi.url_scheme': 'http' }],
    [2, 'for=192.0.2.60;host=example.com, for=198.51.100.1', { REMOTE_ADDR: '192.0.2.60', HTTP_HOST: 'example.com' }],
    // a quoted comma or semicolon does not split elements
    [2, 'for="[::1]";host="example.com";by="a,b;c", for=198.51.100.1', { REMOTE_ADDR: '::1', HTTP_HOST: 'example.com' }],
    // fewer elements than trusted hops: ignored whole
    [2, 'for=192.0.2.60;proto=https', { REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http' }],
    // unparsable header: ignored whole
    [1, 'for="192.0.2.60;proto=https', { REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http' }],
    [1, 'for=192.0.2.60;for=6.6.6.6', { REMOTE_ADDR: '127.0.0.1' }],
    [1, 'garbage', { REMOTE_ADDR: '127.0.0.1' }],
    // obfuscated or unknown nodes are not addresses
    [1, 'for=unknown;proto=https', { REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'https' }],
    [1, 'for=_hidden', { REMOTE_ADDR: '127.0.0.1' }],
    [1, 'proto=gopher', { 'wsgi.url_scheme': 'http' }],
  ])('with forwarded: %i and Forwarded %j sets %j', async (hops, header, expected) => {
    const got = await seen(proxyFix(echo, { forwarded: hops }), { Forwarded: header });
    expect(got).toMatchObject(expected);
  });

  it('reads repeated Forwarded lines as one list', async () => {
    const got = await seen(proxyFix(echo, { forwarded: 1 }), [
      ['Forwarded', 'for=6.6.6.6'],
      ['Forwarded', 'for=192.0.2.60'],
    ]);
    expect(got.REMOTE_ADDR).toBe('192.0.2.60');
  });

  it('ignores X-Forwarded-For, -Proto and -Host, but still reads -Prefix and -Port when trusted', async () => {
    const got = await seen(proxyFix(echo, { forwarded: 1, prefix: 1, port: 1 }), {
      Forwarded: 'for=192.0.2.60;host=example.com',
      'X-Forwarded-For': '6.6.6.6',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Prefix': '/app',
      'X-Forwarded-Port': '8080',
    });
    expect(got).toMatchObject({
      REMOTE_ADDR: '192.0.2.60',
      'wsgi.url_scheme': 'http',
      HTTP_HOST: 'example.com:8080',
      SERVER_PORT: '8080',
      SCRIPT_NAME: '/app',
    });
  });
});

describe("environ['proxyfix.orig']", () => {
  it('keeps the values from before the change, and the forwarding headers as they came', async () => {
    const app = proxyFix(echo, { for: 1, proto: 1, host: 1, port: 1, prefix: 1 });
    const got = await seen(app, {
      'X-Forwarded-For': '203.0.113.9',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'example.com',
      'X-Forwarded-Port': '8443',
      'X-Forwarded-Prefix': '/app',
    });
    expect(got).toMatchObject({ REMOTE_ADDR: '203.0.113.9', HTTP_HOST: 'example.com:8443', SCRIPT_NAME: '/app' });
    expect(got.url).toBe('https://example.com:8443/app/x');
    expect(got.orig).toEqual({
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: '50000',
      'wsgi.url_scheme': 'http',
      HTTP_HOST: 'localhost',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SCRIPT_NAME: '',
      HTTP_X_FORWARDED_FOR: '203.0.113.9',
      HTTP_X_FORWARDED_PROTO: 'https',
      HTTP_X_FORWARDED_HOST: 'example.com',
      HTTP_X_FORWARDED_PORT: '8443',
      HTTP_X_FORWARDED_PREFIX: '/app',
    });
  });

  it('records HTTPS and Forwarded when they were there', async () => {
    const got = await seen(proxyFix(echo, { forwarded: 1 }), { Forwarded: 'proto=http' }, { scheme: 'https' });
    expect(got['wsgi.url_scheme']).toBe('http');
    expect(got.orig).toMatchObject({ 'wsgi.url_scheme': 'https', HTTPS: 'on', HTTP_FORWARDED: 'proto=http' });
  });
});

describe('proxyFix(app) as middleware [M1, M2]', () => {
  const env = (): Environ => ({ SCRIPT_NAME: '', PATH_INFO: '/', REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http' }) as unknown as Environ;
  const startResponse = (() => () => undefined) as StartResponse;

  it('returns the child’s body object itself and passes the gateway’s startResponse', () => {
    const body: Body = (async function* () {
      yield 'never pulled here';
    })();
    let given: StartResponse | undefined;
    const child: App = (_environ, sr) => {
      given = sr;
      return body;
    };
    expect(proxyFix(child)(env(), startResponse)).toBe(body);
    expect(given).toBe(startResponse);
  });

  it('lets the gateway close the child’s body exactly once', async () => {
    let closes = 0;
    const child: App = (_environ, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign(['ok'], { close: () => void closes++ });
    };
    expect((await testClient(proxyFix(child)).get('/')).text()).toBe('ok');
    expect(closes).toBe(1);
  });
});

describe('proxyFix(app, options) set-up', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['an app that is not a function', () => proxyFix('app' as never), /expects an app function, got "app"/],
    ['options that are not an object', () => proxyFix(echo, 1 as never), /expects an options object, got 1/],
    ['an unknown option (Werkzeug’s spelling)', () => proxyFix(echo, { x_for: 1 } as ProxyFixOptions), /unknown option "x_for"; expected for, proto, host, port, prefix, forwarded/],
    ['a negative count', () => proxyFix(echo, { for: -1 }), /option 'for' to be a whole number .* got -1/],
    ['a fractional count', () => proxyFix(echo, { host: 1.5 }), /option 'host' .* got 1.5/],
    ['a boolean count', () => proxyFix(echo, { proto: true as never }), /option 'proto' .* got 'boolean'/],
    ['forwarded with an X-Forwarded-For count', () => proxyFix(echo, { forwarded: 1, for: 1 }), /set 'forwarded' or 'for', not both/],
    ['forwarded with an X-Forwarded-Host count', () => proxyFix(echo, { forwarded: 1, host: 2 }), /set 'forwarded' or 'host', not both/],
  ])('throws a TypeError for %s', expectOptionError('proxyFix'));
});

describe('proxyFix(app) on the wire', () => {
  const serveApp = servePerTest();

  it('shows the app the client and URL the proxy saw, through the reference server', async () => {
    const base = await serveApp(proxyFix(echo, { for: 1, proto: 1, host: 1, prefix: 1 }));
    const res = await fetch(`${base}/x`, {
      headers: {
        'X-Forwarded-For': '6.6.6.6, 203.0.113.9',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'example.com',
        'X-Forwarded-Prefix': '/app',
      },
    });
    const got = (await res.json()) as Seen;
    expect(got).toMatchObject({ REMOTE_ADDR: '203.0.113.9', 'wsgi.url_scheme': 'https', HTTPS: 'on', SCRIPT_NAME: '/app' });
    expect(got.url).toBe('https://example.com/app/x');
    expect(got.orig).toMatchObject({ REMOTE_ADDR: '127.0.0.1', SERVER_NAME: '127.0.0.1' });
  });
});
