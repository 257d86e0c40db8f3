// `npm run bench`: each setup's server in its own process pinned to one core, load from this
// process pinned to the other; every server runs throughout (frozen while another is measured), rounds
// interleaved (A B A B ...) in short slices, medians reported. Server CPU time per
// request comes from the server process itself, which is far steadier than req/s on a shared box.
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { chart, rowsFromMarkdown } from './chart.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Every setup: its server script, the setup it is compared with, and the target ratio of server CPU
 * per request (issue 6) where one is set. Peers are the bridges people use today. `guest` names the
 * native setup of the app running inside (its answer should be the same); `host` the native setup
 * of the framework a node-wsgi app is mounted in (streaming is compared with it); `also` a second
 * baseline shown without a target (the native route answering with bytes, as a node-wsgi app does).
 */
export const SETUPS = [
  { name: 'raw node:http', script: 'raw-http.js' },
  { name: 'serve(app)', script: 'serve.js', baseline: 'raw node:http', target: 1.05, host: 'raw node:http' },
  { name: 'peer: @hono/node-server', script: 'hono-peer.js', baseline: 'raw node:http' },
  { name: 'peer: @whatwg-node/server', script: 'whatwg-peer.js', baseline: 'raw node:http' },
  { name: 'Express', script: 'express.js' },
  { name: 'toExpress(app)', script: 'to-express.js', baseline: 'Express', target: 1.0, host: 'Express' },
  { name: 'fromExpress(app) on serve()', script: 'from-express-served.js', baseline: 'Express', target: 1.08, guest: 'Express' },
  { name: 'fromExpress(app) behind a node-wsgi middleware', script: 'from-express.js', baseline: 'Express', guest: 'Express' },
  { name: 'Fastify', script: 'fastify.js' },
  { name: 'Fastify (Buffer body)', script: 'fastify-bytes.js', baseline: 'Fastify' },
  { name: 'toFastify(app)', script: 'to-fastify.js', baseline: 'Fastify', target: 1.15, host: 'Fastify', also: 'Fastify (Buffer body)' },
  { name: 'fromFastify(app) behind a node-wsgi middleware', script: 'from-fastify.js', baseline: 'Fastify', guest: 'Fastify' },
  { name: 'peer: @whatwg-node/server in Fastify', script: 'whatwg-in-fastify-peer.js', baseline: 'Fastify' },
  { name: 'Koa', script: 'koa.js' },
  { name: 'Koa (Buffer body)', script: 'koa-bytes.js', baseline: 'Koa' },
  { name: 'toKoa(app)', script: 'to-koa.js', baseline: 'Koa', target: 1.15, host: 'Koa', also: 'Koa (Buffer body)' },
  { name: 'fromKoa(app) behind a node-wsgi middleware', script: 'from-koa.js', baseline: 'Koa', guest: 'Koa' },
  { name: 'peer: @whatwg-node/server in Koa', script: 'whatwg-in-koa-peer.js', baseline: 'Koa' },
  { name: 'peer: Express in Fastify (@fastify/express)', script: 'express-in-fastify-peer.js', baseline: 'Express', guest: 'Express' },
  { name: 'Express in Fastify (node-wsgi)', script: 'express-in-fastify.js', baseline: 'peer: Express in Fastify (@fastify/express)', target: 1.0, guest: 'Express' },
  { name: 'peer: Express in Koa (koa-connect)', script: 'express-in-koa-peer.js', baseline: 'Express', guest: 'Express' },
  { name: 'Express in Koa (node-wsgi)', script: 'express-in-koa.js', baseline: 'peer: Express in Koa (koa-connect)', target: 0.95, guest: 'Express' },
  { name: 'peer: Express in h3 (fromNodeMiddleware)', script: 'express-in-h3-peer.js', baseline: 'Express', guest: 'Express' },
];

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '9' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    'no-stream': { type: 'boolean', default: false },
    'memory-only': { type: 'boolean', default: false },
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const setups = values.only ? SETUPS.filter((s) => values.only.split(',').includes(s.name) || values.only.split(',').includes(s.script)) : SETUPS;

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// os.cpus() counts the machine's cores whatever this process is pinned to.
const cores = cpus().length;
// The load generator stays on core 0; servers go on core 1 when there is one.
if (hasTaskset && cores > 1 && process.env.NODE_WSGI_BENCH_PINNED !== '1') {
  const result = spawnSync('taskset', ['-c', '0', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_WSGI_BENCH_PINNED: '1' },
  });
  process.exit(result.status ?? 1);
}

// Every server starts with the same V8 heap sizing. A process this small sits at V8's first
// old-generation limit, where each 64 MiB upload triggers full GCs or not depending on how many
// modules the setup happened to load (toExpress: 6 mark-compacts per 5 uploads without the flag, 0
// with it); a production app's heap is past that limit anyway. It applies to the peers alike.
const SERVER_NODE_FLAGS = ['--initial-heap-size=64'];

function startServer(setup) {
  const script = join(here, 'servers', setup.script);
  const child =
    hasTaskset && cores > 1
      ? fork(script, [], { execPath: 'taskset', execArgv: ['-c', '1', process.execPath, ...SERVER_NODE_FLAGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(script, [], { execArgv: SERVER_NODE_FLAGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${setup.name}: server did not start within 20 s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${setup.name}: server exited with code ${code}`)));
    child.on('message', (message) => {
      if (message.port !== undefined) {
        clearTimeout(timer);
        resolve({ child, port: message.port });
      }
    });
  });
}

const median = (xs) => {
  const sorted = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function stats(child) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message.stats !== undefined) {
        child.off('message', onMessage);
        resolve(message.stats);
      }
    };
    child.on('message', onMessage);
    child.send('stats');
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function load(port, seconds) {
  return autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: seconds, pipelining: 1 });
}

function download(port, mib) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    http
      .get(`http://127.0.0.1:${port}/stream?mib=${mib}`, (res) => {
        let bytes = 0;
        res.on('data', (chunk) => (bytes += chunk.byteLength));
        res.on('end', () => resolve({ bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function upload(port, mib) {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 121);
    const total = mib * 1024 * 1024;
    const started = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'Content-Length': total } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ bytes: Number(text), seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.byteLength;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

// What a response looked like: its status and header names, less those that belong to the
// connection or the moment (Date, keep-alive framing) or that hosts add of their own accord.
const INCIDENTAL = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-powered-by']);
function probe(port) {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}/`, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: Object.keys(res.headers).filter((h) => !INCIDENTAL.has(h)).sort() }),
        );
      })
      .on('error', reject);
  });
}

/** How `answer` differs from the guest's native answer: '✓' when it does not. */
function sameAnswer(answer, native) {
  if (answer === undefined || native === undefined) return '';
  const differences = [];
  if (answer.status !== native.status) differences.push(`status ${answer.status}, not ${native.status}`);
  for (const h of native.headers) if (!answer.headers.includes(h)) differences.push(`no ${h}`);
  for (const h of answer.headers) if (!native.headers.includes(h)) differences.push(`extra ${h}`);
  return differences.length === 0 ? '✓' : `✗ ${differences.join(', ')}`;
}

const answers = new Map();
const STREAM_REPEATS = 3;
const STREAM_ROUNDS = Math.min(rounds, 5);

// Servers not being measured are frozen (SIGSTOP), so none of them runs its garbage collection,
// timers or connection teardown on the servers' core while another is measured: without it, the
// setup measured right after another came out up to 1.5× slower, whichever it was.
const CAN_FREEZE = process.platform !== 'win32';
function freeze(child) {
  if (CAN_FREEZE && child.exitCode === null) child.kill('SIGSTOP');
}
function thaw(child) {
  if (CAN_FREEZE && child.exitCode === null) child.kill('SIGCONT');
}

/** Unmeasured load just before each measured slice: new connections, caches warm again. */
const REHEAT_SECONDS = 0.5;

/** One slice of hello-world load on a server: req/s, latency, and server CPU per request. */
async function measureLoad({ child, port }) {
  thaw(child);
  await load(port, REHEAT_SECONDS);
  const before = await stats(child);
  const result = await load(port, duration);
  const after = await stats(child);
  freeze(child);
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerReq: (after.cpuMicros - before.cpuMicros) / result.requests.total,
    // The kernel's share (system time): mostly the loopback writev of each response, the same work
    // for every setup, and where most of the slice-to-slice noise lives.
    kernelPerReq: (after.systemMicros - before.systemMicros) / result.requests.total,
    errors: result.errors + result.non2xx,
  };
}

/** Transfers of 64 MiB each way on a running server, the median kept: one is a fraction of a second. */
async function measureStreaming({ child, port }) {
  thaw(child);
  try {
    return await streamingSamples(child, port);
  } finally {
    freeze(child);
  }
}

async function streamingSamples(child, port) {
  // One transfer each way unmeasured: after the request rounds the streaming paths are cold (not yet
  // optimised, the heap shaped by small requests), and the first transfer cost up to 4x the next.
  await download(port, 64);
  await upload(port, 64);
  const downs = [];
  const ups = [];
  for (let i = 0; i < STREAM_REPEATS; i++) {
    const s0 = await stats(child);
    const down = await download(port, 64);
    const s1 = await stats(child);
    const up = await upload(port, 64);
    const s2 = await stats(child);
    downs.push({ mibs: down.bytes / 1048576 / down.seconds, cpuMs: (s1.cpuMicros - s0.cpuMicros) / 1000 });
    ups.push({ mibs: up.bytes / 1048576 / up.seconds, cpuMs: (s2.cpuMicros - s1.cpuMicros) / 1000 });
  }
  return {
    downMiBs: median(downs.map((d) => d.mibs)),
    downCpuMs: median(downs.map((d) => d.cpuMs)),
    upMiBs: median(ups.map((u) => u.mibs)),
    upCpuMs: median(ups.map((u) => u.cpuMs)),
  };
}

// Peak RSS against body size: a fresh server per size, one download and one upload of that size.
// Streaming must not grow with the body (issue 6): 64 MiB and 1 GiB should peak alike.
const MEMORY_SETUPS = ['raw-http.js', 'serve.js', 'to-express.js', 'to-fastify.js', 'to-koa.js', 'from-express.js', 'express-in-fastify.js'];
async function memoryRows() {
  const rows = [];
  for (const script of MEMORY_SETUPS) {
    const setup = SETUPS.find((s) => s.script === script);
    const peaks = [];
    for (const mib of [64, 1024]) {
      const { child, port } = await startServer(setup);
      try {
        await download(port, mib);
        await upload(port, mib);
        peaks.push((await stats(child)).peakRssKiB / 1024);
      } finally {
        await stopServer(child);
      }
    }
    rows.push(`| ${setup.name} | ${peaks[0].toFixed(0)} | ${peaks[1].toFixed(0)} |`);
    console.log(`memory: ${setup.name}: peak RSS ${peaks[0].toFixed(0)} MiB after 64 MiB, ${peaks[1].toFixed(0)} MiB after 1 GiB`);
  }
  return ['', '### Peak RSS against body size', '', 'A fresh server per size; one download and one upload of that size through it.', '', '| setup | 64 MiB: peak RSS MiB | 1 GiB: peak RSS MiB |', '| --- | ---: | ---: |', ...rows];
}

if (values['memory-only']) {
  console.log((await memoryRows()).join('\n'));
  process.exit(0);
}

// Every server runs for the whole measurement, warmed up once; the rounds then go A B C A B C in
// short slices, so a setup and its baseline are measured seconds apart many times over. (A shared
// machine's speed wanders by a quarter within seconds: many slices tame it, one long run per setup
// does not.) Streaming runs after the request rounds, so its garbage does not weigh on them.
const samples = new Map(setups.map((s) => [s.name, []]));
const running = new Map();
const stopAll = () =>
  Promise.all(
    [...running.values()].map(({ child }) => {
      thaw(child);
      return stopServer(child);
    }),
  );
process.once('SIGINT', () => stopAll().then(() => process.exit(130)));
try {
  for (const setup of setups) {
    const server = await startServer(setup);
    running.set(setup.name, server);
    answers.set(setup.name, await probe(server.port));
    await load(server.port, warmup);
    freeze(server.child);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const setup of setups) {
      process.stdout.write(`round ${round}/${rounds}: ${setup.name} ... `);
      const row = await measureLoad(running.get(setup.name));
      samples.get(setup.name).push(row);
      console.log(`${Math.round(row.reqPerSec)} req/s, ${row.cpuPerReq.toFixed(1)} CPU µs/req`);
    }
  }
  if (!values['no-stream']) {
    for (let round = 1; round <= STREAM_ROUNDS; round++) {
      for (const setup of setups) {
        process.stdout.write(`streaming ${round}/${STREAM_ROUNDS}: ${setup.name} ... `);
        const row = await measureStreaming(running.get(setup.name));
        Object.assign(samples.get(setup.name)[round - 1], row);
        console.log(`${row.downMiBs.toFixed(0)} MiB/s down, ${row.upMiBs.toFixed(0)} MiB/s up`);
      }
    }
  }
  for (const setup of setups) {
    thaw(running.get(setup.name).child);
    const peak = (await stats(running.get(setup.name).child)).peakRssKiB / 1024;
    for (const row of samples.get(setup.name)) row.peakRssMiB = peak;
  }
} finally {
  await stopAll();
}

const fields = ['reqPerSec', 'p50', 'p99', 'cpuPerReq', 'kernelPerReq', 'downMiBs', 'downCpuMs', 'upMiBs', 'upCpuMs', 'peakRssMiB', 'errors'];
const summary = new Map(
  setups.map((s) => [s.name, Object.fromEntries(fields.map((f) => [f, median(samples.get(s.name).map((r) => r[f]))]))]),
);
const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
// A ratio is the median of the ratios within each round, not a ratio of medians: a setup and its
// baseline are measured seconds apart in a round, so a slow spell of a shared machine (minutes long,
// up to a quarter of the speed) weighs on both sides of each ratio instead of on one side's median.
function pairedRatio(name, baseline, field = 'cpuPerReq') {
  const a = samples.get(name);
  const b = samples.get(baseline);
  if (a === undefined || b === undefined) return NaN;
  return median(a.map((row, i) => row[field] / b[i]?.[field]));
}
const lines = [
  `# node-wsgi benchmarks`,
  '',
  `${new Date().toISOString()} · Node ${process.versions.node} · ${cores} cores · every server running throughout, ${warmup} s warm-up, then ${rounds} interleaved rounds × ${duration} s each, ${connections} connections; medians.`,
  `Server and load generator ${hasTaskset && cores > 1 ? 'pinned to different cores' : 'not pinned (no taskset or one core)'}.`,
  '',
  '| setup | req/s | p50 ms | p99 ms | CPU µs/req | of which kernel | vs baseline | 64 MiB down MiB/s | down CPU ms | 64 MiB up MiB/s | up CPU ms | peak RSS MiB | errors | same answer as the app natively |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
];
for (const setup of setups) {
  const s = summary.get(setup.name);
  const base = setup.baseline ? summary.get(setup.baseline) : undefined;
  const ratio = base ? `${fmt(pairedRatio(setup.name, setup.baseline), 2)}× ${setup.baseline}` : '';
  lines.push(
    `| ${setup.name} | ${fmt(s.reqPerSec, 0)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.cpuPerReq)} | ${fmt(s.kernelPerReq)} | ${ratio} | ${fmt(s.downMiBs, 0)} | ${fmt(s.downCpuMs, 0)} | ${fmt(s.upMiBs, 0)} | ${fmt(s.upCpuMs, 0)} | ${fmt(s.peakRssMiB, 0)} | ${fmt(s.errors, 0)} | ${setup.guest ? sameAnswer(answers.get(setup.name), answers.get(setup.guest)) : ''} |`,
  );
}
lines.push('', 'Ratios are server CPU per request against the baseline named, measured side by side in this run: the median over rounds of the ratio within each round. A target (issue 6) is shown where one is set.', '');
lines.push('| setup | ratio | target |', '| --- | ---: | ---: |');
for (const setup of setups) {
  if (!setup.baseline || !summary.has(setup.baseline)) continue;
  const ratio = pairedRatio(setup.name, setup.baseline);
  lines.push(`| ${setup.name} vs ${setup.baseline} | ${fmt(ratio, 2)}× | ${setup.target ? `≤ ${setup.target}× ${ratio <= setup.target ? 'met' : 'missed'}` : ''} |`);
  if (setup.also && summary.has(setup.also)) lines.push(`| ${setup.name} vs ${setup.also} | ${fmt(pairedRatio(setup.name, setup.also), 2)}× | |`);
}
lines.push(
  '',
  '"Same answer" compares the status and header names of `GET /` with the app served natively (Date, keep-alive framing and X-Powered-By aside); errors count non-2xx answers under load.',
);
if (!values['no-stream']) {
  lines.push(
    '',
    '### Streaming 64 MiB: server CPU',
    '',
    `Median over ${STREAM_ROUNDS} rounds of the median of ${STREAM_REPEATS} transfers each way (after one unmeasured each way), after the request rounds. Against raw node:http, and against the framework the app is mounted in (what the bridge adds); issue 6 sets ≤ 1.15× for the bridge.`,
    '',
    '| setup | down vs raw | up vs raw | down vs host | up vs host |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  const raw = summary.get('raw node:http');
  for (const setup of setups) {
    if (!setup.host || !summary.has(setup.host) || !raw) continue;
    const mark = (ratio) => `${fmt(ratio, 2)}×${ratio <= 1.15 ? '' : ' (over 1.15)'}`;
    const vs = (baseline, field) => pairedRatio(setup.name, baseline, field);
    lines.push(
      `| ${setup.name} | ${fmt(vs('raw node:http', 'downCpuMs'), 2)}× | ${fmt(vs('raw node:http', 'upCpuMs'), 2)}× | ${mark(vs(setup.host, 'downCpuMs'))} | ${mark(vs(setup.host, 'upCpuMs'))} |`,
    );
  }
}
lines.push('', '![CPU per request, relative to each baseline](latest.svg)');
if (!values['no-stream'] && !values.only) lines.push(...(await memoryRows()));
const report = lines.join('\n') + '\n';
console.log('\n' + report);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.md'), report);
writeFileSync(join(here, 'results', 'latest.svg'), chart(rowsFromMarkdown(report)));
