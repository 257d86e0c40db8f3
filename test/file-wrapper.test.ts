// SPEC §5 wsgi.file_wrapper over real HTTP: a file path, an open FileHandle and a Node Readable as a
// body; Content-Length honoured; the file closed on every ending.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App, Body, Chunk, Environ, FileWrapper } from '../packages/core/src/index.js';
import { cleanup, get, pause, RawClient, roundTrip, serveApp, until } from './support/wire.js';

let dir: string;
let smallPath: string;
let bigPath: string;
let small: Buffer;
let big: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-wsgi-file-wrapper-'));
  small = Buffer.from('0123456789'.repeat(250)); // 2500 bytes
  big = randomBytes(3 * 1024 * 1024 + 17);
  smallPath = join(dir, 'small.txt');
  bigPath = join(dir, 'big.bin');
  await writeFile(smallPath, small);
  await writeFile(bigPath, big);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(cleanup);

function wrapper(environ: Environ): FileWrapper {
  const wrap = environ['wsgi.file_wrapper'];
  if (typeof wrap !== 'function') throw new Error('no wsgi.file_wrapper in environ');
  return wrap;
}

/** Counts the gateway's close() calls on a body, forwarding each to the body's own close(). */
function countingClose(body: Body, counter: { closes: number }): Body {
  const close = body.close?.bind(body);
  body.close = () => {
    counter.closes++;
    return close?.();
  };
  return body;
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The chunk sizes of a chunked response, from its raw bytes. */
function chunkSizes(raw: Buffer): number[] {
  const sizes: number[] = [];
  let at = raw.indexOf('\r\n\r\n') + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) return sizes;
    sizes.push(size);
    at = lineEnd + 2 + size + 2;
  }
}

describe('environ["wsgi.file_wrapper"](file, blockSize) [§5]', () => {
  it('§5: serves a file path byte for byte, and close() is called', async () => {
    const counter = { closes: 0 };
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(big.length)]]);
      return countingClose(wrapper(environ)(bigPath), counter);
    });
    const response = await roundTrip(port, get('/big.bin'));
    expect(response.body.length).toBe(big.length);
    expect(sha(response.body)).toBe(sha(big));
    await until(() => counter.closes === 1, 'close()');
  });

  it('§5: a file path without Content-Length is streamed chunked, in blocks of blockSize', async () => {
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return wrapper(environ)(smallPath, 1000);
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readResponse();
    expect(response.body.equals(small)).toBe(true);
    expect(chunkSizes(response.raw)).toEqual([1000, 1000, 500]);
  });

  it('§5: serves an open FileHandle and closes it', async () => {
    const handle = await open(smallPath, 'r');
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Length', String(small.length)]]);
      return wrapper(environ)(handle);
    });
    const response = await roundTrip(port, get());
    expect(response.body.equals(small)).toBe(true);
    await until(() => handle.fd === -1, 'the FileHandle to be closed');
  });

  it('§5: a FileHandle is read from its current position', async () => {
    const handle = await open(smallPath, 'r');
    await handle.read(Buffer.alloc(2400), 0, 2400, null);
    const { port } = await serveApp((environ, start) => {
      start('200 OK', []);
      return wrapper(environ)(handle);
    });
    const response = await roundTrip(port, get());
    expect(response.body.equals(small.subarray(2400))).toBe(true);
    await until(() => handle.fd === -1, 'the FileHandle to be closed');
  });

  it('§5: serves a Node Readable (fs.createReadStream) and destroys it at the end', async () => {
    const stream = createReadStream(bigPath);
    const { port } = await serveApp((environ, start) => {
      start('200 OK', []);
      return wrapper(environ)(stream);
    });
    const response = await roundTrip(port, get());
    expect(sha(response.body)).toBe(sha(big));
    await until(() => stream.destroyed, 'the stream to be destroyed');
  });

  it('§5: a Readable of strings is sent as UTF-8', async () => {
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return wrapper(environ)(Readable.from(['caf\u00e9 ', '\u6587']));
    });
    const response = await roundTrip(port, get());
    expect(response.body.toString('utf8')).toBe('caf\u00e9 \u6587');
  });

  it('§5: honours Content-Length: a longer file is cut at it, the file closed, the connection reused', async () => {
    const handle = await open(bigPath, 'r');
    const { port } = await serveApp((environ, start) => {
      if (environ.PATH_INFO !== '/part') {
        start('200 OK', []);
        return ['next'];
      }
      start('206 Partial Content', [['Content-Length', '1000']]);
      return wrapper(environ)(handle, 4096);
    });
    const client = await RawClient.connect(port);
    client.write(get('/part'));
    const part = await client.readResponse();
    expect(part.body.equals(big.subarray(0, 1000))).toBe(true);
    await until(() => handle.fd === -1, 'the FileHandle to be closed');
    client.write(get('/after'));
    const after = await client.readResponse();
    expect(after.body.toString()).toBe('next');
  });

  it('§5: honours Content-Length for a Readable, and destroys it there', async () => {
    const stream = createReadStream(bigPath);
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Length', '70000']]);
      return wrapper(environ)(stream);
    });
    const response = await roundTrip(port, get());
    expect(response.body.equals(big.subarray(0, 70000))).toBe(true);
    await until(() => stream.destroyed, 'the stream to be destroyed');
  });

  it('§5: a file shorter than its Content-Length closes the connection', async () => {
    const { port, errors } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Length', String(small.length + 10)]]);
      return wrapper(environ)(smallPath);
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expect(response.body.equals(small)).toBe(true);
    expect(errors.text).toMatch(/short of its Content-Length/);
  });

  it('§5: a client that leaves mid-file gets the file closed, without an error logged', async () => {
    const handle = await open(bigPath, 'r');
    const { port, errors } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Length', String(big.length)]]);
      return wrapper(environ)(handle);
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    client.write(get());
    await pause(100);
    client.destroy();
    await until(() => handle.fd === -1, 'the FileHandle to be closed');
    await pause(50);
    expect(errors.text).toBe('');
  });

  it('§5: a client that leaves mid-stream gets the Readable destroyed, without an error logged', async () => {
    const stream = createReadStream(bigPath, { highWaterMark: 16 * 1024 });
    const { port, errors } = await serveApp((environ, start) => {
      start('200 OK', []);
      return wrapper(environ)(stream);
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    client.write(get());
    await pause(100);
    client.destroy();
    await until(() => stream.destroyed, 'the stream to be destroyed');
    await pause(50);
    expect(errors.text).toBe('');
  });

  it('§5: a client that leaves while the Readable waits for data gets it destroyed, without an error logged', async () => {
    let pushed = false;
    const quiet = new Readable({
      read() {
        // One chunk, then nothing more, ever.
        if (!pushed) this.push('first;');
        pushed = true;
      },
    });
    const { port, errors } = await serveApp((environ, start) => {
      start('200 OK', []);
      return wrapper(environ)(quiet);
    });
    const client = await RawClient.connect(port);
    client.write(get());
    await until(() => client.data.includes('first;'), 'the first chunk');
    await pause(20);
    client.destroy();
    await until(() => quiet.destroyed, 'the stream to be destroyed');
    await pause(50);
    expect(errors.text).toBe('');
  });

  it('§5: HEAD sends no bytes of the file and closes it', async () => {
    const handle = await open(smallPath, 'r');
    const { port } = await serveApp((environ, start) => {
      start('200 OK', [['Content-Length', String(small.length)]]);
      return wrapper(environ)(handle);
    });
    const client = await RawClient.connect(port);
    client.write(get('/', '', 'HEAD'));
    const head = await client.readResponse({ head: true });
    expect(head.header('content-length')).toBe(String(small.length));
    await until(() => handle.fd === -1, 'the FileHandle to be closed');
    client.write(get('/', '', 'HEAD'));
    await client.readResponse({ head: true });
    expect(client.rest.length).toBe(0);
  });

  it('§5: a missing file is a 500 (the error comes before the head)', async () => {
    const { port, errors } = await serveApp((environ, start) => {
      start('200 OK', []);
      return wrapper(environ)(join(dir, 'no-such-file'));
    });
    const response = await roundTrip(port, get());
    expect(response.status).toBe(500);
    expect(errors.text).toContain('ENOENT');
  });

  it('§5: a Readable that fails mid-stream aborts the response', async () => {
    let pushed = false;
    const failing = new Readable({
      read() {
        if (!pushed) this.push('some bytes;');
        else setImmediate(() => this.destroy(new Error('disk on fire')));
        pushed = true;
      },
    });
    const { port, errors } = await serveApp((environ, start) => {
      start('200 OK', []);
      return wrapper(environ)(failing);
    });
    const client = await RawClient.connect(port);
    client.write(get());
    const response = await client.readUntilClose();
    expect(response.terminated).toBe(false);
    expect(errors.text).toContain('disk on fire');
  });

  it('§5: middleware that replaces the body loses the fast path, not correctness: the file still closes', async () => {
    const handle = await open(smallPath, 'r');
    const inner: App = (environ, start) => {
      start('200 OK', [['Content-Length', String(small.length)]]);
      return wrapper(environ)(handle);
    };
    // An uppercasing middleware that forwards close() and drops Content-Length [M2, M3].
    const upper: App = async (environ, start) => {
      const body = await inner(environ, (status, headers, excInfo) =>
        start(status, headers.filter(([n]) => n.toLowerCase() !== 'content-length'), excInfo),
      );
      const out = (async function* (): AsyncGenerator<Chunk> {
        for await (const chunk of body as AsyncIterable<Chunk>) yield Buffer.from(chunk).toString().toUpperCase();
      })();
      return Object.assign(out, { close: () => body.close?.() });
    };
    const { port } = await serveApp(upper);
    const response = await roundTrip(port, get());
    expect(response.body.toString()).toBe(small.toString().toUpperCase());
    await until(() => handle.fd === -1, 'the FileHandle to be closed');
  });

  for (const [what, file] of [
    ['a number', 42],
    ['null', null],
    ['a plain object', { path: '/etc/passwd' }],
    ['a Buffer', Buffer.from('data')],
  ] as Array<[string, unknown]>) {
    it(`§5: ${what} is refused with a TypeError the app can catch`, async () => {
      const { port } = await serveApp((environ, start) => {
        start('200 OK', []);
        try {
          wrapper(environ)(file);
          return ['accepted'];
        } catch (err) {
          return [`${(err as Error).name}: ${(err as Error).message}`];
        }
      });
      const body = (await roundTrip(port, get())).body.toString();
      expect(body).toMatch(/^TypeError: wsgi\.file_wrapper/);
    });
  }

  it('§5: a blockSize that is not a positive whole number is refused', async () => {
    const { port } = await serveApp((environ, start) => {
      start('200 OK', []);
      const names = [];
      for (const size of [0, -1, 1.5, Number.NaN]) {
        try {
          wrapper(environ)(smallPath, size);
        } catch (err) {
          names.push((err as Error).name);
        }
      }
      return [names.join(',')];
    });
    expect((await roundTrip(port, get())).body.toString()).toBe('TypeError,TypeError,TypeError,TypeError');
  });
});
