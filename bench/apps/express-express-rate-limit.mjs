// Express 5 with express-rate-limit on rate-limit-redis, the usual pair for a shared limit.
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { Cluster, Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';
import { announce, apiKey, BODY, connectRedis, HOST, PATHS, PORT } from './shared.mjs';

const redis = await connectRedis({ Redis, Cluster });
const app = express();
for (const [name, { route, max, windowMs }] of Object.entries(PATHS)) {
  const limiter = rateLimit({
    windowMs,
    limit: max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => apiKey(req.headers),
    store: new RedisStore({ sendCommand: (...args) => redis.call(...args), prefix: `erl-${name}:` }),
  });
  app.get(route, limiter, (_req, res) => {
    res.json(BODY);
  });
}
const server = app.listen(PORT, HOST, () => announce(server));
