// Koa: buckets are named by the router's patterns, nested prefixes included, never the URL.
import { createServer } from 'node:http';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/koa';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { serve } from '../support/serve';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('koa-routes');
let store: RedisStore;
beforeAll(() => {
  store = new RedisStore({ client: pool.client(), prefix });
});
afterAll(() => pool.closeAll([prefix]));

const ok = (ctx: Context) => {
  ctx.body = { ok: true };
};

test('router.use("/api", rateLimit(...)) gives every route and method under /api one bucket', async () => {
  const app = new Koa();
  const router = new Router();
  router.use('/api', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 3600 }));
  router.get('/api/a', ok);
  router.post('/api/b/:id', ok);
  app.use(router.routes());
  await serve(createServer(app.callback()), async (get) => {
    expect((await get('/api/a')).headers['ratelimit-policy']).toBe('"USE /api";q=2;w=7200');
    expect((await get('/api/b/1', 'POST')).status).toBe(200);
    expect((await get('/api/a')).status).toBe(429);
  });
});

test('a route of a nested router under a parameterized prefix is one bucket', async () => {
  const app = new Koa();
  const posts = new Router();
  posts.get('/posts', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 3600 }), ok);
  const users = new Router();
  users.use('/users/:id', posts.routes());
  app.use(users.routes());
  await serve(createServer(app.callback()), async (get) => {
    expect((await get('/users/1/posts')).headers['ratelimit-policy']).toBe('"GET /users/:id/posts";q=2;w=7200');
    expect((await get('/users/2/posts')).status).toBe(200);
    expect((await get('/users/3/posts')).status).toBe(429);
  });
});

test('app-level middleware is one bucket for the whole app', async () => {
  const app = new Koa();
  app.use(rateLimit({ store, capacity: 1, refillPerSecond: 1 / 3600 }));
  app.use(ok);
  await serve(createServer(app.callback()), async (get) => {
    expect((await get('/anything')).headers['ratelimit-policy']).toBe('"USE /";q=1;w=3600');
    expect((await get('/else', 'POST')).status).toBe(429);
  });
});
