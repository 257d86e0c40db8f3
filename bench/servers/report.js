// Shared by every benchmark server: tells the harness its port, and its CPU time and peak RSS on request.
import { readFileSync } from 'node:fs';

function peakRssKiB() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const match = /VmHWM:\s+(\d+)/.exec(status);
  return match ? Number(match[1]) : 0;
}

/** Call once the server listens. */
export function reportReady(server) {
  process.on('message', (message) => {
    if (message === 'stats') {
      const cpu = process.cpuUsage();
      process.send({ stats: { cpuMicros: cpu.user + cpu.system, systemMicros: cpu.system, peakRssKiB: peakRssKiB() } });
    }
  });
  process.send({ port: server.address().port });
}
