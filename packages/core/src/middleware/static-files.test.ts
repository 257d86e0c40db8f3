import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBody } from '../file-wrapper.js';
import { testClient, type TestRequestInit, type TestResponse } from '../testing.js';
import type { App, Body, Chunk, Environ, FileWrapper, StartResponse } from '../types.js';
import { staticFiles, type StaticFilesOptions } from './static-files.js';
import { expectOptionError, servePerTest } from './support.test-support.js';

const HELLO = 'Hello, world!\n'; // 14 bytes
const SECRET = 'SECRET-outside-the-folder';
const MTIME = new Date('2024-01-02T03:04:05Z');
const LAST_MODIFIED = 'Tue, 02 Jan 2024 03:04:05 GMT';
const BIG = Buffer.alloc(200 * 1024, 'abcdefgh');

let tmp: string;
let pub: string;
let extra: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'node-wsgi-static-'));
  pub = path.join(tmp, 'public');
  extra = path.join(tmp, 'extra');
  await mkdir(path.join(pub, 'sub'), { recursive: true });
  await mkdir(path.join(pub, 'nodir'));
  await mkdir(path.join(pub, '.git'));
  await mkdir(extra);
  const files: Array<[string, string | Buffer]> = [
    [path.join(tmp, 'outside.txt'), SECRET],
    [path.join(tmp, 'package.json'), SECRET],
    [path.join(pub, 'hello.txt'), HELLO],
    [path.join(pub, 'app.css'), 'body{}'],
    [path.join(pub, 'data.unknownext'), 'raw'],
    [path.join(pub, 'empty.txt'), ''],
    [path.join(pub, 'big.bin'), BIG],
    [path.join(pub, 'index.html'), '<h1>home</h1>'],
    [path.join(pub, 'sub', 'index.html'), '<h1>sub</h1>'],
    [path.join(pub, 'sub', 'page.html'), '<h1>page</h1>'],
    [path.join(pub, 'café.txt'), 'crème'],
    [path.join(pub, '.env'), 'SECRET=dotfile'],
    [path.join(pub, '.git', 'config'), 'SECRET=git'],
    [path.join(extra, 'only-extra.txt'), 'extra'],
  ];
  for (const [file, content] of files) {
    await writeFile(file, content);
    await utimes(file, MTIME, MTIME);
  }
  await symlink(path.join(tmp, 'outside.txt'), path.join(pub, 'link-out'));
  await symlink(tmp, path.join(pub, 'dir-out'));
  await symlink(path.join(pub, 'hello.txt'), path.join(pub, 'link-in.txt'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The app behind staticFiles: it answers every request it is handed with 'fallback'. */
const fallback: App = (environ, startResponse) => {
  startResponse('200 OK', [
    ['Content-Type', 'text/plain'],
    // JSON escapes the control characters a traversal attempt may carry
    ['X-Fallback', JSON.stringify(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`)],
  ]);
  return ['fallback'];
};

function client(options?: StaticFilesOptions, folders?: Record<string, string>) {
  return testClient(staticFiles(fallback, folders ?? { '/static': pub }, options));
}

function get(p: string, init?: TestRequestInit): Promise<TestResponse> {
  return client().get(p, init);
}

describe('staticFiles(app, folders) serving a file', () => {
  it('answers 200 with the file and its headers', async () => {
    const res = await get('/static/hello.txt');
    expect(res.status).toBe(200);
    expect(res.text()).toBe(HELLO);
    expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.header('content-length')).toBe('14');
    expect(res.header('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.header('last-modified')).toBe(LAST_MODIFIED);
    expect(res.header('accept-ranges')).toBe('bytes');
    expect(res.header('cache-control')).toBe('public, max-age=0');
    expect(res.header('x-fallback')).toBeUndefined();
  });

  it.each<[string, string]>([
    ['/static/app.css', 'text/css; charset=utf-8'],
    ['/static/index.html', 'text/html; charset=utf-8'],
    ['/static/data.unknownext', 'application/octet-stream'],
    ['/static/big.bin', 'application/octet-stream'],
  ])('gives %s the content type %s', async (p, type) => {
    expect((await get(p)).header('content-type')).toBe(type);
  });

  it('serves a large file whole, in order', async () => {
    const res = await get('/static/big.bin');
    expect(res.header('content-length')).toBe(String(BIG.length));
    expect(res.body.equals(BIG)).toBe(true);
  });

  it('serves an empty file with Content-Length 0', async () => {
    const res = await get('/static/empty.txt');
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('0');
    expect(res.body.length).toBe(0);
  });

  it('gives the same file the same ETag, and a changed file a new one', async () => {
    const first = (await get('/static/hello.txt')).header('etag');
    expect((await get('/static/hello.txt')).header('etag')).toBe(first);
    expect((await get('/static/app.css')).header('etag')).not.toBe(first);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const res = await client().head('/static/hello.txt');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.header('content-length')).toBe('14');
    expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.header('etag')).toBe((await get('/static/hello.txt')).header('etag'));
  });

  it('decodes the path as UTF-8, so /caf%C3%A9.txt is café.txt', async () => {
    const res = await get('/static/caf%C3%A9.txt');
    expect(res.status).toBe(200);
    expect(res.text()).toBe('crème');
  });

  it('reads %2F as a separator once decoded', async () => {
    expect((await get('/static/sub%2Fpage.html')).text()).toBe('<h1>page</h1>');
  });

  it('follows a symlink that stays inside the folder, or leads out and back in', async () => {
    expect((await get('/static/link-in.txt')).text()).toBe(HELLO);
    // dir-out → the folder's parent; dir-out/public/hello.txt resolves to the folder's own hello.txt
    expect((await get('/static/dir-out/public/hello.txt')).text()).toBe(HELLO);
  });

  it('sends Cache-Control from cacheControl or maxAge', async () => {
    expect((await client({ cacheControl: 'no-cache' }).get('/static/hello.txt')).header('cache-control')).toBe('no-cache');
    expect((await client({ maxAge: 3600 }).get('/static/hello.txt')).header('cache-control')).toBe('public, max-age=3600');
  });
});

describe('staticFiles(app, folders) with conditional requests', () => {
  let etag: string;
  beforeAll(async () => {
    etag = (await get('/static/hello.txt')).header('etag')!;
  });

  it.each<[string, (etag: string) => Record<string, string>, number]>([
    ['the same ETag', (e) => ({ 'If-None-Match': e }), 304],
    ['the ETag marked weak (weak comparison)', (e) => ({ 'If-None-Match': `W/${e}` }), 304],
    ['the ETag inside a list', (e) => ({ 'If-None-Match': `"other", ${e}` }), 304],
    ['*', () => ({ 'If-None-Match': '*' }), 304],
    ['another ETag', () => ({ 'If-None-Match': '"other"' }), 200],
    ['the Last-Modified date', () => ({ 'If-Modified-Since': LAST_MODIFIED }), 304],
    ['a later date', () => ({ 'If-Modified-Since': 'Wed, 03 Jan 2024 00:00:00 GMT' }), 304],
    ['an earlier date', () => ({ 'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' }), 200],
    ['a date that does not parse', () => ({ 'If-Modified-Since': 'yesterday' }), 200],
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    ['another ETag and a later date', () => ({ 'If-None-Match': '"other"', 'If-Modified-Since': 'Wed, 03 Jan 2030 00:00:00 GMT' }), 200],
    ['the same ETag and an earlier date', (e) => ({ 'If-None-Match': e, 'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' }), 304],
  ])('answers a request carrying %s with %i', async (_what, headers, status) => {
    const res = await get('/static/hello.txt', { headers: headers(etag) });
    expect(res.status).toBe(status);
    expect(res.text()).toBe(status === 304 ? '' : HELLO);
  });

  it('sends a 304 with its validators and no Content-Type or body', async () => {
    const res = await get('/static/hello.txt', { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    expect(res.header('etag')).toBe(etag);
    expect(res.header('last-modified')).toBe(LAST_MODIFIED);
    expect(res.header('cache-control')).toBe('public, max-age=0');
    expect(res.header('content-type')).toBeUndefined();
    expect(res.body.length).toBe(0);
  });

  it('answers a conditional HEAD with 304', async () => {
    expect((await client().head('/static/hello.txt', { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });
});

describe('staticFiles(app, folders) with a Range', () => {
  it.each<[string, string, string]>([
    ['bytes=0-4', 'Hello', 'bytes 0-4/14'],
    ['bytes=7-', 'world!\n', 'bytes 7-13/14'],
    ['bytes=-6', 'orld!\n', 'bytes 8-13/14'],
    ['bytes=10-100', 'ld!\n', 'bytes 10-13/14'],
    ['bytes=-100', HELLO, 'bytes 0-13/14'],
    ['bytes=13-13', '\n', 'bytes 13-13/14'],
    ['BYTES = 0-0', 'H', 'bytes 0-0/14'],
  ])('answers %s with 206 and %j', async (range, body, contentRange) => {
    const res = await get('/static/hello.txt', { headers: { Range: range } });
    expect(res.status).toBe(206);
    expect(res.text()).toBe(body);
    expect(res.header('content-range')).toBe(contentRange);
    expect(res.header('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.header('accept-ranges')).toBe('bytes');
  });

  it('sends a range from deep inside a large file', async () => {
    const res = await get('/static/big.bin', { headers: { Range: 'bytes=100000-170000' } });
    expect(res.status).toBe(206);
    expect(res.body.equals(BIG.subarray(100000, 170001))).toBe(true);
  });

  it.each<[string, string]>([
    ['bytes=14-', '/static/hello.txt'],
    ['bytes=100-200', '/static/hello.txt'],
    ['bytes=-0', '/static/hello.txt'],
    ['bytes=0-', '/static/empty.txt'],
    ['bytes=-5', '/static/empty.txt'],
  ])('answers %s of %s with 416 and Content-Range bytes */size', async (range, p) => {
    const res = await get(p, { headers: { Range: range } });
    expect(res.status).toBe(416);
    expect(res.header('content-range')).toBe(p.endsWith('hello.txt') ? 'bytes */14' : 'bytes */0');
    expect(res.text()).not.toContain('Hello');
  });

  it.each<string>(['bytes=0-1,3-4', 'bytes=0-1, 5-6', 'bytes=5-2', 'items=0-1', 'bytes=a-b', 'bytes=-'])(
    'ignores Range %j and sends the whole file',
    async (range) => {
      const res = await get('/static/hello.txt', { headers: { Range: range } });
      expect(res.status).toBe(200);
      expect(res.text()).toBe(HELLO);
      expect(res.header('content-range')).toBeUndefined();
    },
  );

  it('ignores Range on HEAD', async () => {
    const res = await client().head('/static/hello.txt', { headers: { Range: 'bytes=0-4' } });
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('14');
  });

  it('honours If-Range: the range while the validator holds, the whole file once it does not', async () => {
    const etag = (await get('/static/hello.txt')).header('etag')!;
    const range = { Range: 'bytes=0-4' };
    expect((await get('/static/hello.txt', { headers: { ...range, 'If-Range': etag } })).status).toBe(206);
    expect((await get('/static/hello.txt', { headers: { ...range, 'If-Range': LAST_MODIFIED } })).status).toBe(206);
    const stale = await get('/static/hello.txt', { headers: { ...range, 'If-Range': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(stale.text()).toBe(HELLO);
    expect((await get('/static/hello.txt', { headers: { ...range, 'If-Range': `W/${etag}` } })).status).toBe(200);
    expect((await get('/static/hello.txt', { headers: { ...range, 'If-Range': 'Mon, 01 Jan 2024 00:00:00 GMT' } })).status).toBe(200);
  });
});

describe('staticFiles(app, folders) and folders', () => {
  it.each<[string, string]>([
    ['/static/', '<h1>home</h1>'],
    ['/static/sub/', '<h1>sub</h1>'],
  ])('serves the index of %s', async (p, body) => {
    const res = await get(p);
    expect(res.status).toBe(200);
    expect(res.text()).toBe(body);
    expect(res.header('content-type')).toBe('text/html; charset=utf-8');
  });

  it.each<string>(['/static', '/static/sub', '/static/nodir/', '/static/hello.txt/'])(
    'hands %s to the app',
    async (p) => {
      const res = await get(p);
      expect(res.text()).toBe('fallback');
    },
  );

  it('serves another index name, or none with index: false', async () => {
    expect((await client({ index: 'page.html' }).get('/static/sub/')).text()).toBe('<h1>page</h1>');
    expect((await client({ index: false }).get('/static/')).text()).toBe('fallback');
  });
});

describe('staticFiles(app, folders) on a miss', () => {
  it.each<[string, string]>([
    ['GET', '/static/nope.txt'],
    ['GET', '/other/hello.txt'],
    ['GET', '/statics/hello.txt'],
    ['GET', '/STATIC/hello.txt'],
    ['POST', '/static/hello.txt'],
    ['DELETE', '/static/hello.txt'],
  ])('hands %s %s to the app, environ unchanged', async (method, p) => {
    const res = await client().request(method, p);
    expect(res.text()).toBe('fallback');
    expect(res.header('x-fallback')).toBe(JSON.stringify(`${method} ${p}`));
  });

  it('tries a shorter prefix when the longer one misses', async () => {
    const c = client(undefined, { '/static': pub, '/static/extra': extra });
    expect((await c.get('/static/extra/only-extra.txt')).text()).toBe('extra');
    expect((await c.get('/static/hello.txt')).text()).toBe(HELLO);
  });

  it('serves a folder at the root prefix and hands the rest to the app', async () => {
    const c = client(undefined, { '/': pub });
    expect((await c.get('/hello.txt')).text()).toBe(HELLO);
    expect((await c.get('/')).text()).toBe('<h1>home</h1>');
    expect((await c.get('/api/users')).text()).toBe('fallback');
  });

  it('hands every request to the app while the folder does not exist', async () => {
    expect((await client(undefined, { '/static': path.join(tmp, 'missing') }).get('/static/hello.txt')).text()).toBe('fallback');
  });

  it('answers 404, and 405 with Allow for a file, with fallthrough: false', async () => {
    const c = client({ fallthrough: false });
    const miss = await c.get('/static/nope.txt');
    expect(miss.status).toBe(404);
    expect(miss.text()).toBe('Not Found');
    const post = await c.post('/static/hello.txt', { body: 'x' });
    expect(post.status).toBe(405);
    expect(post.header('allow')).toBe('GET, HEAD');
    expect((await c.post('/static/nope.txt')).status).toBe(404);
    // outside the prefixes the app still answers
    expect((await c.get('/other')).text()).toBe('fallback');
  });
});

describe('staticFiles(app, folders) against path traversal', () => {
  const attempts: string[] = [
    '/static/../package.json',
    '/static/../outside.txt',
    '/static/%2e%2e/outside.txt',
    '/static/%2E%2E/outside.txt',
    '/static/..%2foutside.txt',
    '/static/%2e%2e%2foutside.txt',
    '/static/sub/../../outside.txt',
    '/static/sub/%2e%2e/%2e%2e/outside.txt',
    '/static/./hello.txt',
    '/static/a\\..\\..\\outside.txt',
    '/static/..\\outside.txt',
    '/static/%5c..%5coutside.txt',
    '/static/%00',
    '/static/hello.txt%00.css',
    '/static//etc/passwd',
    '/static//outside.txt',
    '/static/C:/Windows/win.ini',
    '/static/c:%5cwindows%5cwin.ini',
    // overlong UTF-8 for '.': not UTF-8 at all
    '/static/%c0%ae%c0%ae/outside.txt',
    '/static/link-out',
    '/static/dir-out/outside.txt',
    '/static/.env',
    '/static/.git/config',
    '/static/sub/..',
  ];

  it.each(attempts)('hands %s to the app, never the file', async (p) => {
    const res = await get(p);
    expect(res.text()).toBe('fallback');
    expect(res.body.toString('latin1')).not.toContain('SECRET');
  });

  it.each(attempts)('answers %s with 404 when fallthrough is false', async (p) => {
    const res = await client({ fallthrough: false }).get(p);
    expect(res.status).toBe(404);
    expect(res.body.toString('latin1')).not.toContain('SECRET');
  });

  it('refuses an absolute path to the secret itself', async () => {
    const res = await get(`/static/${path.join(tmp, 'outside.txt')}`);
    expect(res.text()).toBe('fallback');
  });

  it('refuses a PATH_INFO holding code points above U+00FF, which decoding would truncate to ..', async () => {
    // '\u012e' is one byte 0x2e ('.') once truncated to latin-1: a broken gateway must not open a way out.
    const env = {
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/static/\u012e\u012e/outside.txt',
    } as unknown as Environ;
    const status: string[] = [];
    const startResponse = ((s: string) => {
      status.push(s);
      return () => undefined;
    }) as StartResponse;
    const body = await staticFiles(fallback, { '/static': pub })(env, startResponse);
    expect(await collect(body)).toBe('fallback');
  });

  it('serves dotfiles only with dotfiles: true', async () => {
    expect((await client({ dotfiles: true }).get('/static/.env')).text()).toBe('SECRET=dotfile');
  });
});

async function collect(body: Body): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Chunk>) parts.push(Buffer.from(chunk as Uint8Array | string));
  return Buffer.concat(parts).toString();
}

describe("staticFiles(app, folders) and environ['wsgi.file_wrapper']", () => {
  /** A file_wrapper that records what it was handed. */
  function spyWrapper() {
    const given: unknown[] = [];
    const bodies: FileBody[] = [];
    const wrapper: FileWrapper = (file, blockSize) => {
      given.push(file);
      const body = new FileBody(file as Readable, blockSize);
      bodies.push(body);
      return body;
    };
    return { wrapper, given, bodies };
  }

  it('sends the file through the gateway’s wrapper, which closes it at the end', async () => {
    const spy = spyWrapper();
    const res = await get('/static/hello.txt', { environ: { 'wsgi.file_wrapper': spy.wrapper } });
    expect(res.text()).toBe(HELLO);
    expect(spy.given).toHaveLength(1);
    const stream = spy.given[0] as Readable;
    expect(stream).toBeInstanceOf(Readable);
    await new Promise((resolve) => (stream.closed ? resolve(undefined) : stream.once('close', resolve)));
    expect(stream.destroyed).toBe(true);
  });

  it('sends a range through the wrapper too', async () => {
    const spy = spyWrapper();
    const res = await get('/static/hello.txt', { headers: { Range: 'bytes=7-11' }, environ: { 'wsgi.file_wrapper': spy.wrapper } });
    expect(res.text()).toBe('world');
    expect(spy.given).toHaveLength(1);
  });

  it('does not open a stream for HEAD, 304 or 416', async () => {
    const spy = spyWrapper();
    const environ = { 'wsgi.file_wrapper': spy.wrapper };
    await client().head('/static/hello.txt', { environ });
    await get('/static/hello.txt', { environ, headers: { 'If-Modified-Since': LAST_MODIFIED } });
    await get('/static/hello.txt', { environ, headers: { Range: 'bytes=99-' } });
    expect(spy.given).toHaveLength(0);
  });

  it('closes the file when the body is closed early', async () => {
    const spy = spyWrapper();
    const env = {
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/static/big.bin',
      'wsgi.file_wrapper': spy.wrapper,
    } as unknown as Environ;
    const startResponse = (() => () => undefined) as StartResponse;
    const body = await staticFiles(fallback, { '/static': pub })(env, startResponse);
    const iterator = (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await iterator.return?.();
    await body.close?.();
    const stream = spy.given[0] as Readable;
    await new Promise((resolve) => (stream.closed ? resolve(undefined) : stream.once('close', resolve)));
    expect(stream.destroyed).toBe(true);
  });

  it('falls back to core’s FileBody when the gateway gave no wrapper', async () => {
    const env = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/static/hello.txt' } as unknown as Environ;
    let status = '';
    const startResponse = ((s: string) => {
      status = s;
      return () => undefined;
    }) as StartResponse;
    const body = await staticFiles(fallback, { '/static': pub })(env, startResponse);
    expect(status).toBe('200 OK');
    expect(body).toBeInstanceOf(FileBody);
    expect(await collect(body)).toBe(HELLO);
    await body.close?.();
  });
});

describe('staticFiles(app, folders) as middleware [M1, M2]', () => {
  const startResponse = (() => () => undefined) as StartResponse;

  it('returns the app’s body object itself for a path outside every prefix', () => {
    const body: Body = (async function* () {
      yield 'never pulled here';
    })();
    let given: StartResponse | undefined;
    const child: App = (_environ, sr) => {
      given = sr;
      return body;
    };
    const env = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/api' } as unknown as Environ;
    expect(staticFiles(child, { '/static': pub })(env, startResponse)).toBe(body);
    expect(given).toBe(startResponse);
  });

  it('resolves to the app’s body object itself on a miss under a prefix', async () => {
    const body: Body = ['x'];
    const child: App = () => body;
    const env = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/static/nope' } as unknown as Environ;
    expect(await staticFiles(child, { '/static': pub })(env, startResponse)).toBe(body);
  });

  it('lets the gateway close the app’s body exactly once', async () => {
    let closes = 0;
    const child: App = (_environ, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign(['ok'], { close: () => void closes++ });
    };
    expect((await testClient(staticFiles(child, { '/static': pub })).get('/static/nope')).text()).toBe('ok');
    expect(closes).toBe(1);
  });
});

describe('staticFiles(app, folders, options) set-up', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['an app that is not a function', () => staticFiles(null as never, {}), /expects an app function, got null/],
    ['folders that are not an object', () => staticFiles(fallback, 'public' as never), /object of \{ '\/prefix': folder \}, got "public"/],
    ['a prefix without a leading /', () => staticFiles(fallback, { static: '.' }), /start with '\/', got "static"/],
    ['an empty folder', () => staticFiles(fallback, { '/static': '' }), /folder path for "\/static", got ""/],
    ['a folder that is not a string', () => staticFiles(fallback, { '/static': 1 as never }), /folder path for "\/static", got 1/],
    ['the same prefix twice', () => staticFiles(fallback, { '/s': '.', '/s/': '.' }), /prefix "\/s\/" twice/],
    ['an unknown option', () => staticFiles(fallback, {}, { etag: false } as never), /unknown option "etag"/],
    ['cacheControl and maxAge', () => staticFiles(fallback, {}, { cacheControl: 'no-cache', maxAge: 1 }), /cacheControl or maxAge, not both/],
    ['a header-splitting cacheControl', () => staticFiles(fallback, {}, { cacheControl: 'x\r\nSet-Cookie: a=b' }), /cacheControl to be a header value/],
    ['a negative maxAge', () => staticFiles(fallback, {}, { maxAge: -1 }), /maxAge to be a whole number of seconds, got -1/],
    ['an index with a /', () => staticFiles(fallback, {}, { index: 'a/index.html' }), /index to be a file name or false, got "a\/index.html"/],
    ['an index of ..', () => staticFiles(fallback, {}, { index: '..' }), /index to be a file name or false/],
    ['a fallthrough that is not a boolean', () => staticFiles(fallback, {}, { fallthrough: 'yes' as never }), /fallthrough to be a boolean, got "yes"/],
  ])('throws a TypeError for %s', expectOptionError('staticFiles'));
});

describe('staticFiles(app, folders) on the wire', () => {
  const serveApp = servePerTest();

  it('serves a real file, a Range of it and a 304 through the reference server', async () => {
    const base = await serveApp(staticFiles(fallback, { '/static': pub }));
    const url = `${base}/static/big.bin`;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(BIG)).toBe(true);

    const part = await fetch(url, { headers: { Range: 'bytes=65530-65545' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 65530-65545/${BIG.length}`);
    expect(part.headers.get('content-length')).toBe('16');
    expect(Buffer.from(await part.arrayBuffer()).equals(BIG.subarray(65530, 65546))).toBe(true);

    const again = await fetch(url, { headers: { 'If-None-Match': whole.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const escape = await fetch(`${base}/static/%2e%2e/outside.txt`);
    expect(await escape.text()).toBe('fallback');
  });
});
