// URL and path helpers after `wsgiref.util` (SPEC §2).
import type { Environ } from './types.js';

// What the URL helpers read; like wsgiref, a missing SCRIPT_NAME or PATH_INFO counts as ''.
type UrlEnviron = Pick<Environ, 'wsgi.url_scheme' | 'SERVER_NAME' | 'SERVER_PORT'> &
  Partial<Pick<Environ, 'SCRIPT_NAME' | 'PATH_INFO' | 'QUERY_STRING' | 'HTTP_HOST'>> & { [key: string]: unknown };

// Characters `urllib.parse.quote` leaves alone, plus the `safe` set of each caller.
function quote(s: string, safe: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      ch === '_' ||
      ch === '.' ||
      ch === '-' ||
      ch === '~' ||
      safe.includes(ch)
    ) {
      out += ch;
    } else if (c <= 0xff) {
      // environ strings are latin-1: each code point is one byte.
      out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

function host(environ: UrlEnviron): string {
  const httpHost = environ.HTTP_HOST;
  if (typeof httpHost === 'string' && httpHost !== '') return httpHost;
  const scheme = environ['wsgi.url_scheme'];
  const port = environ.SERVER_PORT;
  const name = environ.SERVER_NAME.includes(':') ? `[${environ.SERVER_NAME}]` : environ.SERVER_NAME;
  if ((scheme === 'https' && port === '443') || (scheme === 'http' && port === '80')) return name;
  return `${name}:${port}`;
}

/**
 * The URL of the app itself: scheme, host, and `SCRIPT_NAME` (or `/`).
 *
 * ```ts
 * applicationUri(environ) // 'https://example.com:8443/app'
 * ```
 */
export function applicationUri(environ: UrlEnviron): string {
  return `${environ['wsgi.url_scheme']}://${host(environ)}${quote(environ.SCRIPT_NAME || '/', '/')}`;
}

/**
 * The full URL of the request, rebuilt from environ (PEP 3333's URL reconstruction).
 *
 * ```ts
 * requestUri(environ)        // 'https://x:8443/a/b%20c?q=1'
 * requestUri(environ, false) // 'https://x:8443/a/b%20c'
 * ```
 */
export function requestUri(environ: UrlEnviron, includeQuery = true): string {
  // wsgiref.util.request_uri: the application URI (its SCRIPT_NAME quoted with only `/` safe),
  // then PATH_INFO, whose leading `/` the application URI already ends with when unmounted.
  const pathInfo = quote(environ.PATH_INFO ?? '', '/;=,');
  let url = applicationUri(environ) + (environ.SCRIPT_NAME ? pathInfo : pathInfo.slice(1));
  const query = environ.QUERY_STRING;
  if (includeQuery && typeof query === 'string' && query !== '') url += '?' + query;
  return url;
}

/**
 * Moves the first segment of `PATH_INFO` to `SCRIPT_NAME` and returns it, ported line for line from
 * `wsgiref.util.shift_path_info`: `undefined` when `PATH_INFO` is empty, `''` for a trailing `/`,
 * and `.`/`..` normalised in `SCRIPT_NAME`.
 *
 * ```ts
 * // SCRIPT_NAME '/a', PATH_INFO '/b/c'  →  'b'; now SCRIPT_NAME '/a/b', PATH_INFO '/c'
 * shiftPathInfo(environ)
 * ```
 */
export function shiftPathInfo(environ: { SCRIPT_NAME: string; PATH_INFO: string }): string | undefined {
  const pathInfo = environ.PATH_INFO;
  if (!pathInfo) return undefined;
  const parts = pathInfo.split('/');
  const middle = parts.slice(1, -1).filter((p) => p !== '' && p !== '.');
  const pathParts = parts.length > 1 ? [parts[0]!, ...middle, parts[parts.length - 1]!] : parts;
  const name = pathParts[1] ?? '';
  pathParts.splice(1, 1);
  let scriptName = normpath((environ.SCRIPT_NAME ?? '') + '/' + name);
  if (scriptName.endsWith('/')) scriptName = scriptName.slice(0, -1);
  if (!name && !scriptName.endsWith('/')) scriptName += '/';
  environ.SCRIPT_NAME = scriptName;
  environ.PATH_INFO = pathParts.join('/');
  return name === '.' ? undefined : name;
}

// Python's posixpath.normpath.
function normpath(path: string): string {
  if (path === '') return '.';
  const initial = !path.startsWith('/') ? 0 : path.startsWith('//') && !path.startsWith('///') ? 2 : 1;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (initial === 0 && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) {
      out.push(comp);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  return '/'.repeat(initial) + out.join('/') || '.';
}

/**
 * The text a latin-1 environ string carries, decoded as UTF-8 (PEP 3333's `s.encode('latin1').decode('utf-8')`).
 *
 * ```ts
 * decodeLatin1('/caf\u00c3\u00a9') // '/café'
 * ```
 */
export function decodeLatin1(s: string): string {
  // Buffer's latin1 encoder keeps only the low byte of a code point above U+00FF ('\u012e' → '.'),
  // which would let a check made before decoding be bypassed: refuse, as Python's encode does.
  const bad = NOT_LATIN1.exec(s);
  if (bad !== null) {
    throw new TypeError(
      `decodeLatin1 expects a latin-1 string (code points up to U+00FF), got U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at index ${bad.index}`,
    );
  }
  return Buffer.from(s, 'latin1').toString('utf8');
}

const NOT_LATIN1 = /[^\x00-\xff]/u;
