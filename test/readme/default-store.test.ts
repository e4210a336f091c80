// docs/reference/options.md: a limiter created without a `store` uses one MemoryStore shared by
// every limiter of the process created without one (not a new MemoryStore each), so two such
// limiters with the same policy name share buckets, and different names never do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLimiter } from '@tokenbucket/core';

test('the options page says so', () => {
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'reference', 'options.md'), 'utf8');
  expect(page).toContain('A limiter created without a `store` uses one `MemoryStore` shared by every limiter of the process');
  expect(page).toMatch(/\n\| `store` \| a process-wide `MemoryStore` \| /);
});

test('two limiters without a store, same name: one bucket; another name: another bucket', async () => {
  const name = `default-store-${process.pid}-${Date.now()}`;
  const a = createLimiter({ name, capacity: 2, refillPerSecond: 1 / 3600 });
  const b = createLimiter({ name, capacity: 2, refillPerSecond: 1 / 3600 });
  const other = createLimiter({ name: `${name}-other`, capacity: 2, refillPerSecond: 1 / 3600 });
  expect((await a.take('k')).allowed).toBe(true);
  expect((await b.take('k')).allowed).toBe(true);
  expect((await a.take('k')).allowed).toBe(false);
  expect((await other.take('k')).allowed).toBe(true);
});
