// Writes test/support/durations.json (read by test/support/sequencer.cjs to start the slowest test
// files first) from the results of a full run: `npm test` leaves them in .tmp/jest-results.json.
// Usage: node scripts/test-durations.mjs [results.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = resolve(process.argv[2] ?? join(root, '.tmp', 'jest-results.json'));
const results = JSON.parse(readFileSync(input, 'utf8'));
// The paths in the results are absolute, under the checkout that ran them (.tmp's parent).
const ranIn = dirname(dirname(input));
const seconds = {};
for (const file of results.testResults) {
  const name = relative(ranIn, file.name);
  const s = Math.round((file.endTime - file.startTime) / 100) / 10;
  seconds[name] = Math.max(seconds[name] ?? 0, s);
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
const out = join(root, 'test', 'support', 'durations.json');
writeFileSync(out, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(
  `${Object.keys(sorted).length} files, ${Object.values(sorted)
    .reduce((a, b) => a + b, 0)
    .toFixed(0)} s in all, written to ${relative(root, out)}`,
);
