// Helpers for the reverse-gateway tests: wrapped apps served on loopback through a middleware (so
// the synthetic request and response are used, not the round trip), and an `http.request` client
// that keeps raw header lines and body bytes.
import http from 'node:http';
import type { App } from '@node-wsgi/core';
import { serveApp, throughMiddleware, type Listening } from '../differential/harness.js';
import { ErrorLog as KeptErrors } from '../support/error-log.js';

export { ErrorLog as KeptErrors } from '../support/error-log.js';

export interface Served extends Listening {
  url: string;
  errors: KeptErrors;
}

const open = new Set<Served>();

/** Serves a wrapped app with `serve()` behind a pass-through middleware, on a free loopback port. */
export async function serveWrapped(app: App): Promise<Served> {
  const errors = new KeptErrors();
  const listening = await serveApp(throughMiddleware(app), errors);
  const served: Served = {
    ...listening,
    url: `http://127.0.0.1:${listening.port}`,
    errors,
    close: async () => {
      open.delete(served);
      await listening.close();
    },
  };
  open.add(served);
  return served;
}

/** Closes every server `serveWrapped` opened; call from `afterEach`/`afterAll`. */
export async function closeServed(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

export interface Fetched {
  status: number;
  statusText: string;
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Every value of a header, from the raw lines (so repeats stay apart). */
  all(name: string): string[];
}

/** One request over a fresh connection; resolves with the whole response. */
export function fetchRaw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const raw = res.rawHeaders;
        resolve({
          status: res.statusCode!,
          statusText: res.statusMessage!,
          rawHeaders: raw,
          headers: res.headers,
          body: Buffer.concat(chunks),
          all(name) {
            const values: string[] = [];
            for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name.toLowerCase()) values.push(raw[i + 1]!);
            return values;
          },
        });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A promise and the function that settles it, for events a listener reports. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
