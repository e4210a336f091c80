// Koa 2 and 3 with every @koa/router major claimed (jest.config.cjs runs this file on each): a
// bucket's name is the same on every router version, never the router's internal pattern, and
// two limiters never share a bucket unless given the same name. The 429 carries a charset.
import { createServer } from 'node:http';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/koa';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { serve } from '../support/serve';

requireRedis();

declare const FRAMEWORK_VERSIONS: Record<string, string>;

const pool = new RedisPool();
const prefix = randomPrefix('koa-names');
let store: RedisStore;
beforeEach(() => {
  // A store per test: its denial cache must not carry one test's denials into the next.
  store = new RedisStore({ client: pool.client(), prefix });
});
afterEach(async () => {
  const keys = await pool.keys(`${prefix}*`);
  if (keys.length > 0) await pool.client().del(...keys);
});
afterAll(() => pool.closeAll([prefix]));

const SLOW = 1 / 3600;
const ok = (ctx: Context) => {
  ctx.body = { ok: true };
};
/** The policy names that have a bucket in Redis (the part of the key before the caller id). */
const bucketNames = async (): Promise<string[]> => [...new Set((await pool.keys(`${prefix}*`)).map((k) => k.slice(prefix.length, k.lastIndexOf(':{'))))].sort();

test('router.use(rateLimit()) without a path is named by the router\'s prefix, not the router\'s pattern for "anything"', async () => {
  const app = new Koa();
  const root = new Router();
  root.use(rateLimit({ store, capacity: 2, refillPerSecond: SLOW }));
  root.get('/a', ok);
  root.post('/b/:id', ok);
  const v1 = new Router({ prefix: '/v1' });
  v1.use(rateLimit({ store, capacity: 2, refillPerSecond: SLOW }));
  v1.get('/items/:id', ok);
  app.use(root.routes());
  app.use(v1.routes());
  await serve(createServer(app.callback()), async (get) => {
    expect((await get('/a')).headers['ratelimit-policy']).toBe('"USE /";q=2;w=7200');
    expect((await get('/b/1', 'POST')).status).toBe(200);
    expect((await get('/a')).status).toBe(429);
    expect((await get('/v1/items/1')).headers['ratelimit-policy']).toBe('"USE /v1";q=2;w=7200');
    expect((await get('/v1/items/2')).status).toBe(200);
    expect((await get('/v1/items/3')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['USE /', 'USE /v1']);
});

test('a path-less limiter in a router nested under a parameterized path is named by that path', async () => {
  const app = new Koa();
  const posts = new Router();
  posts.use(rateLimit({ store, capacity: 1, refillPerSecond: SLOW }));
  posts.get('/posts', ok);
  const users = new Router();
  users.use('/users/:id', posts.routes());
  app.use(users.routes());
  await serve(createServer(app.callback()), async (get) => {
    const first = await get('/users/1/posts');
    expect(first.status).toBe(200);
    if (FRAMEWORK_VERSIONS['@koa/router'] === '14.0.0') {
      // @koa/router 14.0.0 never runs a nested router's path-less middleware (13 and 15 do): the
      // README says to give it a path there.
      expect(first.headers['ratelimit-policy']).toBeUndefined();
    } else {
      expect(first.headers['ratelimit-policy']).toBe('"USE /users/:id";q=1;w=3600');
      expect((await get('/users/2/posts')).status).toBe(429);
    }
  });
});

test('two limiters without a name on one route have a bucket each; with one name they share', async () => {
  const app = new Koa();
  const router = new Router();
  router.get('/x', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }), rateLimit({ store, capacity: 50, refillPerSecond: SLOW }), ok);
  const shared = { store, name: 'shared-y', capacity: 3, refillPerSecond: SLOW };
  router.get('/y', rateLimit(shared), rateLimit(shared), ok);
  app.use(router.routes());
  await serve(createServer(app.callback()), async (get) => {
    expect((await get('/x')).headers.ratelimit).toBe('"GET /x";r=2;t=3600, "GET /x (2)";r=49;t=3600');
    expect([(await get('/x')).status, (await get('/x')).status, (await get('/x')).status]).toEqual([200, 200, 429]);
    expect((await get('/y')).headers.ratelimit).toBe('"shared-y";r=1;t=7200');
    expect((await get('/y')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['GET /x', 'GET /x (2)', 'shared-y']);
});

test('a 429 is application/problem+json with its charset, as in the other adapters', async () => {
  const app = new Koa();
  const router = new Router();
  router.get('/c', rateLimit({ store, capacity: 1, refillPerSecond: SLOW }), ok);
  app.use(router.routes());
  await serve(createServer(app.callback()), async (get) => {
    await get('/c');
    const denied = await get('/c');
    expect(denied.status).toBe(429);
    expect(denied.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });
});

test('one limiter instance used in two routers with different prefixes is two buckets, one per prefix', async () => {
  const app = new Koa();
  const limit = rateLimit({ store, capacity: 1, refillPerSecond: SLOW });
  const v1 = new Router({ prefix: '/v1' });
  v1.use(limit);
  v1.get('/x', ok);
  const v2 = new Router({ prefix: '/v2' });
  v2.use(limit);
  v2.get('/x', ok);
  app.use(v1.routes());
  app.use(v2.routes());
  await serve(createServer(app.callback()), async (get) => {
    const one = await get('/v1/x');
    expect(one.status).toBe(200);
    expect(one.headers['ratelimit-policy']).toBe('"USE /v1";q=1;w=3600');
    const two = await get('/v2/x');
    expect(two.status).toBe(200);
    expect(two.headers['ratelimit-policy']).toBe('"USE /v2";q=1;w=3600');
    expect((await get('/v1/x')).status).toBe(429);
    expect((await get('/v2/x')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['USE /v1', 'USE /v2']);
});
