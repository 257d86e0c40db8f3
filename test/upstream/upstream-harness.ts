// Differential cases taken from a framework's own test suite: the same scenario (one app, built the
// way the upstream test builds it) is served natively and through the bridge, and what a client sees
// on the wire must be equal: status, reason, headers but Date and connection management, body bytes,
// and what the framework logged to console.error. Each case builds a fresh app per side, so a
// scenario that keeps state (a counter, a mutated prototype) cannot leak from one side to the other.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  captureConsoleErrors,
  comparable,
  exchange,
  listening,
  parseWire,
  readUntilClose,
  requestBytes,
  serveApp,
  throughMiddleware,
  type Listening,
  type Probe,
} from '../differential/harness.js';
import type { App } from '@node-wsgi/core';

export { listening, serveApp, throughMiddleware, type Listening };

/** A server a scenario's side listens with; `tls` when it speaks HTTPS (a self-signed certificate). */
export type Side = Listening & { tls?: boolean };

/** exchange() over TLS: the same raw bytes, read until the server closes. */
async function exchangeTls(port: number, bytes: Buffer, head: boolean): ReturnType<typeof exchange> {
  const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
  return parseWire(await readUntilClose(socket, (secure) => secure.once('secureConnect', () => secure.write(bytes))), head);
}

/** A probe that may also leave out the harness's `Host` line (an HTTP/1.0 request without one). */
export interface UpstreamProbe extends Omit<Probe, 'name'> {
  /** Shown after the upstream test's name when a scenario has more than one probe. */
  name?: string;
  noHost?: boolean;
  /** The client sends the request and goes away this many milliseconds later, reading nothing. */
  disconnectAfterMs?: number;
}

export interface Scenario<T> {
  /** The upstream test, as `file: describe › it`. */
  name: string;
  build: () => T | Promise<T>;
  /** GET / when left out. */
  probes?: UpstreamProbe[];
  /**
   * The known, accepted framing deviation is involved (a head the listener ended without a body gets
   * `Content-Length: 0`; the listener's own `Transfer-Encoding` line is dropped and the gateway frames
   * the body): Content-Length and Transfer-Encoding lines are left out of the comparison, on both
   * sides. Everything else, the body bytes included, is still compared. Says why.
   */
  knownFraming?: string;
  /**
   * A second request to the same server after the first: what the app recorded of the first one
   * (hooks that ran, events its request and response saw), compared the same way.
   */
  followUp?: UpstreamProbe;
  /** The native response is cut short on purpose (an error mid-body); otherwise it must parse whole. */
  incomplete?: boolean;
}

export interface Sides<T> {
  native(app: T): Promise<Side>;
  /** Each bridged way of serving the app, by label. */
  bridged: Record<string, (app: T) => Promise<Side>>;
  /**
   * Ways whose host spells and orders header names its own way (Fastify sends every name in lower
   * case and groups a name's lines, native routes included): there names are compared in lower case
   * and grouped by name, each name's values still in their order.
   */
  hostSpelling?: string[];
}

type Seen = ReturnType<typeof comparable> | { failed: string };

function withoutFraming(seen: Seen): Seen {
  if ('failed' in seen) return seen;
  return { ...seen, headers: seen.headers.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n)) };
}

function hostSpelled(seen: Seen): Seen {
  if ('failed' in seen) return seen;
  const headers = seen.headers.map(([n, v]): [string, string] => [n.toLowerCase(), v]);
  // A stable sort: the lines of one name keep their order.
  headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { ...seen, headers };
}

function bytesOf(probe: UpstreamProbe): Buffer {
  const bytes = requestBytes({ name: '', ...probe });
  if (!probe.noHost) return bytes;
  // requestBytes puts Host first, right after the request line.
  const text = bytes.toString('latin1').replace(/\r\nHost: differential\.test\r\n/, '\r\n');
  return Buffer.from(text, 'latin1');
}

/** One wire exchange; a connection the server resets or leaves without a response is described, not thrown. */
async function observe(side: Side, probe: UpstreamProbe): Promise<Seen> {
  const port = side.port;
  if (probe.disconnectAfterMs !== undefined) {
    const socket = side.tls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(bytesOf(probe));
    await new Promise((resolve) => setTimeout(resolve, probe.disconnectAfterMs));
    socket.destroy();
    return { failed: 'the client went away' };
  }
  try {
    return comparable(await (side.tls ? exchangeTls : exchange)(port, bytesOf(probe), probe.method === 'HEAD'));
  } catch (err) {
    return { failed: String((err as Error).message).replace(/\d+ bytes/g, 'N bytes') };
  }
}

export function describeUpstream<T>(title: string, sides: Sides<T>, scenarios: Array<Scenario<T>>): void {
  describe(title, () => {
    for (const scenario of scenarios) {
      const probes = scenario.probes ?? [{ method: 'GET', target: '/' }];
      for (const probe of probes) {
        const label = `${scenario.name}${probe.name ? ` [${probe.name}]` : ''} (${probe.method} ${probe.target})`;
        it(label, async () => {
          const logged = captureConsoleErrors();
          const open: Side[] = [];
          try {
            const native = await sides.native(await scenario.build());
            open.push(native);
            const see = async (side: Side): Promise<Seen[]> => {
              const first = await observe(side, probe);
              const seen = [scenario.knownFraming !== undefined ? withoutFraming(first) : first];
              if (scenario.followUp !== undefined) {
                // Let the first exchange's ending (onResponse hooks, 'close' events) run first; a
                // client that went away leaves the app running a while longer.
                await new Promise((resolve) => setTimeout(resolve, probe.disconnectAfterMs !== undefined ? 120 : 20));
                seen.push(await observe(side, scenario.followUp));
              }
              return seen;
            };
            const expected = await see(native);
            // A case whose native side did not answer whole would compare nothing but the failure.
            if (probe.disconnectAfterMs === undefined && !scenario.incomplete) expect(expected[0], 'native response').not.toHaveProperty('failed');
            if (scenario.followUp !== undefined) expect(expected[1], 'native follow-up').not.toHaveProperty('failed');
            // Koa logs an error after its response went out; let it land before it is taken.
            await new Promise((resolve) => setTimeout(resolve, 5));
            const nativeLog = logged.take();
            for (const [way, start] of Object.entries(sides.bridged)) {
              const server = await start(await scenario.build());
              open.push(server);
              const seen = await see(server);
              const host = sides.hostSpelling?.includes(way) === true;
              expect(host ? seen.map(hostSpelled) : seen, way).toEqual(host ? expected.map(hostSpelled) : expected);
              await new Promise((resolve) => setTimeout(resolve, 5));
              expect(logged.take(), `${way}: console.error`).toEqual(nativeLog);
            }
          } finally {
            logged.restore();
            await Promise.all(open.map((server) => server.close()));
          }
        });
      }
    }
  });
}

/** A `node:http` server for a listener, listening on a free loopback port. */
export function listen(handler: http.RequestListener): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(listening(server)));
  });
}

/** `serve(middleware(app))`: the bridge proper (the round trip would hand over the real request). */
export function serveBridged(app: App): Promise<Listening> {
  return serveApp(throughMiddleware(app));
}
