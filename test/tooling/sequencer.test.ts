// test/support/sequencer.cjs starts the slowest files first, by test/support/durations.json, and
// that file names only test files that exist (scripts/test-durations.mjs rewrites it from a run).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const durations = require(join(root, 'test/support/durations.json')) as Record<string, number>;
const Sequencer = require(join(root, 'test/support/sequencer.cjs')) as new (
  options: object,
) => {
  sort(tests: { path: string }[]): { path: string }[];
};

test('durations.json names only test files that exist, each with a duration in seconds', () => {
  const names = Object.keys(durations);
  expect(names.length).toBeGreaterThan(50);
  expect(names.filter((name) => !name.endsWith('.test.ts') || !existsSync(join(root, name)))).toEqual([]);
  expect(Object.values(durations).every((s) => Number.isFinite(s) && s >= 0)).toBe(true);
});

test('the slowest known file runs first, a file with no duration yet before any, the quickest last', () => {
  const known = Object.entries(durations).sort(([, a], [, b]) => b - a);
  const [slowest, quickest] = [known[0]![0], known.at(-1)![0]];
  const middle = known[Math.floor(known.length / 2)]![0];
  const tests = [quickest, middle, 'test/core/a-new-file.test.ts', slowest].map((name) => ({ path: join(root, name) }));
  const order = new Sequencer({ contexts: [], globalConfig: {} }).sort(tests).map((t) => t.path.slice(root.length + 1));
  expect(order).toEqual(['test/core/a-new-file.test.ts', slowest, middle, quickest]);
});
