// The status and header-name tables: what passed once is answered from them, what failed fails every time.
import { describe, expect, it } from 'vitest';
import { checkHeaders, parseStatus } from './start-response.js';

describe('startResponse checks, answered from their tables the second time', () => {
  it('a status line parses the same every time, and a bad one is refused every time', () => {
    expect(parseStatus('201 Created')).toEqual([201, 'Created']);
    expect(parseStatus('201 Created')).toEqual([201, 'Created']);
    for (let i = 0; i < 2; i++) expect(() => parseStatus('20 OK')).toThrow(TypeError);
    for (let i = 0; i < 2; i++) expect(() => parseStatus('200 O\nK')).toThrow(/control character/);
  });

  it('a table entry cannot be changed by the caller', () => {
    const parsed = parseStatus('202 Accepted') as [number, string];
    expect(() => {
      parsed[0] = 500;
    }).toThrow(TypeError);
    expect(parseStatus('202 Accepted')).toEqual([202, 'Accepted']);
  });

  it('Content-Length is read on every call, whatever its case, once the name is known', () => {
    for (const name of ['Content-Length', 'content-length', 'Content-Length', 'CONTENT-LENGTH']) {
      expect(checkHeaders([[name, '12']])).toBe(12);
      expect(() => checkHeaders([[name, 'twelve']])).toThrow(/whole number/);
    }
  });

  it('a known name still has its value checked', () => {
    expect(checkHeaders([['X-Known', 'fine']])).toBe(-1);
    expect(() => checkHeaders([['X-Known', 'bad\r\nInjected: yes']])).toThrow(/control character/);
    expect(() => checkHeaders([['X-Known', 42]])).toThrow(/must have a string value/);
  });

  it('hop-by-hop and malformed names are refused every time', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => checkHeaders([['Connection', 'close']])).toThrow(/hop-by-hop/);
      expect(() => checkHeaders([['Bad Name', 'x']])).toThrow(/invalid name/);
      expect(() => checkHeaders([[7, 'x']])).toThrow(/invalid name/);
    }
  });

  it('past the table bound, new names are still checked correctly', () => {
    for (let i = 0; i < 3000; i++) expect(checkHeaders([[`X-Name-${i}`, 'v']])).toBe(-1);
    expect(() => checkHeaders([['Keep-Alive', 'timeout=5']])).toThrow(/hop-by-hop/);
    expect(checkHeaders([['Content-Length', '3']])).toBe(3);
  });
});
