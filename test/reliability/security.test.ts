// Security (issue 7, item 4): spoofed proxy and CGI-like headers never change the environ unless
// proxyFix trusts them, on every host and through every wrapped framework; a guard in front of /admin
// cannot be walked around with encoded paths (fastify/middie CVE-2026-22031) where guard and app see
// the same decoded path; 500 pages never show the app's messages or stacks, on our server or a
// host's; staticFiles cannot be walked out of its folder.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mount, proxyFix, staticFiles, toNodeListener, type App, type Environ } from '@node-wsgi/core';
import { fromExpress, toExpress } from '@node-wsgi/express';
import { fromFastify, toFastify } from '@node-wsgi/fastify';
import { fromKoa, toKoa } from '@node-wsgi/koa';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import koaMount from 'koa-mount';
import {
  closeClients,
  closeHosts,
  closeListening,
  describeHosts,
  ErrorLog,
  exchangeRaw,
  listenNative,
  PREFIX,
  request,
  serveApp,
  serveWrapped,
  type Listening,
} from './support.js';

afterEach(async () => {
  closeClients();
  await closeHosts();
});

/** Parses the one response in `data` (head and Content-Length or close-delimited body). */
function parse(data: Buffer): { status: number; head: string; body: string } {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4) };
}

/** A request over a raw socket, so the client normalises nothing (`..`, `//`, case, escapes). */
async function rawGet(port: number, target: string, headers: string[] = []): Promise<{ status: number; head: string; body: string }> {
  const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers, 'Connection: close', '', ''];
  return parse((await exchangeRaw(port, lines.join('\r\n'))).data);
}

// --- spoofed headers ---

/** Headers a client may send hoping to be trusted; none of them is, without proxyFix. */
const SPOOFED = [
  'X-Forwarded-For: 6.6.6.6',
  'X-Forwarded-Proto: https',
  'X-Forwarded-Host: evil.example',
  'X-Forwarded-Port: 8443',
  'X-Forwarded-Prefix: /admin',
  'Forwarded: for=6.6.6.6;proto=https;host=evil.example',
  'X-Real-IP: 6.6.6.6',
  'X-Script-Name: /admin',
  'X-Original-URL: /admin/secret',
  'X-Rewrite-URL: /admin/secret',
  'SCRIPT_NAME: /admin',
  'PATH_INFO: /admin/secret',
  'Remote_Addr: 7.7.7.7',
  'X_Forwarded_For: 7.7.7.7',
  'x_forwarded_proto: gopher',
  'HTTPS: on',
  'wsgi.url_scheme: https',
];

const TRUST_KEYS = ['REMOTE_ADDR', 'wsgi.url_scheme', 'HTTPS', 'SERVER_NAME', 'SERVER_PORT', 'SCRIPT_NAME', 'PATH_INFO', 'REQUEST_URI', 'HTTP_HOST'];

/** Answers the environ keys a spoof would aim at, and every HTTP_* key, as JSON. */
const whoami: App = (environ: Environ, startResponse) => {
  const seen: Record<string, unknown> = {};
  for (const key of TRUST_KEYS) if (key in environ) seen[key] = environ[key];
  for (const key of Object.keys(environ)) if (key.startsWith('HTTP_')) seen[key] = environ[key];
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(seen)];
};

describeHosts((host) => {
  it('X-Forwarded-*, Forwarded, SCRIPT_NAME-like and underscore headers change nothing in the environ without proxyFix', async () => {
    const server = await host.start(whoami);
    const { status, body } = await rawGet(server.port, `${PREFIX}/whoami`, SPOOFED);
    expect(status).toBe(200);
    const seen = JSON.parse(body) as Record<string, string>;
    expect(seen).toMatchObject({
      REMOTE_ADDR: '127.0.0.1',
      'wsgi.url_scheme': 'http',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(server.port),
      SCRIPT_NAME: PREFIX,
      PATH_INFO: '/whoami',
      REQUEST_URI: `${PREFIX}/whoami`,
      // Readable as what the client sent, under names no gateway key shares.
      HTTP_X_FORWARDED_FOR: '6.6.6.6',
      HTTP_X_SCRIPT_NAME: '/admin',
      HTTP_HTTPS: 'on',
    });
    expect(seen).not.toHaveProperty('HTTPS');
    // A name with '_' is dropped, so it can neither pose as its '-' twin nor as a CGI key (gunicorn#2799).
    expect(Object.keys(seen).filter((key) => key.startsWith('HTTP_')).sort()).toEqual([
      'HTTP_CONNECTION',
      'HTTP_FORWARDED',
      'HTTP_HOST',
      'HTTP_HTTPS',
      'HTTP_X_FORWARDED_FOR',
      'HTTP_X_FORWARDED_HOST',
      'HTTP_X_FORWARDED_PORT',
      'HTTP_X_FORWARDED_PREFIX',
      'HTTP_X_FORWARDED_PROTO',
      'HTTP_X_ORIGINAL_URL',
      'HTTP_X_REAL_IP',
      'HTTP_X_REWRITE_URL',
      'HTTP_X_SCRIPT_NAME',
    ]);
    expect(seen.HTTP_X_FORWARDED_PROTO).toBe('https');
    expect(JSON.stringify(seen)).not.toContain('gopher');
    expect(JSON.stringify(seen)).not.toContain('7.7.7.7');
  });

  it('with proxyFix trusting one hop, the environ follows the proxy headers; an underscore twin still never counts', async () => {
    const server = await host.start(proxyFix(whoami, { for: 1, proto: 1, host: 1, port: 1, prefix: 1 }));
    const trusted = JSON.parse((await rawGet(server.port, `${PREFIX}/whoami`, SPOOFED)).body) as Record<string, string>;
    expect(trusted).toMatchObject({
      REMOTE_ADDR: '6.6.6.6',
      'wsgi.url_scheme': 'https',
      HTTPS: 'on',
      HTTP_HOST: 'evil.example:8443',
      SERVER_NAME: 'evil.example',
      SERVER_PORT: '8443',
      SCRIPT_NAME: `/admin${PREFIX}`,
      PATH_INFO: '/whoami',
    });
    const onlyTwins = JSON.parse((await rawGet(server.port, `${PREFIX}/whoami`, ['X_Forwarded_For: 7.7.7.7', 'X_Forwarded_Proto: https'])).body) as Record<string, string>;
    expect(onlyTwins).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'wsgi.url_scheme': 'http' });
    expect(onlyTwins).not.toHaveProperty('HTTPS');
  });
});

// Inside a wrapped framework the framework's own trust settings decide, exactly as natively: the
// bridge hands it the client's headers and the real peer, and adds no trust of its own.
interface Seen {
  ip: string;
  protocol: string;
  hostname: string;
}

function expressWhoami(trust: boolean): express.Express {
  const app = express();
  app.set('trust proxy', trust);
  app.get('/whoami', (req, res) => void res.json({ ip: req.ip ?? '', protocol: req.protocol, hostname: req.hostname } satisfies Seen));
  return app;
}

function koaWhoami(trust: boolean): Koa {
  const app = new Koa();
  app.proxy = trust;
  app.use((ctx) => {
    ctx.body = { ip: ctx.ip, protocol: ctx.protocol, hostname: ctx.hostname } satisfies Seen;
  });
  return app;
}

function fastifyWhoami(trust: boolean): FastifyInstance {
  const app = Fastify({ trustProxy: trust });
  app.get('/whoami', async (request) => ({ ip: request.ip, protocol: request.protocol, hostname: request.hostname }) satisfies Seen);
  return app;
}

async function listenFastify(app: FastifyInstance): Promise<Listening> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, errors: new ErrorLog(), close: () => app.close() };
}

const WRAPPED: Array<{ name: string; start(trust: boolean): Promise<{ native: Listening; wrapped: Listening }> }> = [
  {
    name: 'fromExpress(app)',
    async start(trust) {
      const app = expressWhoami(trust);
      return { native: await listenNative(app), wrapped: await serveWrapped(fromExpress(app)) };
    },
  },
  {
    name: 'fromKoa(app)',
    async start(trust) {
      const app = koaWhoami(trust);
      return { native: await listenNative(app.callback()), wrapped: await serveWrapped(fromKoa(app)) };
    },
  },
  {
    name: 'fromFastify(instance)',
    async start(trust) {
      const app = fastifyWhoami(trust);
      return { native: await listenFastify(app), wrapped: await serveWrapped(fromFastify(app)) };
    },
  },
];

for (const framework of WRAPPED) {
  describe(`${framework.name} served by serve(mount({ '/mnt': wrapped }))`, () => {
    afterAll(closeListening);

    for (const trust of [false, true]) {
      it(`sees the same ip, protocol and hostname as natively under spoofed proxy headers (trust proxy ${trust})`, async () => {
        const { native, wrapped } = await framework.start(trust);
        const expected = JSON.parse((await rawGet(native.port, '/whoami', SPOOFED)).body) as Seen;
        const got = JSON.parse((await rawGet(wrapped.port, `${PREFIX}/whoami`, SPOOFED)).body) as Seen;
        expect(got).toEqual(expected);
        if (!trust) expect(got).toMatchObject({ ip: '127.0.0.1', protocol: 'http' });
        await native.close();
      });
    }
  });
}

// --- a guard in front of /admin (fastify/middie CVE-2026-22031) ---

/** Paths that name /admin to one reader and something else to another. */
const ADMIN_TRICKS = [
  '/admin/secret',
  '/%61dmin/secret',
  '/%41dmin/secret',
  '/adm%69n/secret',
  '//admin/secret',
  '/./admin/secret',
  '/x/../admin/secret',
  '/admin/..%2fsecret',
  '/admin%2Fsecret',
  '/admin%2fsecret',
  '/%2561dmin/secret',
  '/ADMIN/secret',
  '/Admin/secret',
  '/admin;/secret',
  '/admin%00/secret',
  '/admin%20/secret',
  '/admin/secret?/x',
];

const GUARD = 'GUARD: 403';
const SECRET = 'ADMIN SECRET';

/** The admin app: its secret for any path under it. */
const adminApp: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [SECRET];
};

/** A node-wsgi guard around an app: refuses every request. */
const guarded = (_app: App): App => (_environ, startResponse) => {
  startResponse('403 Forbidden', [['Content-Type', 'text/plain']]);
  return [GUARD];
};

/** The public site: knows nothing under /admin, so it answers 404. */
const publicSite: App = (environ, startResponse) => {
  startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
  return [`public 404 for ${environ.PATH_INFO}`];
};

function expectGuardedOr404(target: string, response: { status: number; body: string }): void {
  expect(response.body, target).not.toContain(SECRET);
  expect([403, 404, 400], `${target} answered ${response.status} ${response.body.slice(0, 80)}`).toContain(response.status);
  if (response.status === 403) expect(response.body, target).toContain(GUARD);
}

describe("serve(mount({ '/admin': guard(admin) }, site)): the guard and the app see the same decoded path", () => {
  afterAll(closeListening);

  const admins: Array<[string, () => App]> = [
    ['a node-wsgi admin app', () => adminApp],
    ['fromExpress(admin)', () => fromExpress(express().use((_req, res) => void res.type('text/plain').send(SECRET)))],
    ['fromKoa(admin)', () => fromKoa(new Koa().use((ctx) => void (ctx.body = SECRET)))],
    [
      'fromFastify(admin)',
      () => {
        const f = Fastify();
        f.all('/*', async () => SECRET);
        return fromFastify(f);
      },
    ],
  ];

  for (const [what, make] of admins) {
    it(`${what}: every encoded or odd form of /admin hits the guard or a 404, never the admin app alone`, async () => {
      const server = await serveApp(mount({ '/admin': guarded(make()) }, publicSite));
      for (const target of ADMIN_TRICKS) expectGuardedOr404(target, await rawGet(server.port, target));
      const plain = await rawGet(server.port, '/admin/secret');
      expect([plain.status, plain.body]).toEqual([403, GUARD]);
    });
  }
});

// The host's own guard on /admin, written the way each framework's users write it.
const expressGuard: express.RequestHandler = (_req, res) => void res.status(403).type('text/plain').send(GUARD);
const koaGuard: Koa.Middleware = (ctx) => {
  ctx.status = 403;
  ctx.type = 'text/plain';
  ctx.body = GUARD;
};

// Each host guards /admin its own way and mounts the admin app at the same prefix; the public site is
// a different app at the root. What the host's guard lets past, its prefix match also keeps from the
// admin app, so the admin app is reached only through the guard.
const HOST_GUARDS: Array<{ name: string; start(): Promise<Listening> }> = [
  {
    name: "express: use('/admin', guard), use('/admin', toExpress(admin)), use(toExpress(site))",
    async start() {
      const host = express();
      host.use('/admin', expressGuard);
      host.use('/admin', toExpress(adminApp));
      host.use(toExpress(publicSite));
      return listenNative(host);
    },
  },
  {
    name: "koa: mount('/admin', guard), mount('/admin', toKoa(admin)), toKoa(site)",
    async start() {
      const host = new Koa();
      host.use(koaMount('/admin', koaGuard));
      host.use(koaMount('/admin', toKoa(adminApp)));
      host.use(toKoa(publicSite));
      return listenNative(host.callback());
    },
  },
  {
    name: "fastify: register(guard hook + toFastify(admin), { prefix: '/admin' }), register(toFastify(site))",
    async start() {
      const host = Fastify();
      await host.register(async (scope) => {
        scope.addHook('onRequest', async (_request, reply) => reply.code(403).type('text/plain').send(GUARD));
        await scope.register(toFastify(adminApp));
      }, { prefix: '/admin' });
      await host.register(toFastify(publicSite));
      return listenFastify(host);
    },
  },
  {
    name: "node: toNodeListener(mount({ '/admin': guard(admin) }, site))",
    async start() {
      const server = http.createServer(toNodeListener(mount({ '/admin': guarded(adminApp) }, publicSite), { errors: new ErrorLog() }));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      return {
        port,
        url: `http://127.0.0.1:${port}`,
        errors: new ErrorLog(),
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  },
];

describe('a host guard on /admin with the admin app mounted at the same prefix', () => {
  for (const host of HOST_GUARDS) {
    it(`${host.name}: no encoded or odd form of /admin reaches the admin app without the guard`, async () => {
      const server = await host.start();
      try {
        for (const target of ADMIN_TRICKS) expectGuardedOr404(target, await rawGet(server.port, target));
        const plain = await rawGet(server.port, '/admin/secret');
        expect([plain.status, plain.body]).toEqual([403, GUARD]);
      } finally {
        await server.close();
      }
    });
  }
});

// The CVE-2026-22031 pattern: the host's guard matches the raw path, while a node-wsgi app mounted
// at the root routes on the decoded PATH_INFO. strictPaths (the adapters' default) refuses the
// escapes that would make the two disagree.
const ROOT_MOUNTS: Array<{ name: string; start(): Promise<Listening> }> = [
  {
    name: "express: use('/admin', guard), use(toExpress(mount({ '/admin': admin }, site)))",
    async start() {
      const host = express();
      host.use('/admin', expressGuard);
      host.use(toExpress(mount({ '/admin': adminApp }, publicSite)));
      return listenNative(host);
    },
  },
  {
    name: "koa: mount('/admin', guard), toKoa(mount({ '/admin': admin }, site))",
    async start() {
      const host = new Koa();
      host.use(koaMount('/admin', koaGuard));
      host.use(toKoa(mount({ '/admin': adminApp }, publicSite)));
      return listenNative(host.callback());
    },
  },
  {
    name: "fastify: an onRequest guard on request.url, register(toFastify(mount({ '/admin': admin }, site)))",
    async start() {
      const host = Fastify();
      host.addHook('onRequest', async (request, reply) => {
        if (request.url === '/admin' || request.url.startsWith('/admin/')) return reply.code(403).type('text/plain').send(GUARD);
      });
      await host.register(toFastify(mount({ '/admin': adminApp }, publicSite)));
      return listenFastify(host);
    },
  },
];

describe('a host guard on /admin with a node-wsgi mount at the root routing /admin itself', () => {
  for (const host of ROOT_MOUNTS) {
    it(`${host.name}: escaped forms of /admin never reach the admin app past the guard`, async () => {
      const server = await host.start();
      try {
        for (const target of ['/%61dmin/secret', '/%41dmin/secret', '/adm%69n/secret', '/admin%2Fsecret', '/admin%2fsecret', '/%2e/admin/secret']) {
          expectGuardedOr404(target, await rawGet(server.port, target));
        }
        const plain = await rawGet(server.port, '/admin/secret');
        expect([plain.status, plain.body]).toEqual([403, GUARD]);
      } finally {
        await server.close();
      }
    });
  }
});

// --- what a 500 shows ---

const LEAKY = new Error('leak-me: db password hunter2 <script>alert(1)</script>');

const failing: App = (environ) => {
  if (environ.PATH_INFO.endsWith('/string')) throw 'leak-me: a thrown string';
  if (environ.PATH_INFO.endsWith('/async')) return Promise.reject(LEAKY);
  if (environ.PATH_INFO.endsWith('/body')) {
    return (async function* () {
      throw LEAKY;
    })();
  }
  throw LEAKY;
};

describe('serve(app): the 500 page', () => {
  afterAll(closeListening);

  it('never shows the error’s message or a stack, whatever failed; wsgi.errors gets both', async () => {
    const server = await serveApp(failing);
    for (const target of ['/sync', '/async', '/body', '/string']) {
      const response = await rawGet(server.port, target);
      expect([response.status, response.body], target).toEqual([500, 'Internal Server Error']);
      expect(response.head, target).toMatch(/content-type: text\/plain/i);
    }
    expect(server.errors.text).toContain('leak-me');
    expect(server.errors.text).toMatch(/\n\s+at /);
  });
});

// A node-wsgi app mounted in a host hands an error before the head to the host's own handling
// (SPEC §7) as a WsgiAppError ("Internal Server Error", the app's error as its cause), so the host's
// page, whatever its policy, shows neither the app's message nor its stack [B11].
describe("a host's own 500 page for an app error: the host's page, without the app's message or stack", () => {
  afterAll(closeListening);

  for (const env of ['production', 'development']) {
    it(`Express (env ${env}): no message, no stack of the app's`, async () => {
      const host = express();
      host.set('env', env);
      host.use(toExpress(failing, { errors: new ErrorLog() }));
      const server = await listenNative(host);
      const original = console.error;
      console.error = () => {}; // Express logs the error it was handed: that log is the host's, not the page
      try {
        for (const target of ['/sync', '/async', '/body', '/string']) {
          const response = await rawGet(server.port, target);
          expect(response.status, target).toBe(500);
          expect(response.body, target).not.toContain('leak-me');
          expect(response.body, target).not.toMatch(/ at /);
        }
      } finally {
        console.error = original;
      }
    });
  }

  it('Koa: "Internal Server Error", no message', async () => {
    const host = new Koa();
    host.silent = true;
    host.use(toKoa(failing, { errors: new ErrorLog() }));
    const server = await listenNative(host.callback());
    for (const target of ['/sync', '/async', '/body', '/string']) {
      const response = await rawGet(server.port, target);
      expect([response.status, response.body], target).toEqual([500, 'Internal Server Error']);
    }
  });

  it("Fastify's default error handler: 'Internal Server Error' as the message, never the app's, never a stack", async () => {
    const errors = new ErrorLog();
    const host = Fastify();
    await host.register(toFastify(failing, { errors }));
    const server = await listenFastify(host);
    try {
      for (const target of ['/sync', '/async', '/body', '/string']) {
        const response = await rawGet(server.port, target);
        expect(response.status, target).toBe(500);
        expect(JSON.parse(response.body), target).toMatchObject({ statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' });
        expect(response.body, target).not.toContain('leak-me');
        expect(response.body, target).not.toMatch(/ at /);
      }
      // The app's error itself is logged, stack and all [B6].
      expect(errors.text).toContain('leak-me');
      expect(errors.text).toMatch(/\n\s+at /);
    } finally {
      await server.close();
    }
  });

  it("{ debug: true } hands the host the app's own error: Fastify's page then shows its message", async () => {
    const host = Fastify();
    await host.register(toFastify(failing, { errors: new ErrorLog(), debug: true }));
    const server = await listenFastify(host);
    try {
      const response = await rawGet(server.port, '/sync');
      expect(JSON.parse(response.body)).toMatchObject({ statusCode: 500, message: LEAKY.message });
    } finally {
      await server.close();
    }
  });
});

// --- staticFiles and its folder ---

describe('staticFiles(app, { "/static": folder }) over real HTTP', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'node-wsgi-static-'));
    mkdirSync(path.join(root, 'public', 'sub'), { recursive: true });
    writeFileSync(path.join(root, 'public', 'hello.txt'), 'public file');
    writeFileSync(path.join(root, 'public', 'sub', 'deep.txt'), 'deep public file');
    writeFileSync(path.join(root, 'public', '.env'), 'DOTFILE-SECRET');
    writeFileSync(path.join(root, 'secret.txt'), 'TOP-SECRET');
  });

  afterAll(async () => {
    await closeListening();
    rmSync(root, { recursive: true, force: true });
  });

  const ESCAPES = [
    '/static/../secret.txt',
    '/static/%2e%2e/secret.txt',
    '/static/%2E%2E/secret.txt',
    '/static/.%2e/secret.txt',
    '/static/..%2fsecret.txt',
    '/static/%2e%2e%2fsecret.txt',
    '/static/sub/..%2f..%2fsecret.txt',
    '/static/sub/%2e%2e/%2e%2e/secret.txt',
    '/static/..%5csecret.txt',
    '/static/%5c..%5csecret.txt',
    '/static/..\\secret.txt',
    '/static/%c0%ae%c0%ae/secret.txt',
    '/static/%c0%ae%c0%ae%c0%afsecret.txt',
    '/static//secret.txt',
    `/static/${'%2e%2e%2f'.repeat(8)}etc/passwd`,
    '/static/%2fetc%2fpasswd',
    '/static/.env',
    '/static/%2eenv',
    '/static/hello.txt%00.png',
    '/static/sub/./../../secret.txt',
  ];

  const site: App = (_environ, startResponse) => {
    startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
    return ['site 404'];
  };

  it('serve(): no escape reaches a file outside the folder or a dotfile; the files inside are served', async () => {
    const server = await serveApp(staticFiles(site, { '/static': path.join(root, 'public') }, { fallthrough: false }));
    for (const target of ESCAPES) {
      const response = await rawGet(server.port, target);
      expect(response.body, target).not.toMatch(/TOP-SECRET|DOTFILE-SECRET|root:/);
      expect([400, 404], `${target} answered ${response.status}`).toContain(response.status);
    }
    expect((await rawGet(server.port, '/static/hello.txt')).body).toBe('public file');
    expect((await rawGet(server.port, '/static/sub/deep.txt')).body).toBe('deep public file');
    expect((await rawGet(server.port, '/static/sub/%2e%2e/hello.txt')).status).toBe(404);
  });

  describeHosts((host) => {
    it('mounted in the host: no escape reaches the secret; the files inside are served', async () => {
      const server = await host.start(staticFiles(site, { '/static': path.join(root, 'public') }));
      for (const target of ESCAPES) {
        const response = await rawGet(server.port, PREFIX + target);
        expect(response.body, target).not.toMatch(/TOP-SECRET|DOTFILE-SECRET|root:/);
        expect([400, 404], `${target} answered ${response.status}`).toContain(response.status);
      }
      const file = await request(`${server.url}${PREFIX}/static/hello.txt`);
      expect([file.status, file.body.toString()]).toEqual([200, 'public file']);
    });
  });
});
