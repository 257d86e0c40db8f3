import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeError, LogErrors, stderrErrors } from './errors.js';

describe('LogErrors (wsgi.errors)', () => {
  it('§3: write() passes any text through, non-latin-1 included', () => {
    const seen: string[] = [];
    const errors = new LogErrors((s) => seen.push(s));
    errors.write('é');
    errors.write('文 \u{1f600}\n');
    expect(seen).toEqual(['é', '文 \u{1f600}\n']);
  });

  it('§3: write() of a non-string does not throw and still shows it as text', () => {
    const seen: string[] = [];
    const errors = new LogErrors((s) => seen.push(s));
    const write = errors.write.bind(errors) as (s: unknown) => void;
    expect(() => {
      write(42);
      write(null);
      write(undefined);
      write(Symbol('s'));
      write({ toString: () => 'object' });
      write(Object.create(null)); // String() throws on it: no toString
    }).not.toThrow();
    expect(seen).toEqual(['42', 'null', 'undefined', 'Symbol(s)', 'object', '[object Object]']);
  });

  it('§3: writelines() writes each item in order; flush() exists', () => {
    const seen: string[] = [];
    const errors = new LogErrors((s) => seen.push(s));
    errors.writelines(['a\n', 'b\n']);
    errors.writelines(new Set(['c']));
    errors.flush();
    expect(seen).toEqual(['a\n', 'b\n', 'c']);
  });

  it('§3: a sink that throws never reaches the app', () => {
    const errors = new LogErrors(() => {
      throw new Error('logger down');
    });
    expect(() => errors.write('x')).not.toThrow();
    expect(() => errors.writelines(['x', 'y'])).not.toThrow();
  });
});

describe('stderrErrors', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('§3: the default wsgi.errors writes to process.stderr', () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    stderrErrors.write('é\n');
    expect(spy).toHaveBeenCalledWith('é\n');
  });
});

describe('describeError(err)', () => {
  it('gives the stack of an Error and a readable line for anything else', () => {
    const err = new Error('boom');
    expect(describeError(err)).toBe(err.stack);
    expect(describeError('text')).toBe('non-error thrown: text');
    expect(describeError({ a: 1 })).toBe('non-error thrown: {"a":1}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toBe('non-error thrown: [object Object]');
  });
});
