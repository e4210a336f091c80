#!/usr/bin/env node
// The naive GET/SET token bucket over-admits under concurrent load; ours does not.
//
//   REDIS_URL=redis://127.0.0.1:6379 node test/concurrency/naive-vs-atomic.mjs [--json]
//
// Runs the same load twice against the Redis at REDIS_URL: 8 processes, each with its own client
// and 50 takes in flight, 400 takes per process, on ONE caller key of a bucket with capacity 20
// and (almost) no refill. First (a) a naive bucket, GET the state, refill and debit in JS on the
// app's clock, SET it back, as a first snippet would; then (b) our RedisStore. Prints what each
// admitted against the bound capacity + refillPerSecond * elapsed (elapsed on Redis's clock).
// A third run gives the naive bucket one take at a time per process (8 single-threaded workers):
// it over-admits too, by less and by a varying amount.
// Needs the built packages (`pnpm build`). test/concurrency/naive-vs-atomic.test.ts asserts the
// same run.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { runHammer } = require('./hammer.cjs');

export const LOAD = {
  processes: 8,
  inFlight: 50,
  maxTakesPerProcess: 400,
  durationMs: 10_000, // an upper limit: the run ends by count, in well under a second
  policy: { name: 'naive-vs-atomic', capacity: 20, refillPerSecond: 1 / 3600 },
};

export async function naiveVsAtomic(url) {
  const prefix = `tbdemo:${randomBytes(4).toString('hex')}:`;
  const common = { ...LOAD, target: { url }, prefix, key: 'one-hot-caller' };
  const naive = await runHammer({ ...common, design: 'naive' });
  const atomic = await runHammer({ ...common, design: 'atomic' });
  const naiveSerial = await runHammer({ ...common, design: 'naive', inFlight: 1, prefix: `${prefix}serial:` });
  return { naive, atomic, naiveSerial };
}

const main = async () => {
  const url = process.env.REDIS_URL;
  if (!url) {
    console.error('REDIS_URL is not set: REDIS_URL=redis://127.0.0.1:<port> node test/concurrency/naive-vs-atomic.mjs');
    process.exit(2);
  }
  const results = await naiveVsAtomic(url);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results));
    return;
  }
  const { processes, inFlight, maxTakesPerProcess, policy } = LOAD;
  console.log(
    `${processes} processes x ${inFlight} in flight x ${maxTakesPerProcess} takes on one key; ` +
      `capacity ${policy.capacity}, refill ${policy.refillPerSecond.toPrecision(3)}/s`,
  );
  const rows = [
    ['naive GET/SET', results.naive],
    ['RedisStore (Lua)', results.atomic],
    ['naive, 1 in flight', results.naiveSerial],
  ];
  for (const [name, r] of rows) {
    const verdict = r.admitted <= r.bound + 1e-6 ? 'within the bound' : `OVER-ADMITS x${(r.admitted / r.bound).toFixed(1)}`;
    console.log(
      `  ${name.padEnd(18)} takes ${String(r.takes).padStart(5)}  admitted ${String(r.admitted).padStart(5)}  ` +
        `bound ${r.bound.toFixed(3).padStart(8)}  over ${r.elapsedS.toFixed(3)} s  errors ${r.errors}  ${verdict}`,
    );
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
