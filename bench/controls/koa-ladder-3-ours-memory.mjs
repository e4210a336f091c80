// Koa ladder step 3: ours, as apps/koa-tokenbucket.mjs but on a MemoryStore. Against step 2: our
// decision and its computed headers. Against ours on Redis with leases: the store.
import Router from '@koa/router';
import { MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/koa';
import Koa from 'koa';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const { route, capacity, refillPerSecond } = PATHS.allowed;
const app = new Koa();
const router = new Router();
router.get(route, rateLimit({ store: new MemoryStore(), capacity, refillPerSecond }), (ctx) => {
  ctx.body = BODY;
});
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
