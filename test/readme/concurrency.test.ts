// concurrency.test.ts: at most 2 report exports of a caller running at once, beside a rate.
import express from 'express';
import request from 'supertest';
import { MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';

const store = new MemoryStore(); // a RedisStore in production: then the limit holds across instances
const app = express();
app.get(
  '/reports/export',
  // 30 exports an hour, and at most 2 of them in flight at once, per caller.
  rateLimit({ store, name: 'exports', capacity: 30, refillPerSecond: 30 / 3600, concurrency: { max: 2, name: 'exports-running' } }),
  async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 500)); // a slow export
    res.json({ ok: true });
  },
);

describe('GET /reports/export', () => {
  afterAll(() => store.close());
  const exportAs = (key: string) => request(app).get('/reports/export').set('X-API-Key', key);

  test('a third export while two run is 429, and spends none of the hour', async () => {
    const running = Promise.all([exportAs('k').then((r) => r), exportAs('k').then((r) => r)]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const third = await exportAs('k').expect(429);
    expect(third.headers['ratelimit-policy']).toBe('"exports";q=30;w=3600, "exports-running";q=2;qu="concurrent-requests"');
    expect(third.headers['retry-after']).toBe('1');
    expect(third.body.policy).toBe('exports-running');
    expect((await running).map((r) => r.status)).toEqual([200, 200]);
    // Both finished: their slots are back. 30 - 3 admitted; the 429 gave its export back.
    const next = await exportAs('k').expect(200);
    expect(next.headers.ratelimit).toBe('"exports";r=27;t=360, "exports-running";r=1;t=0');
  });
});
