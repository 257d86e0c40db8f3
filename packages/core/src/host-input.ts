// `wsgi.input` inside a host framework whose body parser may already have read the request (SPEC §3).
// Recovery order: the untouched stream; a raw Buffer; a raw string; the parsed body re-serialised
// for its content type; otherwise an input whose first read fails, naming the parser. Never a hang.
import type { IncomingMessage } from 'node:http';
import { BytesInput, StreamInput, UnreadableInput } from './input.js';
import type { Input } from './types.js';

export interface HostBody {
  /** What the host's parser left: `req.body` (Express, Fastify) or `ctx.request.body` (Koa). */
  parsed?: unknown;
  /** A raw body the host kept: `req.rawBody` (a Buffer), koa-bodyparser's `ctx.request.rawBody` (a string). */
  raw?: unknown;
  /** The host's name for messages: 'Express', 'Fastify', 'Koa'. */
  host: string;
  /**
   * The host's parsers keep text decoded as UTF-8 whatever its charset (co-body, under Koa's body
   * parsers), so a kept string is UTF-8 to encode back, not the charset of its Content-Type.
   */
  textDecodedAsUtf8?: boolean;
}

export interface RecoveredInput {
  input: StreamInput | BytesInput | UnreadableInput;
  /** The `CONTENT_LENGTH` the recovered bytes have, when it differs from the request's. */
  contentLength?: string;
}

/** Whether nothing has read the request stream yet. */
export function isUntouched(req: IncomingMessage): boolean {
  return !req.readableEnded && !req.readableDidRead && !(req as { _consuming?: boolean })._consuming;
}

function charsetOf(contentType: string | undefined): BufferEncoding {
  const match = contentType === undefined ? null : /;\s*charset\s*=\s*"?([\w-]+)"?/i.exec(contentType);
  const charset = match?.[1]?.toLowerCase();
  if (charset === 'latin1' || charset === 'iso-8859-1' || charset === 'binary') return 'latin1';
  if (charset === 'utf-16le' || charset === 'ucs-2' || charset === 'utf16le') return 'utf16le';
  if (charset === 'ascii' || charset === 'us-ascii') return 'ascii';
  return 'utf8';
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

// Re-serialises a body a parser turned into data, for the content type it came with.
function reserialise(parsed: unknown, contentType: string | undefined): Uint8Array | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return Buffer.from(JSON.stringify(parsed), 'utf8');
  if (type === 'application/x-www-form-urlencoded' && parsed !== null && typeof parsed === 'object') {
    const params = new URLSearchParams();
    const add = (key: string, value: unknown): void => {
      if (Array.isArray(value)) for (const v of value) add(key, v);
      else if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
      } else params.append(key, value === undefined || value === null ? '' : String(value));
    };
    for (const [key, value] of Object.entries(parsed)) add(key, value);
    return Buffer.from(params.toString(), 'latin1');
  }
  return null;
}

/**
 * The request body for `wsgi.input`, recovered from whatever the host's parser left.
 *
 * ```ts
 * const { input, contentLength } = recoverInput(req, { parsed: req.body, raw: req.rawBody, host: 'Express' }, limit);
 * ```
 */
export function recoverInput(req: IncomingMessage, body: HostBody, limit: number): RecoveredInput {
  if (limit === 0 || isUntouched(req)) return { input: new StreamInput(req, limit) };
  const contentType = req.headers['content-type'];
  const bytes = (value: Uint8Array): RecoveredInput => ({ input: new BytesInput(value), contentLength: String(value.byteLength) });
  const raw = body.raw;
  if (raw instanceof Uint8Array) return bytes(raw);
  const parsed = body.parsed;
  if (parsed instanceof Uint8Array) return bytes(parsed);
  const text = typeof raw === 'string' ? raw : typeof parsed === 'string' ? parsed : undefined;
  if (text !== undefined) {
    const charset = charsetOf(contentType);
    if (body.textDecodedAsUtf8 !== true) return bytes(Buffer.from(text, charset));
    // Decoded as UTF-8: the bytes come back exactly unless some were not UTF-8, which the decoder
    // replaced with U+FFFD; those are gone, and a read fails rather than hand over other bytes.
    if (charset === 'utf8' || !text.includes('\ufffd')) return bytes(Buffer.from(text, 'utf8'));
    return {
      input: new UnreadableInput(
        `wsgi.input: a ${body.host} body parser decoded this ${contentType} request body as UTF-8 and replaced the bytes that were not UTF-8, so it cannot be rebuilt; ` +
          `mount the node-wsgi app before the parser, or keep the raw bytes for this route`,
      ),
    };
  }
  if (parsed !== undefined && parsed !== null && !(isEmptyObject(parsed) && req.readableDidRead === false)) {
    const serialised = reserialise(parsed, contentType);
    if (serialised !== null) return bytes(serialised);
  }
  return {
    input: new UnreadableInput(
      `wsgi.input: a ${body.host} body parser already read this ${contentType ?? 'untyped'} request body and kept nothing it can be rebuilt from; ` +
        `mount the node-wsgi app before the parser, or use a raw parser (express.raw(), a rawBody option) for this route`,
    ),
  };
}
