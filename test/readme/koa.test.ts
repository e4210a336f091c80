// search.test.ts: a Koa route limited to 2 requests a minute, tested with jest and supertest.
import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/koa';

describe('GET /search (Koa)', () => {
  const store = new MemoryStore(); // in-process buckets: no Redis in the tests
  afterAll(() => store.close());

  const app = new Koa();
  const router = new Router();
  router.get('/search', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 60 }), (ctx) => {
    ctx.body = { results: [] };
  });
  app.use(router.routes());

  test('two requests, then 429 with Retry-After', async () => {
    await request(app.callback()).get('/search').set('X-API-Key', 'test-key').expect(200);
    await request(app.callback()).get('/search').set('X-API-Key', 'test-key').expect(200);
    const res = await request(app.callback()).get('/search').set('X-API-Key', 'test-key').expect(429);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    await request(app.callback()).get('/search').set('X-API-Key', 'another-key').expect(200);
  });
});
