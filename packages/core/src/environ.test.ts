import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addHeaders, buildEnviron, decodePathLatin1, splitRequestTarget, WSGI_VERSION } from './environ.js';
import { stderrErrors } from './errors.js';
import { BytesInput } from './input.js';
import { decodeLatin1 } from './util.js';

describe('decodePathLatin1(path)', () => {
  it('§2: PATH_INFO is percent-decoded to bytes, one code point per byte', () => {
    expect(decodePathLatin1('/caf%C3%A9')).toBe('/caf\u00c3\u00a9');
    expect(decodePathLatin1('/%E6%96%87')).toBe('/\u00e6\u0096\u0087');
    expect(decodeLatin1(decodePathLatin1('/%E6%96%87'))).toBe('/文');
  });

  it('§2: %2F decodes to "/" (REQUEST_URI keeps the raw form)', () => {
    expect(decodePathLatin1('/a%2Fb')).toBe('/a/b');
    expect(decodePathLatin1('/a%2fb')).toBe('/a/b');
  });

  it('§2: "+" in a path stays "+" (it means space only in a query)', () => {
    expect(decodePathLatin1('/a+b')).toBe('/a+b');
  });

  it('§2: malformed escapes stay as sent, as Python unquote() leaves them', () => {
    expect(decodePathLatin1('/100%')).toBe('/100%');
    expect(decodePathLatin1('/%zz')).toBe('/%zz');
    expect(decodePathLatin1('/%4')).toBe('/%4');
    expect(decodePathLatin1('/%4g%41')).toBe('/%4gA');
    expect(decodePathLatin1('/%%41')).toBe('/%A');
  });

  it('§2: every byte value 00–FF decodes to the code point of the same number', () => {
    let encoded = '/';
    let expected = '/';
    for (let byte = 0; byte < 256; byte++) {
      encoded += '%' + byte.toString(16).padStart(2, '0');
      expected += String.fromCharCode(byte);
    }
    expect(decodePathLatin1(encoded)).toBe(expected);
  });

  it('§2: a path with no escapes is returned as is', () => {
    expect(decodePathLatin1('/a/b;c=d')).toBe('/a/b;c=d');
    expect(decodePathLatin1('')).toBe('');
  });
});

describe('splitRequestTarget(target)', () => {
  it('§2: QUERY_STRING is the raw text after the first "?"', () => {
    expect(splitRequestTarget('/a?b=1')).toEqual(['/a', 'b=1']);
    expect(splitRequestTarget('/a?x?y=%20+')).toEqual(['/a', 'x?y=%20+']);
    expect(splitRequestTarget('/r?u=http://x/y')).toEqual(['/r', 'u=http://x/y']);
  });

  it('§2: QUERY_STRING is "" when there is no query, or an empty one', () => {
    expect(splitRequestTarget('/a')).toEqual(['/a', '']);
    expect(splitRequestTarget('/a?')).toEqual(['/a', '']);
  });

  it('§2: the absolute form (a request to a proxy) is reduced to its path', () => {
    expect(splitRequestTarget('http://example.com/p?q=1')).toEqual(['/p', 'q=1']);
    expect(splitRequestTarget('https://example.com:8443/a/b')).toEqual(['/a/b', '']);
    expect(splitRequestTarget('http://example.com')).toEqual(['', '']);
    expect(splitRequestTarget('http://example.com?x=1/2')).toEqual(['', 'x=1/2']);
  });

  it('§2: the asterisk form is kept for the caller to map', () => {
    expect(splitRequestTarget('*')).toEqual(['*', '']);
  });

  it('§2: raw non-ASCII bytes (as latin-1 code points) pass through untouched', () => {
    expect(splitRequestTarget('/caf\u00c3\u00a9?q=\u00e4\u00b8\u00ad')).toEqual(['/caf\u00c3\u00a9', 'q=\u00e4\u00b8\u00ad']);
  });
});

describe('addHeaders(environ, rawHeaders)', () => {
  const headers = (...raw: string[]): Record<string, unknown> => {
    const environ: Record<string, unknown> = {};
    addHeaders(environ, raw);
    return environ;
  };

  it('§2: a header becomes HTTP_ + its name uppercased with "-" → "_"', () => {
    expect(headers('Foo-Bar', 'v', 'accept', '*/*')).toEqual({ HTTP_FOO_BAR: 'v', HTTP_ACCEPT: '*/*' });
  });

  it('§2: repeated headers join with ", " in arrival order, whatever the case of their names', () => {
    expect(headers('X-A', '1', 'x-a', '2', 'X-a', '3')).toEqual({ HTTP_X_A: '1, 2, 3' });
    expect(headers('Host', 'a', 'Host', 'b')).toEqual({ HTTP_HOST: 'a, b' });
    expect(headers('Authorization', 'x', 'Authorization', 'y')).toEqual({ HTTP_AUTHORIZATION: 'x, y' });
  });

  it('§2: repeated Cookie headers join with "; "', () => {
    expect(headers('Cookie', 'a=1', 'cookie', 'b=2')).toEqual({ HTTP_COOKIE: 'a=1; b=2' });
  });

  it('§2: a header whose name contains "_" is dropped (gunicorn#2799)', () => {
    expect(headers('X-A', '1', 'X_A', '2')).toEqual({ HTTP_X_A: '1' });
    expect(headers('x_a', '2')).toEqual({});
    expect(headers('X_Forwarded_For', '6.6.6.6', 'X-Forwarded-For', '1.2.3.4')).toEqual({
      HTTP_X_FORWARDED_FOR: '1.2.3.4',
    });
  });

  it('§2: Content-Type and Content-Length go to CONTENT_TYPE / CONTENT_LENGTH, never HTTP_*', () => {
    const environ = headers('Content-Type', 'text/plain', 'content-length', '5');
    expect(environ).toEqual({ CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '5' });
    expect(environ).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(environ).not.toHaveProperty('HTTP_CONTENT_LENGTH');
  });

  it('§2: HTTP/2 pseudo-headers are not request headers', () => {
    expect(headers(':authority', 'x', ':path', '/', 'Accept', 'a')).toEqual({ HTTP_ACCEPT: 'a' });
  });
});

/** A stand-in for a Node request, with just what buildEnviron reads. */
function fakeRequest(init: {
  url?: string;
  method?: string;
  httpVersion?: string;
  rawHeaders?: string[];
  socket?: Record<string, unknown> | null;
}): IncomingMessage {
  const rawHeaders = init.rawHeaders ?? ['Host', 'example.com'];
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] ??= rawHeaders[i + 1]!;
  return {
    url: init.url ?? '/',
    method: init.method ?? 'GET',
    httpVersion: init.httpVersion ?? '1.1',
    rawHeaders,
    headers,
    socket:
      init.socket === undefined
        ? { localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.2', remotePort: 50000 }
        : init.socket,
  } as unknown as IncomingMessage;
}

const options = () => ({ input: new BytesInput(null), errors: stderrErrors });

describe('buildEnviron(req, options)', () => {
  it('§2: builds every required key as a latin-1 string, with wsgi.* of the right types', () => {
    const environ = buildEnviron(fakeRequest({ url: '/caf%C3%A9?q=1+2', method: 'PATCH' }), options());
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'PATCH',
      SCRIPT_NAME: '',
      PATH_INFO: '/caf\u00c3\u00a9',
      QUERY_STRING: 'q=1+2',
      REQUEST_URI: '/caf%C3%A9?q=1+2',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.2',
      REMOTE_PORT: '50000',
      HTTP_HOST: 'example.com',
      'wsgi.url_scheme': 'http',
      'wsgi.multithread': true,
      'wsgi.run_once': false,
    });
    expect(environ['wsgi.version']).toEqual([1, 0]);
    expect(Object.isFrozen(environ['wsgi.version'])).toBe(true);
    expect(environ['wsgi.version']).toBe(WSGI_VERSION);
    for (const [key, value] of Object.entries(environ)) {
      if (key.includes('.')) continue;
      expect(typeof value, key).toBe('string');
      expect(value as string, key).toMatch(/^[\x00-\xff]*$/);
    }
  });

  it('§2: a variable that does not apply is absent, never undefined or ""', () => {
    const environ = buildEnviron(fakeRequest({ socket: { localAddress: '127.0.0.1', localPort: 80 } }), options());
    for (const key of ['CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTPS', 'REMOTE_ADDR', 'REMOTE_PORT', 'wsgi.file_wrapper']) {
      expect(key in environ, key).toBe(false);
    }
    for (const [key, value] of Object.entries(environ)) expect(value, key).not.toBeUndefined();
  });

  it('§2: a request that lost its socket gets no REMOTE_* keys, and still a SERVER_NAME and SERVER_PORT', () => {
    const environ = buildEnviron(fakeRequest({ socket: null }), options());
    expect('REMOTE_ADDR' in environ).toBe(false);
    expect('REMOTE_PORT' in environ).toBe(false);
    expect(environ.SERVER_NAME).not.toBe('');
    expect(environ.SERVER_PORT).toBe('80');
  });

  it('§2: HTTPS is "on" and wsgi.url_scheme "https" over TLS', () => {
    const environ = buildEnviron(
      fakeRequest({ socket: { encrypted: true, localAddress: '::1', localPort: 8443, remoteAddress: '::1', remotePort: 1 } }),
      options(),
    );
    expect(environ.HTTPS).toBe('on');
    expect(environ['wsgi.url_scheme']).toBe('https');
    expect(environ.SERVER_PORT).toBe('8443');
  });

  it('§2: SERVER_PROTOCOL is the version the request was sent with', () => {
    expect(buildEnviron(fakeRequest({ httpVersion: '1.0' }), options()).SERVER_PROTOCOL).toBe('HTTP/1.0');
  });

  it('§3: a chunked request has wsgi.input_terminated true and no CONTENT_LENGTH', () => {
    const environ = buildEnviron(
      fakeRequest({ method: 'POST', rawHeaders: ['Host', 'h', 'Transfer-Encoding', 'chunked', 'Content-Length', '5'] }),
      options(),
    );
    expect(environ['wsgi.input_terminated']).toBe(true);
    expect('CONTENT_LENGTH' in environ).toBe(false);
  });

  it('§3: a request with a Content-Length keeps it and is not input_terminated', () => {
    const environ = buildEnviron(fakeRequest({ method: 'POST', rawHeaders: ['Host', 'h', 'Content-Length', '5'] }), options());
    expect(environ.CONTENT_LENGTH).toBe('5');
    expect(environ['wsgi.input_terminated']).not.toBe(true);
  });

  it('§2: "OPTIONS *" gives PATH_INFO "" (never a path without a leading "/") and REQUEST_URI "*"', () => {
    const environ = buildEnviron(fakeRequest({ url: '*', method: 'OPTIONS' }), options());
    expect(environ.PATH_INFO).toBe('');
    expect(environ.REQUEST_URI).toBe('*');
  });

  it('§2: an absolute-form target gives its path and query; REQUEST_URI stays raw', () => {
    const environ = buildEnviron(fakeRequest({ url: 'http://example.com/a%20b?x=1' }), options());
    expect(environ.PATH_INFO).toBe('/a b');
    expect(environ.QUERY_STRING).toBe('x=1');
    expect(environ.REQUEST_URI).toBe('http://example.com/a%20b?x=1');
  });

  it('§2: a mount puts its prefix in SCRIPT_NAME and the rest of the target in PATH_INFO', () => {
    const environ = buildEnviron(fakeRequest({ url: '/app/x%2Fy?q' }), { ...options(), scriptName: '/app', target: '/x%2Fy?q' });
    expect(environ.SCRIPT_NAME).toBe('/app');
    expect(environ.PATH_INFO).toBe('/x/y');
    expect(environ.QUERY_STRING).toBe('q');
    expect(environ.REQUEST_URI).toBe('/app/x%2Fy?q');
  });

  it('§2: SCRIPT_NAME is never "/": a mount at the root gives ""', () => {
    const environ = buildEnviron(fakeRequest({ url: '/x' }), { ...options(), scriptName: '/', target: '/x' });
    expect(environ.SCRIPT_NAME).toBe('');
    expect(environ.PATH_INFO).toBe('/x');
  });

  it('§2: extension keys from the host are added; node.request is the request', () => {
    const req = fakeRequest({});
    const environ = buildEnviron(req, { ...options(), extra: { 'express.request': 1 }, multiprocess: true });
    expect(environ['express.request']).toBe(1);
    expect(environ['node.request']).toBe(req);
    expect(environ['wsgi.multiprocess']).toBe(true);
  });

  it('§2: every call builds a new plain object', () => {
    const req = fakeRequest({});
    const a = buildEnviron(req, options());
    const b = buildEnviron(req, options());
    expect(a).not.toBe(b);
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
  });
});
