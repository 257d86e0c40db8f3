// `startResponse` and `write` (SPEC §4 R1–R7): what the app hands back, checked where it can still react.
import type { Chunk, StartResponse, Write } from './types.js';

// RFC 9110 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Anything but HTAB, visible ASCII and latin-1: CR, LF, NUL and the other controls, and code points > U+00FF.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d+$/;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** Whether a header name is hop-by-hop, which an app may not set [R3]. */
export function isHopByHop(name: string): boolean {
  const n = name.length;
  // Cheap length filter first: most names are not hop-by-hop, and lowercasing costs more.
  if (n !== 2 && n !== 7 && n !== 8 && n !== 10 && n !== 17 && n !== 18 && n !== 19) return false;
  return HOP_BY_HOP.has(name.toLowerCase());
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof Uint8Array) return `a ${value.constructor.name}`;
  return typeof value === 'object' ? `an object (${Object.prototype.toString.call(value)})` : `${typeof value} ${String(value)}`;
}

// Apps send a handful of distinct status lines and header names, so each is checked once and then
// found in a table (a string key hashes once and is compared, where the checks scan it with regexes
// every time). Only what passed is kept; both tables are bounded, so an app inventing names cannot
// grow them.
const CHECKED_LIMIT = 1024;
const checkedStatuses = new Map<string, readonly [number, string]>();
/** Header names that passed [R2, R3]: CONTENT_LENGTH_NAME for Content-Length, ORDINARY_NAME for the rest. */
const checkedNames = new Map<string, number>();
const ORDINARY_NAME = 0;
const CONTENT_LENGTH_NAME = 1;

/** Parses and checks a status line [R1]; returns `[code, reason]`. */
export function parseStatus(status: unknown): readonly [number, string] {
  if (typeof status !== 'string') throw new TypeError(`startResponse: status must be a string like '200 OK', got ${show(status)}`);
  const known = checkedStatuses.get(status);
  if (known !== undefined) return known;
  // RFC 9112 lets the reason phrase be empty ('204 '), as wsgiref does; the space is required.
  const code = status.length >= 4 && status.charCodeAt(3) === 32 ? Number(status.slice(0, 3)) : NaN;
  if (!(code >= 100 && code <= 599) || !DIGITS.test(status.slice(0, 3))) {
    throw new TypeError(`startResponse: status must be three digits (100-599), one space and a reason phrase, got ${show(status)}`);
  }
  const reason = status.slice(4);
  if (BAD_REASON.test(reason)) {
    throw new TypeError(`startResponse: status reason phrase has a control character or a code point above U+00FF: ${show(status)}`);
  }
  const parsed = Object.freeze([code, reason] as const);
  if (checkedStatuses.size < CHECKED_LIMIT) checkedStatuses.set(status, parsed);
  return parsed;
}

/** Checks a header name [R2, R3]; returns its kind, or throws naming header `i`. */
function checkName(name: unknown, i: number): number {
  if (typeof name !== 'string') {
    throw new TypeError(`startResponse: header ${i} has an invalid name ${show(name)} (expected an RFC 9110 token)`);
  }
  const known = checkedNames.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) {
    throw new TypeError(`startResponse: header ${i} has an invalid name ${show(name)} (expected an RFC 9110 token)`);
  }
  if (isHopByHop(name)) {
    throw new TypeError(`startResponse: ${name} is a hop-by-hop header, which only the gateway may set`);
  }
  const kind = name.length === 14 && name.toLowerCase() === 'content-length' ? CONTENT_LENGTH_NAME : ORDINARY_NAME;
  if (checkedNames.size < CHECKED_LIMIT) checkedNames.set(name, kind);
  return kind;
}

/**
 * Checks a header list [R2, R3]; returns the declared `Content-Length` in bytes, or -1 when none.
 * Throws a `TypeError` naming the first bad header.
 */
export function checkHeaders(headers: unknown): number {
  if (!Array.isArray(headers)) {
    throw new TypeError(`startResponse: headers must be an array of [name, value] pairs, got ${show(headers)}`);
  }
  let contentLength = -1;
  for (let i = 0; i < headers.length; i++) {
    const pair: unknown = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`startResponse: header ${i} must be a [name, value] pair, got ${show(pair)}`);
    }
    const name: unknown = pair[0];
    const value: unknown = pair[1];
    const kind = checkName(name, i);
    if (typeof value !== 'string') {
      throw new TypeError(`startResponse: header ${name as string} must have a string value, got ${show(value)}`);
    }
    if (BAD_VALUE.test(value)) {
      throw new TypeError(
        `startResponse: header ${name as string} has a control character (CR, LF, NUL ...) or a code point above U+00FF in its value ${show(value)}`,
      );
    }
    if (kind === CONTENT_LENGTH_NAME) {
      const trimmed = value.trim();
      if (!DIGITS.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
        throw new TypeError(`startResponse: Content-Length must be a whole number of bytes, got ${show(value)}`);
      }
      const length = Number(trimmed);
      // Even the same value twice: Node's client and fetch refuse a response with two
      // Content-Length lines (HPE_UNEXPECTED_CONTENT_LENGTH), and hosts differ on folding them.
      if (contentLength !== -1) {
        throw new TypeError(
          contentLength === length
            ? `startResponse: Content-Length is given twice (${length}); send it once`
            : `startResponse: two different Content-Length headers, ${contentLength} and ${length}`,
        );
      }
      contentLength = length;
    }
  }
  return contentLength;
}

/** Thrown by `startResponse` when it is called a second time without `excInfo` [R5]. */
export class HeadersAlreadySetError extends Error {
  override name = 'HeadersAlreadySetError';
}

/** Converts a chunk to bytes, refusing anything else [C1]. */
export function chunkToBytes(chunk: unknown, where: string): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`${where}: a body chunk must be a Uint8Array or a string, got ${show(chunk)}`);
}

/**
 * The state `startResponse` and `write` share for one request. The gateway reads it; the app
 * reaches it only through the two callables.
 */
export class ResponseStart {
  statusCode = 0;
  reason = '';
  headers: Array<[string, string]> | null = null;
  /** The app's `Content-Length`, or -1. */
  declaredLength = -1;
  /** Set by the gateway once the head counts as sent (the first non-empty chunk, or the end) [R6]. */
  headersSent = false;
  /** Chunks given to `write()`, not yet taken by the gateway [R7]. */
  written: Uint8Array[] | null = null;
  writtenBytes = 0;
  /** Called when `write()` queues a chunk, so a waiting gateway can take it. */
  onWrite: (() => void) | null = null;
  /** Set by the gateway once the response is over (sent, failed or abandoned): `write()` drops its data. */
  ended = false;
  private writer: Write | null = null;

  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      // PEP 3333: once the head is out, the app's error is thrown back to it.
      if (this.headersSent) throw excInfo;
    } else if (this.headers !== null) {
      throw new HeadersAlreadySetError('startResponse was called a second time without excInfo');
    }
    const [code, reason] = parseStatus(status);
    const declared = checkHeaders(headers);
    this.statusCode = code;
    this.reason = reason;
    this.headers = headers;
    this.declaredLength = declared;
    return (this.writer ??= (chunk: Chunk) => this.write(chunk));
  };

  private write(chunk: Chunk): void {
    const bytes = chunkToBytes(chunk, 'write()');
    // Past Content-Length the gateway clamps, as it does body chunks [B3]; after the end nobody takes it.
    if (bytes.byteLength === 0 || this.ended) return;
    // PEP 3333: write() sends the head first, so from here on excInfo is thrown back [R5].
    this.headersSent = true;
    this.writtenBytes += bytes.byteLength;
    (this.written ??= []).push(bytes);
    this.onWrite?.();
  }

  /** Takes the chunks `write()` queued, oldest first. */
  takeWritten(): Uint8Array[] | null {
    const written = this.written;
    this.written = null;
    return written;
  }
}
