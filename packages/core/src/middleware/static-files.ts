/**
 * `staticFiles`: serves the files of a folder under a path prefix, and hands every other request to
 * the app (Werkzeug's `SharedDataMiddleware`). Use it for a site's assets in development or in a
 * small deployment; in front of heavy traffic, let the proxy or a CDN serve them.
 *
 * ```ts
 * const app = staticFiles(site, { '/static': './public' }); // a relative folder: from process.cwd()
 * await serve(app, { port: 8000 });
 * ```
 *
 * `GET` and `HEAD` of a file answer with `Content-Type` (from the file name, by `mime-types`),
 * `Content-Length`, a strong `ETag` (size and mtime), `Last-Modified`, `Accept-Ranges: bytes` and
 * `Cache-Control` (`cacheControl`, or `public, max-age=<maxAge>`; default `public, max-age=0`).
 * `If-None-Match` (weak comparison, and it wins over `If-Modified-Since`) and `If-Modified-Since`
 * answer 304; one `Range` (`bytes=a-b`, `a-`, `-n`) of a GET answers 206, or 416 (its
 * `Content-Range` gives the size) when it starts past the end; several ranges, an unparsable one, or
 * a `Range` whose `If-Range` no longer matches get the whole file (200). The body goes through
 * `environ['wsgi.file_wrapper']` (core's `FileBody` when the gateway gave none), so the gateway's
 * fastest path sends it.
 *
 * A miss falls through to `app`: no such file, a folder (its `index`, default `index.html`, is
 * served for a path ending in `/`; a folder named without the `/` is a miss, never a redirect), any
 * method but GET and HEAD, and every refused path below. With `fallthrough: false` a miss under a
 * prefix answers 404 instead, and a file asked for with another method 405 with `Allow: GET, HEAD`.
 *
 * Security: no path escapes its folder. `PATH_INFO` arrives percent-decoded, so `%2e%2e` is `..`
 * and `%2f` is `/` by the time it is checked; it is then read as UTF-8 and split into segments, and a
 * path is refused (a miss) if any segment is empty, `.` or `..`, or holds a backslash, a NUL or other
 * control character, or a drive letter (`C:`); if it is not UTF-8; and, unless `dotfiles: true`, if a
 * segment starts with `.` (`.env`, `.git/`). Symlinks are followed only while they resolve inside
 * the folder (`realpath` of the folder and of the file, compared on a path-separator boundary).
 * Prefixes match exact-case, like `mount`. Everything readable in the folder is public: do not point
 * it at a folder that holds secrets.
 */
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { contentType } from 'mime-types';
import { FileBody } from '../file-wrapper.js';
import { decodeLatin1 } from '../util.js';
import type { App, Body, Environ, FileWrapper, StartResponse } from '../types.js';

export interface StaticFilesOptions {
  /** The `Cache-Control` value sent with every file. Not together with `maxAge`. */
  cacheControl?: string;
  /** Seconds a file may be cached: `Cache-Control: public, max-age=<maxAge>`. Default 0. */
  maxAge?: number;
  /** The file served for a path ending in `/`; `false` serves none. Default `'index.html'`. */
  index?: string | false;
  /** Hand misses (and methods other than GET and HEAD) to the app; `false` answers 404/405. Default true. */
  fallthrough?: boolean;
  /** Serve names starting with `.` (`.well-known/`); default false, so `.env` or `.git/` is a miss. */
  dotfiles?: boolean;
}

interface Folder {
  /** The prefix as `PATH_INFO` carries it (latin-1 form of its UTF-8 bytes); `''` for the root. */
  prefix: string;
  /** The folder, absolute. */
  root: string;
  /** `realpath` of the folder, looked up once (again after a failure: the folder may appear later). */
  realRoot: Promise<string> | null;
}

interface Found {
  handle: FileHandle;
  stats: Stats;
  /** The name the content type comes from. */
  name: string;
}

const OPTION_NAMES = ['cacheControl', 'maxAge', 'index', 'fallthrough', 'dotfiles'];
const BLOCK_SIZE = 64 * 1024;
const ALLOW = 'GET, HEAD';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${typeof value}'`;
}

function fail(message: string): never {
  throw new TypeError(`@node-wsgi/core: staticFiles ${message}`);
}

function textResponse(startResponse: StartResponse, status: string, text: string, extra: Array<[string, string]> = []): Body {
  startResponse(status, [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(text))],
    ...extra,
  ]);
  return [text];
}

function isInside(root: string, target: string): boolean {
  const base = root.endsWith(path.sep) ? root : root + path.sep;
  return target.startsWith(base);
}

/** Whether one decoded path segment may name something in the folder. */
function isSafeSegment(segment: string, dotfiles: boolean): boolean {
  if (segment === '' || segment === '.' || segment === '..') return false;
  if (!dotfiles && segment.startsWith('.')) return false;
  // Backslashes are separators on Windows; NUL truncates names in C; other controls have no use.
  if (/[\\\x00-\x1f\x7f]/.test(segment)) return false;
  // `C:x` is a drive-relative path on Windows, and `:` opens an alternate data stream there.
  if (/^[A-Za-z]:/.test(segment) || (path.sep === '\\' && segment.includes(':'))) return false;
  return true;
}

/** The segments below the prefix, decoded as UTF-8, or undefined if the path is refused. */
function segmentsOf(rest: string, dotfiles: boolean): { segments: string[]; trailingSlash: boolean } | undefined {
  // PATH_INFO is latin-1: a code point above U+00FF would be truncated to one byte by decoding
  // ('\u012e' would become '.'), so refuse it before decoding.
  if (/[^\x00-\xff]/.test(rest)) return undefined;
  const text = decodeLatin1(rest);
  // Not UTF-8: several byte strings would decode to the same name.
  if (text.includes('\ufffd')) return undefined;
  const segments = text.split('/').slice(1);
  const trailingSlash = segments.length > 0 && segments[segments.length - 1] === '';
  if (trailingSlash) segments.pop();
  for (const segment of segments) if (!isSafeSegment(segment, dotfiles)) return undefined;
  return { segments, trailingSlash };
}

/** Opens a regular file that resolves inside `realRoot`, or undefined. */
async function openInside(realRoot: string, file: string, name: string): Promise<Found | undefined> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return undefined;
  }
  if (!isInside(realRoot, real)) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(real, 'r');
  } catch {
    return undefined;
  }
  try {
    // The open file's own metadata: what is sent matches what is described.
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, stats, name };
  } catch {
    // fall through to close
  }
  await handle.close();
  return undefined;
}

/** Looks a path up in one folder: a file, a folder's index, or undefined (a miss). */
async function lookup(folder: Folder, rest: string, index: string | false, dotfiles: boolean): Promise<Found | undefined> {
  const parsed = segmentsOf(rest, dotfiles);
  if (parsed === undefined) return undefined;
  const { segments, trailingSlash } = parsed;
  // The folder itself, named without a trailing '/': a miss, as for any folder.
  if (segments.length === 0 && !trailingSlash) return undefined;
  let realRoot: string;
  try {
    folder.realRoot ??= realpath(folder.root);
    realRoot = await folder.realRoot;
  } catch {
    folder.realRoot = null;
    return undefined;
  }
  const target = path.join(realRoot, ...segments);
  // Checked segments cannot leave the folder; this guards the checks themselves.
  if (target !== realRoot && !isInside(realRoot, target)) return undefined;
  if (!trailingSlash) return openInside(realRoot, target, segments[segments.length - 1]!);
  if (index === false) return undefined;
  let real: string;
  try {
    real = await realpath(target);
    if (real !== realRoot && !isInside(realRoot, real)) return undefined;
    if (!(await stat(real)).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return openInside(realRoot, path.join(real, index), index);
}

/** Whether an `If-None-Match` list matches `etag` by weak comparison (RFC 9110 §13.1.2). */
function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = etag.slice(etag.indexOf('"'));
  for (const match of header.matchAll(/(?:W\/)?("[^"]*")/g)) if (match[1] === opaque) return true;
  return false;
}

type Range = { start: number; end: number } | 'unsatisfiable' | undefined;

/** One byte range of `size` bytes; undefined to ignore the header (unparsable, or several ranges). */
function parseRange(header: string, size: number): Range {
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (match === null) return undefined;
  const spec = match[1]!.trim();
  if (spec.includes(',')) return undefined; // several ranges: the whole file instead
  const bounds = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (bounds === null) return undefined;
  const [, first, last] = bounds as unknown as [string, string, string];
  if (first === '') {
    if (last === '') return undefined;
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // invalid: ignored (RFC 9110 §14.1.1)
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** Whether `If-Range` still names this file: the same strong ETag, or exactly its modification date. */
function ifRangeHolds(header: string, etag: string, modifiedMs: number): boolean {
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  return Date.parse(value) === modifiedMs;
}

/**
 * Serves files from folders under path prefixes; everything else (and every miss) goes to `app`.
 *
 * ```ts
 * const app = staticFiles(site, { '/static': './public', '/media': '/srv/media' }, { maxAge: 3600 });
 * // GET /static/app.css → ./public/app.css, with ETag, Last-Modified, Range and 304 support
 * ```
 */
export function staticFiles(app: App, folders: Record<string, string>, options: StaticFilesOptions = {}): App {
  if (typeof app !== 'function') fail(`expects an app function, got ${describe(app)}`);
  if (folders === null || typeof folders !== 'object' || Array.isArray(folders)) {
    fail(`expects an object of { '/prefix': folder }, got ${describe(folders)}`);
  }
  if (options === null || typeof options !== 'object') fail(`expects an options object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) fail(`got an unknown option ${JSON.stringify(key)}; expected ${OPTION_NAMES.join(', ')}`);
  }
  const { cacheControl, maxAge, index = 'index.html', fallthrough = true, dotfiles = false } = options;
  if (cacheControl !== undefined && maxAge !== undefined) fail(`takes cacheControl or maxAge, not both`);
  if (cacheControl !== undefined && (typeof cacheControl !== 'string' || /[^\x20-\x7e\x80-\xff\t]/.test(cacheControl))) {
    fail(`expects cacheControl to be a header value, got ${describe(cacheControl)}`);
  }
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) {
    fail(`expects maxAge to be a whole number of seconds, got ${describe(maxAge)}`);
  }
  if (index !== false && (typeof index !== 'string' || !isSafeSegment(index, true) || index.includes('/'))) {
    fail(`expects index to be a file name or false, got ${describe(index)}`);
  }
  if (typeof fallthrough !== 'boolean') fail(`expects fallthrough to be a boolean, got ${describe(fallthrough)}`);
  if (typeof dotfiles !== 'boolean') fail(`expects dotfiles to be a boolean, got ${describe(dotfiles)}`);
  const cacheHeader = cacheControl ?? `public, max-age=${maxAge ?? 0}`;

  const list: Folder[] = [];
  for (const [key, dir] of Object.entries(folders)) {
    if (!key.startsWith('/')) fail(`expects prefixes that start with '/', got ${JSON.stringify(key)}`);
    if (typeof dir !== 'string' || dir === '') fail(`expects a folder path for ${JSON.stringify(key)}, got ${describe(dir)}`);
    const prefix = Buffer.from(key.endsWith('/') ? key.slice(0, -1) : key, 'utf8').toString('latin1');
    if (list.some((folder) => folder.prefix === prefix)) {
      fail(`got the prefix ${JSON.stringify(key)} twice (a trailing '/' is ignored)`);
    }
    list.push({ prefix, root: path.resolve(dir), realRoot: null });
  }
  // Longest prefix first; a miss there tries the shorter ones, as Werkzeug does.
  list.sort((a, b) => b.prefix.length - a.prefix.length);

  async function answer(environ: Environ, startResponse: StartResponse, matches: Array<[Folder, string]>): Promise<Body> {
    const method = environ.REQUEST_METHOD;
    const readable = method === 'GET' || method === 'HEAD';
    if (!readable && fallthrough) return app(environ, startResponse);
    let found: Found | undefined;
    for (const [folder, rest] of matches) {
      found = await lookup(folder, rest, index, dotfiles);
      if (found !== undefined) break;
    }
    if (found === undefined) {
      if (fallthrough) return app(environ, startResponse);
      return textResponse(startResponse, '404 Not Found', 'Not Found');
    }
    let handed = false;
    try {
      if (!readable) return textResponse(startResponse, '405 Method Not Allowed', 'Method Not Allowed', [['Allow', ALLOW]]);
      const [body, fromFile] = respond(environ, startResponse, found, method === 'HEAD');
      handed = fromFile;
      return body;
    } finally {
      // Every answer that does not read the file (HEAD, 304, 416, an empty file, an error) closes it here.
      if (!handed) await found.handle.close();
    }
  }

  /** The response for a file, and whether its body reads (and will close) the file. */
  function respond(environ: Environ, startResponse: StartResponse, found: Found, head: boolean): [Body, boolean] {
    const { stats } = found;
    const size = stats.size;
    const modifiedMs = Math.floor(stats.mtimeMs / 1000) * 1000;
    const etag = `"${size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    const validators: Array<[string, string]> = [
      ['ETag', etag],
      ['Last-Modified', new Date(modifiedMs).toUTCString()],
      ['Cache-Control', cacheHeader],
    ];

    // RFC 9110 §13.2.2: If-None-Match, when present, decides alone.
    const ifNoneMatch = environ.HTTP_IF_NONE_MATCH;
    const ifModifiedSince = environ.HTTP_IF_MODIFIED_SINCE;
    let notModified = false;
    if (typeof ifNoneMatch === 'string') {
      notModified = noneMatch(ifNoneMatch, etag);
    } else if (typeof ifModifiedSince === 'string') {
      const since = Date.parse(ifModifiedSince);
      notModified = !Number.isNaN(since) && modifiedMs <= since;
    }
    if (notModified) {
      // A 304 carries the validators, never Content-Type or a body (RFC 9110 §15.4.5).
      startResponse('304 Not Modified', validators);
      return [[], false];
    }

    const type = contentType(found.name) || 'application/octet-stream';
    // Range applies to GET only (RFC 9110 §14.2); If-Range that no longer holds means the whole file.
    const rangeHeader = environ.HTTP_RANGE;
    const ifRange = environ.HTTP_IF_RANGE;
    let range: Range;
    if (!head && typeof rangeHeader === 'string' && (typeof ifRange !== 'string' || ifRangeHolds(ifRange, etag, modifiedMs))) {
      range = parseRange(rangeHeader, size);
    }
    if (range === 'unsatisfiable') {
      const body = textResponse(startResponse, '416 Range Not Satisfiable', 'Range Not Satisfiable', [
        ['Content-Range', `bytes */${size}`],
        ['Accept-Ranges', 'bytes'],
      ]);
      return [body, false];
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: Array<[string, string]> = [
      ['Content-Type', type],
      ['Content-Length', String(end - start + 1)],
      ['Accept-Ranges', 'bytes'],
      ...validators,
    ];
    if (range !== undefined) headers.push(['Content-Range', `bytes ${start}-${end}/${size}`]);
    startResponse(range !== undefined ? '206 Partial Content' : '200 OK', headers);
    if (head || size === 0) return [[], false];
    // Exactly the described bytes, even if the file grows meanwhile; the stream closes the file
    // when it ends or is destroyed (the body's close()).
    const stream = found.handle.createReadStream({ start, end, highWaterMark: BLOCK_SIZE });
    const wrap: FileWrapper =
      typeof environ['wsgi.file_wrapper'] === 'function'
        ? environ['wsgi.file_wrapper']
        : (file, blockSize) => new FileBody(file as Readable, blockSize);
    try {
      return [wrap(stream, BLOCK_SIZE), true];
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  return function staticServed(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    const pathInfo = typeof environ.PATH_INFO === 'string' ? environ.PATH_INFO : '';
    let matches: Array<[Folder, string]> | undefined;
    for (const folder of list) {
      const { prefix } = folder;
      if (pathInfo === prefix || (pathInfo.startsWith(prefix) && pathInfo.charCodeAt(prefix.length) === 47) /* / */) {
        (matches ??= []).push([folder, pathInfo.slice(prefix.length)]);
      }
    }
    // [M1, M2] not ours: the app's body, close() and excInfo pass through untouched.
    if (matches === undefined) return app(environ, startResponse);
    return answer(environ, startResponse, matches);
  };
}
