// Koa 3 with @koa/router and ours: @tokenbucket/koa on a RedisStore (with token leases when BENCH_LEASES is `on`; one Redis, or a Cluster).
import Router from '@koa/router';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/koa';
import { Cluster, Redis } from 'ioredis';
import Koa from 'koa';
import { announce, BODY, connectRedis, HOST, leaseOption, PATHS, PORT, storeEvents } from './shared.mjs';

const store = new RedisStore({ client: await connectRedis({ Redis, Cluster }), ...leaseOption });
const app = new Koa();
const router = new Router();
for (const { route, capacity, refillPerSecond } of Object.values(PATHS)) {
  router.get(route, rateLimit({ store, capacity, refillPerSecond, ...storeEvents }), (ctx) => {
    ctx.body = BODY;
  });
}
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
