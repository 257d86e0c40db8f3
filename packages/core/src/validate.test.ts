import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runApp } from './gateway.js';
import { BytesInput } from './input.js';
import { toNodeListener } from './node.js';
import type { App, Body, Chunk, Environ, StartResponse, Write } from './types.js';
import { testClient } from './testing.js';
import { validate, WsgiValidationError } from './validate.js';
import { ErrorLog as Log } from '../../../test/support/error-log.js';

/** A well-formed environ, built by hand as a gateway would, with `extra` applied last. */
function request(extra: Record<string, unknown> = {}, body: string | null = null): { environ: Environ; log: Log } {
  const log = new Log();
  const environ: Environ = {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/caf\u00c3\u00a9',
    QUERY_STRING: 'a=1',
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '8080',
    SERVER_PROTOCOL: 'HTTP/1.1',
    HTTP_HOST: 'example.test',
    'wsgi.version': Object.freeze([1, 0] as const),
    'wsgi.url_scheme': 'http',
    'wsgi.input': new BytesInput(body === null ? null : Buffer.from(body, 'latin1')),
    'wsgi.errors': log,
    'wsgi.multithread': true,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
  };
  if (body !== null) environ.CONTENT_LENGTH = String(body.length);
  Object.assign(environ, extra);
  return { environ, log };
}

interface Call {
  args: unknown[];
}

/** A minimal gateway `startResponse`: records calls and writes, and throws excInfo back once `headSent`. */
function gateway(options: { returns?: unknown; rethrow?: 'excInfo' | 'nothing' | 'other' } = {}) {
  const spy = {
    calls: [] as Call[],
    written: [] as Chunk[],
    headSent: false,
    startResponse: ((...args: unknown[]) => {
      const excInfo = args[2];
      if (spy.headSent && excInfo !== undefined) {
        if (options.rethrow === 'other') throw new Error('something else');
        if (options.rethrow !== 'nothing') throw excInfo;
      }
      spy.calls.push({ args });
      if ('returns' in options) return options.returns;
      return (chunk: Chunk) => {
        spy.written.push(chunk);
        if (chunk.length > 0) spy.headSent = true;
      };
    }) as StartResponse,
  };
  return spy;
}

/** `startResponse` as the app may (mis)use it, with any arguments. */
const loose = (start: StartResponse) => start as unknown as (...args: unknown[]) => Write;

const TEXT: Array<[string, string]> = [['Content-Type', 'text/plain']];

function answering(status: string, headers: Array<[string, string]>, body: unknown = []): App {
  return (_environ, start) => {
    start(status, headers);
    return body as Body;
  };
}

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw, nothing was thrown');
}

async function rejected(value: unknown): Promise<unknown> {
  try {
    await value;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, it resolved');
}

function expectViolation(err: unknown, rule: string, side: 'app' | 'gateway'): void {
  expect(err).toBeInstanceOf(WsgiValidationError);
  expect(err).toMatchObject({ name: 'WsgiValidationError', rule, side });
  expect((err as Error).message).toContain(`the ${side} broke rule ${rule}`);
}

/** Iterates a body the way its nature asks, closes it, and returns the bytes as latin-1 text. */
async function drain(body: Body): Promise<string> {
  const parts: Buffer[] = [];
  const add = (chunk: Chunk): void => {
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  };
  try {
    if (Symbol.iterator in body) for (const chunk of body as Iterable<Chunk>) add(chunk);
    else for await (const chunk of body as AsyncIterable<Chunk>) add(chunk);
  } finally {
    await body.close?.();
  }
  return Buffer.concat(parts).toString('latin1');
}

function syncIterator(body: Body | Promise<Body>): Iterator<Chunk> {
  return (body as Iterable<Chunk>)[Symbol.iterator]();
}

function asyncIterator(body: Body | Promise<Body>): AsyncIterator<Chunk> {
  return (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
}

/** A body with a counted close(), over a generator that records whether its finally ran. */
function closable(chunks: Chunk[]) {
  const state = { closes: 0, finallyRan: false, pulled: 0 };
  function* generate(): Generator<Chunk> {
    try {
      for (const chunk of chunks) {
        state.pulled++;
        yield chunk;
      }
    } finally {
      state.finallyRan = true;
    }
  }
  const body = Object.assign(generate(), {
    close() {
      state.closes++;
    },
  });
  return { body, state };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('validate(app)', () => {
  describe('set-up and the error it throws', () => {
    it('refuses something that is not an app with a TypeError', () => {
      expect(() => validate('app' as unknown as App)).toThrow(/validate expects an app function, got "app"/);
    });

    it('a violation is a WsgiValidationError that names the rule, the side at fault and the bad value', () => {
      const { environ } = request();
      const err = thrown(() =>
        validate(answering('200 OK', [['Content-Type', 'text/plain'], ['X-Note', 'a\r\nSet-Cookie: x=1']]))(
          environ,
          gateway().startResponse,
        ),
      );
      expectViolation(err, 'R2', 'app');
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('X-Note');
      expect((err as Error).message).toContain('"a\\r\\nSet-Cookie: x=1"');
    });

    it('a well-behaved app runs unchanged: same status, headers and bytes reach the gateway', async () => {
      const { environ, log } = request();
      const spy = gateway();
      const body = validate(answering('200 OK', TEXT, ['hello ', new Uint8Array([0x77, 0x6f, 0x72, 0x6c, 0x64])]))(
        environ,
        spy.startResponse,
      );
      expect(await drain(await body)).toBe('hello world');
      expect(spy.calls).toEqual([{ args: ['200 OK', TEXT] }]);
      expect(log.lines).toEqual([]);
    });
  });

  describe('the call (A1) [gateway]', () => {
    it('A1: refuses a call with three arguments (gateway)', () => {
      const { environ } = request();
      const app = vi.fn(answering('200 OK', TEXT));
      const checked = validate(app) as unknown as (...args: unknown[]) => unknown;
      expectViolation(
        thrown(() => checked(environ, gateway().startResponse, 'extra')),
        'A1',
        'gateway',
      );
      expect(app).not.toHaveBeenCalled();
    });

    it('A1: refuses a startResponse that is not a function (gateway)', () => {
      const { environ } = request();
      const checked = validate(answering('200 OK', TEXT)) as unknown as (...args: unknown[]) => unknown;
      expectViolation(
        thrown(() => checked(environ, null)),
        'A1',
        'gateway',
      );
    });

    it('A1: passes the app exactly environ and a startResponse', () => {
      const { environ } = request();
      const app = vi.fn(answering('200 OK', TEXT));
      validate(app)(environ, gateway().startResponse);
      expect(app).toHaveBeenCalledTimes(1);
      expect(app.mock.calls[0]).toHaveLength(2);
      expect(app.mock.calls[0]![0]).toBe(environ);
    });
  });

  describe('the environ (E1–E14) [gateway]', () => {
    const broken: Array<{ rule: string; what: string; make: (env: Record<string, unknown>) => unknown }> = [
      { rule: 'E1', what: 'an array instead of an environ', make: (env) => [env] },
      { rule: 'E1', what: 'an environ that is a class instance', make: (env) => Object.assign(new (class Env {})(), env) },
      { rule: 'E2', what: 'an environ without QUERY_STRING', make: (env) => drop(env, 'QUERY_STRING') },
      { rule: 'E2', what: 'an environ without wsgi.url_scheme', make: (env) => drop(env, 'wsgi.url_scheme') },
      { rule: 'E2', what: 'an environ without SERVER_PROTOCOL', make: (env) => drop(env, 'SERVER_PROTOCOL') },
      { rule: 'E3', what: 'a key set to undefined', make: (env) => ({ ...env, REMOTE_ADDR: undefined }) },
      { rule: 'E3', what: "REMOTE_ADDR '' (left out when there is none)", make: (env) => ({ ...env, REMOTE_ADDR: '' }) },
      { rule: 'E3', what: "REMOTE_PORT ''", make: (env) => ({ ...env, REMOTE_PORT: '' }) },
      { rule: 'E3', what: "HTTPS 'off' (absent on a plain connection)", make: (env) => ({ ...env, HTTPS: 'off' }) },
      { rule: 'E3', what: "HTTPS ''", make: (env) => ({ ...env, HTTPS: '' }) },
      { rule: 'E14', what: "REMOTE_PORT 'http'", make: (env) => ({ ...env, REMOTE_PORT: 'http' }) },
      { rule: 'E4', what: 'a CGI key holding a number', make: (env) => ({ ...env, SERVER_PORT: 8080 }) },
      { rule: 'E4', what: 'a CGI key with a code point above U+00FF', make: (env) => ({ ...env, HTTP_X_NAME: '\u20ac' }) },
      { rule: 'E5', what: 'HTTP_CONTENT_TYPE', make: (env) => ({ ...env, HTTP_CONTENT_TYPE: 'text/plain' }) },
      { rule: 'E5', what: 'HTTP_CONTENT_LENGTH', make: (env) => ({ ...env, HTTP_CONTENT_LENGTH: '0' }) },
      { rule: 'E6', what: 'wsgi.version [1, 1]', make: (env) => ({ ...env, 'wsgi.version': [1, 1] }) },
      { rule: 'E6', what: "wsgi.version '1.0'", make: (env) => ({ ...env, 'wsgi.version': '1.0' }) },
      { rule: 'E7', what: "wsgi.url_scheme 'ftp'", make: (env) => ({ ...env, 'wsgi.url_scheme': 'ftp' }) },
      { rule: 'E8', what: "SCRIPT_NAME '/'", make: (env) => ({ ...env, SCRIPT_NAME: '/' }) },
      { rule: 'E8', what: "SCRIPT_NAME 'app' without a leading slash", make: (env) => ({ ...env, SCRIPT_NAME: 'app' }) },
      { rule: 'E9', what: "PATH_INFO 'x' without a leading slash", make: (env) => ({ ...env, PATH_INFO: 'x' }) },
      { rule: 'E10', what: "CONTENT_LENGTH '-1'", make: (env) => ({ ...env, CONTENT_LENGTH: '-1' }) },
      { rule: 'E10', what: "an empty CONTENT_LENGTH", make: (env) => ({ ...env, CONTENT_LENGTH: '' }) },
      {
        rule: 'E10',
        what: 'CONTENT_LENGTH beside wsgi.input_terminated: true',
        make: (env) => ({ ...env, CONTENT_LENGTH: '5', 'wsgi.input_terminated': true }),
      },
      {
        rule: 'E11',
        what: 'a wsgi.input without readlines()',
        make: (env) => ({ ...env, 'wsgi.input': { read: async () => new Uint8Array(0), readline: async () => new Uint8Array(0) } }),
      },
      { rule: 'E12', what: 'a wsgi.errors without flush()', make: (env) => ({ ...env, 'wsgi.errors': { write() {}, writelines() {} } }) },
      { rule: 'E13', what: "wsgi.multithread 'true' (a string)", make: (env) => ({ ...env, 'wsgi.multithread': 'true' }) },
      { rule: 'E13', what: 'wsgi.input_terminated 1', make: (env) => ({ ...env, 'wsgi.input_terminated': 1 }) },
      { rule: 'E13', what: 'a wsgi.file_wrapper that is not a function', make: (env) => ({ ...env, 'wsgi.file_wrapper': {} }) },
      { rule: 'E14', what: "REQUEST_METHOD 'GE T'", make: (env) => ({ ...env, REQUEST_METHOD: 'GE T' }) },
      { rule: 'E14', what: 'an empty SERVER_NAME', make: (env) => ({ ...env, SERVER_NAME: '' }) },
      { rule: 'E14', what: "SERVER_PORT 'http'", make: (env) => ({ ...env, SERVER_PORT: 'http' }) },
    ];

    function drop(env: Record<string, unknown>, key: string): Record<string, unknown> {
      const copy = { ...env };
      delete copy[key];
      return copy;
    }

    it.each(broken)('$rule: refuses $what before the app runs (gateway)', ({ rule, make }) => {
      const { environ } = request();
      const app = vi.fn(answering('200 OK', TEXT));
      const checked = validate(app) as unknown as (...args: unknown[]) => unknown;
      expectViolation(
        thrown(() => checked(make(environ), gateway().startResponse)),
        rule,
        'gateway',
      );
      expect(app).not.toHaveBeenCalled();
    });

    const fine: Array<{ rule: string; what: string; make: (env: Record<string, unknown>) => Record<string, unknown> }> = [
      { rule: 'E1', what: 'a prototype-less environ', make: (env) => Object.assign(Object.create(null) as Record<string, unknown>, env) },
      { rule: 'E2', what: 'optional keys left out (no CONTENT_TYPE, REMOTE_ADDR)', make: (env) => env },
      { rule: 'E3', what: 'a variable that does not apply left out', make: (env) => drop(env, 'HTTP_HOST') },
      { rule: 'E4', what: 'a latin-1 header value and a dotted key holding an object', make: (env) => ({ ...env, HTTP_X_NAME: 'caf\u00e9', 'node.request': {} }) },
      { rule: 'E5', what: 'CONTENT_TYPE', make: (env) => ({ ...env, CONTENT_TYPE: 'text/plain' }) },
      { rule: 'E6', what: 'a frozen [1, 0]', make: (env) => env },
      { rule: 'E7', what: "wsgi.url_scheme 'https'", make: (env) => ({ ...env, 'wsgi.url_scheme': 'https', HTTPS: 'on' }) },
      { rule: 'E8', what: "SCRIPT_NAME '/app'", make: (env) => ({ ...env, SCRIPT_NAME: '/app' }) },
      { rule: 'E9', what: "an empty PATH_INFO under a mount", make: (env) => ({ ...env, SCRIPT_NAME: '/app', PATH_INFO: '' }) },
      { rule: 'E10', what: "CONTENT_LENGTH '0'", make: (env) => ({ ...env, CONTENT_LENGTH: '0' }) },
      { rule: 'E10', what: 'a chunked request: wsgi.input_terminated without CONTENT_LENGTH', make: (env) => ({ ...env, 'wsgi.input_terminated': true }) },
      { rule: 'E11', what: 'a BytesInput', make: (env) => env },
      { rule: 'E12', what: 'a minimal errors object', make: (env) => ({ ...env, 'wsgi.errors': { write() {}, writelines() {}, flush() {} } }) },
      { rule: 'E13', what: 'a wsgi.file_wrapper function', make: (env) => ({ ...env, 'wsgi.file_wrapper': () => [] }) },
      { rule: 'E14', what: "REQUEST_METHOD 'PROPFIND'", make: (env) => ({ ...env, REQUEST_METHOD: 'PROPFIND' }) },
    ];

    it.each(fine)('$rule: accepts $what', ({ make }) => {
      const { environ } = request();
      const app = vi.fn(answering('200 OK', TEXT));
      validate(app)(make(environ) as Environ, gateway().startResponse);
      expect(app).toHaveBeenCalledTimes(1);
    });

    it('W2: an unusual REQUEST_METHOD is a warning on wsgi.errors, not an error', () => {
      const { environ, log } = request({ REQUEST_METHOD: 'PROPFIND' });
      validate(answering('207 Multi-Status', TEXT))(environ, gateway().startResponse);
      expect(log.text).toMatch(/warning W2 \(gateway\): unknown REQUEST_METHOD "PROPFIND"/);
    });

    it('W2: a usual REQUEST_METHOD writes nothing', () => {
      const { environ, log } = request({ REQUEST_METHOD: 'PATCH' });
      validate(answering('200 OK', TEXT))(environ, gateway().startResponse);
      expect(log.lines).toEqual([]);
    });
  });

  describe('wsgi.input and wsgi.errors (S1–S5)', () => {
    /** An app that runs `use` on its environ, then answers 200 with what `use` returned. */
    function using(use: (environ: Environ) => unknown): App {
      return async (environ, start) => {
        const result = await use(environ);
        start('200 OK', TEXT);
        return [typeof result === 'string' ? result : 'ok'];
      };
    }

    const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

    it('S1: refuses read() with a size that is not a whole number (app)', async () => {
      const { environ } = request({}, 'hello');
      const body = validate(using((env) => env['wsgi.input'].read('3' as unknown as number)))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S1', 'app');
    });

    it('S1: accepts read(size), a bare read() and readline()/readlines() without a size', async () => {
      const { environ } = request({}, 'ab\ncd\nef');
      const body = validate(
        using(async (env) => {
          const input = env['wsgi.input'];
          return [text(await input.read(1)), text(await input.readline()), (await input.readlines()).map(text).join('|'), text(await input.read())].join(',');
        }),
      )(environ, gateway().startResponse);
      expect(await drain(await body)).toBe('a,b\n,cd\n|ef,');
    });

    it('S2: refuses a read() that resolves to a string (gateway)', async () => {
      const input = Object.assign(new BytesInput(null), { read: async () => 'text' });
      const { environ } = request({ 'wsgi.input': input });
      const body = validate(using((env) => env['wsgi.input'].read()))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S2', 'gateway');
    });

    it('S2: refuses a readlines() that resolves to something other than an array of bytes (gateway)', async () => {
      const input = Object.assign(new BytesInput(null), { readlines: async () => ['a\n'] });
      const { environ } = request({ 'wsgi.input': input });
      const body = validate(using((env) => env['wsgi.input'].readlines()))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S2', 'gateway');
    });

    it('S2: refuses an input iterator that yields strings (gateway)', async () => {
      const input = Object.assign(new BytesInput(null), {
        async *[Symbol.asyncIterator]() {
          yield 'chunk';
        },
      });
      const { environ } = request({ 'wsgi.input': input });
      const body = validate(
        using(async (env) => {
          for await (const chunk of env['wsgi.input']) void chunk;
        }),
      )(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S2', 'gateway');
    });

    it('S2: iterating wsgi.input yields the body bytes', async () => {
      const { environ } = request({}, 'hello');
      const body = validate(
        using(async (env) => {
          let all = '';
          for await (const chunk of env['wsgi.input']) all += text(chunk);
          return all;
        }),
      )(environ, gateway().startResponse);
      expect(await drain(await body)).toBe('hello');
    });

    it('S3: refuses a read(2) that returns 5 bytes (gateway)', async () => {
      const input = Object.assign(new BytesInput(null), { read: async () => new Uint8Array(5) });
      const { environ } = request({ 'wsgi.input': input });
      const body = validate(using((env) => env['wsgi.input'].read(2)))(environ, gateway().startResponse);
      const err = await rejected(body);
      expectViolation(err, 'S3', 'gateway');
      expect((err as Error).message).toContain('read(2) returned 5 bytes');
    });

    it('S3: refuses a readline(1) that returns a whole line (gateway)', async () => {
      const input = Object.assign(new BytesInput(null), { readline: async () => new Uint8Array([0x61, 0x0a]) });
      const { environ } = request({ 'wsgi.input': input });
      const body = validate(using((env) => env['wsgi.input'].readline(1)))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S3', 'gateway');
    });

    it('S3: read(2) and readline(3) on a faithful input return at most that many bytes', async () => {
      const { environ } = request({}, 'abcdef\n');
      const body = validate(
        using(async (env) => `${text(await env['wsgi.input'].read(2))}|${text(await env['wsgi.input'].readline(3))}`),
      )(environ, gateway().startResponse);
      expect(await drain(await body)).toBe('ab|cde');
    });

    it('S4: refuses wsgi.input.close() from the app (app)', async () => {
      const { environ } = request();
      const body = validate(using((env) => (env['wsgi.input'] as unknown as { close(): void }).close()))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S4', 'app');
    });

    it('S4: refuses wsgi.errors.close() from the app (app)', async () => {
      const { environ } = request();
      const body = validate(using((env) => (env['wsgi.errors'] as unknown as { close(): void }).close()))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S4', 'app');
    });

    it('S5: refuses wsgi.errors.write() of a number (app)', async () => {
      const { environ } = request();
      const body = validate(using((env) => env['wsgi.errors'].write(42 as unknown as string)))(environ, gateway().startResponse);
      const err = await rejected(body);
      expectViolation(err, 'S5', 'app');
      expect((err as Error).message).toContain('number 42');
    });

    it('S5: refuses wsgi.errors.writelines() with a non-string item (app)', async () => {
      const { environ } = request();
      const body = validate(using((env) => env['wsgi.errors'].writelines(['ok', 1] as unknown as string[])))(environ, gateway().startResponse);
      expectViolation(await rejected(body), 'S5', 'app');
    });

    it('S5: text written to wsgi.errors reaches the gateway’s sink, and flush() passes through', async () => {
      const { environ, log } = request();
      const flush = vi.spyOn(log, 'flush');
      const body = validate(
        using((env) => {
          env['wsgi.errors'].write('one\n');
          env['wsgi.errors'].writelines(['two\n', 'three\n']);
          env['wsgi.errors'].flush();
        }),
      )(environ, gateway().startResponse);
      await drain(await body);
      expect(log.lines).toEqual(['one\n', 'two\n', 'three\n']);
      expect(flush).toHaveBeenCalledTimes(1);
    });
  });

  describe('startResponse (A2, R1–R3, R5, R7, H1, H2, B4)', () => {
    function calling(...args: unknown[]): App {
      return (_environ, start) => {
        loose(start)(...args);
        return [];
      };
    }

    function run(app: App, spy = gateway(), extra: Record<string, unknown> = {}): Body | Promise<Body> {
      return validate(app)(request(extra).environ, spy.startResponse);
    }

    it('A2: refuses startResponse with one argument (app)', () => {
      expectViolation(
        thrown(() => run(calling('200 OK'))),
        'A2',
        'app',
      );
    });

    it('A2: refuses startResponse with four arguments (app)', () => {
      expectViolation(
        thrown(() => run(calling('200 OK', TEXT, null, 'more'))),
        'A2',
        'app',
      );
    });

    it('A2: accepts three arguments with an empty excInfo, and passes all three on', () => {
      const spy = gateway();
      run(calling('200 OK', TEXT, undefined), spy);
      expect(spy.calls[0]!.args).toEqual(['200 OK', TEXT, undefined]);
      expect(spy.calls[0]!.args).toHaveLength(3);
    });

    const badStatuses: Array<[string, unknown]> = [
      ['a bare code', '200'],
      ['a code above 599', '600 Too High'],
      ['a code below 100', '099 Low'],
      ['no space after the code', '200OK'],
      ['CR LF in the reason', '200 OK\r\nX-Evil: 1'],
      ['a code point above U+00FF', '200 \u20ac'],
      ['a number', 200],
    ];

    it.each(badStatuses)('R1: refuses a status with %s (app)', (_what, status) => {
      const spy = gateway();
      expectViolation(
        thrown(() => run(calling(status, TEXT), spy)),
        'R1',
        'app',
      );
      expect(spy.calls).toEqual([]);
    });

    it('R1: accepts a latin-1 reason phrase and passes the status on as given', () => {
      const spy = gateway();
      run(calling('404 Nicht gef\u00fcnden', TEXT), spy);
      expect(spy.calls[0]!.args[0]).toBe('404 Nicht gef\u00fcnden');
    });

    const badHeaders: Array<[string, unknown]> = [
      ['CR LF in a value', [...TEXT, ['X-A', 'a\r\nb']]],
      ['a NUL in a value', [...TEXT, ['X-A', 'a\0b']]],
      ['a code point above U+00FF in a value', [...TEXT, ['X-A', '\u0100']]],
      ['a space in a name', [...TEXT, ['X A', 'b']]],
      ['a number as a value', [...TEXT, ['X-A', 1]]],
      ['a three-element pair', [[...TEXT[0]!, 'extra']]],
      ['an object instead of an array', { 'Content-Type': 'text/plain' }],
      ['a Status header', [...TEXT, ['Status', '200 OK']]],
      ['two different Content-Length headers', [...TEXT, ['Content-Length', '1'], ['Content-Length', '2']]],
      ['the same Content-Length twice', [...TEXT, ['Content-Length', '1'], ['Content-Length', '1']]],
      ['a Content-Length that is not a number', [...TEXT, ['Content-Length', 'ten']]],
    ];

    it.each(badHeaders)('R2: refuses headers with %s (app)', (_what, headers) => {
      const spy = gateway();
      expectViolation(
        thrown(() => run(calling('200 OK', headers), spy)),
        'R2',
        'app',
      );
      expect(spy.calls).toEqual([]);
    });

    it('R2: accepts latin-1 values, a tab, and repeated Set-Cookie pairs', () => {
      const headers = [...TEXT, ['X-Name', 'caf\u00e9\tbar'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']];
      const spy = gateway();
      run(calling('200 OK', headers), spy);
      expect(spy.calls[0]!.args[1]).toEqual(headers);
    });

    it.each(['Connection', 'transfer-encoding', 'Keep-Alive', 'Upgrade'])('R3: refuses the hop-by-hop header %s (app)', (name) => {
      expectViolation(
        thrown(() => run(calling('200 OK', [...TEXT, [name, 'x']]))),
        'R3',
        'app',
      );
    });

    it('R3: accepts an end-to-end header whose name looks alike (Content-Language)', () => {
      const spy = gateway();
      run(calling('200 OK', [...TEXT, ['Content-Language', 'de']]), spy);
      expect(spy.calls).toHaveLength(1);
    });

    it('R5: refuses a second startResponse without excInfo, naming both statuses (app)', () => {
      const err = thrown(() =>
        run((_environ, start) => {
          start('200 OK', TEXT);
          start('404 Not Found', TEXT);
          return [];
        }),
      );
      expectViolation(err, 'R5', 'app');
      expect((err as Error).message).toContain('"200 OK"');
      expect((err as Error).message).toContain('"404 Not Found"');
    });

    it('R5: a refused call is not a first call, so the next good one goes through', () => {
      const spy = gateway();
      run((_environ, start) => {
        expect(() => start('200 OK', [['Bad Name', 'x']])).toThrow(WsgiValidationError);
        start('200 OK', TEXT);
        return [];
      }, spy);
      expect(spy.calls).toHaveLength(1);
    });

    it('R5: a second call with excInfo before the head went out replaces the head', async () => {
      const spy = gateway();
      const failure = new Error('boom');
      const body = run((_environ, start) => {
        start('200 OK', TEXT);
        start('500 Internal Server Error', TEXT, failure);
        return ['failed'];
      }, spy);
      expect(await drain(await body)).toBe('failed');
      expect(spy.calls.map((c) => c.args[0])).toEqual(['200 OK', '500 Internal Server Error']);
      expect(spy.calls[1]!.args[2]).toBe(failure); // [M2] excInfo passes through
    });

    /** A generator app that sends a chunk, then fails and calls startResponse with excInfo. */
    function failingAfterHead(failure: Error): App {
      return (_environ, start) =>
        (function* () {
          start('200 OK', TEXT);
          yield 'partial';
          start('500 Internal Server Error', TEXT, failure);
          yield 'never';
        })();
    }

    it('R5: after the head went out, startResponse with excInfo throws that excInfo back to the app', () => {
      const spy = gateway();
      const failure = new Error('boom');
      const iterator = syncIterator(run(failingAfterHead(failure), spy));
      expect(iterator.next().value).toBe('partial');
      spy.headSent = true;
      expect(thrown(() => iterator.next())).toBe(failure);
    });

    it.each([
      ['returns instead of throwing excInfo back', 'nothing'],
      ['throws something other than excInfo', 'other'],
    ] as const)('R5: a gateway whose startResponse %s is reported (gateway)', (_what, rethrow) => {
      const spy = gateway({ rethrow });
      const iterator = syncIterator(run(failingAfterHead(new Error('boom')), spy));
      iterator.next();
      spy.headSent = true;
      expectViolation(
        thrown(() => iterator.next()),
        'R5',
        'gateway',
      );
    });

    it('R5: after a non-empty write(), excInfo is thrown back to the app (the head is committed)', () => {
      const failure = new Error('after write');
      const body = run((_environ, start) => {
        start('200 OK', TEXT)('written;');
        try {
          start('500 Internal Server Error', TEXT, failure);
          return ['replaced'];
        } catch (err) {
          return [err === failure ? 'thrown back' : 'other'];
        }
      });
      expect(body).toEqual(['thrown back']);
    });

    it('R5: a gateway that lets excInfo replace the head after a non-empty write() is reported (gateway)', () => {
      const err = thrown(() =>
        run((_environ, start) => {
          start('200 OK', TEXT)('written;');
          start('500 Internal Server Error', TEXT, new Error('after write'));
          return [];
        }, gateway({ rethrow: 'nothing' })),
      );
      expectViolation(err, 'R5', 'gateway');
    });

    it('R7: refuses write() of a number (app)', () => {
      const err = thrown(() =>
        run((_environ, start) => {
          const write = loose(start)('200 OK', TEXT) as (chunk: unknown) => void;
          write(7);
          return [];
        }),
      );
      expectViolation(err, 'R7', 'app');
      expect((err as Error).message).toContain('number 7');
    });

    it('R7: write() of a string and of bytes reaches the gateway’s write in order', () => {
      const spy = gateway();
      const bytes = new Uint8Array([0x62]);
      run((_environ, start) => {
        const write = start('200 OK', TEXT);
        write('a');
        write(bytes);
        return [];
      }, spy);
      expect(spy.written).toEqual(['a', bytes]);
    });

    it('R7: a startResponse that returns no write function is reported (gateway)', () => {
      expectViolation(
        thrown(() => run(calling('200 OK', TEXT), gateway({ returns: undefined }))),
        'R7',
        'gateway',
      );
    });

    it('H1: a 200 without Content-Type is a warning on wsgi.errors, not an error (the contract allows it, B8)', () => {
      const { environ, log } = request();
      const spy = gateway();
      validate(calling('200 OK', [['Content-Length', '0']]))(environ, spy.startResponse);
      expect(spy.calls).toHaveLength(1);
      expect(log.text).toMatch(/warning H1 \(app\): startResponse: a 200 response has no Content-Type header/);
    });

    it('WsgiValidationError is a TypeError, as startResponse refusals are [R2]', () => {
      const err = thrown(() => run(calling('200 OK', [['X-Bad', 'a\r\nb']])));
      expect(err).toBeInstanceOf(TypeError);
      expect(err).toBeInstanceOf(WsgiValidationError);
      expect((err as WsgiValidationError).name).toBe('WsgiValidationError');
    });

    it.each(['204 No Content', '304 Not Modified', '103 Early Hints'])('H1: refuses a Content-Type on a %s (app)', (status) => {
      expectViolation(
        thrown(() => run(calling(status, TEXT))),
        'H1',
        'app',
      );
    });

    it.each([
      ['204 No Content', []],
      ['304 Not Modified', [['ETag', '"v1"']]],
      ['302 Found', [['Location', '/next'], ['Content-Type', 'text/html']]],
    ])('H1: accepts a %s that follows the Content-Type rule', (status, headers) => {
      const spy = gateway();
      run(calling(status, headers), spy);
      expect(spy.calls).toHaveLength(1);
    });

    it.each(['abc', 'w/"abc"', '"a"b"', 'W/abc'])('H2: refuses the malformed ETag %s (app)', (etag) => {
      const err = thrown(() => run(calling('200 OK', [...TEXT, ['ETag', etag]])));
      expectViolation(err, 'H2', 'app');
      expect((err as Error).message).toContain(JSON.stringify(etag));
    });

    it.each(['"abc"', 'W/"abc"', '""'])('H2: accepts the ETag %s', (etag) => {
      const spy = gateway();
      run(calling('200 OK', [...TEXT, ['ETag', etag]]), spy);
      expect(spy.calls).toHaveLength(1);
    });

    it('H2: accepts a relative Location (RFC 9110 allows it, unlike Werkzeug’s lint)', () => {
      const spy = gateway();
      run(calling('303 See Other', [...TEXT, ['Location', '../elsewhere']]), spy);
      expect(spy.calls).toHaveLength(1);
    });

    it.each([
      ['204 No Content', []],
      ['101 Switching Protocols', []],
    ])('B4: refuses a non-zero Content-Length on a %s (app)', (status, headers) => {
      expectViolation(
        thrown(() => run(calling(status, [...(headers as Array<[string, string]>), ['Content-Length', '5']]))),
        'B4',
        'app',
      );
    });

    it('B4: accepts Content-Length 0 on a 204, and the 200’s length on a 304', () => {
      const spy = gateway();
      run(calling('204 No Content', [['Content-Length', '0']]), spy);
      run(calling('304 Not Modified', [['Content-Length', '1234']]), spy);
      expect(spy.calls).toHaveLength(2);
    });
  });

  describe('what the app returns (C2) and its chunks (C1)', () => {
    const notBodies: Array<[string, unknown]> = [
      ['null', null],
      ['undefined', undefined],
      ['a string', 'hello'],
      ['a Buffer', Buffer.from('hello')],
      ['a number', 42],
      ['a plain object', { text: 'hello' }],
    ];

    it.each(notBodies)('C2: refuses an app that returns %s (app)', (_what, value) => {
      const { environ } = request();
      const app: App = (_environ, start) => {
        start('200 OK', TEXT);
        return value as Body;
      };
      expectViolation(
        thrown(() => validate(app)(environ, gateway().startResponse)),
        'C2',
        'app',
      );
    });

    it('C2: refuses an async app that resolves to a string (app)', async () => {
      const { environ } = request();
      const app: App = async (_environ, start) => {
        start('200 OK', TEXT);
        return 'hello' as unknown as Body;
      };
      const err = await rejected(validate(app)(environ, gateway().startResponse));
      expectViolation(err, 'C2', 'app');
      expect((err as Error).message).toContain('return [body] instead');
    });

    it('C2: a refused body that offers close() is closed, so nothing leaks', () => {
      const { environ } = request();
      const close = vi.fn();
      expect(() => validate(answering('200 OK', TEXT, { close }))(environ, gateway().startResponse)).toThrow(WsgiValidationError);
      expect(close).toHaveBeenCalledTimes(1);
    });

    it('C2: a refused body whose close() rejects has the failure logged on wsgi.errors, not lost', async () => {
      const { environ, log } = request();
      const close = () => Promise.reject(new Error('close failed'));
      expect(() => validate(answering('200 OK', TEXT, { close }))(environ, gateway().startResponse)).toThrow(WsgiValidationError);
      await new Promise((resolve) => setImmediate(resolve));
      expect(log.text).toContain('Error: close failed');
    });

    it('C2: accepts an array, a generator, an async generator and a Set', async () => {
      const bodies: unknown[] = [
        ['a'],
        (function* () {
          yield 'a';
        })(),
        (async function* () {
          yield 'a';
        })(),
        new Set(['a']),
      ];
      for (const value of bodies) {
        const { environ } = request();
        const body = validate(answering('200 OK', TEXT, value))(environ, gateway().startResponse);
        expect(await drain(await body)).toBe('a');
      }
    });

    it('C1: a generator that yields a number fails in next(), and the generator is ended (app)', () => {
      const { environ } = request();
      const { body, state } = closable(['ok', 42 as unknown as Chunk, 'never']);
      const iterator = syncIterator(validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse));
      expect(iterator.next().value).toBe('ok');
      const err = thrown(() => iterator.next());
      expectViolation(err, 'C1', 'app');
      expect((err as Error).message).toContain('number 42');
      expect(state.finallyRan).toBe(true);
    });

    it('C1: an array with a number fails when the app returns, and the array’s close() runs (app)', () => {
      const { environ } = request();
      const close = vi.fn();
      const body = Object.assign(['ok', { not: 'a chunk' }], { close });
      expectViolation(
        thrown(() => validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse)),
        'C1',
        'app',
      );
      expect(close).toHaveBeenCalledTimes(1);
    });

    it('C1: an async generator that yields null fails in next() (app)', async () => {
      const { environ } = request();
      const gen = (async function* () {
        yield null as unknown as Chunk;
      })();
      const iterator = asyncIterator(validate(answering('200 OK', TEXT, gen))(environ, gateway().startResponse));
      expectViolation(await rejected(iterator.next()), 'C1', 'app');
    });

    it('C1: strings, Buffers and other Uint8Arrays are chunks', async () => {
      const { environ } = request();
      const body = validate(answering('200 OK', TEXT, ['a', Buffer.from('b'), new Uint8Array([0x63])]))(environ, gateway().startResponse);
      expect(await drain(await body)).toBe('abc');
    });
  });

  describe('when startResponse comes (R6)', () => {
    it('R6: a generator that yields a non-empty chunk before startResponse fails in next() (app)', () => {
      const { environ } = request();
      const app: App = (_environ, start) =>
        (function* () {
          yield 'too early';
          start('200 OK', TEXT);
        })();
      const err = thrown(() => syncIterator(validate(app)(environ, gateway().startResponse)).next());
      expectViolation(err, 'R6', 'app');
      expect((err as Error).message).toContain('"too early"');
    });

    it('R6: startResponse inside the first iteration, after an empty chunk, is in time', async () => {
      const { environ } = request();
      const spy = gateway();
      const app: App = (_environ, start) =>
        (function* () {
          yield '';
          start('200 OK', TEXT);
          yield 'late but fine';
        })();
      expect(await drain(validate(app)(environ, spy.startResponse) as Body)).toBe('late but fine');
      expect(spy.calls).toHaveLength(1);
    });

    it('R6: a generator that ends without ever calling startResponse fails at its end (app)', () => {
      const { environ } = request();
      const app: App = () => (function* () {})();
      const iterator = syncIterator(validate(app)(environ, gateway().startResponse));
      const err = thrown(() => iterator.next());
      expectViolation(err, 'R6', 'app');
      expect((err as Error).message).toContain('startResponse was never called');
    });

    it('R6: an app that returns [] without calling startResponse fails at once (app)', () => {
      const { environ } = request();
      expectViolation(
        thrown(() => validate(() => [])(environ, gateway().startResponse)),
        'R6',
        'app',
      );
    });

    it('R6: an async app that resolves to [] without calling startResponse rejects (app)', async () => {
      const { environ } = request();
      expectViolation(await rejected(validate(async () => [])(environ, gateway().startResponse)), 'R6', 'app');
    });
  });

  describe('Content-Length against the bytes produced (B3)', () => {
    it('B3: a body that ends short of its Content-Length fails at its end (app)', () => {
      const { environ } = request();
      const gen = (function* () {
        yield 'abc';
      })();
      const iterator = syncIterator(validate(answering('200 OK', [...TEXT, ['Content-Length', '5']], gen))(environ, gateway().startResponse));
      expect(iterator.next().value).toBe('abc');
      const err = thrown(() => iterator.next());
      expectViolation(err, 'B3', 'app');
      expect((err as Error).message).toContain('after 3 bytes, fewer than its Content-Length of 5');
    });

    it('B3: a chunk that runs past the Content-Length is a warning, once: the gateway stops there and cuts it (PEP 3333)', () => {
      const { environ, log } = request();
      const gen = (function* () {
        yield 'abcde';
        yield 'fgh';
      })();
      const iterator = syncIterator(validate(answering('200 OK', [...TEXT, ['Content-Length', '3']], gen))(environ, gateway().startResponse));
      expect(iterator.next().value).toBe('abcde');
      expect(iterator.next().value).toBe('fgh');
      expect(log.lines.filter((line) => line.includes('warning B3 (app)'))).toHaveLength(1);
      expect(log.text).toContain('a body chunk brought the body to 5 bytes, more than its Content-Length of 3');
    });

    it('B3: a file_wrapper body under the Content-Length of its first part goes out as that part, through testClient', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'node-wsgi-b3-'));
      try {
        const file = path.join(dir, 'ten.txt');
        writeFileSync(file, '0123456789');
        const app: App = (environ, start) => {
          start('200 OK', [...TEXT, ['Content-Length', '4']]);
          return environ['wsgi.file_wrapper']!(file);
        };
        const response = await testClient(app).get('/');
        expect([response.status, response.text()]).toEqual([200, '0123']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('B3: write() past the Content-Length fails in write() (app)', () => {
      const { environ } = request();
      const app: App = (_environ, start) => {
        const write = start('200 OK', [...TEXT, ['Content-Length', '2']]);
        write('abc');
        return [];
      };
      expectViolation(
        thrown(() => validate(app)(environ, gateway().startResponse)),
        'B3',
        'app',
      );
    });

    it('B3: an array short of its Content-Length fails when the app returns (app)', () => {
      const { environ } = request();
      expectViolation(
        thrown(() => validate(answering('200 OK', [...TEXT, ['Content-Length', '10']], ['short']))(environ, gateway().startResponse)),
        'B3',
        'app',
      );
    });

    it('B3: lengths are counted in UTF-8 bytes, across write() and the body', async () => {
      const { environ } = request();
      const spy = gateway();
      const app: App = (_environ, start) => {
        start('200 OK', [...TEXT, ['Content-Length', '5']])('caf');
        return (function* () {
          yield '\u00e9'; // two bytes in UTF-8
        })();
      };
      expect(await drain(validate(app)(environ, spy.startResponse) as Body)).toBe('\u00c3\u00a9');
      expect(spy.written).toEqual(['caf']);
    });

    it('B3: HEAD and 304 may declare a length without producing the bytes', () => {
      const head = request({ REQUEST_METHOD: 'HEAD' }).environ;
      expect(validate(answering('200 OK', [...TEXT, ['Content-Length', '10']], []))(head, gateway().startResponse)).toEqual([]);
      const get = request().environ;
      expect(validate(answering('304 Not Modified', [['Content-Length', '10']], []))(get, gateway().startResponse)).toEqual([]);
    });

    it('B3: a body produced for a 204 is not counted (the gateway drops it)', () => {
      const { environ } = request();
      expect(validate(answering('204 No Content', [], ['dropped']))(environ, gateway().startResponse)).toEqual(['dropped']);
    });
  });

  describe('close() and the end of iteration (B5, M1, M2)', () => {
    it('B5: next() after close() fails with "iterator read after closed" (gateway)', () => {
      const { environ } = request();
      const { body } = closable(['a', 'b']);
      const checked = validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse) as Body & Iterable<Chunk>;
      const iterator = checked[Symbol.iterator]();
      iterator.next();
      void checked.close!();
      const err = thrown(() => iterator.next());
      expectViolation(err, 'B5', 'gateway');
      expect((err as Error).message).toContain('iterator read after closed');
    });

    it('B5: a second close() fails and is not forwarded (gateway)', () => {
      const { environ } = request();
      const { body, state } = closable(['a']);
      const checked = validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse) as Body;
      void checked.close!();
      expectViolation(
        thrown(() => checked.close!()),
        'B5',
        'gateway',
      );
      expect(state.closes).toBe(1);
    });

    it('B5: a second close() on a checked array copy fails too (gateway)', () => {
      const { environ } = request();
      const close = vi.fn();
      const checked = validate(answering('200 OK', TEXT, Object.assign(['a'], { close })))(environ, gateway().startResponse) as Body;
      void checked.close!();
      expectViolation(
        thrown(() => checked.close!()),
        'B5',
        'gateway',
      );
      expect(close).toHaveBeenCalledTimes(1);
    });

    it('B5: close() reaches the child body exactly once, and return() runs its finally', () => {
      const { environ } = request();
      const { body, state } = closable(['a', 'b', 'c']);
      const checked = validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse) as Body & Iterable<Chunk>;
      const iterator = checked[Symbol.iterator]();
      iterator.next();
      iterator.return!();
      void checked.close!();
      expect(state).toEqual({ closes: 1, finallyRan: true, pulled: 1 });
    });

    it('B5: a body whose iteration ended but was never closed is reported on wsgi.errors (gateway)', async () => {
      vi.useFakeTimers();
      const { environ, log } = request();
      const { body } = closable(['a']);
      const checked = validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse) as Body & Iterable<Chunk>;
      for (const chunk of checked) void chunk;
      expect(log.lines).toEqual([]);
      await vi.advanceTimersByTimeAsync(1000);
      expect(log.text).toMatch(/warning B5 \(gateway\): .*close\(\) was never called/);
    });

    it('B5: a body closed mid-iteration without return() is reported on wsgi.errors (gateway)', async () => {
      vi.useFakeTimers();
      const { environ, log } = request();
      const { body, state } = closable(['a', 'b']);
      const checked = validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse) as Body & Iterable<Chunk>;
      checked[Symbol.iterator]().next();
      void checked.close!();
      await vi.advanceTimersByTimeAsync(1000);
      expect(log.text).toMatch(/warning B5 \(gateway\): .*without a call to its iterator’s return\(\)/);
      expect(state.finallyRan).toBe(false);
    });

    it('B5: a body iterated to its end and closed leaves nothing on wsgi.errors', async () => {
      vi.useFakeTimers();
      const { environ, log } = request();
      const { body } = closable(['a']);
      await drain(validate(answering('200 OK', TEXT, body))(environ, gateway().startResponse) as Body);
      await vi.advanceTimersByTimeAsync(1000);
      expect(log.lines).toEqual([]);
    });

    it('B5: a read begun before close() settles as the child answers, unchecked (the gateway drops it)', async () => {
      let answer: (step: IteratorResult<Chunk>) => void = () => {};
      const child: AsyncIterable<Chunk> = {
        [Symbol.asyncIterator]: () => ({
          next: () => new Promise<IteratorResult<Chunk>>((resolve) => (answer = resolve)),
        }),
      };
      const checked = validate(answering('200 OK', TEXT, child))(request().environ, gateway().startResponse) as Body;
      const pending = asyncIterator(checked).next();
      void checked.close!();
      answer({ done: false, value: 42 as unknown as Chunk });
      expect(await pending).toEqual({ done: false, value: 42 });
    });

    it('M1: keeps a synchronous body synchronous and an asynchronous one asynchronous', () => {
      const sync = validate(answering('200 OK', TEXT, new Set(['a'])))(request().environ, gateway().startResponse) as object;
      expect(Symbol.iterator in sync).toBe(true);
      expect(Symbol.asyncIterator in sync).toBe(false);
      const gen = (async function* () {
        yield 'a';
      })();
      const async = validate(answering('200 OK', TEXT, gen))(request().environ, gateway().startResponse) as object;
      expect(Symbol.asyncIterator in async).toBe(true);
      expect(Symbol.iterator in async).toBe(false);
    });

    it('M1: an array comes back as an array copy with the same chunks', () => {
      const chunks = ['a', Buffer.from('b')];
      const checked = validate(answering('200 OK', TEXT, chunks))(request().environ, gateway().startResponse);
      expect(Array.isArray(checked)).toBe(true);
      expect(checked).toEqual(chunks);
      expect(checked).not.toBe(chunks);
    });

    it('M1: returns the body before pulling any chunk, and pulls one chunk per next()', () => {
      const { body, state } = closable(['a', 'b', 'c']);
      const checked = validate(answering('200 OK', TEXT, body))(request().environ, gateway().startResponse);
      expect(state.pulled).toBe(0);
      const iterator = syncIterator(checked);
      iterator.next();
      expect(state.pulled).toBe(1);
    });

    it('M2: an async body’s return() reaches the child, so its finally runs', async () => {
      let finallyRan = false;
      const gen = (async function* () {
        try {
          yield 'a';
          yield 'b';
        } finally {
          finallyRan = true;
        }
      })();
      const iterator = asyncIterator(validate(answering('200 OK', TEXT, gen))(request().environ, gateway().startResponse));
      await iterator.next();
      await iterator.return!();
      expect(finallyRan).toBe(true);
    });
  });

  describe('under core’s gateway (runApp), no sockets', () => {
    /** Pulls a settled response to its end, as every core gateway does. */
    async function pullAll(app: App, environ: Environ): Promise<string> {
      const response = await runApp(app, environ);
      const parts: Uint8Array[] = [];
      for (;;) {
        let chunk = response.nextChunk();
        if (chunk !== null && !(chunk instanceof Uint8Array)) chunk = await chunk;
        if (chunk === null) break;
        parts.push(chunk);
      }
      return Buffer.concat(parts).toString('latin1');
    }

    it('B5: stopping at Content-Length calls return() then close(), so validate reports nothing', async () => {
      vi.useFakeTimers();
      const { environ, log } = request();
      const { body, state } = closable(['abc', 'def']);
      expect(await pullAll(validate(answering('200 OK', [...TEXT, ['Content-Length', '3']], body)), environ)).toBe('abc');
      await vi.advanceTimersByTimeAsync(1000);
      expect(state).toEqual({ closes: 1, finallyRan: true, pulled: 1 });
      expect(log.lines).toEqual([]);
    });

    it('B5: a HEAD response closes the body without reading it, and validate reports nothing', async () => {
      vi.useFakeTimers();
      const { environ, log } = request({ REQUEST_METHOD: 'HEAD' });
      const { body, state } = closable(['abc']);
      expect(await pullAll(validate(answering('200 OK', TEXT, body)), environ)).toBe('');
      await vi.advanceTimersByTimeAsync(1000);
      expect(state.closes).toBe(1);
      expect(log.lines).toEqual([]);
    });

    it('R6: an async body that calls startResponse in its first step streams through', async () => {
      const { environ, log } = request();
      const app: App = (_environ, start) =>
        (async function* () {
          start('200 OK', TEXT);
          yield 'one ';
          yield 'two';
        })();
      expect(await pullAll(validate(app), environ)).toBe('one two');
      expect(log.lines).toEqual([]);
    });
  });

  describe('behind toNodeListener, over HTTP', () => {
    async function listen(app: App): Promise<{ url: string; log: Log; close(): Promise<void> }> {
      const log = new Log();
      const server = http.createServer(toNodeListener(validate(app), { errors: log }));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        log,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    }

    it('the environ toNodeListener builds passes, and a POST body is read through the checked input', async () => {
      const served = await listen(async (environ, start) => {
        const body = await environ['wsgi.input'].read();
        start('200 OK', [['Content-Type', 'application/octet-stream']]);
        return [body];
      });
      try {
        const response = await fetch(`${served.url}/echo?x=1`, { method: 'POST', body: 'hello' });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('hello');
        expect(served.log.lines).toEqual([]);
      } finally {
        await served.close();
      }
    });

    it('R2: an app that sets a header value with CR LF answers the client 500, and the log names R2', async () => {
      const served = await listen(answering('200 OK', [...TEXT, ['X-Evil', 'a\r\nSet-Cookie: admin=1']], ['ok']));
      try {
        const response = await fetch(`${served.url}/`);
        expect(response.status).toBe(500);
        expect(response.headers.get('set-cookie')).toBeNull();
        expect(served.log.text).toContain('WsgiValidationError: the app broke rule R2');
      } finally {
        await served.close();
      }
    });

    it('B3: a streamed body short of its Content-Length aborts the response, and the log names B3', async () => {
      const served = await listen((_environ, start) => {
        start('200 OK', [...TEXT, ['Content-Length', '10']]);
        return (async function* () {
          yield 'abc';
        })();
      });
      try {
        // Headers went out with the first chunk: the client sees the body cut off, never a whole one.
        await expect(fetch(`${served.url}/`).then((response) => response.text())).rejects.toThrow();
        expect(served.log.text).toContain('WsgiValidationError: the app broke rule B3');
      } finally {
        await served.close();
      }
    });
  });
});
