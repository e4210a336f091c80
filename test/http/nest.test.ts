// NestJS (on Express 5): the README's recipe, rateLimit() as Nest middleware, on a real Nest app.
// Nest runs each middleware through a wrapper of its own: a limiter for every route ('*') is one
// bucket, never one per URL; a limiter on routes is named by the route; two never share a bucket.
import 'reflect-metadata';
import { Controller, Get, Module, RequestMethod, type INestApplication, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response as ExpressResponse, NextFunction, Request } from 'express';
import request from 'supertest';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('nest');
let store: RedisStore;
let app: INestApplication | undefined;
beforeEach(() => {
  store = new RedisStore({ client: pool.client(), prefix });
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  const keys = await pool.keys(`${prefix}*`);
  if (keys.length > 0) await pool.client().del(...keys);
});
afterAll(() => pool.closeAll([prefix]));

const SLOW = 1 / 3600;
/** The policy names that have a bucket in Redis (the part of the key before the caller id). */
const bucketNames = async (): Promise<string[]> => [...new Set((await pool.keys(`${prefix}*`)).map((k) => k.slice(prefix.length, k.lastIndexOf(':{'))))].sort();

// Decorators applied as functions: the test compiles without `experimentalDecorators`.
class ItemsController {
  one(): object {
    return { item: true };
  }
  all(): object {
    return { items: [] };
  }
}
Controller('items')(ItemsController);
Get(':id')(ItemsController.prototype, 'one', Object.getOwnPropertyDescriptor(ItemsController.prototype, 'one')!);
Get()(ItemsController.prototype, 'all', Object.getOwnPropertyDescriptor(ItemsController.prototype, 'all')!);

class SearchController {
  search(): object {
    return { results: [] };
  }
}
Controller('search')(SearchController);
Get()(SearchController.prototype, 'search', Object.getOwnPropertyDescriptor(SearchController.prototype, 'search')!);

/** An auth middleware: `Authorization: Session <user>` sets req.user. */
function authenticate(req: Request & { user?: { id: string } }, _res: ExpressResponse, next: NextFunction): void {
  const user = req.headers.authorization?.replace(/^Session /, '');
  if (user !== undefined) req.user = { id: user };
  next();
}

async function startNest(configure: (consumer: MiddlewareConsumer) => void) {
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      configure(consumer);
    }
  }
  Module({ controllers: [ItemsController, SearchController] })(AppModule);
  const nest = await NestFactory.create(AppModule, { logger: false });
  app = nest;
  await nest.listen(0, '127.0.0.1');
  const server = nest.getHttpServer();
  return (path: string, headers: Record<string, string> = { 'x-api-key': 'k' }) => request(server).get(path).set(headers);
}

test("forRoutes('*'): one bucket for every request, routes and 404s alike, never one per URL", async () => {
  const get = await startNest((consumer) => {
    consumer.apply(rateLimit({ store, capacity: 4, refillPerSecond: SLOW })).forRoutes('*');
  });
  const statuses = [];
  for (const path of ['/items/1', '/nothing/1', '/items/2', '/nothing/2', '/search']) statuses.push((await get(path)).status);
  expect(statuses).toEqual([200, 404, 200, 404, 429]);
  expect(await bucketNames()).toEqual(['USE *']);
});

test('a limiter on routes is named by the route pattern; with one for every route, no two share a bucket', async () => {
  const get = await startNest((consumer) => {
    consumer.apply(rateLimit({ store, capacity: 50, refillPerSecond: SLOW })).forRoutes('*');
    consumer.apply(rateLimit({ store, capacity: 2, refillPerSecond: SLOW })).forRoutes({ path: 'items/:id', method: RequestMethod.GET });
    consumer.apply(rateLimit({ store, capacity: 5, refillPerSecond: SLOW })).forRoutes(SearchController);
  });
  const one = await get('/items/1');
  // The app-wide limiter and the route's, met in that order, in one field each.
  expect(one.headers['ratelimit-policy']).toBe('"USE *";q=50;w=180000, "GET /items/:id";q=2;w=7200');
  expect((await get('/items/2')).status).toBe(200);
  expect((await get('/items/3')).status).toBe(429); // the route denied: the app-wide token went back
  expect((await get('/search')).headers.ratelimit).toBe('"USE *";r=47;t=10800, "GET /search";r=4;t=3600');
  expect((await get('/items')).headers.ratelimit).toBe('"USE *";r=46;t=14400');
  expect(await bucketNames()).toEqual(['GET /items/:id', 'GET /search', 'USE *']);
});

test('keyed on the user that an auth middleware before it sets', async () => {
  const get = await startNest((consumer) => {
    consumer
      .apply(
        authenticate,
        rateLimit({ store, capacity: 1, refillPerSecond: SLOW, key: (req) => (req as { user?: { id: string } }).user?.id, missingKey: 'reject' }),
      )
      .forRoutes('*');
  });
  const as = (user: string) => get('/items', { authorization: `Session ${user}` });
  expect([(await as('ann')).status, (await as('bob')).status, (await as('ann')).status]).toEqual([200, 200, 429]);
  expect((await get('/items', {})).status).toBe(401);
});

/** The Nest major this project runs (the jest project maps @nestjs/core to it). */
const NEST_MAJOR = Number((require('@nestjs/core/package.json') as { version: string }).version.split('.')[0]);

test("HEAD shares a GET route's bucket and headers (Nest 11 and later); OPTIONS spends none of its tokens", async () => {
  await startNest((consumer) => {
    consumer.apply(rateLimit({ store, capacity: 2, refillPerSecond: SLOW })).forRoutes({ path: 'items/:id', method: RequestMethod.GET });
  });
  const server = app!.getHttpServer();
  const options = await request(server).options('/items/1').set({ 'x-api-key': 'k', origin: 'https://example.test', 'access-control-request-method': 'GET' });
  expect(options.status).toBeLessThan(500);
  expect(options.headers.ratelimit).toBeUndefined();
  const head = await request(server).head('/items/1').set('x-api-key', 'k');
  expect(head.status).toBe(200);
  if (NEST_MAJOR < 11) {
    // Nest 10 applies a GET route's middleware to GET only: its HEAD requests pass unlimited.
    expect(head.headers['ratelimit-policy']).toBeUndefined();
    return;
  }
  expect(head.headers['ratelimit-policy']).toBe('"GET /items/:id";q=2;w=7200');
  expect(head.headers.ratelimit).toBe('"GET /items/:id";r=1;t=3600');
  expect((await request(server).get('/items/2').set('x-api-key', 'k')).status).toBe(200);
  const limited = await request(server).head('/items/3').set('x-api-key', 'k');
  expect(limited.status).toBe(429);
  expect(limited.headers['retry-after']).toBeDefined();
  expect(await bucketNames()).toEqual(['GET /items/:id']);
});
