// Koa 3 with @koa/router and koa-ratelimit on Redis.
import Router from '@koa/router';
import { Cluster, Redis } from 'ioredis';
import Koa from 'koa';
import ratelimit from 'koa-ratelimit';
import { announce, apiKey, BODY, connectRedis, HOST, PATHS, PORT } from './shared.mjs';

const redis = await connectRedis({ Redis, Cluster });
const app = new Koa();
const router = new Router();
for (const [name, { route, max, windowMs }] of Object.entries(PATHS)) {
  const limiter = ratelimit({
    driver: 'redis',
    db: redis,
    duration: windowMs,
    max,
    id: (ctx) => apiKey(ctx.headers),
    namespace: `krl-${name}`,
  });
  router.get(route, limiter, (ctx) => {
    ctx.body = BODY;
  });
}
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
