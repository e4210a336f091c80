// The benchmarked apps: one tiny JSON route per path, with no limiter, a peer, or ours, per framework.
import Router from '@koa/router';
import fastifyRateLimit from '@fastify/rate-limit';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit as expressLimit } from '@tokenbucket/express';
import tokenBucket from '@tokenbucket/fastify';
import { rateLimit as koaLimit } from '@tokenbucket/koa';
import express from 'express';
import { rateLimit as expressRateLimit } from 'express-rate-limit';
import Fastify from 'fastify';
import Koa from 'koa';
import koaRatelimit from 'koa-ratelimit';
import { RedisStore as RateLimitRedisStore } from 'rate-limit-redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

/**
 * The two paths every app serves. `/a` (allowed): a limit nobody reaches, so every request is a
 * full allowed decision. `/d` (denied): 10 a minute, hammered by one key, so nearly every request
 * is denied. Window-based peers count `max` per 60 s window. Our allowed bucket refills at a
 * billion a day, slower than the keys take, so it stays in Redis like the peers' counters do
 * (at a billion a minute it would be full, and expire, a millisecond after each take, and the
 * script would read a missing key: cheaper than the live bucket real callers have).
 */
export const PATHS = {
  allowed: { route: '/a', capacity: 1e9, refillPerSecond: 1e9 / 86_400, max: 1e9, windowMs: 60_000 },
  denied: { route: '/d', capacity: 10, refillPerSecond: 10 / 60, max: 10, windowMs: 60_000 },
};

/** Which limiters run on which framework; 'none' is the baseline of every round. */
export const LIMITERS = {
  express: ['none', 'express-rate-limit', 'rate-limiter-flexible', 'tokenbucket'],
  fastify: ['none', '@fastify/rate-limit', 'tokenbucket'],
  koa: ['none', 'koa-ratelimit', 'tokenbucket'],
};

/** The caller key every limiter is told to use. */
const apiKey = (headers) => headers['x-api-key'];
const BODY = { ok: true, items: [1, 2, 3] };

/** Counters the server reports back: store failures would make ours look faster than it is. */
export const counters = { storeErrors: 0, storeDown: 0 };
const ourHooks = {
  onError: () => void counters.storeErrors++,
  onStoreStatus: (event) => {
    if (event.status === 'down') counters.storeDown++;
  },
};

/**
 * rate-limiter-flexible has no HTTP middleware; this is the few lines its users write, in its
 * best configuration: `inMemoryBlockOnConsumed` keeps known-blocked keys off Redis.
 */
function flexible(redis, prefix, limits) {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: prefix,
    points: limits.max,
    duration: limits.windowMs / 1000,
    inMemoryBlockOnConsumed: limits.max,
  });
}

/** Builds the app; returns `{ listen(): Promise<port>, close(): Promise<void> }`. */
export async function buildApp(framework, limiter, redis) {
  if (framework === 'express') return expressApp(limiter, redis);
  if (framework === 'fastify') return fastifyApp(limiter, redis);
  if (framework === 'koa') return koaApp(limiter, redis);
  throw new Error(`unknown framework ${framework}`);
}

function expressApp(limiter, redis) {
  const app = express();
  app.disable('x-powered-by');
  const store = limiter === 'tokenbucket' ? new RedisStore({ client: redis }) : undefined;
  for (const [name, limits] of Object.entries(PATHS)) {
    const handlers = [];
    if (limiter === 'express-rate-limit') {
      handlers.push(
        expressRateLimit({
          windowMs: limits.windowMs,
          limit: limits.max,
          standardHeaders: 'draft-8',
          legacyHeaders: false,
          keyGenerator: (req) => apiKey(req.headers),
          store: new RateLimitRedisStore({ sendCommand: (...args) => redis.call(...args), prefix: `erl-${name}:` }),
        }),
      );
    } else if (limiter === 'rate-limiter-flexible') {
      const rl = flexible(redis, `rlf-${name}`, limits);
      handlers.push((req, res, next) => {
        rl.consume(apiKey(req.headers)).then(
          () => next(),
          (rej) => {
            if (rej instanceof Error) return next(rej);
            res.set('Retry-After', String(Math.max(1, Math.ceil(rej.msBeforeNext / 1000))));
            res.status(429).send('Too Many Requests');
          },
        );
      });
    } else if (limiter === 'tokenbucket') {
      handlers.push(expressLimit({ store, capacity: limits.capacity, refillPerSecond: limits.refillPerSecond, ...ourHooks }));
    } else if (limiter !== 'none') {
      throw new Error(`unknown express limiter ${limiter}`);
    }
    app.get(limits.route, ...handlers, (_req, res) => {
      res.json(BODY);
    });
  }
  return nodeServer(app);
}

async function fastifyApp(limiter, redis) {
  const app = Fastify({ logger: false });
  if (limiter === '@fastify/rate-limit') {
    await app.register(fastifyRateLimit, { global: false, redis, keyGenerator: (req) => apiKey(req.headers) });
  } else if (limiter === 'tokenbucket') {
    await app.register(tokenBucket, { store: new RedisStore({ client: redis }), ...ourHooks });
  } else if (limiter !== 'none') {
    throw new Error(`unknown fastify limiter ${limiter}`);
  }
  for (const limits of Object.values(PATHS)) {
    let config = {};
    if (limiter === '@fastify/rate-limit') config = { rateLimit: { max: limits.max, timeWindow: limits.windowMs } };
    if (limiter === 'tokenbucket') config = { rateLimit: { capacity: limits.capacity, refillPerSecond: limits.refillPerSecond } };
    app.get(limits.route, { config }, async () => BODY);
  }
  return {
    async listen() {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return app.server.address().port;
    },
    close: () => app.close(),
  };
}

function koaApp(limiter, redis) {
  const app = new Koa();
  const router = new Router();
  const store = limiter === 'tokenbucket' ? new RedisStore({ client: redis }) : undefined;
  for (const [name, limits] of Object.entries(PATHS)) {
    const handlers = [];
    if (limiter === 'koa-ratelimit') {
      handlers.push(
        koaRatelimit({
          driver: 'redis',
          db: redis,
          duration: limits.windowMs,
          max: limits.max,
          id: (ctx) => apiKey(ctx.headers),
          namespace: `krl-${name}`,
        }),
      );
    } else if (limiter === 'tokenbucket') {
      handlers.push(koaLimit({ store, capacity: limits.capacity, refillPerSecond: limits.refillPerSecond, ...ourHooks }));
    } else if (limiter !== 'none') {
      throw new Error(`unknown koa limiter ${limiter}`);
    }
    router.get(limits.route, ...handlers, (ctx) => {
      ctx.body = BODY;
    });
  }
  app.use(router.routes());
  return nodeServer(app.callback());
}

/** A node:http server for Express and Koa, on loopback only. */
async function nodeServer(handler) {
  const { createServer } = await import('node:http');
  const server = createServer(handler);
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server.address().port));
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
