// Bad input (issue 7, item 3): malformed and hostile requests from raw sockets, and an app that hands
// startResponse what SPEC refuses. Never a crash, never a hang: a 4xx and a closed connection, or a
// faithful latin-1 environ; from the app side a TypeError inside startResponse, logged to wsgi.errors,
// and never a response that carries the injected bytes (asserted on the raw bytes the client got).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputError, type App, type Environ, type StartResponse } from '@node-wsgi/core';
import {
  baseline,
  closeClients,
  closeHosts,
  closeListening,
  describeHosts,
  exchangeRaw,
  expectNothingPending,
  parseHead,
  PREFIX,
  rawRequest,
  RawSocket,
  request,
  serveApp,
  within,
  withOk,
  type Listening,
} from './support.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The status line of a raw response. */
const statusOf = (data: Buffer): string => data.toString('latin1').split('\r\n')[0]!;

/** An app that answers what it saw as JSON, reading the body only under /read. */
function environEcho(calls: { n: number; last?: Record<string, unknown> }): App {
  return async (environ: Environ, startResponse: StartResponse) => {
    calls.n++;
    const seen: Record<string, unknown> = {
      REQUEST_METHOD: environ.REQUEST_METHOD,
      SCRIPT_NAME: environ.SCRIPT_NAME,
      PATH_INFO: environ.PATH_INFO,
      QUERY_STRING: environ.QUERY_STRING,
      REQUEST_URI: environ.REQUEST_URI,
    };
    if (environ.PATH_INFO.endsWith('/read')) {
      try {
        seen.body = Buffer.from(await environ['wsgi.input'].read()).toString('latin1');
      } catch (err) {
        seen.error = err instanceof InputError ? 'InputError' : String(err);
      }
    }
    calls.last = seen;
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify(seen)];
  };
}

describe('serve(app) and malformed requests from a raw socket', () => {
  const calls: { n: number; last?: Record<string, unknown> } = { n: 0 };
  let server: Listening;

  beforeAll(async () => {
    server = await serveApp(withOk(environEcho(calls)));
  });
  afterAll(closeListening);
  afterEach(() => closeClients());

  const malformed: Array<[string, string | Buffer, string]> = [
    ['no request line at all', 'GARBAGE\r\n\r\n', '400'],
    ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', '400'],
    ['a method with a separator in it', 'G(ET / HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['a method Node does not know', 'FROB / HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n', '400'],
    ['a space inside a header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n', '400'],
    ['a space before the colon (a smuggling vector)', 'GET / HTTP/1.1\r\nHost: x\r\nX-A : x\r\n\r\n', '400'],
    ['an obsolete folded header line', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', '400'],
    ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', '400'],
    ['a bare CR in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n', '400'],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: x\n\n', '400'],
    ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', '400'],
    ['a raw non-ASCII byte in the path', Buffer.concat([Buffer.from('GET /caf'), Buffer.from([0xc3, 0xa9]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), '400'],
    ['a raw non-ASCII byte in the query', Buffer.concat([Buffer.from('GET /?q='), Buffer.from([0xe4, 0xb8, 0xad]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), '400'],
    ['headers over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, '431'],
    ['3000 small headers (over 16 KiB together)', `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, '431'],
    ['Content-Length together with Transfer-Encoding: chunked', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
    ['a chunked body that smuggles a second request behind Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ['a negative Content-Length', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', '400'],
    ['a Content-Length past 2^64', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n', '400'],
    ['a Content-Length with a sign', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello', '400'],
    ['a Content-Length in hex', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello', '400'],
    ['two different Content-Lengths', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', '400'],
  ];

  for (const [what, bytes, status] of malformed) {
    it(`${what}: ${status}, the connection closes, the app never runs, and the next request is answered`, async () => {
      const before = await baseline();
      const callsBefore = calls.n;
      const { data } = await exchangeRaw(server.port, bytes);
      expect(statusOf(data)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(calls.n).toBe(callsBefore);
      const next = await request(server.url + '/ok');
      expect(next.status).toBe(200);
      closeClients();
      await expectNothingPending(before);
    });
  }

  // Node's parser finds these faults in the body, after it handed the request to the app.
  const badBodies: Array<[string, string]> = [
    ['a chunked body with a malformed chunk size', 'POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
    ['a transfer coding other than chunked', 'POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello'],
  ];
  for (const [what, bytes] of badBodies) {
    it(`${what}: the client gets a 400 and a closed connection, and the app’s read() fails with InputError`, async () => {
      const before = await baseline();
      calls.last = undefined;
      const { data } = await exchangeRaw(server.port, bytes);
      expect(statusOf(data)).toMatch(/^HTTP\/1\.1 400 /);
      await within(
        (async () => {
          while (calls.last === undefined) await sleep(10);
        })(),
        5000,
        'the app to finish',
      );
      expect(calls.last).toMatchObject({ PATH_INFO: '/read', error: 'InputError' });
      closeClients();
      await expectNothingPending(before);
    });
  }

  it('Expect with a value other than 100-continue: 417 Expectation Failed, and the app never runs', async () => {
    const callsBefore = calls.n;
    const client = await RawSocket.connect(server.port);
    client.write('POST /read HTTP/1.1\r\nHost: x\r\nExpect: bogus-extension\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    await within(client.waitForClose(), 5000, 'the connection to close');
    expect(statusOf(client.data)).toMatch(/^HTTP\/1\.1 417 /);
    expect(calls.n).toBe(callsBefore);
  });
});

describe('serve(app, { requestTimeout: 1000 }) and a body shorter than declared', () => {
  const calls = { n: 0 };
  let server: Listening;

  beforeAll(async () => {
    server = await serveApp(withOk(environEcho(calls)), { requestTimeout: 1000 });
  });
  afterAll(closeListening);
  afterEach(() => closeClients());

  it('an app reading the body: read() rejects with InputError once the timeout ends the request; the client gets 408 and a closed connection, never a hang', async () => {
    const before = await baseline();
    const client = await RawSocket.connect(server.port);
    client.write('POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..');
    await within(client.waitForClose(), 5000, 'the request timeout to end the connection');
    expect(statusOf(client.data)).toMatch(/^HTTP\/1\.1 408 /);
    closeClients();
    await expectNothingPending(before);
  });

  it('an app that answers without reading: the client gets the whole response, then the connection ends at the timeout', async () => {
    const before = await baseline();
    const client = await RawSocket.connect(server.port);
    client.write('POST /unread HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..');
    const head = await within(client.head(), 5000, 'the response');
    expect(head.status).toBe(200);
    const length = Number(head.header('content-length'));
    await within(client.waitFor(() => client.data.length >= head.bodyStart + length, 'the whole body'), 5000, 'the whole body');
    expect(JSON.parse(client.data.subarray(head.bodyStart, head.bodyStart + length).toString()).PATH_INFO).toBe('/unread');
    // The rest of the declared body never comes: Node's request timeout ends the connection.
    await within(client.waitForClose(), 5000, 'the request timeout to end the connection');
    closeClients();
    await expectNothingPending(before);
  });
});

/** Percent-decodes like PEP 3333 (bytes as latin-1), leaving malformed escapes as they are. */
function latin1Decode(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

describeHosts((host) => {
  afterEach(async () => {
    closeClients();
    await closeHosts();
  });

  const targets = [
    '/%zz?q=%zz',
    '/%',
    '/a%',
    '/a%4',
    '/%FF%FE?q=%FF%FE',
    '/caf%C3%28',
    '/%C0%AF',
    '/%00x',
    '/a+b%2Bc?x=a+b%2B',
    '/%E6%96%87?q=%E6%96%87',
    '/x%25y%2525',
  ];

  it('odd percent-encoding and non-UTF-8 bytes in path and query: a 400, or an environ that holds exactly the bytes sent as latin-1; never a 500', async () => {
    const server = await host.start(withOk(environEcho({ n: 0 })));
    const before = await baseline();
    for (const target of targets) {
      const client = await RawSocket.connect(server.port);
      client.write(rawRequest('GET', PREFIX + target, ['Connection: close']));
      await within(client.waitForClose(), 5000, target);
      const head = parseHead(client.data)!;
      if (head.status === 400) continue; // Fastify refuses what it cannot decode as UTF-8
      expect(head.status, target).toBe(200);
      const seen = JSON.parse(client.data.subarray(head.bodyStart).toString()) as Record<string, string>;
      const [path, query = ''] = target.split('?');
      expect([seen.SCRIPT_NAME, seen.PATH_INFO, seen.QUERY_STRING, seen.REQUEST_URI], target).toEqual([PREFIX, latin1Decode(path!), query, PREFIX + target]);
    }
    expect((await request(server.url + PREFIX + '/ok')).status).toBe(200);
    closeClients();
    await expectNothingPending(before);
  });

  it('request smuggling and oversized heads are refused by the host’s parser before the app runs', async () => {
    const calls = { n: 0 };
    const server = await host.start(withOk(environEcho(calls)));
    const cases: Array<[string, string]> = [
      ['400', `POST ${PREFIX}/read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
      ['400', `POST ${PREFIX}/read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`],
      ['431', `GET ${PREFIX}/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`],
      ['417', `POST ${PREFIX}/read HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`],
    ];
    for (const [status, bytes] of cases) {
      const { data } = await exchangeRaw(server.port, bytes);
      expect(statusOf(data), bytes.slice(0, 60)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    }
    expect(calls.n).toBe(0);
    expect((await request(server.url + PREFIX + '/ok')).status).toBe(200);
  });
});

// --- the app's side: every status and header SPEC §4 refuses [R1, R2, R3] ---

type Refused = [what: string, status: unknown, headers: unknown];

const GOOD: Array<[string, string]> = [['Content-Type', 'text/plain']];

const REFUSED: Refused[] = [
  // R1: the status line
  ['a status without a reason phrase or space', '200', GOOD],
  ['a status without the space', '200OK', GOOD],
  ['a four-digit status', '2000 OK', GOOD],
  ['a code below 100', '099 Low', GOOD],
  ['a code above 599', '600 High', GOOD],
  ['a code with a letter', '20x OK', GOOD],
  ['a status with a leading space', ' 200 OK', GOOD],
  ['a tab instead of the space', '200\tOK', GOOD],
  ['CR LF and a header in the reason', '200 OK\r\nX-Injected: status', GOOD],
  ['a bare LF and a header in the reason', '200 OK\nX-Injected: status', GOOD],
  ['a bare CR in the reason', '200 OK\rX-Injected: status', GOOD],
  ['a NUL in the reason', '200 OK\0X-Injected', GOOD],
  ['a code point above U+00FF in the reason', '200 \u0100K', GOOD],
  ['an emoji in the reason', '200 OK \u{1F600}', GOOD],
  ['a number as the status', 200, GOOD],
  ['null as the status', null, GOOD],
  // R2: header names
  ['an empty header name', '200 OK', [['', 'x']]],
  ['a space in a header name', '200 OK', [['X Bad', 'x']]],
  ['a colon in a header name', '200 OK', [['X-A:', 'x']]],
  ['CR LF in a header name', '200 OK', [['X-A\r\nX-Injected', 'name']]],
  ['a NUL in a header name', '200 OK', [['X-A\0', 'x']]],
  ['a latin-1 letter in a header name', '200 OK', [['X-Caf\u00e9', 'x']]],
  ['parentheses in a header name', '200 OK', [['(X-A)', 'x']]],
  // R2: header values
  ['CR LF and a header in a value', '200 OK', [['X-A', 'a\r\nX-Injected: value']]],
  ['CR LF CR LF and a body in a value (response splitting)', '200 OK', [['X-A', 'a\r\n\r\nX-Injected: body']]],
  ['a bare LF in a value', '200 OK', [['X-A', 'a\nX-Injected: value']]],
  ['a bare CR in a value', '200 OK', [['X-A', 'a\rX-Injected: value']]],
  ['a NUL in a value', '200 OK', [['X-A', 'a\0X-Injected']]],
  ['a control character in a value', '200 OK', [['X-A', 'a\u0001b']]],
  ['DEL in a value', '200 OK', [['X-A', 'a\u007fb']]],
  ['U+0100 in a value', '200 OK', [['X-A', '\u0100']]],
  ['the euro sign in a value (not latin-1)', '200 OK', [['X-A', '5 \u20ac']]],
  ['an emoji in a value', '200 OK', [['X-A', '\u{1F600}']]],
  ['a number as a value', '200 OK', [['X-A', 42]]],
  ['undefined as a value', '200 OK', [['X-A', undefined]]],
  // R2: the list's shape
  ['a pair with one element', '200 OK', [['X-A']]],
  ['a pair with three elements', '200 OK', [['X-A', 'b', 'c']]],
  ['a header as a string', '200 OK', ['X-A: b']],
  ['headers as an object', '200 OK', { 'X-A': 'b' }],
  ['headers as a string', '200 OK', 'X-A: b'],
  // R3: hop-by-hop headers
  ...['Connection', 'Keep-Alive', 'Transfer-Encoding', 'Upgrade', 'TE', 'Trailer', 'Proxy-Authenticate', 'Proxy-Authorization'].map(
    (name): Refused => [`the hop-by-hop header ${name}`, '200 OK', [[name, 'close']]],
  ),
  // R2: Content-Length that is not a whole number of bytes
  ['Content-Length: abc', '200 OK', [['Content-Length', 'abc']]],
  ['Content-Length: -1', '200 OK', [['Content-Length', '-1']]],
  ['Content-Length: 1.5', '200 OK', [['Content-Length', '1.5']]],
  ['Content-Length: 1e3', '200 OK', [['Content-Length', '1e3']]],
  ['two different Content-Lengths', '200 OK', [['Content-Length', '1'], ['Content-Length', '2']]],
  ['the same Content-Length twice', '200 OK', [['Content-Length', '1'], ['Content-Length', '1']]],
];

/** An app that makes the refused call at `/refused/<index>` and lets the error go; records what it caught. */
function refusingApp(caught: Map<number, Error>): App {
  return withOk((environ, startResponse) => {
    const index = Number(environ.PATH_INFO.split('/')[2]);
    const [, status, headers] = REFUSED[index]!;
    try {
      (startResponse as (s: unknown, h: unknown) => unknown)(status, headers);
    } catch (err) {
      caught.set(index, err as Error);
      throw err;
    }
    return ['the refused response was sent'];
  });
}

/** No injected header line and no second response in the bytes the client got. */
function expectNoInjectedBytes(raw: string, what: string): void {
  expect(raw, what).not.toMatch(/[\r\n]X-Injected/i);
  expect(raw, what).not.toContain('the refused response was sent');
  expect(raw.split('HTTP/1.1 ').length, `${what}: one response`).toBe(2);
}

describe('startResponse(status, headers) refusing what SPEC §4 refuses, served by serve(app)', () => {
  const caught = new Map<number, Error>();
  let server: Listening;

  beforeAll(async () => {
    server = await serveApp(refusingApp(caught));
  });
  afterAll(closeListening);
  afterEach(() => closeClients());

  REFUSED.forEach(([what], index) => {
    it(`${what}: a TypeError inside startResponse, logged to wsgi.errors; the client gets a plain 500 without the injected bytes`, async () => {
      const logged = server.errors.lines.length;
      const { data } = await exchangeRaw(server.port, `GET /refused/${index} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const err = caught.get(index)!;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/^startResponse: /);
      const raw = data.toString('latin1');
      expect(statusOf(data)).toBe('HTTP/1.1 500 Internal Server Error');
      expect(raw.endsWith('\r\n\r\nInternal Server Error')).toBe(true);
      expectNoInjectedBytes(raw, what);
      const log = server.errors.lines.slice(logged).join('');
      expect(log).toContain('TypeError');
      expect(log).toContain(err.message);
    });
  });
});

describeHosts((host) => {
  afterEach(async () => {
    closeClients();
    await closeHosts();
  });

  it('every status and header SPEC refuses becomes a 500 through the host’s error path, never a response with the injected bytes', async () => {
    const caught = new Map<number, Error>();
    const server = await host.start(refusingApp(caught));
    const before = await baseline();
    for (let index = 0; index < REFUSED.length; index++) {
      const { data } = await exchangeRaw(server.port, `GET ${PREFIX}/refused/${index} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const what = REFUSED[index]![0];
      expect(caught.get(index), what).toBeInstanceOf(TypeError);
      expect(statusOf(data), what).toMatch(/^HTTP\/1\.1 500 /);
      expectNoInjectedBytes(data.toString('latin1'), what);
    }
    expect((await request(server.url + PREFIX + '/ok')).status).toBe(200);
    closeClients();
    await expectNothingPending(before);
  });
});

describe('startResponse refusals the app catches', () => {
  afterAll(closeListening);

  it('a refused call sets nothing: the app catches the TypeError and answers 400 instead, and only that reaches the client', async () => {
    const server = await serveApp((_environ, startResponse) => {
      try {
        startResponse('200 OK', [['Set-Cookie', 'a=1\r\nX-Injected: 1']]);
      } catch (err) {
        startResponse('400 Bad Request', [['Content-Type', 'text/plain']]);
        return [(err as Error).name];
      }
      return ['unreachable'];
    });
    const { data } = await exchangeRaw(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const raw = data.toString('latin1');
    expect(statusOf(data)).toBe('HTTP/1.1 400 Bad Request');
    expect(raw.endsWith('\r\n\r\nTypeError')).toBe(true);
    expect(raw).not.toMatch(/set-cookie|X-Injected/i);
  });
});
