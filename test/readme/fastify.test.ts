// search.test.ts: a Fastify route limited to 2 requests a minute, tested with jest and supertest.
import Fastify from 'fastify';
import request from 'supertest';
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';

describe('GET /search (Fastify)', () => {
  const store = new MemoryStore(); // in-process buckets: no Redis in the tests
  const app = Fastify();
  beforeAll(async () => {
    await app.register(tokenBucket, { store });
    app.get('/search', { config: { rateLimit: { capacity: 2, refillPerSecond: 1 / 60 } } }, async () => ({ results: [] }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  test('two requests, then 429 with Retry-After', async () => {
    await request(app.server).get('/search').set('X-API-Key', 'test-key').expect(200);
    await request(app.server).get('/search').set('X-API-Key', 'test-key').expect(200);
    const res = await request(app.server).get('/search').set('X-API-Key', 'test-key').expect(429);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    await request(app.server).get('/search').set('X-API-Key', 'another-key').expect(200);
  });
});
