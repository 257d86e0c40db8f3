// The `node-wsgi` command end to end, in child processes (issue 5).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../packages/core/dist/cli.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits for the startup line and returns the URL it names. */
async function listening(started: Run): Promise<string> {
  for (;;) {
    const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(started.output());
    if (match) return match[1]!;
    if (started.child.exitCode !== null) throw new Error(`the CLI exited early:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('node-wsgi serve', () => {
  it('serves the default export of an ES module and prints its URL', async () => {
    const started = run(['serve', fixture('cli-app.mjs'), '--port', '0']);
    const url = await listening(started);
    const res = await get(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^default \d+ false$/);
  });

  it('serves a named export given as module:export', async () => {
    const url = await listening(run(['serve', `${fixture('cli-app.mjs')}:named`, '--port', '0']));
    expect((await get(`${url}/`)).body).toBe('named');
  });

  it('serves a CommonJS module whose module.exports is the app', async () => {
    const url = await listening(run(['serve', fixture('cli-app.cjs'), '--port', '0']));
    expect((await get(`${url}/`)).body).toBe('commonjs');
  });

  it('exits 1 with a clear message when the module is missing', async () => {
    const started = run(['serve', fixture('no-such-app.mjs'), '--port', '0']);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain("cannot load the app module");
    expect(started.output()).toContain('no-such-app.mjs');
  });

  it('exits 1 naming the exports when the export is missing', async () => {
    const started = run(['serve', `${fixture('cli-app.mjs')}:nope`, '--port', '0']);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain("has no export 'nope'");
    expect(started.output()).toContain('named');
  });

  it('exits 1 when the export is not a function', async () => {
    const started = run(['serve', `${fixture('cli-app.mjs')}:notAFunction`, '--port', '0']);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain("is a object, expected an app function");
  });

  it('prints help with --help and exits 0', async () => {
    const started = run(['--help']);
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('Usage: node-wsgi serve <module>[:export]');
  });

  it('exits 2 on a bad option value, saying what came', async () => {
    const started = run(['serve', fixture('cli-app.mjs'), '--port', 'eighty']);
    expect(await started.exited).toBe(2);
    expect(started.output()).toContain("--port must be a whole number from 0 to 65535, got 'eighty'");
  });

  it('finishes an in-flight response on SIGTERM, then exits 0', async () => {
    const started = run(['serve', fixture('cli-app.mjs'), '--port', '0']);
    const url = await listening(started);
    const inFlight = new Promise<string>((resolve, reject) => {
      http
        .get(`${url}/slow`, { agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d.toString();
            // The head and first chunk are out: now ask the server to stop.
            if (body === 'first ') started.child.kill('SIGTERM');
          });
          res.on('end', () => resolve(body));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(await inFlight).toBe('first last');
    expect(await started.exited).toBe(0);
  });
});

describe('node-wsgi serve --workers', () => {
  it('answers from two worker processes, each with wsgi.multiprocess true', async () => {
    const started = run(['serve', fixture('cli-app.mjs'), '--port', '0', '--workers', '2']);
    const url = await listening(started);
    expect(started.output()).toContain('with 2 workers');
    const pids = new Set<string>();
    // Connections are spread across workers; a bounded number of tries sees both.
    for (let i = 0; i < 200 && pids.size < 2; i++) {
      const res = await get(`${url}/`);
      const [, pid, multiprocess] = res.body.split(' ');
      expect(multiprocess).toBe('true');
      pids.add(pid!);
    }
    expect(pids.size).toBe(2);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('starts another worker when one dies', async () => {
    const started = run(['serve', fixture('cli-app.mjs'), '--port', '0', '--workers', '2']);
    const url = await listening(started);
    await get(`${url}/crash`);
    for (let i = 0; i < 200 && !/exited \(code 3\); starting another/.test(started.output()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(started.output()).toMatch(/worker \d+ exited \(code 3\); starting another/);
    // Still answering after the restart (bounded retries: a connection may land on the dying worker).
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await get(`${url}/`).then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('refuses a missing module before forking any worker', async () => {
    const started = run(['serve', fixture('no-such-app.mjs'), '--port', '0', '--workers', '2']);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('cannot load the app module');
  });
});
