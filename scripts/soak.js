// `npm run soak`: many thousands of requests across every host × guest pair, a tenth aborted
// mid-stream. Reports RSS, heap after a forced GC, open descriptors and active handles at the
// start, halfway and at the end, and fails if the second half grew where the first had settled.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '12000' }, concurrency: { type: 'string', default: '16' } } });
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const deadline = Date.now() + 8 * 60_000;

const child = fork(fileURLToPath(new URL('./soak-server.js', import.meta.url)), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const ask = (what) => new Promise((resolve) => child.once('message', (m) => resolve(m[what])) && child.send(what === 'pairs' ? 'noop' : what));
const pairs = await new Promise((resolve) => child.once('message', (m) => resolve(m.pairs)));
const stats = () => ask('stats');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const body = Buffer.alloc(32 * 1024, 98);
const counts = { ok: 0, aborted: 0, failed: 0 };

function request(pair, i) {
  return new Promise((resolve) => {
    const kind = i % 10 === 0 ? 'abort' : i % 3 === 0 ? 'echo' : i % 3 === 1 ? 'stream' : 'hello';
    const path = kind === 'abort' || kind === 'stream' ? '/g/stream' : kind === 'echo' ? '/g/echo' : '/g/hello';
    const req = http.request({ host: '127.0.0.1', port: pair.port, path, method: kind === 'echo' ? 'POST' : 'GET', agent: kind === 'abort' ? false : agent, headers: kind === 'echo' ? { 'Content-Length': body.byteLength, 'Content-Type': 'application/octet-stream' } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.byteLength;
        if (kind === 'abort' && bytes > 0) {
          // The client leaves mid-stream.
          req.destroy();
          counts.aborted++;
          resolve();
        }
      });
      res.on('end', () => {
        const expected = kind === 'echo' ? body.byteLength : kind === 'stream' ? 64 * 16 * 1024 : 5;
        if (res.statusCode === 200 && bytes === expected) counts.ok++;
        else {
          counts.failed++;
          if (counts.failed <= 5) console.error(`failed: ${pair.host} × ${pair.guest} ${kind}: status ${res.statusCode}, ${bytes} bytes`);
        }
        resolve();
      });
      res.on('error', () => resolve());
    });
    req.on('error', () => {
      if (kind !== 'abort') counts.failed++;
      resolve();
    });
    req.end(kind === 'echo' ? body : undefined);
  });
}

async function phase(from, to) {
  let next = from;
  const worker = async () => {
    while (next < to && Date.now() < deadline) {
      const i = next++;
      await request(pairs[i % pairs.length], i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const fmt = (s) => `RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, ${s.fds} fds, ${s.handles} handles (${s.sockets} sockets)`;
await phase(0, Math.min(500, total));
agent.destroy();
await new Promise((resolve) => setTimeout(resolve, 300));
const start = await stats();
console.log(`${pairs.length} host × guest pairs. After warm-up: ${fmt(start)}`);
await phase(500, Math.floor(total / 2));
const half = await stats();
console.log(`halfway (${Math.floor(total / 2)} requests): ${fmt(half)}`);
await phase(Math.floor(total / 2), total);
agent.destroy();
await new Promise((resolve) => setTimeout(resolve, 500));
const end = await stats();
console.log(`end (${total} requests: ${counts.ok} whole, ${counts.aborted} aborted mid-stream, ${counts.failed} failed): ${fmt(end)}`);
child.send('stop');

// Growth in the second half, where the first half has already filled caches and pools.
const problems = [];
if (end.heapMiB - half.heapMiB > 16) problems.push(`heap grew ${(end.heapMiB - half.heapMiB).toFixed(1)} MiB in the second half`);
if (end.fds - start.fds > 8) problems.push(`${end.fds - start.fds} more open descriptors than after warm-up`);
if (end.handles - start.handles > 8) problems.push(`${end.handles - start.handles} more active handles than after warm-up`);
if (counts.failed > 0) problems.push(`${counts.failed} requests failed`);
if (problems.length > 0) {
  console.error(`soak: FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('soak: passed: nothing grew without bound');
}
