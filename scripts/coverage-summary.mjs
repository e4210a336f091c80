// Prints the coverage of each package from jest's coverage/coverage-summary.json, against the
// floor that jest.config.cjs sets, with the files that miss the most lines.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const summaryFile = join(root, 'coverage', 'coverage-summary.json');
if (!existsSync(summaryFile)) {
  console.error(`${relative(root, summaryFile)} is missing: run jest with --coverage first (\`npm test\` does).`);
  process.exit(1);
}
const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
const thresholds = createRequire(import.meta.url)(join(root, 'jest.config.cjs')).coverageThreshold ?? {};

const METRICS = ['lines', 'statements', 'functions', 'branches'];
const empty = () => Object.fromEntries(METRICS.map((m) => [m, { covered: 0, total: 0 }]));
const percent = ({ covered, total }) => (total === 0 ? 100 : (100 * covered) / total);

const byPackage = new Map();
const files = [];
for (const [file, figures] of Object.entries(summary)) {
  if (file === 'total') continue;
  const path = relative(root, file);
  const name = path.split('/')[1];
  if (!path.startsWith('packages/') || name === undefined) continue;
  const sums = byPackage.get(name) ?? empty();
  for (const m of METRICS) {
    sums[m].covered += figures[m].covered;
    sums[m].total += figures[m].total;
  }
  byPackage.set(name, sums);
  files.push({ path, missed: figures.lines.total - figures.lines.covered, lines: figures.lines });
}

const cell = (c) => `${percent(c).toFixed(2).padStart(6)}% ${`(${c.covered}/${c.total})`.padEnd(12)}`;
console.log(`\n==> coverage per package (${METRICS.join(' / ')})`);
let below = 0;
for (const [name, sums] of [...byPackage].sort(([a], [b]) => a.localeCompare(b))) {
  const floor = thresholds[`./packages/${name}/src/`]?.lines;
  const ok = floor === undefined || percent(sums.lines) >= floor;
  if (!ok) below++;
  const note = floor === undefined ? 'no floor' : `floor ${floor}% of lines${ok ? '' : ': BELOW'}`;
  console.log(`  ${`packages/${name}`.padEnd(18)} ${METRICS.map((m) => cell(sums[m])).join(' ')} ${note}`);
}
const worst = files.filter((f) => f.missed > 0).sort((a, b) => b.missed - a.missed);
if (worst.length > 0) {
  console.log('  files with the most uncovered lines (coverage/lcov-report/index.html shows which):');
  for (const f of worst.slice(0, 8)) console.log(`    ${String(f.missed).padStart(4)} lines  ${f.path} (${percent(f.lines).toFixed(1)}%)`);
}
if (below > 0) console.log(`  ${below} package(s) below the floor: jest fails the run for it.`);
