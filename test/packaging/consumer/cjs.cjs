// CommonJS consumer of the built packages.
const { createLimiter, MemoryStore, RedisStore, TokenBucketError } = require('@tokenbucket/core');
const { rateLimit: expressRateLimit } = require('@tokenbucket/express');
const fastifyPackage = require('@tokenbucket/fastify');
const { rateLimit: koaRateLimit } = require('@tokenbucket/koa');

(async () => {
  const store = new MemoryStore();
  const limiter = createLimiter({ store, capacity: 2, refillPerSecond: 1 });
  const decisions = [await limiter.take('k'), await limiter.take('k'), await limiter.take('k')];
  store.close();
  console.log(
    JSON.stringify({
      format: 'cjs',
      allowed: decisions.map((d) => d.allowed),
      redisStore: typeof RedisStore,
      error: new TokenBucketError('INVALID_OPTION', 'x') instanceof Error,
      express: typeof expressRateLimit({ capacity: 1, refillPerSecond: 1 }),
      fastify: typeof fastifyPackage.tokenBucket === 'function' && fastifyPackage.tokenBucket === fastifyPackage.default,
      koa: typeof koaRateLimit({ capacity: 1, refillPerSecond: 1 }),
    }),
  );
})();
