// Hono beyond the shared suites: a `fetch` that does not hand Hono the Node request (as on Bun,
// Deno, or a wrapped fetch) reads the key from the fetch Headers, where a repeated header is
// still ambiguous, and takes the client IP from the `ip` option; the rate-limit headers reach a
// Response the handler or `onLimited` built themselves; option and `onLimited` mistakes are
// named.
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { createLimiter, RedisStore, TokenBucketError } from '@tokenbucket/core';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/hono';
import { rawGet } from './bad-input/raw';
import type { RunningApp } from './harness';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { eventually, openRequest, send } from './client';

requireRedis();

declare const FRAMEWORK_VERSIONS: Record<string, string>;

const pool = new RedisPool();
const prefix = randomPrefix('hono-fetch');
let store: RedisStore;
const running: RunningApp[] = [];
beforeEach(() => {
  store = new RedisStore({ client: pool.client(), prefix });
});
afterEach(async () => {
  for (const app of running.splice(0)) {
    app.server.closeAllConnections();
    await new Promise((resolve) => app.server.close(resolve));
  }
  const keys = await pool.keys(`${prefix}*`);
  if (keys.length > 0) await pool.client().del(...keys);
});
afterAll(() => pool.closeAll([prefix]));

const SLOW = 1 / 3600;

/** Serves `app` on 127.0.0.1; `wrapped`: through `(req) => app.fetch(req)`, so Hono sees no Node request. */
async function start(app: Hono, wrapped: boolean): Promise<RunningApp> {
  app.onError((err, c) => c.json({ handledBy: 'framework', message: err.message }, 500));
  const server = createAdaptorServer({ fetch: wrapped ? (req: Request) => app.fetch(req) : app.fetch }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const running_: RunningApp = { server, close: async () => {} };
  running.push(running_);
  return running_;
}

function limited(options: Omit<RateLimitOptions, 'store'>, handler: (c: Context) => Response | Promise<Response> = (c) => c.json({ ok: true })): Hono {
  const app = new Hono();
  app.get('/r', rateLimit({ store, ...options } as RateLimitOptions), handler);
  return app;
}

test('off Node, the key comes from the fetch Headers; a header given twice is ambiguous there too', async () => {
  const app = await start(limited({ capacity: 3, refillPerSecond: SLOW }), true);
  const get = (...lines: string[]) => rawGet(app, '/r', lines);
  expect((await get('X-API-Key: alpha')).headers.ratelimit).toBe('"GET /r";r=2;t=3600');
  expect((await get('Authorization: Bearer alpha')).headers.ratelimit).toBe('"GET /r";r=1;t=7200'); // the same key
  // Two lines, joined by the runtime into "alpha, beta": no key, so the keyless (IP) bucket.
  expect((await get('X-API-Key: alpha', 'X-API-Key: beta')).headers.ratelimit).toBe('"GET /r";r=2;t=3600');
  expect((await get('Authorization: Bearer alpha', 'Authorization: Bearer beta')).headers.ratelimit).toBe('"GET /r";r=1;t=7200');
  expect((await get('X-API-Key: beta')).headers.ratelimit).toBe('"GET /r";r=2;t=3600');
  // One line with a comma reads the same as two lines there: no key either, the third in the IP bucket.
  expect((await get('X-API-Key: alpha, beta')).headers.ratelimit).toBe('"GET /r";r=0;t=10800');
});

test('off Node, without the ip option every keyless caller shares one bucket; with it, each IP has its own', async () => {
  const shared = await start(limited({ capacity: 1, refillPerSecond: SLOW }), true);
  expect((await send(shared, '/r', { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
  expect((await send(shared, '/r', { 'x-forwarded-for': '203.0.113.2' })).status).toBe(429);
  const ip = (c: Context) => c.req.header('x-forwarded-for');
  const perIp = await start(limited({ capacity: 1, refillPerSecond: SLOW, ip }), true);
  expect((await send(perIp, '/r', { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
  expect((await send(perIp, '/r', { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200);
  expect((await send(perIp, '/r', { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
});

test("the ip option with @hono/node-server's getConnInfo: the socket's address names the bucket", async () => {
  const app = await start(limited({ capacity: 1, refillPerSecond: SLOW, ip: (c) => getConnInfo(c).remote.address }), false);
  expect((await send(app, '/r')).status).toBe(200);
  expect((await send(app, '/r')).status).toBe(429);
  // The bucket `limiter.get({ ip })` reaches, as admin code would: 127.0.0.1's is the one spent.
  const admin = createLimiter({ store, name: 'GET /r', capacity: 1, refillPerSecond: SLOW });
  expect([(await admin.get({ ip: '127.0.0.1' })).remaining, (await admin.get({ ip: '127.0.0.2' })).remaining]).toEqual([0, 1]);
});

test('off Node, a response that should not count gives its token back once the chain has run', async () => {
  const failing = await start(
    limited({ capacity: 1, refillPerSecond: SLOW, skipFailedRequests: true }, (c) => c.json({ ok: false }, 500)),
    true,
  );
  const admin = createLimiter({ store, name: 'GET /r', capacity: 1, refillPerSecond: SLOW });
  for (let i = 0; i < 3; i++) {
    expect((await send(failing, '/r', { 'x-api-key': 'k' })).status).toBe(500);
    expect(await eventually(async () => (await admin.get('k')).remaining, 1)).toBe(1);
  }
});

test('off Node, a connection closed before the response is seen through the request signal: its token comes back', async () => {
  const HANDLER_MS = 1000;
  const slow = await start(
    limited({ capacity: 2, refillPerSecond: SLOW, skipFailedRequests: true }, async (c) => {
      await new Promise((resolve) => setTimeout(resolve, HANDLER_MS));
      return c.json({ ok: true });
    }),
    true,
  );
  const admin = createLimiter({ store, name: 'GET /r', capacity: 2, refillPerSecond: SLOW });
  const remaining = async () => (await admin.get('k')).remaining;
  const request = openRequest(slow, '/r', { 'x-api-key': 'k' });
  // Taken when the request reaches the limiter, long before the handler answers.
  expect(await eventually(remaining, 1)).toBe(1);
  request.drop();
  if (FRAMEWORK_VERSIONS['@hono/node-server']!.startsWith('1.')) {
    // @hono/node-server 1 does not abort the signal of a Request it hands a wrapped fetch: the
    // closed connection looks like the 200 the handler gave, and counts (the README says so).
    await new Promise((resolve) => setTimeout(resolve, HANDLER_MS + 300));
    expect(await remaining()).toBe(1);
  } else {
    expect(await eventually(remaining, 2)).toBe(2);
  }
});

test('a handler that returns its own Response still carries the rate-limit headers', async () => {
  const app = await start(
    limited({ capacity: 2, refillPerSecond: SLOW }, () => new Response('plain', { headers: { 'content-type': 'text/plain' } })),
    false,
  );
  const r = await send(app, '/r', { 'x-api-key': 'k' });
  expect([r.status, r.body, r.headers['ratelimit-policy'], r.headers.ratelimit]).toEqual([200, 'plain', '"GET /r";q=2;w=7200', '"GET /r";r=1;t=3600']);
});

test('onLimited answers with its Response, headers kept; one that returns nothing is an error for app.onError', async () => {
  const own = await start(limited({ capacity: 1, refillPerSecond: SLOW, onLimited: () => new Response('slow down', { status: 429 }) }), false);
  await send(own, '/r', { 'x-api-key': 'k' });
  const denied = await send(own, '/r', { 'x-api-key': 'k' });
  expect([denied.status, denied.body, denied.headers['retry-after'], denied.headers.ratelimit]).toEqual([429, 'slow down', '3600', '"GET /r";r=0;t=3600']);
  const none = await start(limited({ capacity: 1, refillPerSecond: SLOW, onLimited: (() => undefined) as never }), false);
  await send(none, '/r', { 'x-api-key': 'k' });
  const r = await send(none, '/r', { 'x-api-key': 'k' });
  expect(r.status).toBe(500);
  expect(r.body).toMatchObject({ handledBy: 'framework', message: expect.stringContaining('`onLimited` must be a function that returns a Response') });
});

test('what a handler throws that is not an Error goes past the limiter untouched', async () => {
  const hono = limited({ capacity: 5, refillPerSecond: SLOW }, () => {
    throw 'not an Error';
  });
  const app = await start(hono, false);
  // Hono's compose rethrows a non-Error; @hono/node-server answers it with a 500 of its own.
  expect((await send(app, '/r', { 'x-api-key': 'k' })).status).toBe(500);
});

test('a bad ip option throws at creation, naming the option and the value', () => {
  const bad = () => rateLimit({ store, capacity: 1, refillPerSecond: 1, ip: 'x-forwarded-for' as never });
  expect(bad).toThrow(TokenBucketError);
  expect(bad).toThrow('option `ip` must be a function of the context that returns the client IP; got "x-forwarded-for".');
  expect(() => rateLimit({ store, capacity: 1, refillPerSecond: 1, ipp: () => '1.2.3.4' } as never)).toThrow(/ipp/);
});
