// SPEC §5 (wsgi.file_wrapper), §6 (M1–M3) and §7's mount, proxyFix and staticFiles, from outside:
// through testClient where the environ is what matters, through real HTTP where the wire is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mount, proxyFix, serve, staticFiles, testClient, validate, type App, type Environ } from '@node-wsgi/core';
import type { AddressInfo } from 'node:net';
import { PREFIX, RawClient, closeEverything, deferred, describeAuditHosts, head, rawRequest } from './support.js';

afterEach(closeEverything);

/** Answers with the environ's path keys as JSON. */
const where: App = (environ, sr) => {
  sr('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({ script: environ.SCRIPT_NAME, path: environ.PATH_INFO, query: environ.QUERY_STRING, uri: environ.REQUEST_URI })];
};

describe('mount', () => {
  const app = mount({ '/app': where });

  it("'/app' → SCRIPT_NAME '/app', PATH_INFO ''", async () => {
    expect((await testClient(app).get('/app')).json()).toMatchObject({ script: '/app', path: '' });
  });

  it("'/app/' → SCRIPT_NAME '/app', PATH_INFO '/'", async () => {
    expect((await testClient(app).get('/app/')).json()).toMatchObject({ script: '/app', path: '/' });
  });

  it("'/app/x/y?q=1' → ('/app', '/x/y'), the query untouched", async () => {
    expect((await testClient(app).get('/app/x/y?q=1')).json()).toMatchObject({ script: '/app', path: '/x/y', query: 'q=1' });
  });

  it("'/apple' does not match: 404 without a fallback", async () => {
    const res = await testClient(app).get('/apple');
    expect(res.status).toBe(404);
  });

  it("'/' and '' paths do not match '/app': 404", async () => {
    expect((await testClient(app).get('/')).status).toBe(404);
    expect((await testClient(app).get('/ap')).status).toBe(404);
  });

  it("'/%61pp/x' matches '/app' (the decoded path), REQUEST_URI stays raw", async () => {
    expect((await testClient(app).get('/%61pp/x')).json()).toMatchObject({ script: '/app', path: '/x', uri: '/%61pp/x' });
  });

  it('no match goes to the fallback, SCRIPT_NAME and PATH_INFO unchanged', async () => {
    const withFallback = mount({ '/app': () => [] }, where);
    expect((await testClient(withFallback).get('/apple/pie')).json()).toMatchObject({ script: '', path: '/apple/pie' });
  });

  it('the longest matching prefix wins, on whole segments', async () => {
    const tag = (name: string): App => (environ, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [`${name} ${environ.SCRIPT_NAME} ${environ.PATH_INFO}`];
    };
    const nested = mount({ '/api': tag('api'), '/api/v2': tag('v2') });
    expect((await testClient(nested).get('/api/v2/users')).text()).toBe('v2 /api/v2 /users');
    expect((await testClient(nested).get('/api/v20')).text()).toBe('api /api /v20');
  });

  it('a mount inside a mount adds to SCRIPT_NAME', async () => {
    const outer = mount({ '/outer': mount({ '/inner': where }) });
    expect((await testClient(outer).get('/outer/inner/leaf')).json()).toMatchObject({ script: '/outer/inner', path: '/leaf' });
  });

  it("over real HTTP on serve(): '/%61pp' reaches the app as ('/app', '')", async () => {
    const server = await serve(mount({ '/app': where }), { port: 0, host: '127.0.0.1', handleSignals: false });
    try {
      const res = await rawRequest((server.address() as AddressInfo).port, 'GET', '/%61pp');
      res.client.destroy();
      expect(JSON.parse(res.body.toString())).toMatchObject({ script: '/app', path: '', uri: '/%61pp' });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('proxyFix', () => {
  const peer = { REMOTE_ADDR: '10.0.0.1', REMOTE_PORT: '5555' };

  /** The environ an app behind `proxyFix(options)` sees for one request from `peer`. */
  async function environBehind(options: Parameters<typeof proxyFix>[1], headers: Record<string, string>, target = '/'): Promise<Environ & Record<string, unknown>> {
    let env: Environ | undefined;
    const app: App = (environ, sr) => {
      env = environ;
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [''];
    };
    await testClient(proxyFix(app, options)).get(target, { headers, environ: peer });
    return env! as Environ & Record<string, unknown>;
  }

  it('for: 1 takes the rightmost X-Forwarded-For value; the original is kept in proxyfix.orig', async () => {
    const env = await environBehind({ for: 1 }, { 'X-Forwarded-For': '6.6.6.6, 1.2.3.4' });
    expect(env.REMOTE_ADDR).toBe('1.2.3.4');
    expect(env['proxyfix.orig']).toMatchObject({ REMOTE_ADDR: '10.0.0.1' });
  });

  it('for: 2 counts two hops from the right', async () => {
    const env = await environBehind({ for: 2 }, { 'X-Forwarded-For': '6.6.6.6, 1.2.3.4, 5.6.7.8' });
    expect(env.REMOTE_ADDR).toBe('1.2.3.4');
  });

  it('fewer values than trusted hops: the header is ignored, REMOTE_ADDR stays the peer', async () => {
    const env = await environBehind({ for: 2 }, { 'X-Forwarded-For': '1.2.3.4' });
    expect(env.REMOTE_ADDR).toBe('10.0.0.1');
  });

  it("proto: 1 sets wsgi.url_scheme 'https' and HTTPS 'on'", async () => {
    const env = await environBehind({ proto: 1 }, { 'X-Forwarded-Proto': 'https' });
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTPS).toBe('on');
    expect(env['proxyfix.orig']).toMatchObject({ 'wsgi.url_scheme': 'http' });
  });

  it('host: 1 sets HTTP_HOST, SERVER_NAME and SERVER_PORT from X-Forwarded-Host', async () => {
    const env = await environBehind({ host: 1 }, { Host: 'internal:8000', 'X-Forwarded-Host': 'evil.test, example.com:8443' });
    expect(env.HTTP_HOST).toBe('example.com:8443');
    expect(env.SERVER_NAME).toBe('example.com');
    expect(env.SERVER_PORT).toBe('8443');
    expect(env['proxyfix.orig']).toMatchObject({ HTTP_HOST: 'internal:8000' });
  });

  it('port: 1 sets SERVER_PORT from X-Forwarded-Port', async () => {
    const env = await environBehind({ port: 1 }, { 'X-Forwarded-Port': '9443' });
    expect(env.SERVER_PORT).toBe('9443');
  });

  it('prefix: 1 puts X-Forwarded-Prefix in front of SCRIPT_NAME', async () => {
    const env = await environBehind({ prefix: 1 }, { 'X-Forwarded-Prefix': '/proxied' }, '/x');
    expect(env.SCRIPT_NAME).toBe('/proxied');
    expect(env.PATH_INFO).toBe('/x');
  });

  it('a hop count of 0 ignores the header', async () => {
    const env = await environBehind({ for: 0, proto: 0 }, { 'X-Forwarded-For': '1.2.3.4', 'X-Forwarded-Proto': 'https' });
    expect(env.REMOTE_ADDR).toBe('10.0.0.1');
    expect(env['wsgi.url_scheme']).toBe('http');
  });

  it('[B11] without proxyFix, X-Forwarded-* is never trusted by the gateway (serve())', async () => {
    const envs: Environ[] = [];
    const server = await serve(
      (environ, sr) => {
        envs.push(environ);
        sr('200 OK', [['Content-Type', 'text/plain']]);
        return [''];
      },
      { port: 0, host: '127.0.0.1', handleSignals: false },
    );
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await rawRequest(port, 'GET', '/', ['X-Forwarded-For: 1.2.3.4', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.test']);
      res.client.destroy();
      expect(envs[0]!.REMOTE_ADDR).toBe('127.0.0.1');
      expect(envs[0]!['wsgi.url_scheme']).toBe('http');
      expect('HTTPS' in envs[0]!).toBe(false);
      expect(envs[0]!.SERVER_NAME).toBe('127.0.0.1');
      expect(envs[0]!.HTTP_HOST).toBe('127.0.0.1');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('staticFiles', () => {
  let dir: string;
  let port: number;
  let close: () => Promise<void>;
  const content = 'hello static world\n';
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-audit-static-'));
    fs.mkdirSync(path.join(dir, 'public'));
    fs.writeFileSync(path.join(dir, 'public', 'hello.txt'), content);
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'TOP SECRET');
    const fallback: App = (_e, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['from the app'];
    };
    const server = await serve(staticFiles(fallback, { '/static': path.join(dir, 'public') }), { port: 0, host: '127.0.0.1', handleSignals: false });
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((r) => (server.closeAllConnections(), server.close(() => r())));
  });
  afterAll(async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a file with Content-Type, Content-Length, ETag and Last-Modified', async () => {
    const res = await rawRequest(port, 'GET', '/static/hello.txt');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(content);
    expect(res.header('content-length')).toBe(String(content.length));
    expect(res.header('content-type')).toMatch(/^text\/plain/);
    expect(res.header('etag')).toMatch(/^(W\/)?"[^"]+"$/);
    const lm = res.header('last-modified')!;
    expect(new Date(lm).toUTCString()).toBe(lm);
  });

  it('If-None-Match with the ETag → 304, no body', async () => {
    const first = await rawRequest(port, 'GET', '/static/hello.txt');
    const client = await RawClient.connect(port);
    client.write(head('GET', '/static/hello.txt', [`If-None-Match: ${first.header('etag')}`]));
    client.write(head('GET', '/static/hello.txt'));
    const res = await client.readResponse();
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.header('etag')).toBe(first.header('etag'));
    // The next response on the connection starts right after the 304's head.
    expect((await client.readResponse()).body.toString()).toBe(content);
  });

  it('If-Modified-Since at or after Last-Modified → 304', async () => {
    const first = await rawRequest(port, 'GET', '/static/hello.txt');
    const res = await rawRequest(port, 'GET', '/static/hello.txt', [`If-Modified-Since: ${first.header('last-modified')}`]);
    expect(res.status).toBe(304);
  });

  it('Range: bytes=0-4 → 206 with Content-Range and the 5 bytes', async () => {
    const res = await rawRequest(port, 'GET', '/static/hello.txt', ['Range: bytes=0-4']);
    expect(res.status).toBe(206);
    expect(res.header('content-range')).toBe(`bytes 0-4/${content.length}`);
    expect(res.header('content-length')).toBe('5');
    expect(res.body.toString()).toBe('hello');
  });

  it('Range: bytes=-6 (a suffix) → the last 6 bytes', async () => {
    const res = await rawRequest(port, 'GET', '/static/hello.txt', ['Range: bytes=-6']);
    expect(res.status).toBe(206);
    expect(res.body.toString()).toBe(content.slice(-6));
  });

  it('an unsatisfiable Range → 416 with Content-Range: bytes */size', async () => {
    const res = await rawRequest(port, 'GET', '/static/hello.txt', ['Range: bytes=1000-2000']);
    expect(res.status).toBe(416);
    expect(res.header('content-range')).toBe(`bytes */${content.length}`);
  });

  it('HEAD: the headers of GET and no body', async () => {
    const client = await RawClient.connect(port);
    client.write(head('HEAD', '/static/hello.txt'));
    client.write(head('GET', '/static/hello.txt'));
    await client.waitFor(() => client.text.includes(content), 'the GET body');
    const text = client.text;
    const end = text.indexOf('\r\n\r\n');
    expect(text.slice(0, end)).toMatch(/^HTTP\/1\.1 200/);
    expect(text.slice(0, end).toLowerCase()).toContain(`content-length: ${content.length}`);
    // The GET's status line follows the HEAD's head directly: no body bytes in between.
    expect(text.slice(end + 4).startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('a path outside the prefix goes to the app', async () => {
    const res = await rawRequest(port, 'GET', '/other');
    expect(res.body.toString()).toBe('from the app');
  });

  for (const target of [
    '/static/../secret.txt',
    '/static/%2e%2e/secret.txt',
    '/static/%2E%2E%2Fsecret.txt',
    '/static/..%2fsecret.txt',
    '/static/..%5csecret.txt',
    '/static/%2e%2e%5csecret.txt',
    '/static/./../secret.txt',
    '/static//../secret.txt',
    '/static/hello.txt/../../secret.txt',
    '/static/%252e%252e/secret.txt',
    '/static/%00../secret.txt',
  ]) {
    it(`no traversal out of the folder: ${target}`, async () => {
      const res = await rawRequest(port, 'GET', target);
      expect(res.body.toString()).not.toContain('TOP SECRET');
    });
  }
});

describeAuditHosts((host) => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-audit-fw-'));
    fs.writeFileSync(path.join(dir, 'f.bin'), Buffer.alloc(200_000, 'f'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('[§5] wsgi.file_wrapper(path) sends the file whole', async () => {
    const started = await host.start((environ, sr) => {
      sr('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', '200000']]);
      return environ['wsgi.file_wrapper']!(path.join(dir, 'f.bin'));
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.body.length).toBe(200_000);
    expect(res.body.every((b) => b === 0x66)).toBe(true);
  });

  it('[§5] wsgi.file_wrapper(FileHandle, blockSize) honours Content-Length and closes the handle', async () => {
    const closed = deferred<void>();
    const started = await host.start(async (environ, sr) => {
      const handle = await fs.promises.open(path.join(dir, 'f.bin'));
      const realClose = handle.close.bind(handle);
      handle.close = async () => {
        await realClose();
        closed.resolve();
      };
      sr('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', '1000']]);
      return environ['wsgi.file_wrapper']!(handle, 4096);
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.header('content-length')).toBe('1000');
    expect(res.body.length).toBe(1000);
    await closed.promise;
  });

  it('[§5] wsgi.file_wrapper(Readable) sends the stream and destroys it at the Content-Length stop', async () => {
    const done = deferred<void>();
    const started = await host.start((environ, sr) => {
      const stream = Readable.from((function* () {
        for (let i = 0; i < 100; i++) yield Buffer.alloc(1000, 'r');
      })());
      stream.once('close', () => done.resolve());
      sr('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', '2500']]);
      return environ['wsgi.file_wrapper']!(stream);
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.body.length).toBe(2500);
    await done.promise;
  });

  it('[§5] a file_wrapper body replaced by middleware (a wrapping generator) still arrives correctly', async () => {
    const started = await host.start((environ, sr) => {
      sr('200 OK', [['Content-Type', 'application/octet-stream']]);
      const inner = environ['wsgi.file_wrapper']!(path.join(dir, 'f.bin'));
      return (async function* () {
        for await (const chunk of inner as AsyncIterable<Uint8Array>) yield chunk;
      })();
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.body.length).toBe(200_000);
  });
});

describeAuditHosts((host) => {
  /** A child app whose first chunk waits for nothing and whose second waits for `release`. */
  function streaming(release: Promise<void>, events: string[]): App {
    return (_environ, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      const gen = (async function* () {
        try {
          yield 'first;';
          await release;
          yield 'second';
        } finally {
          events.push('return');
        }
      })();
      return Object.assign(gen, { close: () => void events.push('close') });
    };
  }

  const wrappers: Array<[string, (a: App) => App]> = [
    ['mount', (a) => mount({ '/m': a })],
    ['proxyFix', (a) => proxyFix(a, { for: 1, proto: 1, host: 1, prefix: 1 })],
    ['staticFiles (a miss)', (a) => staticFiles(a, { '/static': os.tmpdir() })],
    ['validate', (a) => validate(a)],
  ];
  for (const [name, wrap] of wrappers) {
    const target = name === 'mount' ? `${PREFIX}/m/x` : `${PREFIX}/x`;

    it(`[M1] ${name} hands the body on at once: the first chunk reaches the client before the child finished`, async () => {
      const release = deferred<void>();
      const events: string[] = [];
      const started = await host.start(wrap(streaming(release.promise, events)));
      const client = await RawClient.connect(started.port);
      client.write(head('GET', target));
      await client.waitFor(() => client.text.includes('first;'), 'the first chunk');
      expect(client.text).not.toContain('second');
      release.resolve();
      const res = await client.readResponse();
      expect(res.body.toString()).toBe('first;second');
    });

    it(`[M2] ${name} forwards close() and iterator return() when the client leaves mid-body`, async () => {
      const release = deferred<void>();
      const events: string[] = [];
      const started = await host.start(wrap(streaming(release.promise, events)));
      const client = await RawClient.connect(started.port);
      client.write(head('GET', target));
      await client.waitFor(() => client.text.includes('first;'), 'the first chunk');
      client.destroy();
      while (!events.includes('close')) await new Promise((r) => setTimeout(r, 5));
      release.resolve();
      expect(events.filter((e) => e === 'close')).toHaveLength(1);
    });

    it(`[M2] ${name} passes excInfo through its startResponse: a replaced status before the head stands`, async () => {
      const started = await host.start(
        wrap((_environ, sr) => {
          sr('200 OK', [['Content-Type', 'text/plain']]);
          sr('503 Service Unavailable', [['Content-Type', 'text/plain'], ['Retry-After', '5']], new Error('late failure'));
          return ['retry'];
        }),
      );
      const res = await rawRequest(started.port, 'GET', target);
      expect(res.status).toBe(503);
      expect(res.header('retry-after')).toBe('5');
      expect(res.body.toString()).toBe('retry');
    });
  }
}, ['serve', 'express', 'koa']);

describeAuditHosts((host) => {
  let dir: string;
  const content = 'static content on every host\n';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-audit-static-hosts-'));
    fs.mkdirSync(path.join(dir, 'pub'));
    fs.writeFileSync(path.join(dir, 'pub', 'f.txt'), content);
    fs.writeFileSync(path.join(dir, 'outside.txt'), 'OUTSIDE SECRET');
    fs.symlinkSync(path.join(dir, 'outside.txt'), path.join(dir, 'pub', 'link.txt'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fallback: App = (_e, sr) => {
    sr('404 Not Found', [['Content-Type', 'text/plain']]);
    return ['app miss'];
  };
  const start = () => host.start(staticFiles(fallback, { '/static': path.join(dir, 'pub') }));
  const file = `${PREFIX}/static/f.txt`;

  it('staticFiles under a mount: 200 with validators, then 304 for If-None-Match (list form, weak match)', async () => {
    const started = await start();
    const first = await rawRequest(started.port, 'GET', file);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe(content);
    const etag = first.header('etag')!;
    expect(etag).toBeDefined();
    const weak = etag.startsWith('W/') ? etag : `W/${etag}`;
    const client = await RawClient.connect(started.port);
    client.write(head('GET', file, [`If-None-Match: "nope", ${weak}`]));
    client.write(head('GET', file));
    const res = await client.readResponse();
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect((await client.readResponse()).body.toString()).toBe(content);
  });

  it('staticFiles: If-None-Match: * → 304', async () => {
    const started = await start();
    const res = await rawRequest(started.port, 'GET', file, ['If-None-Match: *']);
    expect(res.status).toBe(304);
  });

  it('staticFiles: Range bytes=7- → 206 from byte 7 to the end, Content-Range exact', async () => {
    const started = await start();
    const res = await rawRequest(started.port, 'GET', file, ['Range: bytes=7-']);
    expect(res.status).toBe(206);
    expect(res.header('content-range')).toBe(`bytes 7-${content.length - 1}/${content.length}`);
    expect(res.body.toString()).toBe(content.slice(7));
  });

  it('staticFiles: an unsatisfiable Range → 416 with bytes */size', async () => {
    const started = await start();
    const res = await rawRequest(started.port, 'GET', file, [`Range: bytes=${content.length}-`]);
    expect(res.status).toBe(416);
    expect(res.header('content-range')).toBe(`bytes */${content.length}`);
  });

  it('staticFiles: a Range with an If-Range that does not match → the whole file, 200', async () => {
    const started = await start();
    const res = await rawRequest(started.port, 'GET', file, ['Range: bytes=0-3', 'If-Range: "some-other-etag"']);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(content);
  });

  it('staticFiles: a malformed Range or another unit is ignored → 200 whole', async () => {
    const started = await start();
    for (const range of ['bytes=abc', 'items=0-3']) {
      const res = await rawRequest(started.port, 'GET', file, [`Range: ${range}`]);
      expect(res.status, range).toBe(200);
      expect(res.body.toString(), range).toBe(content);
    }
  });

  it('staticFiles: a missing file goes to the app', async () => {
    const started = await start();
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/static/missing.txt`);
    expect(res.body.toString()).toBe('app miss');
  });

  it('staticFiles: a symlink inside the folder that points outside it is not served', async () => {
    const started = await start();
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/static/link.txt`);
    expect(res.body.toString()).not.toContain('OUTSIDE SECRET');
  });

  it('staticFiles: traversal through the mount does not escape', async () => {
    const started = await start();
    for (const target of [`${PREFIX}/static/../outside.txt`, `${PREFIX}/static/%2e%2e/outside.txt`, `${PREFIX}/static/..%2foutside.txt`]) {
      const res = await rawRequest(started.port, 'GET', target);
      expect(res.body.toString(), target).not.toContain('OUTSIDE SECRET');
    }
  });
});
