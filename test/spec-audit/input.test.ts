// SPEC §3 (wsgi.input, wsgi.errors) on every host. test/input.test.ts covers most of this on serve();
// here the same file semantics are held on toNodeListener, Express, Fastify and Koa as well.
import { afterEach, expect, it } from 'vitest';
import type { App, Environ } from '@node-wsgi/core';
import { HOSTS } from '../conformance/hosts.js';
import { PREFIX, RawClient, closeEverything, deferred, describeAuditHosts, head, rawRequest } from './support.js';

afterEach(closeEverything);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** An app that runs `steps` on wsgi.input and answers with a JSON of what each gave. */
function probe(steps: (input: Environ['wsgi.input']) => Promise<unknown>): App {
  return async (environ, startResponse) => {
    const out = await steps(environ['wsgi.input']);
    startResponse('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify(out)];
  };
}

describeAuditHosts((host) => {
  it('read(size) never returns more than size; read() gives the rest; after the end every read is an empty Uint8Array', async () => {
    const started = await host.start(
      probe(async (input) => {
        const a = await input.read(3);
        const b = await input.read(4);
        const rest = await input.read();
        const end1 = await input.read();
        const end2 = await input.read(10);
        return {
          a: hex(a), b: hex(b), rest: hex(rest),
          ends: [end1.length, end2.length],
          types: [a, b, rest, end1, end2].every((x) => x instanceof Uint8Array),
        };
      }),
    );
    const res = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Type: application/octet-stream', 'Content-Length: 12'], 'abcdefghijkl');
    expect(JSON.parse(res.body.toString())).toEqual({ a: 'abc', b: 'defg', rest: 'hijkl', ends: [0, 0], types: true });
  });

  it('a GET with no body, and a POST with Content-Length: 0: read(), readline(), readlines() and iteration end at once, empty', async () => {
    const started = await host.start(
      probe(async (input) => {
        const parts: Uint8Array[] = [];
        for await (const c of input) parts.push(c);
        return [(await input.read()).length, (await input.read(5)).length, (await input.readline()).length, (await input.readlines()).length, parts.length];
      }),
    );
    const a = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(JSON.parse(a.body.toString())).toEqual([0, 0, 0, 0, 0]);
    const b = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Length: 0']);
    expect(JSON.parse(b.body.toString())).toEqual([0, 0, 0, 0, 0]);
  });

  it('read(0) gives an empty array and consumes nothing; readlines(0) has no limit', async () => {
    const started = await host.start(
      probe(async (input) => {
        const zero = await input.read(0);
        const lines = await input.readlines(0);
        return { zero: zero.length, lines: lines.map(hex) };
      }),
    );
    const res = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Type: text/plain', 'Content-Length: 6'], 'a\nb\nc\n');
    expect(JSON.parse(res.body.toString())).toEqual({ zero: 0, lines: ['a\n', 'b\n', 'c\n'] });
  });

  it('mixed reads pick up exactly where the last one stopped: read(2), readline(), iteration for the rest', async () => {
    const started = await host.start(
      probe(async (input) => {
        const a = await input.read(2);
        const line = await input.readline();
        const rest: Uint8Array[] = [];
        for await (const c of input) rest.push(c);
        return [hex(a), hex(line), Buffer.concat(rest).toString('latin1')];
      }),
    );
    const res = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Type: text/plain', 'Content-Length: 15'], 'abcdef\nghijklmn');
    expect(JSON.parse(res.body.toString())).toEqual(['ab', 'cdef\n', 'ghijklmn']);
  });

  it('read(size) waits for size bytes when the body arrives in pieces', async () => {
    const reading = deferred<void>();
    const started = await host.start(async (environ, startResponse) => {
      reading.resolve();
      const got = await environ['wsgi.input'].read(6);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [hex(got)];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/`, ['Content-Type: application/octet-stream', 'Content-Length: 8']) + 'abc');
    await reading.promise;
    await new Promise((r) => setTimeout(r, 30));
    client.write('defgh');
    const res = await client.readResponse();
    expect(res.body.toString()).toBe('abcdef');
  });

  it('readline() stops after \\n; readline(size) stops at size; readlines() gives the remaining lines', async () => {
    const started = await host.start(
      probe(async (input) => {
        const l1 = await input.readline();
        const l2 = await input.readline(3);
        const l3 = await input.readline();
        const rest = await input.readlines();
        const after = await input.readline();
        return { l1: hex(l1), l2: hex(l2), l3: hex(l3), rest: rest.map(hex), after: after.length };
      }),
    );
    const body = 'one\nlonger line\nthree\nfour';
    const res = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Type: text/plain', `Content-Length: ${body.length}`], body);
    expect(JSON.parse(res.body.toString())).toEqual({ l1: 'one\n', l2: 'lon', l3: 'ger line\n', rest: ['three\n', 'four'], after: 0 });
  });

  it('readlines(hint) stops once the lines read reach hint bytes, whole lines only', async () => {
    const started = await host.start(
      probe(async (input) => {
        const first = await input.readlines(5);
        const rest = await input.readlines();
        return { first: first.map(hex), rest: rest.map(hex) };
      }),
    );
    const body = 'aa\nbb\ncc\ndd\n';
    const res = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Type: text/plain', `Content-Length: ${body.length}`], body);
    // Python's IOBase.readlines(hint): stop when the total size so far exceeds... reaches hint.
    expect(JSON.parse(res.body.toString())).toEqual({ first: ['aa\n', 'bb\n'], rest: ['cc\n', 'dd\n'] });
  });

  it('async iteration yields Uint8Array chunks that add up to the body', async () => {
    const started = await host.start(
      probe(async (input) => {
        const parts: Uint8Array[] = [];
        for await (const chunk of input) parts.push(chunk);
        return { all: parts.every((p) => p instanceof Uint8Array), text: Buffer.concat(parts).toString() };
      }),
    );
    const body = 'x'.repeat(70_000);
    const res = await rawRequest(started.port, 'PUT', `${PREFIX}/`, ['Content-Type: application/octet-stream', `Content-Length: ${body.length}`], body);
    expect(JSON.parse(res.body.toString())).toEqual({ all: true, text: body });
  });

  it('a chunked upload is read to its end through read()', async () => {
    const started = await host.start(probe(async (input) => hex(await input.read())));
    const res = await rawRequest(started.port, 'POST', `${PREFIX}/`, ['Content-Type: application/octet-stream', 'Transfer-Encoding: chunked'], '3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
    expect(JSON.parse(res.body.toString())).toBe('abcdefg');
  });

  it('read() never reads into a pipelined request that follows the body', async () => {
    const bodies: string[] = [];
    const started = await host.start(async (environ, startResponse) => {
      bodies.push(hex(await environ['wsgi.input'].read()));
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [environ.PATH_INFO];
    });
    const client = await RawClient.connect(started.port);
    client.write(
      head('POST', `${PREFIX}/one`, ['Content-Type: application/octet-stream', 'Content-Length: 3']) + 'abc' +
        head('POST', `${PREFIX}/two`, ['Content-Type: application/octet-stream', 'Content-Length: 2']) + 'de',
    );
    expect((await client.readResponse()).body.toString()).toBe('/one');
    expect((await client.readResponse()).body.toString()).toBe('/two');
    expect(bodies).toEqual(['abc', 'de']);
  });

  it('a client that declares more than it sends and disconnects makes read() reject, never hang', async () => {
    const outcome = deferred<string>();
    const reading = deferred<void>();
    const started = await host.start(async (environ, startResponse) => {
      const pending = environ['wsgi.input'].read();
      reading.resolve();
      try {
        await pending;
        outcome.resolve('resolved');
      } catch (err) {
        outcome.resolve(`rejected ${(err as Error).name}`);
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [''];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/`, ['Content-Type: application/octet-stream', 'Content-Length: 100']) + 'short');
    await reading.promise;
    client.destroy();
    expect(await outcome.promise).toMatch(/^rejected /);
  });

  it('an unread small body does not break the next request on the keep-alive connection', async () => {
    const started = await host.start((environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [environ.PATH_INFO];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/a`, ['Content-Type: application/octet-stream', 'Content-Length: 9000']) + 'z'.repeat(9000));
    expect((await client.readResponse()).body.toString()).toBe('/a');
    client.write(head('GET', `${PREFIX}/b`));
    const second = await client.readResponse();
    expect(second.status).toBe(200);
    expect(second.body.toString()).toBe('/b');
  });

  it('an unread body far past the 1 MiB drain bound: the response comes, then the connection closes', async () => {
    const started = await host.start((_environ, startResponse) => {
      startResponse('413 Payload Too Large', [['Content-Type', 'text/plain']]);
      return ['too big'];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/`, ['Content-Type: application/octet-stream', `Content-Length: ${8 * 1024 * 1024}`]));
    client.write(Buffer.alloc(64 * 1024, 'q'));
    const res = await client.readResponse();
    expect(res.status).toBe(413);
    expect(res.body.toString()).toBe('too big');
    await client.waitFor(() => client.closed, 'the server to close the connection');
    expect(client.closed).toBe(true);
  });

  it('wsgi.errors accepts any text without throwing', async () => {
    const started = await host.start((environ, startResponse) => {
      const errors = environ['wsgi.errors'];
      errors.write('plain\n');
      errors.write('caf\u00e9 \ud83d\ude00 \ud800 lone surrogate\n');
      errors.write('');
      errors.writelines(['a\n', 'b\n']);
      errors.writelines(new Set(['c\n']));
      errors.flush();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok'];
    });
    const res = await rawRequest(started.port, 'GET', `${PREFIX}/`);
    expect(res.status).toBe(200);
    expect(started.errors.text).toContain('plain\n');
    expect(started.errors.text).toContain('a\nb\nc\n');
  });
});

describeAuditHosts((host) => {
  it('Expect: 100-continue: the 100 goes out on the first read, once, before the final head', async () => {
    const reading = deferred<void>();
    const go = deferred<void>();
    const started = await host.start(async (environ, startResponse) => {
      await go.promise;
      reading.resolve();
      const body = await environ['wsgi.input'].read();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [body];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/`, ['Content-Type: text/plain', 'Content-Length: 4', 'Expect: 100-continue']));
    await new Promise((r) => setTimeout(r, 30));
    expect(client.text).not.toContain('100 Continue');
    go.resolve();
    await client.waitFor(() => client.text.includes('100 Continue'), '100 Continue');
    client.write('data');
    const res = await client.readResponse();
    expect(res.body.toString()).toBe('data');
    expect(client.text.split('100 Continue').length - 1).toBe(1);
    expect(client.text.indexOf('100 Continue')).toBeLessThan(client.text.indexOf('200 OK'));
  });

  it('Expect: 100-continue: an app that answers without reading never sends 100', async () => {
    const started = await host.start((_environ, startResponse) => {
      startResponse('401 Unauthorized', [['Content-Type', 'text/plain']]);
      return ['no'];
    });
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/`, ['Content-Type: text/plain', 'Content-Length: 4', 'Expect: 100-continue']));
    const res = await client.readResponse();
    expect(res.status).toBe(401);
    // The body never came, so the connection cannot be reused: the server closes it.
    await client.waitFor(() => client.closed, 'the server to close the connection');
    expect(client.text).not.toContain('100 Continue');
  });
}, ['serve', 'node']);


it("behind express.text(), a body in the charset its Content-Type names (latin-1, UTF-16) is recovered byte for byte", async () => {
  const expressHost = HOSTS.find((h) => h.name === 'express')!;
  const started = await expressHost.start(
    async (environ, sr) => {
      const body = Buffer.from(await environ['wsgi.input'].read());
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [`${body.toString('hex')} ${environ.CONTENT_LENGTH}`];
    },
    { parser: 'text' },
  );
  for (const [type, bytes] of [
    ['text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9])],
    ['text/plain; charset=utf-16le', Buffer.from('hi\u00e9', 'utf16le')],
  ] as const) {
    const client = await RawClient.connect(started.port);
    client.write(head('POST', `${PREFIX}/`, [`Content-Type: ${type}`, `Content-Length: ${bytes.length}`]));
    client.write(bytes);
    const res = await client.readResponse();
    expect(res.body.toString(), type).toBe(`${bytes.toString('hex')} ${bytes.length}`);
    client.destroy();
  }
});
