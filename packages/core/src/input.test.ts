import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BytesInput, InputError, StreamInput, UnreadableInput } from './input.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1');
const texts = (us: Uint8Array[]): string[] => us.map(text);

/** A StreamInput over a PassThrough the test feeds by hand, chunk by chunk. */
function streamed(limit = Infinity): { input: StreamInput; feed(s: string): void; end(): void; stream: PassThrough } {
  const stream = new PassThrough();
  return {
    input: new StreamInput(stream, limit),
    stream,
    feed: (s) => stream.write(bytes(s)),
    end: () => stream.end(),
  };
}

/** Resolves after every queued I/O callback ran, so "has not resolved yet" is meaningful. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether `promise` is still pending once queued work has run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return !done;
}

describe('wsgi.input read(size)', () => {
  it('§3: read() with no size returns the whole rest of the body', async () => {
    const input = new BytesInput(bytes('hello world'));
    expect(text(await input.read(6))).toBe('hello ');
    expect(text(await input.read())).toBe('world');
  });

  it('§3: read(size) never returns more than size', async () => {
    const input = new BytesInput(bytes('abcdef'));
    expect(text(await input.read(4))).toBe('abcd');
    expect(text(await input.read(4))).toBe('ef');
  });

  it('§3: read(size) waits until size bytes arrived, across chunks', async () => {
    const { input, feed, end } = streamed();
    const pending = input.read(5);
    feed('ab');
    expect(await isPending(pending)).toBe(true);
    feed('cdefg');
    expect(text(await pending)).toBe('abcde');
    end();
    expect(text(await input.read(5))).toBe('fg');
  });

  it('§3: read(size) returns what is left when the body ends before size', async () => {
    const { input, feed, end } = streamed();
    const pending = input.read(100);
    feed('xyz');
    expect(await isPending(pending)).toBe(true);
    end();
    expect(text(await pending)).toBe('xyz');
  });

  it('§3: once exhausted, every call resolves to an empty array', async () => {
    const fed = streamed(2);
    fed.stream.end(bytes('ab'));
    for (const input of [new BytesInput(bytes('ab')), fed.input]) {
      expect(text(await input.read())).toBe('ab');
      for (let i = 0; i < 3; i++) {
        const empty = await input.read();
        expect(empty).toBeInstanceOf(Uint8Array);
        expect(empty.byteLength).toBe(0);
        expect((await input.read(10)).byteLength).toBe(0);
        expect((await input.readline()).byteLength).toBe(0);
        expect(await input.readlines()).toEqual([]);
      }
    }
  });

  it('§3: read(0) resolves to an empty array without waiting', async () => {
    const { input } = streamed();
    expect((await input.read(0)).byteLength).toBe(0);
  });

  it('§3: a negative size reads the rest, as in Python', async () => {
    expect(text(await new BytesInput(bytes('abc')).read(-1))).toBe('abc');
  });

  it('§3: a size that is not a whole number is refused with a TypeError', async () => {
    await expect(new BytesInput(bytes('abc')).read(1.5)).rejects.toThrow(TypeError);
    await expect(new BytesInput(bytes('abc')).read(Number.NaN)).rejects.toThrow(TypeError);
  });

  it('§3: reads that overlap are served in order, none hangs', async () => {
    const { input, feed, end } = streamed();
    const first = input.read(3);
    const second = input.read(3);
    const rest = input.read();
    feed('ab');
    feed('cdef');
    feed('gh');
    end();
    expect(texts(await Promise.all([first, second, rest]))).toEqual(['abc', 'def', 'gh']);
  });
});

describe('wsgi.input readline(size)', () => {
  it('§3: readline() returns up to and including "\\n", across chunk boundaries', async () => {
    const { input, feed, end } = streamed();
    feed('ab');
    feed('c\nde');
    feed('f\n');
    feed('tail');
    end();
    expect(text(await input.readline())).toBe('abc\n');
    expect(text(await input.readline())).toBe('def\n');
    expect(text(await input.readline())).toBe('tail');
    expect((await input.readline()).byteLength).toBe(0);
  });

  it('§3: readline() waits for the newline or the end', async () => {
    const { input, feed, end } = streamed();
    const line = input.readline();
    feed('no newline yet');
    expect(await isPending(line)).toBe(true);
    feed(' and now\nnext');
    expect(text(await line)).toBe('no newline yet and now\n');
    end();
    expect(text(await input.readline())).toBe('next');
  });

  it('§3: readline(size) returns at most size bytes, the rest of the line stays', async () => {
    const { input, feed, end } = streamed();
    feed('abc');
    feed('def\ng\n');
    end();
    expect(text(await input.readline(4))).toBe('abcd');
    expect(text(await input.readline(4))).toBe('ef\n');
    expect(text(await input.readline(1))).toBe('g');
    expect(text(await input.readline(10))).toBe('\n');
    expect((await input.readline(10)).byteLength).toBe(0);
  });

  it('§3: readline(size) does not wait for more than size bytes', async () => {
    const { input, feed } = streamed();
    feed('abcdef');
    expect(text(await input.readline(3))).toBe('abc');
  });

  it('§3: readline(0) returns an empty array', async () => {
    expect((await new BytesInput(bytes('a\n')).readline(0)).byteLength).toBe(0);
  });

  it('§3: readline with a size that is not a whole number is refused with a TypeError', async () => {
    await expect(new BytesInput(bytes('abc\n')).readline(1.5)).rejects.toThrow(TypeError);
  });
});

describe('wsgi.input readlines(hint)', () => {
  it('§3: readlines() returns every line', async () => {
    const input = new BytesInput(bytes('a\nbb\n\nccc'));
    expect(texts(await input.readlines())).toEqual(['a\n', 'bb\n', '\n', 'ccc']);
  });

  it('§3: readlines(hint) stops once the lines read reach hint bytes, as io.BytesIO does', async () => {
    const input = new BytesInput(bytes('ab\ncd\nef\ngh\n'));
    expect(texts(await input.readlines(4))).toEqual(['ab\n', 'cd\n']);
    expect(texts(await input.readlines(3))).toEqual(['ef\n']);
    expect(texts(await input.readlines(0))).toEqual(['gh\n']);
  });
});

describe('wsgi.input [Symbol.asyncIterator]()', () => {
  it('§3: yields the body chunk by chunk as it arrives, not line by line', async () => {
    const { input, feed, end } = streamed();
    const seen: string[] = [];
    const done = (async () => {
      for await (const chunk of input) seen.push(text(chunk));
    })();
    feed('a\nb');
    await settle();
    expect(seen).toEqual(['a\nb']);
    feed('c');
    end();
    await done;
    expect(seen).toEqual(['a\nb', 'c']);
  });

  it('§3: iteration after a partial read starts with the bytes not yet read', async () => {
    const input = new BytesInput(bytes('abcdef'));
    expect(text(await input.read(2))).toBe('ab');
    const chunks: string[] = [];
    for await (const chunk of input) chunks.push(text(chunk));
    expect(chunks).toEqual(['cdef']);
    expect((await input.read()).byteLength).toBe(0);
  });

  it('§3: a read() while iterating continues where the iteration stopped', async () => {
    const { input, feed, end } = streamed();
    feed('first');
    feed('second');
    end();
    const seen: string[] = [];
    for await (const chunk of input) {
      seen.push(text(chunk));
      seen.push(text(await input.read()));
    }
    expect(seen.join('')).toBe('firstsecond');
  });
});

describe('wsgi.input iteration protocol', () => {
  it('§3: two next() calls made at once get the chunks in order', async () => {
    const { input, feed, end } = streamed();
    const iterator = input[Symbol.asyncIterator]();
    const first = iterator.next();
    const second = iterator.next();
    feed('one');
    await settle();
    feed('two');
    end();
    const results = await Promise.all([first, second, iterator.next()]);
    expect(results.map((r) => (r.done ? 'done' : text(r.value)))).toEqual(['one', 'two', 'done']);
  });

  it('§3: after return() (a loop that breaks) the iteration is over, and read() gets the rest', async () => {
    const input = new BytesInput(bytes('abc'));
    const iterator = input[Symbol.asyncIterator]();
    expect(await iterator.return!()).toEqual({ value: undefined, done: true });
    expect((await iterator.next()).done).toBe(true);
    expect(text(await input.read())).toBe('abc');
  });

  it('§3: an iteration that failed is over: the next next() resolves done, as a generator that threw', async () => {
    const { input, feed, stream } = streamed(100);
    const iterator = input[Symbol.asyncIterator]();
    feed('abc');
    expect(text((await iterator.next()).value as Uint8Array)).toBe('abc');
    stream.destroy();
    await expect(iterator.next()).rejects.toBeInstanceOf(InputError);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('§3: a body that has arrived whole is handed out chunk by chunk as it came, none copied', async () => {
    const { input, stream, end } = streamed();
    const sent = [Buffer.from('first'), Buffer.from('second')];
    for (const b of sent) stream.write(b);
    end();
    await settle();
    const seen: Uint8Array[] = [];
    for await (const chunk of input) seen.push(chunk);
    expect(seen.map(text)).toEqual(['first', 'second']);
    expect(seen[0]!.buffer).toBe(sent[0]!.buffer);
  });
});

describe('StreamInput backpressure', () => {
  it('§3: a reader that stops pauses the stream once a bounded queue is full, and resumes it when it reads', async () => {
    const { input, stream } = streamed();
    const chunk = Buffer.alloc(16 * 1024, 1);
    expect((await (async () => (stream.write(chunk), input.read(1)))()).byteLength).toBe(1);
    let accepted = 0;
    for (let i = 0; i < 200 && stream.write(chunk); i++) {
      accepted++;
      await settle();
    }
    // The PassThrough refused more: the input stopped taking chunks long before 200 of them.
    expect(accepted).toBeLessThan(40);
    expect(stream.isPaused()).toBe(true);
    const drained = new Promise((resolve) => stream.once('drain', resolve));
    const rest = input.read(64 * 1024);
    expect((await rest).byteLength).toBe(64 * 1024);
    await drained;
  });
});

describe('StreamInput(stream, limit)', () => {
  it('§3: never yields past the limit (CONTENT_LENGTH), even when the stream has more', async () => {
    const { input, feed } = streamed(6);
    feed('abcdefXYZ');
    expect(text(await input.read())).toBe('abcdef');
    expect((await input.read()).byteLength).toBe(0);
  });

  it('§3: the limit holds for read(size), readline and iteration alike', async () => {
    const lines = streamed(5);
    lines.feed('ab\ncd\nef');
    expect(texts(await lines.input.readlines())).toEqual(['ab\n', 'cd']);

    const chunks = streamed(4);
    chunks.feed('ab');
    chunks.feed('cdef');
    const seen: string[] = [];
    for await (const chunk of chunks.input) seen.push(text(chunk));
    expect(seen.join('')).toBe('abcd');

    const sized = streamed(3);
    sized.feed('abcdef');
    expect(text(await sized.input.read(10))).toBe('abc');
  });

  it('§3: a limit of 0 reads nothing and never waits', async () => {
    const { input, stream } = streamed(0);
    expect((await input.read()).byteLength).toBe(0);
    expect(stream.readableLength).toBe(0);
  });

  it('§3: a stream destroyed before its declared length rejects a pending read with InputError', async () => {
    const { input, feed, stream } = streamed(1000);
    const pending = input.read();
    feed('twelve bytes');
    await settle();
    stream.destroy();
    await expect(pending).rejects.toBeInstanceOf(InputError);
    await expect(input.read()).rejects.toBeInstanceOf(InputError);
  });

  it('§3: a stream that fails rejects with InputError carrying the cause', async () => {
    const { input, stream } = streamed(1000);
    const pending = input.read(10);
    const cause = new Error('socket hang up');
    stream.destroy(cause);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).cause).toBe(cause);
  });

  it('§3: a stream destroyed before the first read rejects at once', async () => {
    const { input, stream } = streamed(10);
    stream.destroy();
    await settle();
    await expect(input.readline()).rejects.toBeInstanceOf(InputError);
  });

  it('§3: iteration over a stream destroyed early throws InputError', async () => {
    const { input, feed, stream } = streamed(100);
    feed('abc');
    const consume = (async () => {
      for await (const chunk of input) {
        if (chunk.byteLength > 0) stream.destroy();
      }
    })();
    await expect(consume).rejects.toBeInstanceOf(InputError);
  });

  it('§3: a stream that ends short of its declared length rejects with InputError', async () => {
    const { input, feed, end } = streamed(10);
    feed('abc');
    end();
    await expect(input.read()).rejects.toBeInstanceOf(InputError);
  });

  it('§3: the first read of any kind runs the onFirstRead hook once (100 Continue)', async () => {
    for (const first of ['read', 'readline', 'readlines', 'iterate'] as const) {
      const { input, end } = streamed(0);
      let calls = 0;
      input.onFirstRead = () => calls++;
      expect(input.touched).toBe(false);
      if (first === 'iterate') for await (const _ of input);
      else await input[first]();
      await input.read();
      end();
      expect(calls, first).toBe(1);
      expect(input.touched).toBe(true);
    }
  });

  it('§3: detach() rejects a pending read and every later one, and leaves the stream alone', async () => {
    const { input, feed, stream } = streamed(10);
    const pending = input.read();
    feed('abc');
    await settle();
    input.detach();
    await expect(pending).rejects.toBeInstanceOf(InputError);
    await expect(input.read()).rejects.toThrow(/response was sent before the body was read/);
    expect(stream.listenerCount('readable')).toBe(0);
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('§3: detach() before any read: a later read rejects without listening to the stream', async () => {
    const { input, stream } = streamed(10);
    input.detach();
    await expect(input.readline()).rejects.toBeInstanceOf(InputError);
    expect(stream.listenerCount('readable')).toBe(0);
  });

  it('§3: detach() after the whole body was read changes nothing: reads still give the end', async () => {
    const { input, feed } = streamed(3);
    feed('abc');
    expect(text(await input.read())).toBe('abc');
    input.detach();
    expect((await input.read()).byteLength).toBe(0);
  });

  it('§3: bytes taken from the stream are counted', async () => {
    const { input, feed } = streamed(10);
    feed('abcd');
    await input.read(2);
    expect(input.receivedBytes).toBe(4);
  });
});

describe('UnreadableInput(reason)', () => {
  it('§3: every read rejects with InputError naming the reason, none hangs', async () => {
    const input = new UnreadableInput('express.json() consumed the body');
    await expect(input.read()).rejects.toThrow(/express\.json\(\) consumed the body/);
    await expect(input.read(1)).rejects.toBeInstanceOf(InputError);
    await expect(input.readline()).rejects.toBeInstanceOf(InputError);
    await expect(input.readlines()).rejects.toBeInstanceOf(InputError);
    await expect(
      (async () => {
        for await (const _ of input);
      })(),
    ).rejects.toBeInstanceOf(InputError);
  });
});
