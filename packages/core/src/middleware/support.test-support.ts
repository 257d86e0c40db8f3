// What the middleware suites share: a reference server per test, and the check every option error
// passes. Test-only (excluded from the build).
import type { Server } from 'node:http';
import { afterEach, expect } from 'vitest';
import { serve, serverUrl } from '../server.js';
import type { App } from '../types.js';

/** Registers its own cleanup; the returned function serves an app on loopback and gives its URL. */
export function servePerTest(): (app: App) => Promise<string> {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });
  return async (app) => {
    server = await serve(app, { port: 0, host: '127.0.0.1', handleSignals: false });
    return serverUrl(server);
  };
}

/** The check for a table of bad calls: a TypeError that names the function and says what was wrong. */
export function expectOptionError(name: string): (what: string, call: () => unknown, message: RegExp) => void {
  return (_what, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(new RegExp(`^@node-wsgi/core: ${name} `));
    expect(call).toThrow(message);
  };
}
