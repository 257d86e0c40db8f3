// serve() (SPEC §7): the reference server's port, timeouts, signal handling and graceful shutdown.
// The shutdown test runs the BUILT package (packages/core/dist, from `npx tsc -b`) in a child
// process, since it sends a real SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { serve } from '../packages/core/src/index.js';
import type { App } from '../packages/core/src/index.js';
import { closeAll, deferred, head, RawClient, serveApp } from './support/raw-http.js';

const hello: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['hello'];
};

const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await closeAll();
});

describe('serve(app, options)', () => {
  it('§7: port 0 picks a free port, and the server answers there', async () => {
    const { port } = await serveApp(hello);
    expect(port).toBeGreaterThan(0);
    const client = await RawClient.connect(port);
    client.write(head('GET', '/'));
    expect((await client.readResponse()).body.toString()).toBe('hello');
  });

  it('§7: a port already in use rejects instead of resolving', async () => {
    const { port } = await serveApp(hello);
    await expect(serve(hello, { port, host: '127.0.0.1', handleSignals: false })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('§7: keepAliveTimeout, headersTimeout and requestTimeout are applied to the server', async () => {
    const { server } = await serveApp(hello, { keepAliveTimeout: 1234, headersTimeout: 2345, requestTimeout: 3456 });
    expect(server.keepAliveTimeout).toBe(1234);
    expect(server.headersTimeout).toBe(2345);
    expect(server.requestTimeout).toBe(3456);
  });

  it('§7: the default timeouts are 5 s keep-alive, 60 s for headers and 300 s for a request', async () => {
    const { server } = await serveApp(hello);
    expect(server.keepAliveTimeout).toBe(5000);
    expect(server.headersTimeout).toBe(60_000);
    expect(server.requestTimeout).toBe(300_000);
  });

  it('§7: a requestTimeout shorter than the default headersTimeout is accepted and bounds it', async () => {
    const { server } = await serveApp(hello, { requestTimeout: 1000 });
    expect(server.requestTimeout).toBe(1000);
    expect(server.headersTimeout).toBeLessThanOrEqual(1000);
  });

  it('§7: a headersTimeout above the requestTimeout is refused at once', async () => {
    await expect(
      serve(hello, { port: 0, host: '127.0.0.1', handleSignals: false, headersTimeout: 5000, requestTimeout: 1000 }),
    ).rejects.toThrow(RangeError);
  });

  it('§7: an idle keep-alive connection is closed by the server once keepAliveTimeout passes', async () => {
    const { port } = await serveApp(hello, { keepAliveTimeout: 200 });
    const client = await RawClient.connect(port);
    client.write(head('GET', '/'));
    const response = await client.readResponse();
    expect(response.header('connection')).toBe('keep-alive');
    await client.waitForClose();
  });

  it('§7: a client that never finishes its headers is answered 408 and closed once headersTimeout passes', async () => {
    const { port } = await serveApp(hello, { headersTimeout: 300, requestTimeout: 1000 });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await client.waitForClose();
    expect(client.text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('§7: with handleSignals: false no signal listener is added', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    await serveApp(hello);
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
  });

  it('§7: by default SIGTERM and SIGINT are handled while serving, and let go when the server closes', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const server = await serve(hello, { port: 0, host: '127.0.0.1' });
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual([before[0]! + 1, before[1]! + 1]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
  });
});

// The child: serves /slow, which sends its first chunk, then waits for the SIGTERM before sending
// the last one, so the response is in flight across the signal whatever the machine's speed.
const CHILD_SCRIPT = `
const { serve } = await import(process.argv[2]);
let stopped;
const stopping = new Promise((resolve) => (stopped = resolve));
const app = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  if (environ.PATH_INFO !== '/slow') return ['quick ' + environ.PATH_INFO];
  return (async function* () {
    yield 'first;';
    await stopping;
    yield 'after SIGTERM';
  })();
};
const server = await serve(app, { port: 0, host: '127.0.0.1' });
// Registered after serve()'s own handler, so it runs once the server has stopped accepting.
process.on('SIGTERM', () => {
  process.stdout.write('SIGTERM\\n');
  stopped();
});
process.stdout.write('PORT ' + server.address().port + '\\n');
`;

const DIST = fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url));

/** Starts the child server; resolves with it, its port, and a promise of each stdout line it prints. */
async function startChild(): Promise<{ child: ChildProcess; port: number; line(text: string): Promise<void>; exit: Promise<number | null> }> {
  expect(fs.existsSync(DIST), `${DIST} is missing: run \`npx tsc -b\` first`).toBe(true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-wsgi-serve-'));
  const script = path.join(dir, 'child.mjs');
  fs.writeFileSync(script, CHILD_SCRIPT);
  const child = spawn(process.execPath, [script, new URL(`file://${DIST}`).href], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      fs.rmSync(dir, { recursive: true, force: true });
      for (const wake of waiters.splice(0)) wake();
      resolve(code);
    }),
  );
  const line = async (text: string): Promise<void> => {
    while (!stdout.split('\n').some((l) => l.startsWith(text))) {
      if (child.exitCode !== null) throw new Error(`the child exited before printing ${text}: ${stderr}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  await line('PORT ');
  const port = Number(/PORT (\d+)/.exec(stdout)![1]);
  return { child, port, line, exit };
}

describe('serve(): graceful shutdown on SIGTERM', () => {
  it('§7: the in-flight response completes, idle connections close, new connections are refused, and the process exits 0', async () => {
    const { child, port, line, exit } = await startChild();

    const busy = await RawClient.connect(port);
    busy.write(head('GET', '/slow'));
    await busy.waitFor(() => busy.text.includes('first;'), 'the first chunk of /slow');

    const idle = await RawClient.connect(port);
    idle.write(head('GET', '/quick'));
    expect((await idle.readResponse()).header('connection')).toBe('keep-alive');

    child.kill('SIGTERM');
    await line('SIGTERM');

    // A request that still arrives on the busy connection is answered, with Connection: close.
    busy.write(head('GET', '/late'));

    const refused = deferred<string>();
    const attempt = net.connect(port, '127.0.0.1');
    attempt.on('connect', () => {
      attempt.destroy();
      refused.resolve('connected');
    });
    attempt.on('error', (err: NodeJS.ErrnoException) => refused.resolve(err.code ?? err.message));
    expect(await refused.promise).toBe('ECONNREFUSED');

    await idle.waitForClose();

    const slow = await busy.readResponse();
    expect(slow.status).toBe(200);
    expect(slow.body.toString()).toBe('first;after SIGTERM');
    const late = await busy.readResponse();
    expect(late.body.toString()).toBe('quick /late');
    expect(late.header('connection')).toBe('close');
    await busy.waitForClose();

    expect(await exit).toBe(0);
  });

  it('§7: SIGINT stops the server the same way, and the process exits 0', async () => {
    const { child, port, exit } = await startChild();
    const client = await RawClient.connect(port);
    client.write(head('GET', '/quick'));
    expect((await client.readResponse()).body.toString()).toBe('quick /quick');
    child.kill('SIGINT');
    await client.waitForClose();
    expect(await exit).toBe(0);
  });
});
