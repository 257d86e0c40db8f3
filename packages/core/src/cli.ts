#!/usr/bin/env node
// The `node-wsgi` command: `node-wsgi serve ./app.js[:export] --host 127.0.0.1 --port 8000 [--workers N]`.
import cluster from 'node:cluster';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serve, serverUrl } from './server.js';
import type { App } from './types.js';

const HELP = `Usage: node-wsgi serve <module>[:export] [options]

Serves a node-wsgi app with the reference server.

  <module>            path to an ES or CommonJS module, e.g. ./app.js
  :export             the export holding the app (default: the default export,
                      else 'app', else 'application')

Options:
  --host <host>       interface to bind (default 127.0.0.1)
  --port <port>       port to listen on, 0 for any free one (default 8000)
  --workers <n|auto>  serve from n processes with node:cluster ('auto': one per core)
  --debug             show stack traces in 500 responses (never in production)
  -h, --help          show this help
`;

/** A mistake in how the command was called: printed without a stack, exit code 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

interface CliOptions {
  target: string;
  host: string;
  port: number;
  workers: number;
  debug: boolean;
}

function parse(argv: string[]): CliOptions | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8000' },
      workers: { type: 'string', default: '1' },
      debug: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const [command, target, ...rest] = positionals;
  if (command !== 'serve') throw new UsageError(command === undefined ? 'missing command: try `node-wsgi serve ./app.js`' : `unknown command '${command}': the only command is 'serve'`);
  if (target === undefined) throw new UsageError('missing the app module: `node-wsgi serve ./app.js[:export]`');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got '${values.port}'`);
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers must be a whole number of at least 1 or 'auto', got '${values.workers}'`);
  return { target, host: values.host!, port, workers, debug: values.debug! };
}

/** Splits `./app.js:name` into module and export; a drive letter or a path colon is not an export. */
function splitTarget(target: string): [module: string, exportName: string | undefined] {
  const colon = target.lastIndexOf(':');
  if (colon > 1 && /^[A-Za-z_$][\w$]*$/.test(target.slice(colon + 1))) return [target.slice(0, colon), target.slice(colon + 1)];
  return [target, undefined];
}

/** Loads the app a target names, with an error that says what was missing. */
async function loadApp(target: string, cwd = process.cwd()): Promise<App> {
  const [modulePath, exportName] = splitTarget(target);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(cwd, modulePath)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`cannot load the app module '${modulePath}': ${(err as Error).message}`);
  }
  const names = exportName !== undefined ? [exportName] : ['default', 'app', 'application'];
  for (const name of names) {
    const app = mod[name];
    if (app === undefined) continue;
    if (typeof app !== 'function') {
      throw new UsageError(`the export '${name}' of '${modulePath}' is ${app === null ? 'null' : `a ${typeof app}`}, expected an app function (environ, startResponse) => body`);
    }
    return app as App;
  }
  const found = Object.keys(mod).join(', ') || 'none';
  throw new UsageError(
    exportName !== undefined
      ? `'${modulePath}' has no export '${exportName}' (its exports: ${found})`
      : `'${modulePath}' has no default export, nor one named 'app' or 'application' (its exports: ${found}); name it as ${modulePath}:<export>`,
  );
}

async function runWorker(options: CliOptions): Promise<void> {
  // The primary picks the port for `--port 0`, so every worker (and every restarted one) shares it.
  const assigned = cluster.isWorker ? process.env.NODE_WSGI_PORT : undefined;
  if (assigned !== undefined) options.port = Number(assigned);
  const app = await loadApp(options.target);
  const server = await serve(app, { host: options.host, port: options.port, debug: options.debug });
  const url = serverUrl(server);
  if (cluster.isWorker) {
    // The IPC channel to the primary would keep a stopped worker alive: let it go once closed.
    server.once('close', () => cluster.worker?.disconnect());
    process.send?.({ nodeWsgiListening: url });
  }
  else console.log(`node-wsgi: serving ${options.target} on ${url} (pid ${process.pid}); Ctrl+C stops`);
}

/** A free port on `host`, for `--port 0` under cluster (workers cannot each pick their own). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function runPrimary(options: CliOptions): Promise<void> {
  // listen(0) in each worker would give each its own port once one of them restarts.
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  let stopping = false;
  let announced = false;
  const restarts: number[] = [];
  const fork = (): void => {
    const worker = cluster.fork({ NODE_WSGI_PORT: String(port) });
    worker.on('message', (message: { nodeWsgiListening?: string }) => {
      if (message?.nodeWsgiListening !== undefined && !announced) {
        announced = true;
        console.log(
          `node-wsgi: serving ${options.target} on ${message.nodeWsgiListening} with ${options.workers} workers (primary pid ${process.pid}); Ctrl+C stops`,
        );
      }
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0]! < now - 10_000) restarts.shift();
    console.error(`node-wsgi: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
    // A worker that dies at once would otherwise be restarted in a tight loop.
    setTimeout(fork, restarts.length > 5 ? 1000 : 0);
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      return;
    }
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // A second signal forces the workers down.
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (let i = 0; i < options.workers; i++) fork();
}

async function main(argv: string[]): Promise<void> {
  let options: CliOptions | null;
  try {
    options = parse(argv);
  } catch (err) {
    console.error(`node-wsgi: ${(err as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (options === null) {
    console.log(HELP);
    return;
  }
  try {
    if (options.workers > 1 && cluster.isPrimary) {
      // Fail here, once, rather than in workers the primary would keep restarting.
      await loadApp(options.target);
      await runPrimary(options);
    }
    else await runWorker(options);
  } catch (err) {
    console.error(`node-wsgi: ${err instanceof UsageError ? err.message : ((err as Error).stack ?? String(err))}`);
    process.exitCode = 1;
    if (cluster.isWorker) process.exit(1);
  }
}

await main(process.argv.slice(2));
