// `testClient`: requests straight into an app, no sockets, like Werkzeug's test client (SPEC §7).
import { addHeaders, decodePathLatin1, splitRequestTarget, SERVER_SOFTWARE, WSGI_VERSION } from './environ.js';
import { LogErrors } from './errors.js';
import { fileWrapper } from './file-wrapper.js';
import { runApp } from './gateway.js';
import { BytesInput } from './input.js';
import { validate } from './validate.js';
import type { App, Environ, Errors } from './types.js';

export type TestHeaders = Record<string, string | readonly string[]> | ReadonlyArray<readonly [string, string]>;

export interface TestRequestInit {
  headers?: TestHeaders;
  /** The request body: bytes, text (sent as UTF-8), or a plain object sent as JSON. */
  body?: Uint8Array | string | Record<string, unknown> | unknown[];
  /** `'https'` to make the request look like it came over TLS. */
  scheme?: 'http' | 'https';
  /** Extra environ entries (`REMOTE_USER`, extension keys ...), applied last. */
  environ?: Record<string, unknown>;
}

export interface TestResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** The first value of a header, case-insensitively, or undefined. */
  header(name: string): string | undefined;
  text(): string;
  json(): unknown;
}

export interface TestClient {
  request(method: string, path: string, init?: TestRequestInit): Promise<TestResponse>;
  get(path: string, init?: TestRequestInit): Promise<TestResponse>;
  head(path: string, init?: TestRequestInit): Promise<TestResponse>;
  post(path: string, init?: TestRequestInit): Promise<TestResponse>;
  put(path: string, init?: TestRequestInit): Promise<TestResponse>;
  patch(path: string, init?: TestRequestInit): Promise<TestResponse>;
  delete(path: string, init?: TestRequestInit): Promise<TestResponse>;
  options(path: string, init?: TestRequestInit): Promise<TestResponse>;
  /** What the app wrote to `wsgi.errors` so far. */
  readonly errors: string[];
}

function encodeBody(init: TestRequestInit, headers: Array<[string, string]>): Uint8Array | null {
  const body = init.body;
  if (body === undefined) return null;
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/json']);
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function headerList(headers: TestHeaders | undefined): Array<[string, string]> {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return headers.map(([name, value]) => [name, value]);
  const list: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers as Record<string, string | readonly string[]>)) {
    if (typeof value === 'string') list.push([name, value]);
    else for (const v of value) list.push([name, v]);
  }
  return list;
}

/** Percent-encodes what cannot go into a request line as it is (non-ASCII, controls, spaces) as UTF-8 bytes. */
function percentEncodeNonAscii(target: string): string {
  return target.replace(/[^\x21-\x7e]+/g, (run) => {
    let out = '';
    for (const byte of Buffer.from(run, 'utf8')) out += (byte < 16 ? '%0' : '%') + byte.toString(16).toUpperCase();
    return out;
  });
}

/** Builds the environ a gateway would build for this request. */
function buildTestEnviron(method: string, target: string, init: TestRequestInit, errors: Errors): Environ {
  if (typeof target !== 'string' || !target.startsWith('/')) {
    throw new TypeError(`testClient: the path must start with '/', got ${JSON.stringify(target)}`);
  }
  // What an HTTP client sends for it: `get('/café')` goes out as `/caf%C3%A9`, as with fetch.
  target = percentEncodeNonAscii(target);
  const headers = headerList(init.headers);
  const body = encodeBody(init, headers);
  const [rawPath, query] = splitRequestTarget(target);
  const https = init.scheme === 'https';
  const environ: Environ = {
    REQUEST_METHOD: method.toUpperCase(),
    SCRIPT_NAME: '',
    PATH_INFO: decodePathLatin1(rawPath),
    QUERY_STRING: query,
    REQUEST_URI: target,
    SERVER_NAME: 'localhost',
    SERVER_PORT: https ? '443' : '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE,
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '50000',
    'wsgi.version': WSGI_VERSION,
    'wsgi.url_scheme': https ? 'https' : 'http',
    'wsgi.input': new BytesInput(body),
    'wsgi.errors': errors,
    'wsgi.multithread': true,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
    'wsgi.input_terminated': false,
    'wsgi.file_wrapper': fileWrapper,
  };
  if (https) environ.HTTPS = 'on';
  if (!headers.some(([name]) => name.toLowerCase() === 'host')) headers.unshift(['Host', 'localhost']);
  const raw: string[] = [];
  for (const [name, value] of headers) raw.push(name, value);
  addHeaders(environ, raw);
  if (body !== null) environ.CONTENT_LENGTH = String(body.byteLength);
  else delete environ.CONTENT_LENGTH;
  if (init.environ !== undefined) Object.assign(environ, init.environ);
  return environ;
}

/**
 * A client that calls an app directly, under `validate`, so a contract violation rejects with
 * `WsgiValidationError`; an app's own error rejects with that error.
 *
 * ```ts
 * const res = await testClient(app).get('/hello', { headers: { Accept: 'text/plain' } });
 * res.status; res.text();
 * ```
 */
export function testClient(app: App): TestClient {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/core: testClient expects an app function, got ${app === null ? 'null' : typeof app}`);
  }
  const checked = validate(app);
  const errorLog: string[] = [];
  const errors = new LogErrors((message) => errorLog.push(message));

  async function request(method: string, path: string, init: TestRequestInit = {}): Promise<TestResponse> {
    const environ = buildTestEnviron(method, path, init, errors);
    const response = await runApp(checked, environ);
    const chunks: Uint8Array[] = [];
    try {
      for (;;) {
        let chunk = response.nextChunk();
        if (chunk !== null && !(chunk instanceof Uint8Array)) chunk = await chunk;
        if (chunk === null) break;
        chunks.push(chunk);
      }
    } catch (err) {
      response.failed();
      throw err;
    }
    const headers = response.headers.slice();
    if (response.lengthComputed) headers.push(['Content-Length', String(response.contentLength)]);
    const body = Buffer.concat(chunks);
    return {
      status: response.statusCode,
      statusText: response.reason,
      headers,
      body,
      header(name: string) {
        const key = name.toLowerCase();
        return headers.find(([n]) => n.toLowerCase() === key)?.[1];
      },
      text: () => body.toString('utf8'),
      json: () => JSON.parse(body.toString('utf8')) as unknown,
    };
  }

  const verb = (method: string) => (path: string, init?: TestRequestInit) => request(method, path, init);
  return {
    request,
    get: verb('GET'),
    head: verb('HEAD'),
    post: verb('POST'),
    put: verb('PUT'),
    patch: verb('PATCH'),
    delete: verb('DELETE'),
    options: verb('OPTIONS'),
    errors: errorLog,
  };
}
