// search.test.ts: an Express route limited to 2 requests a minute, tested with jest and supertest.
import express from 'express';
import request from 'supertest';
import { MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';

describe('GET /search (Express)', () => {
  const store = new MemoryStore(); // in-process buckets: no Redis in the tests
  afterAll(() => store.close());

  const app = express();
  app.get('/search', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 60 }), (_req, res) => {
    res.json({ results: [] });
  });

  test('two requests, then 429 with Retry-After', async () => {
    await request(app).get('/search').set('X-API-Key', 'test-key').expect(200);
    await request(app).get('/search').set('X-API-Key', 'test-key').expect(200);
    const res = await request(app).get('/search').set('X-API-Key', 'test-key').expect(429);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    await request(app).get('/search').set('X-API-Key', 'another-key').expect(200);
  });
});
