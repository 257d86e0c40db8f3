// `serve()`: the reference server (SPEC §7), `wsgiref.simple_server` made fit for production:
// keep-alive, timeouts, and a graceful shutdown on SIGTERM/SIGINT.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { toNodeListener, type NodeListenerOptions } from './node.js';
import { wrappedApp } from './round-trip.js';
import type { App } from './types.js';

export interface ServeOptions extends NodeListenerOptions {
  /** Port to listen on; 0 picks a free one (`server.address().port` tells it). Default 8000. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** TLS: serve HTTPS with these `node:https` options (`key`, `cert`, ...). */
  tls?: https.ServerOptions;
  /** Idle time before a keep-alive connection closes (ms, default 5000). */
  keepAliveTimeout?: number;
  /** Time allowed to receive the request headers (ms, default 60000). */
  headersTimeout?: number;
  /** Time allowed to receive the whole request, body included (ms, default 300000). */
  requestTimeout?: number;
  /** Stop gracefully on SIGTERM/SIGINT (default true). */
  handleSignals?: boolean;
  /** How long a graceful shutdown waits for in-flight responses before closing them (ms, default 10000). */
  shutdownTimeout?: number;
}

/**
 * Serves one app on `node:http` and resolves once listening.
 *
 * ```ts
 * const server = await serve(app, { port: 8000 });
 * ```
 */
export async function serve(app: App, options: ServeOptions = {}): Promise<http.Server> {
  const listener = toNodeListener(app, options);
  const requestTimeout = options.requestTimeout ?? 300_000;
  // Node refuses a headersTimeout above the requestTimeout: a short requestTimeout shortens the default.
  const headersTimeout = options.headersTimeout ?? (requestTimeout > 0 ? Math.min(60_000, requestTimeout) : 60_000);
  const serverOptions: http.ServerOptions = {
    keepAliveTimeout: options.keepAliveTimeout ?? 5000,
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: checkingInterval(headersTimeout, requestTimeout),
  };
  const server: http.Server = options.tls
    ? https.createServer({ ...options.tls, ...serverOptions })
    : http.createServer(serverOptions);
  server.on('request', listener);
  // SPEC §3: with a checkContinue listener Node leaves 100 Continue to the app's first read. A
  // round trip (`serve(fromExpress(app))`) serves the framework's own listener, which expects Node
  // to have sent 100 Continue as it does natively: that one is not registered for it.
  if (wrappedApp(listener) !== undefined) server.on('checkContinue', listener);

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });

  if (options.handleSignals !== false) handleSignals(server, options.shutdownTimeout ?? 10_000);
  return server;
}

// Node enforces headersTimeout and requestTimeout only when it sweeps its connections (every 30 s
// by default), so a timeout shorter than that would fire up to 30 s late: sweep twice per timeout.
function checkingInterval(headersTimeout: number, requestTimeout: number): number {
  const shortest = Math.min(headersTimeout > 0 ? headersTimeout : Infinity, requestTimeout > 0 ? requestTimeout : Infinity);
  return Math.min(30_000, Math.max(50, Math.floor(shortest / 2)));
}

/** The URL a listening server answers on. */
export function serverUrl(server: http.Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${server instanceof https.Server ? 'https' : 'http'}://${host}:${address.port}`;
}

function handleSignals(server: http.Server, shutdownTimeout: number): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      // A second signal: stop waiting for in-flight responses.
      server.closeAllConnections();
      return;
    }
    stopping = true;
    // A request that still arrives on an open connection is answered with `Connection: close`. This
    // runs before the app's listener, which may write the head at once.
    const closeAfter = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
      res.shouldKeepAlive = false;
    };
    server.prependListener('request', closeAfter);
    // Only beside a checkContinue listener: alone, it would swallow those requests.
    if (server.listenerCount('checkContinue') > 0) server.prependListener('checkContinue', closeAfter);
    server.close(() => {
      clearTimeout(timer);
      detach();
    });
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), shutdownTimeout);
    timer.unref();
    // Connections that finish a response become idle: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
  };
  const detach = (): void => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  server.once('close', detach);
}
