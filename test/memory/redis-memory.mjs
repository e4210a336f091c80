// What a caller costs: Redis memory per bucket, and Node heap per denial remembered by the
// RedisStore's denial cache. Starts a redis-server of its own (nothing else in it), drives the
// built core, and prints the figures the README quotes.
// Run after `pnpm build`: node --expose-gc test/memory/redis-memory.mjs [callers]
import { createLimiter, RedisStore } from '../../packages/core/dist/esm/index.js';
import { startThrowawayRedis } from '../support/throwaway-redis.mjs';

const CALLERS = Number(process.argv[2] ?? 100_000);
/** Takes in flight at once: several batched calls per turn, as under load. */
const CONCURRENCY = 200;
/** A generous budget: this measures memory, and a loaded machine must not turn a take into an error. */
const TIMEOUT_MS = 10_000;
if (typeof globalThis.gc !== 'function') {
  console.error('run with: node --expose-gc test/memory/redis-memory.mjs');
  process.exit(2);
}

const usedMemory = async (client) => Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))[1]);
const heapAfterGc = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

/** Runs `take(i)` for every caller, CONCURRENCY at a time. */
async function forEachCaller(take) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLERS) await take(next++);
    }),
  );
}

const { admin, client, stop } = await startThrowawayRedis('memory');
try {
  const [version] = /redis_version:(\S+)/.exec(await admin.info('server')).slice(1);
  console.log(`redis-server ${version}, ${CALLERS} callers, policy "api" (keys like tb:api:{<22-character caller id>}), node ${process.version}`);

  // 1. Redis memory per bucket: one take per caller on a slow policy, so every bucket stays.
  {
    const store = new RedisStore({ client, prefix: 'tb:', denialCache: false, timeoutMs: TIMEOUT_MS });
    const limiter = createLimiter({ store, name: 'api', capacity: 100, refillPerSecond: 100 / 3600 });
    await limiter.take('warm-up');
    const before = await usedMemory(admin);
    await forEachCaller((i) => limiter.take(`caller-${i}`));
    const after = await usedMemory(admin);
    const keys = await admin.dbsize();
    let sampled = 0;
    let total = 0;
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', 'tb:api:*', 'COUNT', 1000);
      for (const key of batch) {
        if (sampled >= 1000) break;
        total += Number(await admin.memory('USAGE', key, 'SAMPLES', '0'));
        sampled++;
      }
      cursor = next;
    } while (cursor !== '0' && sampled < 1000);
    console.log(
      `Redis: ${keys} keys; used_memory grew ${((after - before) / CALLERS).toFixed(0)} bytes per bucket ` +
        `(the key, its value, its TTL and both hash tables' entries); MEMORY USAGE of a bucket key: ${(total / sampled).toFixed(0)} bytes (mean of ${sampled})`,
    );
    await admin.flushall();
  }

  // 2. Node heap per remembered denial: every caller denied once (a capacity of 1, two takes),
  // with the denial cache on and then off; the difference is the cache.
  const alive = []; // the stores, held until their heap is measured
  const heapGrowth = async (denialCache) => {
    const store = new RedisStore({ client, prefix: `tb:${denialCache}:`, denialCache: denialCache ? { maxKeys: CALLERS * 2 } : false, timeoutMs: TIMEOUT_MS });
    alive.push(store);
    const limiter = createLimiter({ store, name: 'api', capacity: 1, refillPerSecond: 1 / 3600 });
    await limiter.take('warm-up');
    await limiter.take('warm-up');
    const before = heapAfterGc();
    await forEachCaller(async (i) => {
      await limiter.take(`caller-${i}`);
      await limiter.take(`caller-${i}`);
    });
    const after = heapAfterGc();
    await admin.flushall();
    return after - before;
  };
  const off = await heapGrowth(false);
  const on = await heapGrowth(true);
  console.log(
    `Node: heap grew ${Math.round(on / CALLERS)} bytes per denied caller with the denial cache, ` +
      `${Math.round(off / CALLERS)} without: ${Math.round((on - off) / CALLERS)} bytes per remembered denial (${alive.length} stores measured)`,
  );
} finally {
  await stop();
}
