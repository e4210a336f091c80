// ESM consumer of the built @tokenbucket/core.
import { createLimiter, MemoryStore, RedisStore, TokenBucketError } from '@tokenbucket/core';

const store = new MemoryStore();
const limiter = createLimiter({ store, capacity: 2, refillPerSecond: 1 });
const decisions = [await limiter.take('k'), await limiter.take('k'), await limiter.take('k')];
store.close();
console.log(JSON.stringify({
  format: 'esm',
  allowed: decisions.map((d) => d.allowed),
  redisStore: typeof RedisStore,
  error: new TokenBucketError('INVALID_OPTION', 'x') instanceof Error,
}));
