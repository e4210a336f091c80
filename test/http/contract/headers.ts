// The HTTP contract, headers and the 429 body: RateLimit-Policy and RateLimit per route, the
// problem+json answer, buckets per route pattern, one quota across instances, legacy headers.
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisStore } from '@tokenbucket/core';
import { key, send, statuses } from '../client';
import type { AppSpec } from '../harness';
import { SLOW, type SuiteApps } from '../suite-apps';

export function headerCases(suite: SuiteApps): void {
  const { pool, prefix, start, single } = suite;

  test('an allowed request carries RateLimit-Policy and RateLimit (draft 11) for its route', async () => {
    const { app, path } = await single({ capacity: 10, refillPerSecond: 2 });
    const r = await send(app, path, key('k1'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
    expect(r.headers['ratelimit-policy']).toBe(`"GET ${path}";q=10;w=5`);
    expect(r.headers.ratelimit).toBe(`"GET ${path}";r=9;t=1`);
    expect(r.headers['retry-after']).toBeUndefined();
    expect(r.headers['x-ratelimit-limit']).toBeUndefined();
  });

  test('after the burst: 429, problem+json, Retry-After the ceiling of the true wait', async () => {
    const { app, path } = await single({ capacity: 3, refillPerSecond: 0.1 }); // a token per 10 s
    expect(await statuses(app, path, key('k'), 3)).toEqual([200, 200, 200]);
    const r = await send(app, path, key('k'));
    expect(r.status).toBe(429);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.headers['retry-after']).toBe('10');
    // t is the time to full (30 s) on an allowed response; on this 429 it agrees with Retry-After.
    expect(r.headers.ratelimit).toBe(`"GET ${path}";r=0;t=10`);
    expect(r.body).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: `Rate limit "GET ${path}" exceeded. Retry in 10 seconds.`,
      policy: `GET ${path}`,
      limit: 3,
      retryAfter: 10,
    });
  });

  test('a route without a limiter sends no rate-limit headers', async () => {
    const app = await start({
      routes: [
        { method: 'GET', path: '/free', limit: undefined },
        { method: 'GET', path: '/limited', limit: { store: suite.store, name: `free-${prefix}`, capacity: 1, refillPerSecond: SLOW } },
      ],
    });
    const r = await send(app, '/free', key('k'));
    expect(r.status).toBe(200);
    expect(r.headers.ratelimit).toBeUndefined();
    expect(r.headers['ratelimit-policy']).toBeUndefined();
    expect((await send(app, '/limited', key('k'))).headers.ratelimit).toBeDefined();
  });

  test("route patterns, not URLs: /items/1 and /items/2 share the route's bucket", async () => {
    const base = `/i${randomBytes(3).toString('hex')}`;
    const app = await start({ routes: [{ method: 'GET', path: `${base}/:id`, limit: { store: suite.store, capacity: 2, refillPerSecond: SLOW } }] });
    expect((await send(app, `${base}/1`, key('k'))).status).toBe(200);
    const second = await send(app, `${base}/2`, key('k'));
    expect(second.headers.ratelimit).toBe(`"GET ${base}/:id";r=0;t=7200`);
    expect((await send(app, `${base}/3`, key('k'))).status).toBe(429);
  });

  test('routes have their own buckets; routes that give the same name share one quota', async () => {
    const tag = randomBytes(3).toString('hex');
    const shared = `shared-${tag}`;
    const app = await start({
      routes: [
        { method: 'GET', path: `/a${tag}`, limit: { store: suite.store, capacity: 2, refillPerSecond: SLOW } },
        { method: 'GET', path: `/b${tag}`, limit: { store: suite.store, capacity: 2, refillPerSecond: SLOW } },
        { method: 'GET', path: `/c${tag}`, limit: { store: suite.store, name: shared, capacity: 2, refillPerSecond: SLOW } },
        { method: 'POST', path: `/d${tag}`, limit: { store: suite.store, name: shared, capacity: 2, refillPerSecond: SLOW } },
      ],
    });
    expect(await statuses(app, `/a${tag}`, key('k'), 3)).toEqual([200, 200, 429]);
    expect((await send(app, `/b${tag}`, key('k'))).status).toBe(200);
    expect((await send(app, `/c${tag}`, key('k'))).status).toBe(200);
    expect((await send(app, `/d${tag}`, key('k'), 'POST')).status).toBe(200);
    const third = await send(app, `/c${tag}`, key('k'));
    expect(third.status).toBe(429);
    expect(third.headers['ratelimit-policy']).toBe(`"${shared}";q=2;w=7200`);
  });

  test("two instances of the app on one Redis share each route's quota", async () => {
    const path = `/shared${randomBytes(3).toString('hex')}`;
    const spec = (client: Redis): AppSpec => ({
      routes: [{ method: 'GET', path, limit: { store: new RedisStore({ client, prefix }), capacity: 4, refillPerSecond: SLOW } }],
    });
    const one = await start(spec(pool.client()));
    const two = await start(spec(pool.client()));
    const seen = [];
    for (let i = 0; i < 3; i++) {
      seen.push((await send(one, path, key('k'))).status, (await send(two, path, key('k'))).status);
    }
    expect(seen).toEqual([200, 200, 200, 200, 429, 429]);
  });

  test('legacyHeaders adds X-RateLimit-Limit, -Remaining and -Reset', async () => {
    const { app, path } = await single({ capacity: 5, refillPerSecond: 1, legacyHeaders: true });
    const r = await send(app, path, key('k'));
    expect([r.headers['x-ratelimit-limit'], r.headers['x-ratelimit-remaining'], r.headers['x-ratelimit-reset']]).toEqual(['5', '4', '1']);
  });
}
