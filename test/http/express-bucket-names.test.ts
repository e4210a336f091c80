// Express 4 and 5 (jest.config.cjs runs this file on each): a limited request answers 429 on both
// (Express 4's `app.router` is a throwing getter), and a bucket is named by a pattern, never by a
// concrete URL, nor shared by two limiters that were not given the same name.
import { createServer } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { Response } from 'supertest';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { serve } from '../support/serve';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('express-names');
let store: RedisStore;
beforeEach(() => {
  // A store per test: its denial cache must not carry one test's denials into the next.
  store = new RedisStore({ client: pool.client(), prefix });
});
afterAll(() => pool.closeAll([prefix]));

const SLOW = 1 / 3600;
const ok: RequestHandler = (_req, res) => void res.json({ ok: true });
const policyOf = (r: Response): unknown => r.headers['ratelimit-policy'];
/** The policy names that have a bucket in Redis (the part of the key before the caller id). */
const bucketNames = async (): Promise<string[]> => [...new Set((await pool.keys(`${prefix}*`)).map((k) => k.slice(prefix.length, k.lastIndexOf(':{'))))].sort();
afterEach(async () => {
  const keys = await pool.keys(`${prefix}*`);
  if (keys.length > 0) await pool.client().del(...keys);
});

test('a limited request answers 429 with the problem body, named or not', async () => {
  const app = express();
  app.get('/x', rateLimit({ store, capacity: 1, refillPerSecond: SLOW }), ok);
  app.get('/named', rateLimit({ store, name: 'named', capacity: 1, refillPerSecond: SLOW }), ok);
  await serve(createServer(app), async (get) => {
    for (const path of ['/x', '/named']) {
      expect((await get(path)).status).toBe(200);
      const denied = await get(path);
      expect(denied.status).toBe(429);
      expect(denied.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect((denied.body as { status: number }).status).toBe(429);
    }
  });
});

test("a mount path is one bucket whatever the URL's spelling (Express matches it case-insensitively)", async () => {
  const app = express();
  app.use('/api', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }));
  app.get('/api/a', ok);
  await serve(createServer(app), async (get) => {
    const statuses = [];
    for (const path of ['/api/a', '/API/a', '/Api/a/', '/api/a']) statuses.push((await get(path)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
  expect(await bucketNames()).toEqual(['USE /api']);
});

test('a sub-app mounted on a parameterized path: its routes and mounts are named by the full pattern', async () => {
  const app = express();
  const sub = express();
  sub.use(rateLimit({ store, capacity: 10, refillPerSecond: SLOW }));
  sub.get('/s/:id', rateLimit({ store, capacity: 10, refillPerSecond: SLOW }), ok);
  app.use('/v1/:ver', sub);
  await serve(createServer(app), async (get) => {
    expect((await get('/v1/2/s/9')).status).toBe(200);
    expect((await get('/v1/3/s/8')).status).toBe(200);
  });
  expect(await bucketNames()).toEqual(['GET /v1/:ver/s/:id', 'USE /v1/:ver']);
});

test('a path given as a regular expression or an array is "*", never the URL', async () => {
  const app = express();
  const posts = express.Router();
  posts.get('/posts', rateLimit({ store, capacity: 10, refillPerSecond: SLOW }), ok);
  app.use(/^\/(?:team|org)s?/, posts);
  app.use(['/a', '/b'], rateLimit({ store, capacity: 10, refillPerSecond: SLOW }));
  app.get(['/a/x', '/b/x'], ok);
  await serve(createServer(app), async (get) => {
    for (const path of ['/team/posts', '/orgs/posts', '/a/x', '/b/x']) expect((await get(path)).status).toBe(200);
  });
  expect(await bucketNames()).toEqual(['GET */posts', 'USE *']);
});

test('middleware run through a wrapper (as NestJS runs it) is "USE *" outside a route, the route inside one', async () => {
  const app = express();
  const outside = rateLimit({ store, capacity: 10, refillPerSecond: SLOW });
  const inside = rateLimit({ store, capacity: 10, refillPerSecond: SLOW });
  app.use((req, res, next) => outside(req, res, next));
  app.get('/w/:id', (req, res, next) => inside(req, res, next), ok);
  await serve(createServer(app), async (get) => {
    expect((await get('/w/1')).status).toBe(200);
    expect((await get('/w/2')).status).toBe(200);
    expect((await get('/nothing/1')).status).toBe(404);
    expect((await get('/nothing/2')).status).toBe(404);
  });
  expect(await bucketNames()).toEqual(['GET /w/:id', 'USE *']);
});

test('app-level middleware after a route that passed the request on is still "USE /"', async () => {
  const app = express();
  // The route leaves req.route set for the middleware after it.
  app.get('/first', (_req, _res, next) => next());
  app.use(rateLimit({ store, capacity: 10, refillPerSecond: SLOW }));
  app.get('/first', ok);
  await serve(createServer(app), async (get) => {
    expect(policyOf(await get('/first'))).toBe('"USE /";q=10;w=36000');
  });
});

describe('two limiters without a name on one route', () => {
  const twoLimiters = () => {
    const app = express();
    app.get('/x', rateLimit({ store, capacity: 3, refillPerSecond: SLOW }), rateLimit({ store, capacity: 50, refillPerSecond: SLOW }), ok);
    return app;
  };

  test('have a bucket each: the first keeps the route\'s name, the next is "(2)"', async () => {
    await serve(createServer(twoLimiters()), async (get) => {
      const first = await get('/x');
      expect(first.status).toBe(200);
      // Each limiter its own bucket, both shown.
      expect(first.headers.ratelimit).toBe('"GET /x";r=2;t=3600, "GET /x (2)";r=49;t=3600');
      expect([(await get('/x')).status, (await get('/x')).status, (await get('/x')).status]).toEqual([200, 200, 429]);
    });
    expect(await bucketNames()).toEqual(['GET /x', 'GET /x (2)']);
  });

  test('the names are the same in another instance of the app (or after a restart), so instances share them', async () => {
    const a = twoLimiters();
    const b = twoLimiters();
    await serve(createServer(a), async (getA) => {
      await serve(createServer(b), async (getB) => {
        expect(policyOf(await getA('/x'))).toBe('"GET /x";q=3;w=10800, "GET /x (2)";q=50;w=180000');
        expect(policyOf(await getB('/x'))).toBe('"GET /x";q=3;w=10800, "GET /x (2)";q=50;w=180000');
        expect((await getA('/x')).status).toBe(200);
        expect((await getB('/x')).status).toBe(429); // the 3-token bucket, shared by both instances
      });
    });
    expect(await bucketNames()).toEqual(['GET /x', 'GET /x (2)']);
  });

  test('given the same name, they share one bucket', async () => {
    const app = express();
    const shared = { store, name: 'shared-x', capacity: 3, refillPerSecond: SLOW };
    app.get('/x', rateLimit(shared), rateLimit(shared), ok);
    await serve(createServer(app), async (get) => {
      expect((await get('/x')).headers.ratelimit).toBe('"shared-x";r=1;t=7200');
      expect((await get('/x')).status).toBe(429);
    });
    expect(await bucketNames()).toEqual(['shared-x']);
  });
});

declare const FRAMEWORK_VERSIONS: Record<string, string>;

describe('mount paths with optional parameters and formats are named by their pattern, on the syntax of each Express major', () => {
  const express4 = FRAMEWORK_VERSIONS.express!.startsWith('4.');
  // [mount path, two URLs under it]: Express 4's `:id?` and `.:format`; Express 5's `{/:id}` and `{.:format}`.
  const mounts: [string, string, string][] = express4
    ? [
        ['/users/:id?', '/users/7', '/users'],
        ['/report.:format', '/report.json', '/report.csv'],
        ['/files/:name.:ext?', '/files/a.txt', '/files/b'],
        ['/v:major.:minor', '/v1.2', '/v3.4'],
        ['/v:major?/docs', '/v1/docs', '/v2/docs'],
      ]
    : [
        ['/users{/:id}', '/users/7', '/users'],
        ['/report{.:format}', '/report.json', '/report'],
        ['/files/:name{.:ext}', '/files/a.txt', '/files/b'],
        ['/v:major.:minor', '/v1.2', '/v3.4'],
      ];
  for (const [mount, first, second] of mounts) {
    test(`use('${mount}', rateLimit()) is "USE ${mount}", one bucket for ${first} and ${second}`, async () => {
      const app = express();
      app.use(mount, rateLimit({ store, capacity: 1, refillPerSecond: SLOW }));
      app.use(ok);
      // A policy name has no braces (they would change the key's Cluster hash tag): `{` is `(`.
      const name = `USE ${mount.replace(/\{/g, '(').replace(/\}/g, ')')}`;
      await serve(createServer(app), async (get) => {
        const one = await get(first);
        expect(one.status).toBe(200);
        expect(policyOf(one)).toBe(`"${name}";q=1;w=3600`);
        const two = await get(second);
        expect(two.status).toBe(429);
        expect(policyOf(two)).toBe(`"${name}";q=1;w=3600`);
      });
      expect(await bucketNames()).toEqual([name]);
    });
  }
});
