// What Redis eviction does to a rate limit: a hot caller hammers its limit while a flood of new
// callers (on a daily quota, whose buckets live for hours) fills a Redis with a small maxmemory.
// Under an evicting maxmemory-policy the hot caller's bucket is evicted and comes back full: the
// denial cache answers its denials without Redis, so under LRU its key looks idle and goes first.
// Prints, per policy (and for LRU without the denial cache), what the hot caller was admitted
// against the bound (capacity + rate x elapsed). A measurement, not a test: it asserts nothing.
// Run after `pnpm build`: node test/reliability/eviction.mjs [seconds per run] [new callers per turn]
import { createLimiter, RedisStore } from '../../packages/core/dist/esm/index.js';
import { startThrowawayRedis } from '../support/throwaway-redis.mjs';

const SECONDS = Number(process.argv[2] ?? 10);
/** maxmemory-policy, and whether the store keeps its denial cache. */
const RUNS = [
  ['allkeys-lru', true],
  ['allkeys-lru', false],
  ['volatile-lru', true],
  ['volatile-ttl', true],
  ['noeviction', true],
];
/** Room for buckets above an empty server's used_memory. */
const ROOM_BYTES = 1024 * 1024;
const HOT = { name: 'burst', capacity: 20, refillPerSecond: 2 };
const DAILY = { name: 'daily', capacity: 100, refillPerSecond: 100 / 86400 };
/** Takes per turn of the loop: the hot caller's, and new callers'. */
const HOT_PER_TURN = 10;
const NEW_PER_TURN = Number(process.argv[3] ?? 5);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const info = async (client, field) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await client.info())?.[1]);

async function measure(policy, denialCache) {
  const { admin, client, stop } = await startThrowawayRedis('eviction');
  try {
    const empty = await info(admin, 'used_memory');
    await admin.config('SET', 'maxmemory', String(empty + ROOM_BYTES));
    await admin.config('SET', 'maxmemory-policy', policy);
    // A generous budget: a loaded machine must not turn takes into time-outs here.
    const store = new RedisStore({ client, prefix: 'tb:', checkMemoryPolicy: false, denialCache: denialCache ? {} : false, timeoutMs: 5000 });
    const hot = createLimiter({ store, ...HOT });
    const daily = createLimiter({ store, ...DAILY });
    let hotAdmitted = 0;
    let newCallers = 0;
    let errors = 0;
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      const takes = [];
      for (let i = 0; i < HOT_PER_TURN; i++) {
        takes.push(
          hot.take('hot').then(
            (d) => void (d.allowed && hotAdmitted++),
            () => void errors++,
          ),
        );
      }
      for (let i = 0; i < NEW_PER_TURN; i++) takes.push(daily.take(`new-${newCallers++}`).catch(() => void errors++));
      await Promise.all(takes);
    }
    const elapsed = (performance.now() - started) / 1000;
    const bound = HOT.capacity + HOT.refillPerSecond * elapsed;
    console.log(
      `${policy.padEnd(12)} ${denialCache ? 'denial cache on ' : 'denial cache off'}: hot caller admitted ${String(hotAdmitted).padStart(4)} in ${elapsed.toFixed(1)} s against a bound of ${bound.toFixed(1)} ` +
        `(${(hotAdmitted / bound).toFixed(1)}x); ${newCallers} new callers, ${await info(admin, 'evicted_keys')} keys evicted, ` +
        `${await admin.dbsize()} kept, ${errors} takes failed`,
    );
  } finally {
    await stop();
  }
}

console.log(
  `A hot caller on ${HOT.capacity} at ${HOT.refillPerSecond}/s, ${HOT_PER_TURN} takes a turn, among ${NEW_PER_TURN} new callers a turn ` +
    `on ${DAILY.capacity} a day; Redis maxmemory = empty + ${ROOM_BYTES / 1024} KB; ${SECONDS} s per run:`,
);
for (const [policy, denialCache] of RUNS) {
  await measure(policy, denialCache);
  await sleep(100);
}
