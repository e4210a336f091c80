// ESM consumer of the built packages.
import { createLimiter, MemoryStore, RedisStore, TokenBucketError } from '@tokenbucket/core';
import { rateLimit as expressRateLimit } from '@tokenbucket/express';
import tokenBucket, { tokenBucket as namedPlugin } from '@tokenbucket/fastify';
import { rateLimit as honoRateLimit } from '@tokenbucket/hono';
import { rateLimit as koaRateLimit } from '@tokenbucket/koa';
import { registerMetrics as registerOpenTelemetry } from '@tokenbucket/opentelemetry';
import { registerMetrics } from '@tokenbucket/prometheus';
import { Registry } from 'prom-client';

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
    format: 'esm',
    allowed: decisions.map((d) => d.allowed),
    redisStore: typeof RedisStore,
    error: new TokenBucketError('TB_ERR_INVALID_OPTION', 'x') instanceof Error,
    express: typeof expressRateLimit({ capacity: 1, refillPerSecond: 1 }),
    fastify: typeof tokenBucket === 'function' && tokenBucket === namedPlugin,
    hono: typeof honoRateLimit({ capacity: 1, refillPerSecond: 1 }),
    koa: typeof koaRateLimit({ capacity: 1, refillPerSecond: 1 }),
    prometheus: counted,
  }),
);
