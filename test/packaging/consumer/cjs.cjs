// CommonJS consumer of the built @tokenbucket/core.
const { createLimiter, MemoryStore, RedisStore, TokenBucketError } = require('@tokenbucket/core');

(async () => {
  const store = new MemoryStore();
  const limiter = createLimiter({ store, capacity: 2, refillPerSecond: 1 });
  const decisions = [await limiter.take('k'), await limiter.take('k'), await limiter.take('k')];
  store.close();
  console.log(JSON.stringify({
    format: 'cjs',
    allowed: decisions.map((d) => d.allowed),
    redisStore: typeof RedisStore,
    error: new TokenBucketError('INVALID_OPTION', 'x') instanceof Error,
  }));
})();
