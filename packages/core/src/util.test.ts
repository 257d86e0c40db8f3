import { describe, expect, it } from 'vitest';
import { applicationUri, decodeLatin1, requestUri, shiftPathInfo } from './util.js';

type Vars = Record<string, string | null>;

/**
 * `wsgiref.util.setup_testing_defaults`, so the vectors below read exactly as in CPython's
 * Lib/test/test_wsgiref.py. A `null` value stands for Python's `None`: the key is left out.
 */
function testingDefaults(vars: Vars): Parameters<typeof requestUri>[0] {
  const env: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(vars)) if (value !== null) env[key] = value;
  const keep = (key: string, value: string): void => {
    if (!(key in vars)) env[key] = value;
  };
  keep('SERVER_NAME', '127.0.0.1');
  keep('SERVER_PROTOCOL', 'HTTP/1.0');
  keep('HTTP_HOST', env.SERVER_NAME as string);
  keep('REQUEST_METHOD', 'GET');
  if (!('SCRIPT_NAME' in vars) && !('PATH_INFO' in vars)) {
    env.SCRIPT_NAME = '';
    env.PATH_INFO = '/';
  }
  const https = ['yes', 'on', '1'].includes(env.HTTPS as string);
  env['wsgi.url_scheme'] = https ? 'https' : 'http';
  keep('SERVER_PORT', https ? '443' : '80');
  return env as Parameters<typeof requestUri>[0];
}

describe('applicationUri(environ)', () => {
  // CPython test_wsgiref UtilityTests.testAppURIs
  it.each<[string, Vars]>([
    ['http://127.0.0.1/', {}],
    ['http://127.0.0.1/spam', { SCRIPT_NAME: '/spam' }],
    ['http://127.0.0.1/sp%E4m', { SCRIPT_NAME: '/sp\xe4m' }],
    ['http://spam.example.com:2071/', { HTTP_HOST: 'spam.example.com:2071', SERVER_PORT: '2071' }],
    ['http://spam.example.com/', { SERVER_NAME: 'spam.example.com' }],
    ['http://127.0.0.1/', { HTTP_HOST: '127.0.0.1', SERVER_NAME: 'spam.example.com' }],
    ['https://127.0.0.1/', { HTTPS: 'on' }],
    ['http://127.0.0.1:8000/', { SERVER_PORT: '8000', HTTP_HOST: null }],
  ])('§2 (wsgiref testAppURIs): %s', (uri, vars) => {
    expect(applicationUri(testingDefaults(vars))).toBe(uri);
  });

  it('§2: SCRIPT_NAME is quoted with only "/" safe, as wsgiref quotes it', () => {
    expect(applicationUri(testingDefaults({ SCRIPT_NAME: '/a b;c' }))).toBe('http://127.0.0.1/a%20b%3Bc');
  });

  it('§2: an IPv6 SERVER_NAME is bracketed when there is no Host', () => {
    expect(applicationUri(testingDefaults({ SERVER_NAME: '::1', SERVER_PORT: '8080', HTTP_HOST: null }))).toBe(
      'http://[::1]:8080/',
    );
  });
});

describe('requestUri(environ, includeQuery)', () => {
  // CPython test_wsgiref UtilityTests.testReqURIs
  it.each<[string, boolean, Vars]>([
    ['http://127.0.0.1/', true, {}],
    ['http://127.0.0.1/spam', true, { SCRIPT_NAME: '/spam' }],
    ['http://127.0.0.1/sp%E4m', true, { SCRIPT_NAME: '/sp\xe4m' }],
    ['http://127.0.0.1/spammity/spam', true, { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam' }],
    ['http://127.0.0.1/spammity/sp%E4m', true, { SCRIPT_NAME: '/spammity', PATH_INFO: '/sp\xe4m' }],
    ['http://127.0.0.1/spammity/spam;ham', true, { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam;ham' }],
    [
      'http://127.0.0.1/spammity/spam;cookie=1234,5678',
      true,
      { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam;cookie=1234,5678' },
    ],
    ['http://127.0.0.1/spammity/spam?say=ni', true, { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 'say=ni' }],
    [
      'http://127.0.0.1/spammity/spam?s%E4y=ni',
      true,
      { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 's%E4y=ni' },
    ],
    ['http://127.0.0.1/spammity/spam', false, { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 'say=ni' }],
  ])('§2 (wsgiref testReqURIs): %s', (uri, includeQuery, vars) => {
    expect(requestUri(testingDefaults(vars), includeQuery)).toBe(uri);
  });

  it('§2: https, no Host, SERVER_NAME x, port 8443, /a + "/b c" → https://x:8443/a/b%20c', () => {
    const environ = {
      'wsgi.url_scheme': 'https',
      SERVER_NAME: 'x',
      SERVER_PORT: '8443',
      SCRIPT_NAME: '/a',
      PATH_INFO: '/b c',
      QUERY_STRING: '',
    };
    expect(requestUri(environ)).toBe('https://x:8443/a/b%20c');
  });

  it('§2: the default port of the scheme is left out (80 for http, 443 for https), any other kept', () => {
    const url = (scheme: string, port: string): string =>
      requestUri({ 'wsgi.url_scheme': scheme, SERVER_NAME: 'x', SERVER_PORT: port, SCRIPT_NAME: '', PATH_INFO: '/p' });
    expect(url('http', '80')).toBe('http://x/p');
    expect(url('https', '443')).toBe('https://x/p');
    expect(url('http', '443')).toBe('http://x:443/p');
    expect(url('https', '80')).toBe('https://x:80/p');
  });

  it('§2: the Host header wins over SERVER_NAME and SERVER_PORT', () => {
    const environ = testingDefaults({ HTTP_HOST: 'example.com:81', SERVER_PORT: '9999', PATH_INFO: '/p', SCRIPT_NAME: '' });
    expect(requestUri(environ)).toBe('http://example.com:81/p');
  });

  it('§2: a latin-1 PATH_INFO is quoted byte for byte, so the UTF-8 escapes come back', () => {
    const environ = testingDefaults({ SCRIPT_NAME: '', PATH_INFO: '/caf\u00c3\u00a9', QUERY_STRING: 'q=%C3%A9+x' });
    expect(requestUri(environ)).toBe('http://127.0.0.1/caf%C3%A9?q=%C3%A9+x');
  });

  it('§2: SCRIPT_NAME keeps only "/" unquoted; PATH_INFO also keeps ";", "=" and ","', () => {
    const environ = testingDefaults({ SCRIPT_NAME: '/a;b=c', PATH_INFO: '/d;e=f,g h' });
    expect(requestUri(environ)).toBe('http://127.0.0.1/a%3Bb%3Dc/d;e=f,g%20h');
  });

  it('§2: a missing PATH_INFO counts as ""', () => {
    const environ = testingDefaults({ SCRIPT_NAME: '/app' });
    expect('PATH_INFO' in environ).toBe(false);
    expect(requestUri(environ)).toBe('http://127.0.0.1/app');
  });

  it('§2: an empty PATH_INFO under an empty SCRIPT_NAME is the root "/"', () => {
    expect(requestUri(testingDefaults({ SCRIPT_NAME: '', PATH_INFO: '' }))).toBe('http://127.0.0.1/');
  });
});

describe('shiftPathInfo(environ)', () => {
  const shift = (scriptName: string, pathInfo: string) => {
    const environ = { SCRIPT_NAME: scriptName, PATH_INFO: pathInfo };
    const part = shiftPathInfo(environ);
    return [part, environ.SCRIPT_NAME, environ.PATH_INFO];
  };

  // CPython test_wsgiref UtilityTests.testSimpleShifts: (sn_in, pi_in) → (part, sn_out, pi_out)
  it.each<[string, string, string | undefined, string, string]>([
    ['', '/', '', '/', ''],
    ['', '/x', 'x', '/x', ''],
    ['/', '', undefined, '/', ''],
    ['/a', '/x/y', 'x', '/a/x', '/y'],
    ['/a', '/x/', 'x', '/a/x', '/'],
  ])('§2 (wsgiref testSimpleShifts): (%j, %j) → %j', (sn, pi, part, snOut, piOut) => {
    expect(shift(sn, pi)).toEqual([part, snOut, piOut]);
  });

  // CPython test_wsgiref UtilityTests.testNormalizedShifts
  it.each<[string, string, string | undefined, string, string]>([
    ['/a/b', '/../y', '..', '/a', '/y'],
    ['', '/../y', '..', '', '/y'],
    ['/a/b', '//y', 'y', '/a/b/y', ''],
    ['/a/b', '//y/', 'y', '/a/b/y', '/'],
    ['/a/b', '/./y', 'y', '/a/b/y', ''],
    ['/a/b', '/./y/', 'y', '/a/b/y', '/'],
    ['/a/b', '///./..//y/.//', '..', '/a', '/y/'],
    ['/a/b', '///', '', '/a/b/', ''],
    ['/a/b', '/.//', '', '/a/b/', ''],
    ['/a/b', '/x//', 'x', '/a/b/x', '/'],
    ['/a/b', '/.', undefined, '/a/b', ''],
  ])('§2 (wsgiref testNormalizedShifts): (%j, %j) → %j', (sn, pi, part, snOut, piOut) => {
    expect(shift(sn, pi)).toEqual([part, snOut, piOut]);
  });

  it('§2: shifting segment by segment walks the whole path', () => {
    const environ = { SCRIPT_NAME: '', PATH_INFO: '/a/b/c' };
    expect([shiftPathInfo(environ), shiftPathInfo(environ), shiftPathInfo(environ), shiftPathInfo(environ)]).toEqual([
      'a',
      'b',
      'c',
      undefined,
    ]);
    expect(environ).toEqual({ SCRIPT_NAME: '/a/b/c', PATH_INFO: '' });
  });
});

describe('decodeLatin1(s)', () => {
  it('§2: recovers the UTF-8 text a latin-1 environ string carries', () => {
    expect(decodeLatin1('/caf\u00c3\u00a9')).toBe('/café');
    expect(decodeLatin1('/\u00e6\u0096\u0087')).toBe('/文');
    expect(decodeLatin1('plain ascii')).toBe('plain ascii');
    expect(decodeLatin1('')).toBe('');
  });

  it('§2: bytes that are not UTF-8 become U+FFFD instead of throwing', () => {
    expect(decodeLatin1('\u00ff')).toBe('\ufffd');
  });
});

describe('decodeLatin1 refuses what is not latin-1', () => {
  it('throws a TypeError naming a code point above U+00FF instead of truncating it to its low byte', () => {
    expect(() => decodeLatin1('/\u012e\u012e/etc')).toThrow(TypeError);
    expect(() => decodeLatin1('/\u012e\u012e/etc')).toThrow(/U\+012E at index 1/);
  });
});
