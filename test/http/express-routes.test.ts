// Express: a limiter mounted with app.use covers a group of routes with one quota.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import { randomPrefix, RedisPool } from '../support/redis';

const pool = new RedisPool();
const prefix = randomPrefix('express-mount');
afterAll(() => pool.closeAll([prefix]));

test('app.use("/api", rateLimit(...)) gives every route under /api one shared bucket', async () => {
  const app = express();
  app.use('/api', rateLimit({ store: new RedisStore({ client: pool.client(), prefix }), capacity: 2, refillPerSecond: 1 / 3600 }));
  app.get('/api/a', (_req, res) => void res.json({ ok: true }));
  app.get('/api/b/:id', (_req, res) => void res.json({ ok: true }));
  app.get('/other', (_req, res) => void res.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const get = (path: string) => fetch(url + path, { headers: { 'x-api-key': 'k' } });
    const a = await get('/api/a');
    expect(a.headers.get('ratelimit-policy')).toBe('"USE /api";q=2;w=7200');
    expect((await get('/api/b/7')).status).toBe(200);
    expect((await get('/api/a')).status).toBe(429);
    const other = await get('/other');
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit')).toBeNull();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
