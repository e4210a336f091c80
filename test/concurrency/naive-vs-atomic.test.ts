// The naive GET/SET bucket over-admits under the multi-process load of naive-vs-atomic.mjs; ours
// admits exactly the capacity. Runs the script itself, as a user would, against REDIS_URL.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisUrl, requireRedis } from '../support/redis';
import { CORE_DIST, type HammerResult } from './hammer.cjs';
import { report } from '../support/report';

requireRedis();

const script = join(__dirname, 'naive-vs-atomic.mjs');

test('8 processes x 50 in flight on one key of capacity 20: naive admits far more than 20, ours exactly 20', async () => {
  if (!existsSync(CORE_DIST)) throw new Error(`${CORE_DIST} is missing: run \`pnpm build\` first.`);
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--json'], {
    env: { ...process.env, REDIS_URL: redisUrl() },
    timeout: 25_000,
  });
  const { naive, atomic, naiveSerial } = JSON.parse(stdout) as Record<'naive' | 'atomic' | 'naiveSerial', HammerResult>;
  report(
    `[naive-vs-atomic] capacity ${atomic.capacity}, ${atomic.takes} takes each: naive admitted ${naive.admitted}, ` +
      `ours ${atomic.admitted}, naive one-at-a-time ${naiveSerial.admitted} (bound ${atomic.bound.toFixed(3)})\n`,
  );
  for (const r of [naive, atomic, naiveSerial]) {
    expect(r.errors).toBe(0);
    expect(r.takes).toBe(3200);
  }
  expect(atomic.bound).toBeLessThan(atomic.capacity + 0.01); // no refill to speak of
  expect(atomic.admitted).toBe(atomic.capacity);
  expect(naive.admitted).toBeGreaterThan(3 * naive.bound); // in practice 100x and more
  // The one-at-a-time naive run over-admits too, but by how much varies: it is shown, not asserted.
}, 30_000);
