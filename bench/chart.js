// Draws the benchmark's ratios as an SVG bar chart. `node bench/chart.js` redraws
// results/latest.svg from results/latest.md without running the benchmark again.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** rows: [{ name, baseline, ratio, target? }], in table order. */
export function chart(rows) {
  const width = 1100;
  const left = 560;
  const barHeight = 22;
  const top = 50;
  const height = top + rows.length * (barHeight + 8) + 56;
  const max = Math.max(2, ...rows.map((r) => r.ratio)) * 1.08;
  const x = (ratio) => left + ((width - left - 60) * ratio) / max;
  const esc = (t) => String(t).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="26" font-size="15" font-weight="600">Server CPU per request, relative to the baseline named (lower is better)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (barHeight + 8);
    const peer = r.name.startsWith('peer:');
    const missed = r.target !== undefined && r.ratio > r.target;
    parts.push(`<text x="${left - 10}" y="${y + 15}" text-anchor="end">${esc(r.name)} <tspan fill="#777">vs ${esc(r.baseline)}</tspan></text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(r.ratio) - left)}" height="${barHeight}" fill="${peer ? '#9aa5b1' : missed ? '#e07a5f' : '#3d8bd9'}"/>`);
    parts.push(`<text x="${x(r.ratio) + 6}" y="${y + 15}">${r.ratio.toFixed(2)}×${r.target !== undefined ? ` (target ≤ ${r.target}×)` : ''}</text>`);
    if (r.target !== undefined) parts.push(`<line x1="${x(r.target)}" x2="${x(r.target)}" y1="${y - 2}" y2="${y + barHeight + 2}" stroke="#222" stroke-dasharray="3,2"/>`);
  });
  const axis = top + rows.length * (barHeight + 8);
  parts.push(`<line x1="${x(1)}" x2="${x(1)}" y1="${top - 6}" y2="${axis}" stroke="#222"/>`);
  parts.push(`<text x="${x(1)}" y="${axis + 16}" text-anchor="middle">1×</text>`);
  parts.push(`<text x="16" y="${height - 12}" fill="#555">blue: node-wsgi within its target or without one · orange: node-wsgi over its target (dashed mark) · grey: peers, for comparison</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The ratio table of a results markdown file, as chart rows. */
export function rowsFromMarkdown(markdown) {
  const rows = [];
  for (const line of markdown.split('\n')) {
    const m = /^\| (.+) vs (.+) \| ([\d.]+)× \| (?:≤ ([\d.]+)× )?/.exec(line);
    if (m) rows.push({ name: m[1], baseline: m[2], ratio: Number(m[3]), target: m[4] === undefined ? undefined : Number(m[4]) });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = join(dirname(fileURLToPath(import.meta.url)), 'results');
  writeFileSync(join(results, 'latest.svg'), chart(rowsFromMarkdown(readFileSync(join(results, 'latest.md'), 'utf8'))));
}
