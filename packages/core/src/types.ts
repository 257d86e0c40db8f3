// The node-wsgi contract (SPEC §1–§4): PEP 3333 read with JavaScript types.
// This file holds types only; the rules that enforce them live in start-response.ts and gateway.ts.

/** A body chunk. A string is sent as UTF-8; lengths are always counted in bytes. */
export type Chunk = Uint8Array | string;

/**
 * What an app returns: an iterable or async iterable of chunks, optionally closable.
 * A bare string or `Uint8Array` is not a body (iterating it yields characters or numbers);
 * the `never` members make TypeScript refuse one, and the gateway refuses it at run time [C2].
 */
export type Body = (Iterable<Chunk> | AsyncIterable<Chunk>) & {
  close?(): void | Promise<void>;
  /** present on strings only: a string is not a body [C2] */
  charAt?: never;
  /** present on byte arrays only: a `Uint8Array` is not a body [C2] */
  subarray?: never;
};

/** The legacy imperative writer returned by `startResponse` [R7]. */
export type Write = (chunk: Chunk) => void;

/** Hands the status line and headers back to the gateway; sends nothing itself [R6]. */
export type StartResponse = (
  status: string,
  headers: Array<[string, string]>,
  excInfo?: unknown,
) => Write;

/** A node-wsgi application: called once per request, possibly many times at once. */
export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/** `wsgi.input`: the request body, read asynchronously with file semantics (SPEC §3). */
export interface Input extends AsyncIterable<Uint8Array> {
  /** At most `size` bytes, waiting until they arrived or the body ended; the rest of the body without `size`. */
  read(size?: number): Promise<Uint8Array>;
  /** Up to and including the next `\n`, at most `size` bytes. */
  readline(size?: number): Promise<Uint8Array>;
  readlines(hint?: number): Promise<Uint8Array[]>;
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/** `wsgi.errors`: a text sink that accepts anything without throwing. */
export interface Errors {
  write(s: string): void;
  writelines(seq: Iterable<string>): void;
  flush(): void;
}

/** Wraps a file path, an open `FileHandle` or a Node `Readable` as a body (SPEC §5). */
export type FileWrapper = (file: unknown, blockSize?: number) => Body;

/**
 * The per-request variables (SPEC §2). Keys without a dot hold latin-1 strings;
 * a variable that does not apply is absent, never `''` or `undefined`.
 */
export interface Environ {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  QUERY_STRING: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  REQUEST_URI?: string;
  CONTENT_TYPE?: string;
  CONTENT_LENGTH?: string;
  REMOTE_ADDR?: string;
  REMOTE_PORT?: string;
  HTTPS?: string;
  SERVER_SOFTWARE?: string;
  'wsgi.version': readonly [1, 0];
  'wsgi.url_scheme': 'http' | 'https' | string;
  'wsgi.input': Input;
  'wsgi.errors': Errors;
  'wsgi.multithread': boolean;
  'wsgi.multiprocess': boolean;
  'wsgi.run_once': boolean;
  'wsgi.input_terminated'?: boolean;
  'wsgi.file_wrapper'?: FileWrapper;
  /** `HTTP_*` headers, CGI variables and dotted extension keys. */
  [key: string]: unknown;
}
