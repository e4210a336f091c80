// Express 5 with rate-limiter-flexible's RateLimiterRedis. It ships no middleware: this is the few
// lines its users write, in its best configuration (`inMemoryBlockOnConsumed` keeps known-blocked
// keys off Redis).
import express from 'express';
import { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { announce, apiKey, BODY, connectRedis, HOST, PATHS, PORT } from './shared.mjs';

const redis = await connectRedis({ Redis, Cluster });
const app = express();
for (const [name, { route, max, windowMs }] of Object.entries(PATHS)) {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rlf-${name}`,
    points: max,
    duration: windowMs / 1000,
    inMemoryBlockOnConsumed: max,
  });
  const limit = (req, res, next) => {
    limiter.consume(apiKey(req.headers)).then(
      () => next(),
      (rejection) => {
        if (rejection instanceof Error) return next(rejection);
        res.set('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
        res.status(429).send('Too Many Requests');
      },
    );
  };
  app.get(route, limit, (_req, res) => {
    res.json(BODY);
  });
}
const server = app.listen(PORT, HOST, () => announce(server));
