// Express 5 with ours: @tokenbucket/express on a RedisStore (with token leases when BENCH_LEASES is `on`; one Redis, or a Cluster).
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import express from 'express';
import { Cluster, Redis } from 'ioredis';
import { announce, BODY, connectRedis, HOST, leaseOption, PATHS, PORT, storeEvents } from './shared.mjs';

const store = new RedisStore({ client: await connectRedis({ Redis, Cluster }), ...leaseOption });
const app = express();
for (const { route, capacity, refillPerSecond } of Object.values(PATHS)) {
  app.get(route, rateLimit({ store, capacity, refillPerSecond, ...storeEvents }), (_req, res) => {
    res.json(BODY);
  });
}
const server = app.listen(PORT, HOST, () => announce(server));
