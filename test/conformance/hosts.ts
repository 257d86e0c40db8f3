// The host matrix: every conformance case runs on each of these four hosts, each mounting the same
// probe app under '/mnt' on 127.0.0.1, port 0 (after h3's `describeMatrix` and whatwg-node's test
// server). A host also knows how to put its usual pieces in front of the app: a body parser, headers
// set before the app ran, and a "next" handler for `{ fallthrough: true }`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser as koaBodyParser } from '@koa/bodyparser';
import { toNodeListener, type App } from '@node-wsgi/core';
import { toExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';
import { toKoa } from '@node-wsgi/koa';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import legacyKoaBodyParser from 'koa-bodyparser';
import mount from 'koa-mount';
import { describe } from 'vitest';
import { ErrorLog } from '../support/error-log.js';

export const PREFIX = '/mnt';

export { ErrorLog } from '../support/error-log.js';

export interface HostSetup {
  /** The adapter's `fallthrough` option; the host's next handler then answers `200 host next`. */
  fallthrough?: boolean;
  /** The host sets `Set-Cookie: host=1`, `Access-Control-Allow-Origin: *` and `X-Both: host` before the app runs. */
  hostHeaders?: boolean;
  /** A body parser the host runs in front of the app: one of `host.parsers`. */
  parser?: string;
  /** The adapter's `strictPaths` option (default true: escaped `/`, `\\` and unreserved characters are not found). */
  strictPaths?: boolean;
}

export interface Started {
  url: string;
  port: number;
  errors: ErrorLog;
  close(): Promise<void>;
}

export interface Host {
  name: 'node' | 'express' | 'fastify' | 'koa';
  /** How the probe is mounted, for test names. */
  mounted: string;
  /** How the host names itself in an unrecoverable-body error (null: no framework parser involved). */
  label: string | null;
  /** The body parsers this host is used with; 'none' is the bare host, 'drain' a middleware that reads the body and keeps nothing. */
  parsers: readonly string[];
  /** Whether the host has a next handler for `{ fallthrough: true }` to hand over to. */
  fallthrough: boolean;
  start(app: App, setup?: HostSetup): Promise<Started>;
}

const HOST_NEXT = 'host next';
const running = new Set<Started>();

/** Closes every host a test started; call from `afterEach`. */
export async function closeHosts(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((s) => s.close()));
}

/** A server already listening on loopback as a started host, closed by `closeHosts`. */
export function trackStarted(server: http.Server, errors: ErrorLog): Started {
  const port = (server.address() as AddressInfo).port;
  const started: Started = {
    url: `http://127.0.0.1:${port}`,
    port,
    errors,
    close: () =>
      new Promise<void>((done) => {
        running.delete(started);
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  running.add(started);
  return started;
}

function listen(server: http.Server, errors: ErrorLog): Promise<Started> {
  return new Promise<Started>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(trackStarted(server, errors)));
  });
}

/** Reads a whole request body and keeps nothing (a signature check, a logger): what no recovery can undo. */
async function drain(req: http.IncomingMessage): Promise<void> {
  for await (const _chunk of req);
}

// Our own server has no router: this test-only wrapper moves '/mnt' into SCRIPT_NAME as a mount would.
export function mountedAt(prefix: string, app: App): App {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO;
    if (path === prefix || path.startsWith(prefix + '/')) {
      environ.SCRIPT_NAME = prefix;
      environ.PATH_INFO = path.slice(prefix.length);
      return app(environ, startResponse);
    }
    startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
    return ['not mounted'];
  };
}

const nodeHost: Host = {
  name: 'node',
  mounted: "http.createServer(toNodeListener(probe)), a test wrapper mounting it at '/mnt'",
  label: null,
  parsers: ['none', 'drain'],
  fallthrough: false,
  async start(app, setup = {}) {
    const errors = new ErrorLog();
    const listener = toNodeListener(mountedAt(PREFIX, app), { errors });
    const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      if (setup.hostHeaders) {
        res.setHeader('Set-Cookie', ['host=1']);
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('X-Both', 'host');
      }
      if (setup.parser === 'drain') drain(req).then(() => listener(req, res), () => res.destroy());
      else listener(req, res);
    };
    const server = http.createServer(handle).on('checkContinue', handle);
    return listen(server, errors);
  },
};

const expressParsers: Record<string, () => express.RequestHandler> = {
  json: () => express.json(),
  raw: () => express.raw(),
  text: () => express.text(),
  urlencoded: () => express.urlencoded(),
  drain: () => (req, _res, next) => void drain(req).then(() => next(), next),
};

const expressHost: Host = {
  name: 'express',
  mounted: "express: app.use('/mnt', toExpress(probe))",
  label: 'Express',
  parsers: ['none', ...Object.keys(expressParsers)],
  fallthrough: true,
  async start(app, setup = {}) {
    const errors = new ErrorLog();
    const host = express();
    if (setup.hostHeaders) {
      host.use((_req, res, next) => {
        res.cookie('host', '1');
        res.set('Access-Control-Allow-Origin', '*');
        res.set('X-Both', 'host');
        next();
      });
    }
    if (setup.parser !== undefined && setup.parser !== 'none') host.use(expressParsers[setup.parser]!());
    host.use(PREFIX, toExpress(app, { errors, fallthrough: setup.fallthrough, strictPaths: setup.strictPaths }));
    if (setup.fallthrough) host.use((_req, res) => void res.status(200).type('text/plain').send(HOST_NEXT));
    return listen(http.createServer(host), errors);
  },
};

const fastifyHost: Host = {
  name: 'fastify',
  mounted: "fastify: register(toFastify(probe), { prefix: '/mnt' })",
  label: 'Fastify',
  // Fastify's own JSON parser is always there, on the root; the plugin scopes a pass-through parser.
  parsers: ['none', 'drain'],
  fallthrough: true,
  async start(app, setup = {}) {
    const errors = new ErrorLog();
    const host = Fastify({ forceCloseConnections: true });
    if (setup.hostHeaders) {
      host.addHook('onRequest', async (_request, reply) => {
        reply.header('set-cookie', 'host=1');
        reply.header('access-control-allow-origin', '*');
        reply.header('x-both', 'host');
      });
    }
    if (setup.parser === 'drain') host.addHook('preHandler', async (request) => drain(request.raw));
    if (setup.fallthrough) host.setNotFoundHandler((_request, reply) => void reply.code(200).type('text/plain').send(HOST_NEXT));
    await host.register(toFastify(app, { errors, fallthrough: setup.fallthrough, strictPaths: setup.strictPaths }), { prefix: PREFIX });
    await host.listen({ port: 0, host: '127.0.0.1' });
    const port = (host.server.address() as AddressInfo).port;
    const started: Started = {
      url: `http://127.0.0.1:${port}`,
      port,
      errors,
      close: async () => {
        running.delete(started);
        await host.close();
      },
    };
    running.add(started);
    return started;
  },
};

const TEXT_TYPES = ['json', 'form', 'text'];
const koaParsers: Record<string, () => Koa.Middleware> = {
  'koa-bodyparser': () => legacyKoaBodyParser({ enableTypes: TEXT_TYPES }),
  '@koa/bodyparser': () => koaBodyParser({ enableTypes: TEXT_TYPES as ['json', 'form', 'text'] }) as Koa.Middleware,
  drain: () => async (ctx, next) => {
    await drain(ctx.req);
    await next();
  },
};

const koaHost: Host = {
  name: 'koa',
  mounted: "koa: use(mount('/mnt', toKoa(probe)))",
  label: 'Koa',
  parsers: ['none', ...Object.keys(koaParsers)],
  fallthrough: true,
  async start(app, setup = {}) {
    const errors = new ErrorLog();
    const host = new Koa();
    // Errors after the head reach Koa's 'error' event; the cases look at wsgi.errors instead.
    host.silent = true;
    if (setup.hostHeaders) {
      host.use(async (ctx, next) => {
        ctx.cookies.set('host', '1', { httpOnly: false });
        ctx.set('Access-Control-Allow-Origin', '*');
        ctx.set('X-Both', 'host');
        await next();
      });
    }
    if (setup.parser !== undefined && setup.parser !== 'none') host.use(koaParsers[setup.parser]!());
    host.use(mount(PREFIX, toKoa(app, { errors, fallthrough: setup.fallthrough, strictPaths: setup.strictPaths })));
    if (setup.fallthrough) {
      host.use((ctx) => {
        ctx.type = 'text/plain';
        ctx.body = HOST_NEXT;
      });
    }
    return listen(http.createServer(host.callback()), errors);
  },
};

export const HOSTS: readonly Host[] = [nodeHost, expressHost, fastifyHost, koaHost];
export { HOST_NEXT };

/** Runs `body` once per host, inside a `describe` that names how the probe is mounted there. */
export function describeHosts(body: (host: Host) => void): void {
  for (const host of HOSTS) describe(host.mounted, () => body(host));
}
