import { describe, expect, it } from 'vitest';
import { testClient } from '../testing.js';
import type { App, Body, Environ, StartResponse } from '../types.js';
import { requestUri } from '../util.js';
import { mount } from './mount.js';
import { expectOptionError, servePerTest } from './support.test-support.js';

interface Seen {
  app: string;
  script: string;
  path: string;
  url: string;
}

/** An app that answers with its name and the split it was given. */
function echo(name: string): App {
  return (environ, startResponse) => {
    const seen: Seen = { app: name, script: environ.SCRIPT_NAME, path: environ.PATH_INFO, url: requestUri(environ, false) };
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify(seen)];
  };
}

async function seen(app: App, path: string, environ?: Record<string, unknown>): Promise<Seen> {
  const res = await testClient(app).get(path, environ === undefined ? undefined : { environ });
  expect(res.status).toBe(200);
  return res.json() as Seen;
}

describe('mount(mapping, fallback)', () => {
  const app = mount({ '/app': echo('app') }, echo('fallback'));

  it.each<[string, string, string, string]>([
    ['/app', 'app', '/app', ''],
    ['/app/', 'app', '/app', '/'],
    ['/app/x', 'app', '/app', '/x'],
    ['/app/x/y/', 'app', '/app', '/x/y/'],
    ['/app?q=1', 'app', '/app', ''],
    // the gateway decodes PATH_INFO, so the matcher sees what every router sees (CVE-2026-22031)
    ['/%61pp/x', 'app', '/app', '/x'],
    ['/app%2Fx', 'app', '/app', '/x'],
    ['/apple', 'fallback', '', '/apple'],
    ['/app.json', 'fallback', '', '/app.json'],
    ['/APP/x', 'fallback', '', '/APP/x'],
    ['//app/x', 'fallback', '', '//app/x'],
    ['/', 'fallback', '', '/'],
    ['/other/app', 'fallback', '', '/other/app'],
  ])('sends %s to the %s app as SCRIPT_NAME %j, PATH_INFO %j', async (path, name, script, pathInfo) => {
    const got = await seen(app, path);
    expect(got).toMatchObject({ app: name, script, path: pathInfo });
  });

  it('keeps the path after the prefix as sent, so /app//evil.com is PATH_INFO //evil.com under /app', async () => {
    const got = await seen(app, '/app//evil.com');
    expect(got).toMatchObject({ app: 'app', script: '/app', path: '//evil.com', url: 'http://localhost/app//evil.com' });
  });

  it('lets the mounted app rebuild the URL the client asked for', async () => {
    expect((await seen(app, '/app/a%20b')).url).toBe('http://localhost/app/a%20b');
  });

  it('chooses the longest matching prefix, whatever the order of the mapping', async () => {
    const nested = mount({ '/a': echo('a'), '/a/b': echo('ab'), '/a/b/c/d': echo('abcd') });
    expect(await seen(nested, '/a/b/c')).toMatchObject({ app: 'ab', script: '/a/b', path: '/c' });
    expect(await seen(nested, '/a/b')).toMatchObject({ app: 'ab', script: '/a/b', path: '' });
    expect(await seen(nested, '/a/bc')).toMatchObject({ app: 'a', script: '/a', path: '/bc' });
    expect(await seen(nested, '/a/b/c/d/e')).toMatchObject({ app: 'abcd', script: '/a/b/c/d', path: '/e' });
  });

  it('composes nested mounts: SCRIPT_NAME accumulates', async () => {
    const outer = mount({ '/outer': mount({ '/inner': echo('inner') }, echo('outer-rest')) });
    expect(await seen(outer, '/outer/inner/x')).toMatchObject({ app: 'inner', script: '/outer/inner', path: '/x' });
    expect(await seen(outer, '/outer/else')).toMatchObject({ app: 'outer-rest', script: '/outer', path: '/else' });
  });

  it('adds the prefix to a SCRIPT_NAME the host already set', async () => {
    const got = await seen(app, '/app/x', { SCRIPT_NAME: '/host' });
    expect(got).toMatchObject({ app: 'app', script: '/host/app', path: '/x', url: 'http://localhost/host/app/x' });
  });

  it('matches a prefix written as text against the UTF-8 bytes of the request path', async () => {
    const text = mount({ '/café': echo('cafe') });
    expect(await seen(text, '/caf%C3%A9/menu')).toMatchObject({ app: 'cafe', script: '/caf\u00c3\u00a9', path: '/menu' });
  });

  it('drops a trailing slash from a prefix', async () => {
    const slashed = mount({ '/app/': echo('app') });
    expect(await seen(slashed, '/app')).toMatchObject({ app: 'app', script: '/app', path: '' });
    expect(await seen(slashed, '/app/x')).toMatchObject({ app: 'app', script: '/app', path: '/x' });
  });

  it('hands the child the same environ object, changed in place', async () => {
    let outerEnv: Environ | undefined;
    let innerEnv: Environ | undefined;
    const inner: App = (environ, startResponse) => {
      innerEnv = environ;
      startResponse('204 No Content', []);
      return [];
    };
    const mounted = mount({ '/app': inner });
    const spy: App = (environ, startResponse) => {
      outerEnv = environ;
      return mounted(environ, startResponse);
    };
    await testClient(spy).get('/app/x');
    expect(innerEnv).toBe(outerEnv);
  });
});

describe('mount(mapping) without a fallback', () => {
  it('answers 404 text/plain when no prefix matches', async () => {
    const res = await testClient(mount({ '/app': echo('app') })).get('/apple');
    expect(res.status).toBe(404);
    expect(res.header('content-type')).toMatch(/^text\/plain/);
    expect(res.text()).toBe('Not Found');
  });

  it('answers 404 for the root and for an empty mapping', async () => {
    expect((await testClient(mount({ '/app': echo('app') })).get('/')).status).toBe(404);
    expect((await testClient(mount({})).get('/x')).status).toBe(404);
  });
});

describe('mount(mapping) as middleware [M1, M2]', () => {
  it('returns the child’s body object itself, before any chunk is pulled', () => {
    const body: Body = (async function* () {
      yield 'never pulled here';
    })();
    const child: App = () => body;
    const env = { SCRIPT_NAME: '', PATH_INFO: '/app/x' } as unknown as Environ;
    const startResponse = (() => () => undefined) as StartResponse;
    expect(mount({ '/app': child })(env, startResponse)).toBe(body);
  });

  it('passes the gateway’s startResponse itself, so excInfo reaches it', () => {
    let given: StartResponse | undefined;
    const child: App = (_environ, startResponse) => {
      given = startResponse;
      return [];
    };
    const env = { SCRIPT_NAME: '', PATH_INFO: '/app' } as unknown as Environ;
    const startResponse = (() => () => undefined) as StartResponse;
    mount({ '/app': child })(env, startResponse);
    expect(given).toBe(startResponse);
  });

  it('lets the gateway close the child’s body exactly once', async () => {
    let closes = 0;
    const child: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign(['ok'], { close: () => void closes++ });
    };
    const res = await testClient(mount({ '/app': child })).get('/app');
    expect(res.text()).toBe('ok');
    expect(closes).toBe(1);
  });

  it('lets an error with excInfo replace the child’s status', async () => {
    const child: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      startResponse('500 Internal Server Error', [['Content-Type', 'text/plain']], new Error('boom'));
      return ['failed'];
    };
    const res = await testClient(mount({ '/app': child })).get('/app');
    expect(res.status).toBe(500);
  });

  it('passes an async child’s promise through', async () => {
    const child: App = async (environ, startResponse) => echo('async')(environ, startResponse);
    expect(await seen(mount({ '/app': child }), '/app/x')).toMatchObject({ app: 'async', script: '/app', path: '/x' });
  });
});

describe('mount(mapping, fallback) set-up', () => {
  const ok = echo('ok');
  it.each<[string, () => unknown, RegExp]>([
    ['a mapping that is not an object', () => mount(null as never), /mount expects an object .* got null/],
    ['an array', () => mount([ok] as never), /got an array/],
    ['a prefix without a leading /', () => mount({ app: ok }), /start with '\/', got "app"/],
    ['the root prefix', () => mount({ '/': ok }), /cannot mount at "\/"; pass that app as the fallback/],
    ['the same prefix twice', () => mount({ '/a': ok, '/a/': ok }), /prefix "\/a" twice/],
    ['a value that is not an app', () => mount({ '/a': 'x' as never }), /app function for "\/a", got "x"/],
    ['a fallback that is not an app', () => mount({ '/a': ok }, {} as never), /fallback to be an app function, got 'object'/],
  ])('throws a TypeError for %s', expectOptionError('mount'));
});

describe('mount(mapping) on the wire', () => {
  const serveApp = servePerTest();

  it('dispatches a percent-encoded prefix through the reference server', async () => {
    const base = await serveApp(mount({ '/app': echo('app') }));
    const res = await fetch(`${base}/%61pp/x`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ app: 'app', script: '/app', path: '/x' });
    const miss = await fetch(`${base}/apple`);
    expect(miss.status).toBe(404);
    expect(await miss.text()).toBe('Not Found');
  });
});
