// CommonJS consumer of the built packages.
const { createLimiter, MemoryStore, RedisStore, TokenBucketError } = require('@tokenbucket/core');
const { rateLimit: expressRateLimit } = require('@tokenbucket/express');
const fastifyPackage = require('@tokenbucket/fastify');
const { rateLimit: honoRateLimit } = require('@tokenbucket/hono');
const { rateLimit: koaRateLimit } = require('@tokenbucket/koa');
const { registerMetrics: registerOpenTelemetry } = require('@tokenbucket/opentelemetry');
const { registerMetrics } = require('@tokenbucket/prometheus');
const { Registry } = require('prom-client');

(async () => {
  const register = new Registry();
  const metrics = registerMetrics({ register });
  const otel = registerOpenTelemetry(); // the API's global (no-op) MeterProvider: nothing to read, but it must load
  const store = new MemoryStore();
  const limiter = createLimiter({ store, capacity: 2, refillPerSecond: 1 });
  const decisions = [await limiter.take('k'), await limiter.take('k'), await limiter.take('k')];
  store.close();
  const counted = (await register.getMetricsAsJSON()).find((m) => m.name === 'tokenbucket_decisions_total').values.map((v) => [v.labels.outcome, v.value]);
  metrics.close();
  otel.close();
  console.log(
    JSON.stringify({
      format: 'cjs',
      allowed: decisions.map((d) => d.allowed),
      redisStore: typeof RedisStore,
      error: new TokenBucketError('TB_ERR_INVALID_OPTION', 'x') instanceof Error,
      express: typeof expressRateLimit({ capacity: 1, refillPerSecond: 1 }),
      fastify: typeof fastifyPackage.tokenBucket === 'function' && fastifyPackage.tokenBucket === fastifyPackage.default,
      hono: typeof honoRateLimit({ capacity: 1, refillPerSecond: 1 }),
      koa: typeof koaRateLimit({ capacity: 1, refillPerSecond: 1 }),
      prometheus: counted,
    }),
  );
})();
