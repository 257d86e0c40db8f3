/**
 * `mount`: several apps in one process, each under its own path prefix (Werkzeug's
 * `DispatcherMiddleware`). Use it to put an admin app, an API and a legacy app side by side, or to
 * host a wrapped Express, Fastify or Koa app under a prefix of a node-wsgi server.
 *
 * ```ts
 * const app = mount({ '/api': api, '/admin': admin }, site);
 * await serve(app, { port: 8000 });
 * ```
 *
 * A request matches a prefix on whole segments of the decoded `PATH_INFO`, the path every router
 * sees: `/api`, `/api/` and `/api/x` go to `api`, `/%61pi/x` too (the gateway decoded it), never
 * `/apiary`. The longest matching prefix wins; the prefix moves from `PATH_INFO` to `SCRIPT_NAME`
 * (`/api/x` → `('/api', '/x')`, `/api` → `('/api', '')`), so nested mounts add up. No match and no
 * fallback answers `404 Not Found`. The environ is changed in place, as PEP 3333 allows.
 *
 * Prefixes: each starts with `/`; a trailing `/` is dropped (`'/api/'` is `'/api'`); `'/'` itself
 * is not a prefix (pass that app as the fallback). A prefix is written as readable text and
 * matched as its UTF-8 bytes, the way browsers send paths: `'/café'` matches `GET /caf%C3%A9`.
 *
 * Security: matching is exact-case and exact-bytes, like Werkzeug. `/API`, `//api` and `/api/../x`
 * are not `/api`, so they reach the fallback, never the mounted app: put an access check inside the
 * mounted app (or in front of `mount`), not in a host router that folds case or collapses slashes
 * before a path reaches here (CVE-2026-22031 was such a disagreement). `PATH_INFO` is kept as sent,
 * so `/api//evil.com` reaches `api` as `PATH_INFO '//evil.com'`: an app that redirects to
 * `PATH_INFO` alone must not treat it as a URL (build URLs from `SCRIPT_NAME` + `PATH_INFO`).
 */
import type { App, Body, Environ, StartResponse } from '../types.js';

const NOT_FOUND = 'Not Found';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  return `'${typeof value}'`;
}

/** A prefix as the latin-1 string of its UTF-8 bytes: the form `PATH_INFO` carries (SPEC §2). */
function toEnvironForm(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The default answer when nothing matches: `404 Not Found`, text/plain. */
function notFound(_environ: Environ, startResponse: StartResponse): Body {
  startResponse('404 Not Found', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(NOT_FOUND.length)],
  ]);
  return [NOT_FOUND];
}

/**
 * Dispatches to the app mounted at the longest prefix of `PATH_INFO` (whole segments), moving the
 * prefix to `SCRIPT_NAME`; otherwise to `fallback`, or answers 404.
 *
 * ```ts
 * const app = mount({ '/api': api, '/api/v2': apiV2 }, site);
 * // GET /api/v2/users → apiV2 with SCRIPT_NAME '/api/v2', PATH_INFO '/users'
 * ```
 */
export function mount(mapping: Record<string, App>, fallback?: App): App {
  if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping)) {
    throw new TypeError(`@node-wsgi/core: mount expects an object of { '/prefix': app }, got ${describe(mapping)}`);
  }
  if (fallback !== undefined && typeof fallback !== 'function') {
    throw new TypeError(`@node-wsgi/core: mount expects the fallback to be an app function, got ${describe(fallback)}`);
  }
  const mounts = new Map<string, App>();
  for (const [key, app] of Object.entries(mapping)) {
    if (typeof app !== 'function') {
      throw new TypeError(`@node-wsgi/core: mount expects an app function for ${JSON.stringify(key)}, got ${describe(app)}`);
    }
    if (!key.startsWith('/')) {
      throw new TypeError(`@node-wsgi/core: mount expects prefixes that start with '/', got ${JSON.stringify(key)}`);
    }
    const prefix = key.endsWith('/') ? key.slice(0, -1) : key;
    if (prefix === '') {
      throw new TypeError(`@node-wsgi/core: mount cannot mount at ${JSON.stringify(key)}; pass that app as the fallback instead`);
    }
    const bytes = toEnvironForm(prefix);
    if (mounts.has(bytes)) {
      throw new TypeError(`@node-wsgi/core: mount got the prefix ${JSON.stringify(prefix)} twice (a trailing '/' is ignored)`);
    }
    mounts.set(bytes, app);
  }
  const otherwise = fallback ?? notFound;

  return function mounted(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    const pathInfo = typeof environ.PATH_INFO === 'string' ? environ.PATH_INFO : '';
    // Longest prefix first: try the whole path, then drop one segment at a time from the right.
    // Prefixes never end in '/', so '/app/' is tried as '/app/' (no) and then '/app' (yes).
    let candidate = pathInfo;
    while (candidate !== '') {
      const app = mounts.get(candidate);
      if (app !== undefined) {
        environ.SCRIPT_NAME = (environ.SCRIPT_NAME ?? '') + candidate;
        environ.PATH_INFO = pathInfo.slice(candidate.length);
        // [M1, M2] the child's body, close() and excInfo pass through untouched.
        return app(environ, startResponse);
      }
      const slash = candidate.lastIndexOf('/');
      if (slash <= 0) break;
      candidate = candidate.slice(0, slash);
    }
    return otherwise(environ, startResponse);
  };
}
