// SPEC §3 on the wire: wsgi.input, 100-continue, chunked bodies, unread bodies on keep-alive
// connections, and wsgi.errors, through the reference server on loopback with raw sockets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputError, toNodeListener } from '../packages/core/src/index.js';
import type { App, Environ, StartResponse } from '../packages/core/src/index.js';
import { closeAll, count, deferred, head, RawClient, serveApp } from './support/raw-http.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await closeAll();
});

const text = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

/** Answers 200 with the whole body the app read, as text. */
const echo: App = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return [body];
};

/** Answers 200 with `PATH_INFO` and never touches the body. */
const ignoreBody: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`ignored ${environ.PATH_INFO}`];
};

const ok = (startResponse: StartResponse, body: string): string[] => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [body];
};

/** An app that reads its whole body and reports how the read ended: the error, or one saying it resolved. */
function readFailure(): { app: App; failure: ReturnType<typeof deferred<unknown>> } {
  const failure = deferred<unknown>();
  const app: App = async (environ, startResponse) => {
    await environ['wsgi.input'].read().then(
      () => failure.resolve(new Error('read() resolved')),
      (err: unknown) => failure.resolve(err),
    );
    return ok(startResponse, 'unreachable');
  };
  return { app, failure };
}

describe('wsgi.input over HTTP', () => {
  it('§3: a Content-Length body is read exactly, in sized reads and then to the end', async () => {
    const app: App = async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      const parts = [text(await input.read(5)), text(await input.read(1)), text(await input.read()), text(await input.read())];
      return ok(startResponse, JSON.stringify(parts));
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 11']));
    client.write('hello');
    client.write(' world');
    expect(JSON.parse((await client.readResponse()).body.toString())).toEqual(['hello', ' ', 'world', '']);
  });

  it('§3: read() stops at CONTENT_LENGTH: a pipelined request after the body is not eaten', async () => {
    const app: App = async (environ, startResponse) => {
      const body = text(await environ['wsgi.input'].read());
      return ok(startResponse, `${environ.PATH_INFO}:${body}`);
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/first', ['Content-Length: 6']) + 'abcdef' + head('POST', '/second', ['Content-Length: 3']) + 'XYZ');
    expect((await client.readResponse()).body.toString()).toBe('/first:abcdef');
    expect((await client.readResponse()).body.toString()).toBe('/second:XYZ');
  });

  it('§3: a chunked body has no CONTENT_LENGTH, wsgi.input_terminated true, and read() gives the decoded bytes then empty', async () => {
    const seen: Environ[] = [];
    const app: App = async (environ, startResponse) => {
      seen.push(environ);
      const input = environ['wsgi.input'];
      const all = text(await input.read());
      const after = await input.read();
      return ok(startResponse, JSON.stringify([all, after.byteLength]));
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Transfer-Encoding: chunked']));
    client.write('5\r\nhello\r\n');
    client.write('7\r\n, world\r\n0\r\n\r\n');
    expect(JSON.parse((await client.readResponse()).body.toString())).toEqual(['hello, world', 0]);
    expect(seen[0]!['wsgi.input_terminated']).toBe(true);
    expect('CONTENT_LENGTH' in seen[0]!).toBe(false);
  });

  it('§3: iterating wsgi.input yields the body in chunks as they arrive', async () => {
    const firstChunk = deferred<void>();
    const app: App = async (environ, startResponse) => {
      const chunks: string[] = [];
      for await (const chunk of environ['wsgi.input']) {
        chunks.push(text(chunk));
        firstChunk.resolve();
      }
      return ok(startResponse, JSON.stringify(chunks));
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Transfer-Encoding: chunked']) + '3\r\none\r\n');
    await firstChunk.promise; // the app saw the first chunk before the second was sent
    client.write('3\r\ntwo\r\n0\r\n\r\n');
    expect(JSON.parse((await client.readResponse()).body.toString())).toEqual(['one', 'two']);
  });

  it('§3: an app that stops reading holds the upload back (TCP backpressure), then gets every byte', async () => {
    const gate = deferred<void>();
    const reading = deferred<void>();
    const app: App = async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      let bytes = (await input.read(1)).byteLength;
      reading.resolve();
      await gate.promise;
      for await (const chunk of input) bytes += chunk.byteLength;
      return ok(startResponse, String(bytes));
    };
    const { port } = await serveApp(app);
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    const answer = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Content-Length': total } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      const pump = (): void => {
        while (written < total) {
          written += chunk.byteLength;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    await reading.promise;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // What the kernel's socket buffers and the input's small queue hold, far from the whole body.
    expect(written).toBeLessThan(24 * 1024 * 1024);
    gate.resolve();
    expect(await answer).toBe(String(total));
  });

  it('§3: readline() and readlines() split a body sent in pieces', async () => {
    const app: App = async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      const first = text(await input.readline());
      const rest = (await input.readlines()).map(text);
      return ok(startResponse, JSON.stringify([first, ...rest]));
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 12']) + 'ab');
    client.write('c\nde\nf');
    client.write('g\nhi');
    expect(JSON.parse((await client.readResponse()).body.toString())).toEqual(['abc\n', 'de\n', 'fg\n', 'hi']);
  });

  it('§3: a client that declares 1000 bytes, sends 12 and disconnects makes read() reject with InputError', async () => {
    const { app, failure } = readFailure();
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 1000']) + 'twelve bytes');
    client.socket.end(() => client.destroy());
    const err = await failure.promise;
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/disconnect|aborted/);
    expect((err as Error).message).toMatch(/more were declared/);
  });

  it('§3: a client that stalls mid-body is ended by the request timeout: read() rejects with InputError', async () => {
    const { app, failure } = readFailure();
    const { port } = await serveApp(app, { requestTimeout: 1000, headersTimeout: 500 });
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 1000']) + 'twelve bytes');
    expect(await failure.promise).toBeInstanceOf(InputError);
    await client.waitForClose();
  });

  it('§3: a chunked body cut off by a disconnect makes read() reject with InputError', async () => {
    const { app, failure } = readFailure();
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Transfer-Encoding: chunked']) + '5\r\nhel');
    client.socket.end(() => client.destroy());
    expect(await failure.promise).toBeInstanceOf(InputError);
  });
});

describe('Expect: 100-continue', () => {
  it('§3: 100 Continue is sent once, on the first read, before the final head', async () => {
    const app: App = async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      let body = '';
      for (let chunk = await input.read(2); chunk.byteLength > 0; chunk = await input.read(2)) body += text(chunk);
      await input.readline();
      return ok(startResponse, body);
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 5', 'Expect: 100-continue']));
    await client.waitFor(() => client.text.includes('100 Continue'), 'the 100 Continue');
    client.write('hello');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('hello');
    expect(count(client.text, '100 Continue')).toBe(1);
    expect(client.text.indexOf('HTTP/1.1 100 Continue\r\n\r\n')).toBe(0);
    expect(client.text.indexOf('HTTP/1.1 200')).toBeGreaterThan(0);
  });

  it('§3: an app that answers 401 without reading sends no 100 Continue, and the connection is not reused', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('401 Unauthorized', [['Content-Type', 'text/plain']]);
      return ['who are you?'];
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 5', 'Expect: 100-continue']));
    const response = await client.readResponse();
    expect(response.status).toBe(401);
    expect(response.header('connection')).toBe('close');
    await client.waitForClose();
    expect(client.text).not.toContain('100 Continue');
  });

  it('§3: an HTTP/1.0 request never gets a 100 Continue', async () => {
    const { port } = await serveApp(echo);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 5', 'Expect: 100-continue'], '1.0') + 'hello');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('hello');
    expect(client.text).not.toContain('100 Continue');
    expect(client.text.startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('§3: a first read after the final head went out sends no 100 Continue', async () => {
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'head sent;';
        yield text(await environ['wsgi.input'].read());
      })();
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Content-Length: 5', 'Expect: 100-continue']));
    // The client has its final answer, so it sends the body without waiting for a 100 (RFC 9110 §10.1.1).
    await client.waitFor(() => client.text.includes('head sent;'), 'the first chunk');
    client.write('hello');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('head sent;hello');
    expect(client.text).not.toContain('100 Continue');
  });
});

describe('toNodeListener(app) and Expect: 100-continue', () => {
  it('§3: registered for checkContinue as well as request, 100 Continue waits for the first read', async () => {
    const listener = toNodeListener((environ, startResponse) => {
      if (environ.PATH_INFO === '/deny') {
        startResponse('403 Forbidden', [['Content-Type', 'text/plain']]);
        return ['no'];
      }
      return echo(environ, startResponse);
    });
    const server = http.createServer(listener).on('checkContinue', listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const denied = await RawClient.connect(port);
      denied.write(head('POST', '/deny', ['Content-Length: 3', 'Expect: 100-continue']));
      expect((await denied.readResponse()).status).toBe(403);
      await denied.waitForClose();
      expect(denied.text).not.toContain('100 Continue');

      const allowed = await RawClient.connect(port);
      allowed.write(head('POST', '/echo', ['Content-Length: 3', 'Expect: 100-continue']));
      await allowed.waitFor(() => allowed.text.includes('100 Continue'), 'the 100 Continue');
      allowed.write('abc');
      expect((await allowed.readResponse()).body.toString()).toBe('abc');
      expect(count(allowed.text, '100 Continue')).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('unread request bodies on keep-alive connections', () => {
  it('§3: an app that leaves a 9 KB body unread does not break the next request on the connection', async () => {
    const { port } = await serveApp(ignoreBody);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/upload', ['Content-Length: 9216']) + 'x'.repeat(9216) + head('GET', '/next'));
    const first = await client.readResponse();
    expect(first.body.toString()).toBe('ignored /upload');
    expect(first.header('connection')).not.toBe('close');
    expect((await client.readResponse()).body.toString()).toBe('ignored /next');
  });

  it('§3: an app that reads half a body, then answers: the next request on the connection still parses', async () => {
    const app: App = async (environ, startResponse) => {
      const half = await environ['wsgi.input'].read(10_000);
      return ok(startResponse, `${environ.PATH_INFO} read ${half.byteLength}`);
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/upload', ['Content-Length: 20000']) + 'y'.repeat(20_000) + head('GET', '/next'));
    expect((await client.readResponse()).body.toString()).toBe('/upload read 10000');
    expect((await client.readResponse()).body.toString()).toBe('/next read 0');
  });

  it('§3: an unread 5 MB Content-Length body: the response comes back with Connection: close, without waiting for the body', async () => {
    const { port } = await serveApp(ignoreBody);
    const client = await RawClient.connect(port);
    // Only 64 KiB of the declared 5 MB ever come: a server that drained without bound would wait for the rest.
    client.write(head('POST', '/big', [`Content-Length: ${5 * 1024 * 1024}`]) + 'z'.repeat(64 * 1024));
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('ignored /big');
    expect(response.header('connection')).toBe('close');
    await client.waitForClose();
  });

  it('§3: an unread 5 MB body sent in full still gets its whole response', async () => {
    const { port } = await serveApp(ignoreBody);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/big', [`Content-Length: ${5 * 1024 * 1024}`]));
    client.write(Buffer.alloc(5 * 1024 * 1024, 0x61));
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ignored /big');
    await client.waitForClose();
  });

  it('§3: a read still pending when the response is sent rejects with InputError, and the connection goes on', async () => {
    const pending = deferred<unknown>();
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/upload') {
        environ['wsgi.input'].read().then(
          () => pending.resolve(new Error('read() resolved')),
          (err: unknown) => pending.resolve(err),
        );
      }
      return ok(startResponse, `answered ${environ.PATH_INFO}`);
    };
    const { port } = await serveApp(app);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/upload', ['Content-Length: 10']) + '12345');
    expect((await client.readResponse()).body.toString()).toBe('answered /upload');
    expect(await pending.promise).toBeInstanceOf(InputError);
    client.write('67890' + head('GET', '/next'));
    expect((await client.readResponse()).body.toString()).toBe('answered /next');
  });

  it('§3: the drain bound is the drainLimit option: below it the connection lives, above it closes', async () => {
    const { port } = await serveApp(ignoreBody, { drainLimit: 1000 });
    const small = await RawClient.connect(port);
    small.write(head('POST', '/small', ['Content-Length: 1000']) + 's'.repeat(1000) + head('GET', '/next'));
    expect((await small.readResponse()).header('connection')).not.toBe('close');
    expect((await small.readResponse()).body.toString()).toBe('ignored /next');

    const large = await RawClient.connect(port);
    large.write(head('POST', '/large', ['Content-Length: 1001']) + 'l'.repeat(1001) + head('GET', '/next'));
    expect((await large.readResponse()).header('connection')).toBe('close');
    await large.waitForClose();
    expect(count(large.text, 'HTTP/1.1 200')).toBe(1);
  });

  it('§3: what the app read counts against the bound: a partly read body within it is drained', async () => {
    const app: App = async (environ, startResponse) => {
      await environ['wsgi.input'].read(1500);
      return ok(startResponse, `done ${environ.PATH_INFO}`);
    };
    const { port } = await serveApp(app, { drainLimit: 1000 });
    const client = await RawClient.connect(port);
    client.write(head('POST', '/upload', ['Content-Length: 2000']) + 'p'.repeat(2000) + head('GET', '/next'));
    expect((await client.readResponse()).header('connection')).not.toBe('close');
    expect((await client.readResponse()).body.toString()).toBe('done /next');
  });

  it('§3: an unread chunked body, whose length is unknown, closes the connection after the response', async () => {
    const { port } = await serveApp(ignoreBody);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/chunked', ['Transfer-Encoding: chunked']) + '3\r\nabc\r\n');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('ignored /chunked');
    expect(response.header('connection')).toBe('close');
    await client.waitForClose();
  });

  it('§3: a chunked body the app read to its end leaves the connection open for the next request', async () => {
    const { port } = await serveApp(echo);
    const client = await RawClient.connect(port);
    client.write(head('POST', '/', ['Transfer-Encoding: chunked']) + '3\r\nabc\r\n0\r\n\r\n' + head('POST', '/', ['Content-Length: 1']) + 'd');
    const first = await client.readResponse();
    expect(first.body.toString()).toBe('abc');
    expect(first.header('connection')).not.toBe('close');
    expect((await client.readResponse()).body.toString()).toBe('d');
  });
});

describe('wsgi.errors', () => {
  it('§3: the default wsgi.errors accepts "é" and non-strings without throwing and writes them to stderr', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const app: App = (environ, startResponse) => {
      const errors = environ['wsgi.errors'];
      const anyWrite = errors.write.bind(errors) as (s: unknown) => void;
      errors.write('café é\n');
      anyWrite(42);
      anyWrite({ toString: () => 'an object' });
      anyWrite(Object.create(null));
      errors.writelines(['line 1\n', 'line 2\n']);
      errors.flush();
      return ok(startResponse, 'logged');
    };
    const { port } = await serveApp(app, { errors: undefined });
    const client = await RawClient.connect(port);
    client.write(head('GET', '/'));
    const response = await client.readResponse();
    vi.restoreAllMocks();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('logged');
    expect(written).toEqual(['café é\n', '42', 'an object', '[object Object]', 'line 1\n', 'line 2\n']);
  });
});
