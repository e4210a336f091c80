// bench/engine.mjs (the engine's request path against another build of core) runs on the built
// packages as they are now: a short run prints a figure for each workload. It needs no Redis.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('bench/engine.mjs runs on the built core and prints a rate for each workload', () => {
  const r = spawnSync(process.execPath, ['bench/engine.mjs', '--seconds', '0.05', '--rounds', '1'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  for (const workload of ['one limiter, allowed', 'one limiter, denied', 'two stacked, allowed']) {
    expect(r.stdout).toMatch(new RegExp(`^${workload}: this core [1-9]\\d*k/s`, 'm'));
  }
});
