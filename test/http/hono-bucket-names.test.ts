// Hono (on @hono/node-server): a bucket is named by the pattern a middleware was registered with,
// never by a concrete URL (app.use mounts, routes, app.route() sub-apps and basePath() prefixes
// included), and two limiters never share a bucket unless given the same name, also when two
// apps in one process limit the same route.
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import request, { type Response } from 'supertest';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/hono';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { serve } from '../support/serve';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('hono-names');
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
const ok = (c: Context) => c.json({ ok: true });
const server = (app: Hono): Server => createAdaptorServer({ fetch: app.fetch }) as Server;
const policyOf = (r: Response): unknown => r.headers['ratelimit-policy'];
/** The policy names that have a bucket in Redis (the part of the key before the caller id). */
const bucketNames = async (): Promise<string[]> => [...new Set((await pool.keys(`${prefix}*`)).map((k) => k.slice(prefix.length, k.lastIndexOf(':{'))))].sort();

test('a route limiter is named by method and pattern; HEAD shares GET; a concrete URL is never a name', async () => {
  const app = new Hono();
  app.get('/items/:id', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }), ok);
  app.post('/items/:id', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }), ok);
  const srv = server(app);
  await serve(srv, async (get) => {
    expect(policyOf(await get('/items/1'))).toBe('"GET /items/:id";q=3;w=10800');
    expect(policyOf(await get('/items/2', 'POST'))).toBe('"POST /items/:id";q=3;w=10800');
    expect((await get('/items/3')).headers.ratelimit).toBe('"GET /items/:id";r=1;t=7200');
    const head = await request(srv).head('/items/4').set('x-api-key', 'k');
    expect([head.status, head.headers.ratelimit]).toEqual([200, '"GET /items/:id";r=0;t=10800']);
    expect((await get('/items/5')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['GET /items/:id', 'POST /items/:id']);
});

test('app.use(pattern) is one bucket for every route and method below it, named USE <pattern>', async () => {
  const app = new Hono();
  app.use('/api/*', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }));
  app.use(rateLimit({ store, capacity: 10, refillPerSecond: SLOW }));
  app.get('/api/a', ok);
  app.post('/api/b/:id', ok);
  app.get('/other', ok);
  await serve(server(app), async (get) => {
    expect((await get('/api/a')).status).toBe(200);
    expect((await get('/api/b/1', 'POST')).status).toBe(200);
    expect((await get('/api/b/2', 'POST')).status).toBe(200);
    expect((await get('/api/a')).status).toBe(429);
    expect(policyOf(await get('/other'))).toBe('"USE /*";q=10;w=36000');
  });
  expect(await bucketNames()).toEqual(['USE /*', 'USE /api/*']);
});

test('app.all(path) is one bucket for every method of the path, named USE <pattern>', async () => {
  const app = new Hono();
  app.all('/any/:id', rateLimit({ store, capacity: 2, refillPerSecond: SLOW }));
  app.get('/any/:id', ok);
  app.post('/any/:id', ok);
  await serve(server(app), async (get) => {
    expect(policyOf(await get('/any/1'))).toBe('"USE /any/:id";q=2;w=7200');
    expect((await get('/any/2', 'POST')).status).toBe(200);
    expect((await get('/any/3')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['USE /any/:id']);
});

test('sub-apps (app.route) and basePath() name buckets by the whole pattern', async () => {
  const items = new Hono();
  items.use(rateLimit({ store, capacity: 2, refillPerSecond: SLOW }));
  items.get('/:id', rateLimit({ store, capacity: 5, refillPerSecond: SLOW }), ok);
  const v1 = new Hono().basePath('/v1');
  v1.route('/items', items);
  const app = new Hono();
  app.route('/', v1);
  await serve(server(app), async (get) => {
    expect((await get('/v1/items/1')).status).toBe(200);
    expect((await get('/v1/items/2')).status).toBe(200);
    expect((await get('/v1/items/3')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['GET /v1/items/:id', 'USE /v1/items/*']);
});

test('two limiters without a name on one route have a bucket each; with one name they share', async () => {
  const app = new Hono();
  app.get('/x', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }), rateLimit({ store, capacity: 50, refillPerSecond: SLOW }), ok);
  const shared = { store, name: 'shared-y', capacity: 3, refillPerSecond: SLOW };
  app.get('/y', rateLimit(shared), rateLimit(shared), ok);
  await serve(server(app), async (get) => {
    expect((await get('/x')).headers.ratelimit).toBe('"GET /x";r=2;t=3600, "GET /x (2)";r=49;t=3600');
    expect([(await get('/x')).status, (await get('/x')).status, (await get('/x')).status]).toEqual([200, 200, 429]);
    expect((await get('/y')).headers.ratelimit).toBe('"shared-y";r=1;t=7200');
    expect((await get('/y')).status).toBe(429);
  });
  expect(await bucketNames()).toEqual(['GET /x', 'GET /x (2)', 'shared-y']);
});

test('two apps in one process name their limiters alike, whichever app is asked first', async () => {
  const build = () => {
    const app = new Hono();
    app.get('/z', rateLimit({ store, capacity: 2, refillPerSecond: SLOW }), ok);
    return app;
  };
  const [a, b] = [build(), build()];
  await serve(server(b), async (get) => {
    expect(policyOf(await get('/z'))).toBe('"GET /z";q=2;w=7200');
  });
  await serve(server(a), async (get) => {
    expect(policyOf(await get('/z'))).toBe('"GET /z";q=2;w=7200');
    expect((await get('/z')).status).toBe(429); // the same bucket: the fleet's instances agree
  });
  expect(await bucketNames()).toEqual(['GET /z']);
});
