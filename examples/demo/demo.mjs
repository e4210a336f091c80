// The demo: one API key bursts through a bucket of 5 (refill 2/s), gets denied with the wait,
// waits, and is admitted again. Uses Redis when REDIS_URL is set or 127.0.0.1:6379 answers.
import { createLimiter, MemoryStore, RedisStore } from '@tokenbucket/core';
import { Redis } from 'ioredis';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects to REDIS_URL, else tries the default local port; resolves to a client or undefined. */
async function connectRedis() {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // reported below, once
  try {
    await client.connect();
    await client.ping();
    return { client, url };
  } catch (err) {
    client.disconnect();
    if (process.env.REDIS_URL) console.log(`REDIS_URL=${url} did not answer (${err.message}).`);
    return undefined;
  }
}

const redis = await connectRedis();
const store = redis ? new RedisStore({ client: redis.client, prefix: 'tb-demo:' }) : new MemoryStore();
console.log(
  redis
    ? `Store: RedisStore on ${redis.url} (time from Redis, shared by every process on it)`
    : 'Store: MemoryStore (no Redis answered at REDIS_URL or 127.0.0.1:6379; limits are per process)',
);

const limiter = createLimiter({ store, name: 'demo', capacity: 5, refillPerSecond: 2 });
const apiKey = 'demo-api-key';
await limiter.reset(apiKey);
console.log('Policy "demo": capacity 5, refill 2 tokens/s, for API key "demo-api-key"\n');

const start = performance.now();
const show = (label, d) => {
  const t = ((performance.now() - start) / 1000).toFixed(2).padStart(5);
  const verdict = d.allowed ? 'allowed' : 'DENIED ';
  const wait = d.allowed ? '' : Number.isFinite(d.retryAfterMs) ? `  retry in ${d.retryAfterMs} ms` : '  never (cost above capacity)';
  console.log(`t=${t}s  ${label.padEnd(16)} ${verdict}  remaining ${d.remaining}/${d.limit}  full in ${d.resetMs} ms${wait}`);
};

console.log('A burst of 7 requests at once:');
let last;
for (let i = 1; i <= 7; i++) {
  last = await limiter.take(apiKey);
  show(`request ${i}`, last);
}

console.log(`\nWaiting the ${last.retryAfterMs} ms the denial asked for:`);
await sleep(last.retryAfterMs);
show('request 8', await limiter.take(apiKey));
show('request 9', await limiter.take(apiKey));

console.log('\nA heavy request (cost 3) while the bucket is low, then after 1.5 s of refill:');
show('cost 3', await limiter.take(apiKey, { cost: 3 }));
await sleep(1500);
show('cost 3', await limiter.take(apiKey, { cost: 3 }));

console.log('\nA request that costs more than the bucket holds can never succeed:');
show('cost 6', await limiter.take(apiKey, { cost: 6 }));

await limiter.reset(apiKey);
if (redis) await redis.client.quit();
else store.close();
