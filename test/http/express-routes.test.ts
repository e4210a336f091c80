// Express: buckets are named by route pattern, mounts included, never by the concrete URL.
import { createServer } from 'node:http';
import express from 'express';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { serve } from '../support/serve';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('express-routes');
let store: RedisStore;
beforeAll(() => {
  store = new RedisStore({ client: pool.client(), prefix });
});
afterAll(() => pool.closeAll([prefix]));

const ok = (_req: unknown, res: express.Response) => void res.json({ ok: true });

test('app.use("/api", rateLimit(...)) gives every route and method under /api one bucket', async () => {
  const app = express();
  app.use('/api', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 3600 }));
  app.get('/api/a', ok);
  app.post('/api/b/:id', ok);
  app.get('/other', ok);
  await serve(createServer(app), async (get) => {
    const a = await get('/api/a');
    expect(a.headers['ratelimit-policy']).toBe('"USE /api";q=2;w=7200');
    expect((await get('/api/b/7', 'POST')).status).toBe(200);
    expect((await get('/api/a')).status).toBe(429);
    const other = await get('/other');
    expect(other.status).toBe(200);
    expect(other.headers.ratelimit).toBeUndefined();
  });
});

test('a route in a router mounted on a parameterized path is one bucket: /users/1/posts and /users/2/posts share', async () => {
  const app = express();
  const posts = express.Router();
  posts.get('/posts', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 3600 }), ok);
  app.use('/users/:id', posts);
  await serve(createServer(app), async (get) => {
    const first = await get('/users/1/posts');
    expect(first.headers['ratelimit-policy']).toBe('"GET /users/:id/posts";q=2;w=7200');
    expect((await get('/users/2/posts')).status).toBe(200);
    expect((await get('/users/3/posts')).status).toBe(429);
  });
});

test('a limiter mounted inside a router under a parameterized path is named by the pattern', async () => {
  const app = express();
  const org = express.Router();
  org.use(rateLimit({ store, capacity: 1, refillPerSecond: 1 / 3600 }));
  org.get('/projects', ok);
  app.use('/orgs/:org', org);
  await serve(createServer(app), async (get) => {
    expect((await get('/orgs/a/projects')).headers['ratelimit-policy']).toBe('"USE /orgs/:org";q=1;w=3600');
    expect((await get('/orgs/b/projects')).status).toBe(429);
  });
});
