// A hand-written SVG bar chart of the HTTP ratios (limiter req/s over no-limiter req/s, same round).
import { FRAMEWORK, label } from './report.mjs';

const CELLS = [
  ['allowed|off', 'allowed, auto-pipelining off', '#4e79a7'],
  ['allowed|on', 'allowed, auto-pipelining on', '#a0cbe8'],
  ['denied|off', 'denied, auto-pipelining off', '#e15759'],
  ['denied|on', 'denied, auto-pipelining on', '#ff9d9a'],
];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\*/g, '');

/** Bars per limiter (at 50 connections), on one Redis and on the Cluster; above 1.0 is drawn as noise. */
export function chartSvg({ meta, summary }) {
  const groups = new Map();
  for (const row of summary.http) {
    if (row.limiter === 'none' || row.connections === 1) continue;
    const id = `${row.target}|${row.framework}|${row.limiter}`;
    if (!groups.has(id)) groups.set(id, { ...row, cells: {} });
    groups.get(id).cells[`${row.path}|${row.pipelining}`] = row;
  }
  const bar = 11;
  const groupH = bar * CELLS.length + 14;
  const left = 420;
  const plotW = 480;
  const top = 70;
  const width = left + plotW + 80;
  const height = top + groups.size * groupH + 60;
  const max = 1.2;
  const x = (v) => left + (Math.min(v, max) / max) * plotW;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">HTTP requests/s with the limiter ÷ without it (same round, median)</text>`,
    `<text x="10" y="38" fill="#555">${esc(`${meta.mode} run, ${meta.date.slice(0, 10)}, ${meta.machine.cpus}, Node ${meta.machine.node}, Redis ${meta.machine.redis}, load ${meta.load1DuringRuns.min.toFixed(1)}-${meta.load1DuringRuns.max.toFixed(1)}; above 1.0 = noise`)}</text>`,
  );
  CELLS.forEach(([, name, color], i) => {
    const lx = 10 + i * 215;
    out.push(`<rect x="${lx}" y="48" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="57">${esc(name)}</text>`);
  });
  for (let v = 0; v <= max + 1e-9; v += 0.2) {
    const gx = x(v).toFixed(1);
    out.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 40}" stroke="${Math.abs(v - 1) < 1e-9 ? '#333' : '#ddd'}"/>`,
      `<text x="${gx}" y="${height - 26}" text-anchor="middle" fill="#555">${v.toFixed(1)}</text>`,
    );
  }
  let y = top;
  for (const g of groups.values()) {
    const where = g.target === 'cluster' ? `${FRAMEWORK[g.framework]} on Cluster` : FRAMEWORK[g.framework];
    out.push(`<text x="${left - 8}" y="${y + groupH / 2 - 2}" text-anchor="end">${esc(`${where}: ${label(g.limiter, meta.versions)}`)}</text>`);
    CELLS.forEach(([key, , color], i) => {
      const row = g.cells[key];
      const by = y + i * bar;
      if (!row || !Number.isFinite(row.ratio)) return;
      const text = row.noise ? `noise (${row.ratio.toFixed(2)})` : row.ratio.toFixed(2);
      out.push(
        `<rect x="${left}" y="${by}" width="${Math.max(0, x(row.ratio) - left).toFixed(1)}" height="${bar - 2}" fill="${row.noise ? '#bbb' : color}"${g.limiter === 'tokenbucket' ? ' stroke="#000" stroke-width="0.8"' : ''}/>`,
        `<text x="${(x(row.ratio) + 4).toFixed(1)}" y="${by + bar - 3}" font-size="9" fill="#333">${esc(text)}${row.problems.length ? ' ⚠' : ''}</text>`,
      );
    });
    y += groupH;
  }
  out.push(`<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle" fill="#555">ratio to no limiter (1.0 = free)</text>`, '</svg>', '');
  return out.join('\n');
}
