// The app closes its Redis client in the same turn of the event loop as 100 takes that are held
// for the end of the turn (batched). quit(): the takes go out before QUIT and are answered by
// Redis, and the app's quit() resolves. disconnect(): the takes fail with the store's error. In
// both, nothing is unhandled and the process does not crash: the case runs in a process of its own
// (quit-with-pending-takes.child.mjs, on the built package), where both would show.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { report } from '../support/report';

const run = promisify(execFile);
const RUNS = 5;

interface Run {
  run: number;
  allowed: number;
  rejected: number;
  errors: Record<string, number>;
  closed: string;
  keysInRedis: number;
  unhandled: string[];
}

async function child(mode: 'quit' | 'disconnect', topology: 'redis' | 'cluster'): Promise<{ runs: Run[]; stderr: string }> {
  const script = join(__dirname, 'quit-with-pending-takes.child.mjs');
  const { stdout, stderr } = await run(process.execPath, [script, mode, topology, String(RUNS)], { env: process.env, timeout: 60_000 });
  const runs = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Run);
  report(`${mode}() on ${topology}, ${RUNS} runs of 100 pending takes:\n${stdout.trim()}${stderr ? `\nstderr: ${stderr}` : ''}`);
  return { runs, stderr };
}

describe('closing the client in the same turn as 100 pending batched takes', () => {
  test.each(['redis', 'cluster'] as const)(
    'quit() on %s: every take answered by Redis, quit() resolves, nothing unhandled',
    async (topology) => {
      // The child exits with an error (and execFile rejects) if it crashes.
      const { runs, stderr } = await child('quit', topology);
      expect(runs).toHaveLength(RUNS);
      for (const r of runs) {
        expect(r).toEqual({
          run: r.run,
          allowed: 100,
          rejected: 0,
          errors: {},
          closed: 'resolved OK',
          // The warm-up's 30 buckets and one per take: Redis ran them all.
          keysInRedis: 130,
          unhandled: [],
        });
      }
      // No warning either: a check of maxmemory-policy cut short by the close is not a finding.
      expect(stderr).toBe('');
    },
    90_000,
  );

  test.each(['redis', 'cluster'] as const)(
    'disconnect() on %s: every take fails with the store error, nothing unhandled',
    async (topology) => {
      const { runs, stderr } = await child('disconnect', topology);
      expect(runs).toHaveLength(RUNS);
      for (const r of runs) {
        expect(r.rejected).toBe(100);
        expect(r.unhandled).toEqual([]);
        expect(r.keysInRedis).toBe(30);
        // TB_ERR_STORE_UNAVAILABLE when the store sees the client closing; ioredis's own error when the
        // connection closes under a call already handed to it.
        for (const error of Object.keys(r.errors)) {
          expect(error).toMatch(/^TB_ERR_STORE_UNAVAILABLE: |^Error: Connection is closed\.$/);
        }
      }
      expect(stderr).toBe('');
    },
    90_000,
  );
});
