// The HTTP contract: every case here runs on Express, Fastify and Koa through a small harness,
// against real HTTP servers on 127.0.0.1 and a real Redis. All assertions live here.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import {
  memoizePolicies,
  RedisStore,
  type DecisionEvent,
  type HttpLimiterOptions,
  type PolicyOptions,
  type StoreErrorEvent,
} from '@tokenbucket/core';
import { freePort } from '../support/net';
import { suiteApps } from './suite-apps';

/** Adapter options as the suite writes them; the harness hands them to its `rateLimit`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LimitOptions = HttpLimiterOptions<any> & { onLimited?: unknown };

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Pattern in the syntax the three frameworks share: `/items/:id`. */
  path: string;
  /** The route's limiter options; undefined for an unlimited route. */
  limit?: LimitOptions;
}

export interface AppSpec {
  routes: RouteSpec[];
  /** Trust X-Forwarded-For for the client IP (each framework's own setting). */
  trustProxy?: boolean;
}

export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/**
 * What an adapter supplies. Handlers answer 200 `{ ok: true }`; the app's error handler answers
 * 500 `{ handledBy: 'framework', message }`, so the suite can tell errors reached it.
 */
export interface AdapterHarness {
  name: string;
  /** Builds and starts the app on 127.0.0.1; rejects when the limiter options are invalid. */
  start(spec: AppSpec): Promise<RunningApp>;
  /** A request header, from the framework's request object (for key/cost/skip functions). */
  header(req: unknown, name: string): string | undefined;
  /** An `onLimited` for this framework that answers `status` with a JSON body `{ custom: true, policy }`. */
  onLimited(status: number): unknown;
}

interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const SLOW = 1 / 3600;

export function runHttpContract(harness: AdapterHarness): void {
  describe(`HTTP contract: ${harness.name}`, () => {
    const suite = suiteApps(harness, `http-${harness.name}`);
    const { pool, prefix, start, single } = suite;

    const send = async (app: RunningApp, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> => {
      const res = await fetch(app.url + path, { method, headers });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body };
    };
    const key = (k: string) => ({ 'x-api-key': k });
    const statuses = async (app: RunningApp, path: string, headers: Record<string, string>, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await send(app, path, headers)).status);
      return out;
    };

    test('an allowed request carries RateLimit-Policy and RateLimit (draft 10) for its route', async () => {
      const { app, path } = await single({ capacity: 10, refillPerSecond: 2 });
      const r = await send(app, path, key('k1'));
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ok: true });
      expect(r.headers.get('ratelimit-policy')).toBe(`"GET ${path}";q=10;w=5`);
      expect(r.headers.get('ratelimit')).toBe(`"GET ${path}";r=9;t=1`);
      expect(r.headers.get('retry-after')).toBeNull();
      expect(r.headers.get('x-ratelimit-limit')).toBeNull();
    });

    test('after the burst: 429, problem+json, Retry-After the ceiling of the true wait', async () => {
      const { app, path } = await single({ capacity: 3, refillPerSecond: 0.1 }); // a token per 10 s
      expect(await statuses(app, path, key('k'), 3)).toEqual([200, 200, 200]);
      const r = await send(app, path, key('k'));
      expect(r.status).toBe(429);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.headers.get('retry-after')).toBe('10');
      expect(r.headers.get('ratelimit')).toBe(`"GET ${path}";r=0;t=30`);
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
      expect(r.headers.get('ratelimit')).toBeNull();
      expect(r.headers.get('ratelimit-policy')).toBeNull();
      expect((await send(app, '/limited', key('k'))).headers.get('ratelimit')).not.toBeNull();
    });

    test('route patterns, not URLs: /items/1 and /items/2 share the route\'s bucket', async () => {
      const base = `/i${randomBytes(3).toString('hex')}`;
      const app = await start({ routes: [{ method: 'GET', path: `${base}/:id`, limit: { store: suite.store, capacity: 2, refillPerSecond: SLOW } }] });
      expect((await send(app, `${base}/1`, key('k'))).status).toBe(200);
      const second = await send(app, `${base}/2`, key('k'));
      expect(second.headers.get('ratelimit')).toBe(`"GET ${base}/:id";r=0;t=7200`);
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
      expect(third.headers.get('ratelimit-policy')).toBe(`"${shared}";q=2;w=7200`);
    });

    test('two instances of the app on one Redis share each route\'s quota', async () => {
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

    test('the key: X-API-Key, else Bearer token; each key has its own bucket', async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW });
      expect((await send(app, path, key('alpha'))).status).toBe(200);
      expect((await send(app, path, key('alpha'))).status).toBe(429);
      expect((await send(app, path, { authorization: 'Bearer alpha' })).status).toBe(429); // same key
      expect((await send(app, path, { authorization: 'Bearer beta' })).status).toBe(200);
      expect((await send(app, path, key('gamma'))).status).toBe(200);
    });

    test('no key: limited by client IP by default', async () => {
      const { app, path } = await single({ capacity: 2, refillPerSecond: SLOW });
      expect(await statuses(app, path, {}, 3)).toEqual([200, 200, 429]);
      expect((await send(app, path, key('has-a-key'))).status).toBe(200);
    });

    test("no key with onMissingKey 'reject': 401 problem+json, no decision made", async () => {
      const { app, path } = await single({ capacity: 2, refillPerSecond: SLOW, onMissingKey: 'reject' });
      const r = await send(app, path, { authorization: 'Bearer ' });
      expect(r.status).toBe(401);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.body).toMatchObject({ status: 401, title: 'Unauthorized' });
      expect(r.headers.get('ratelimit')).toBeNull();
      expect((await send(app, path, key('k'))).status).toBe(200);
    });

    test("no key with onMissingKey 'skip': through, unlimited, without headers", async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, onMissingKey: 'skip' });
      expect(await statuses(app, path, {}, 3)).toEqual([200, 200, 200]);
      expect((await send(app, path, {})).headers.get('ratelimit')).toBeNull();
      expect(await statuses(app, path, key('k'), 2)).toEqual([200, 429]);
    });

    test('the client IP follows the framework\'s trust-proxy setting', async () => {
      const trusted = await single({ capacity: 1, refillPerSecond: SLOW }, { trustProxy: true });
      expect((await send(trusted.app, trusted.path, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
      expect((await send(trusted.app, trusted.path, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200);
      expect((await send(trusted.app, trusted.path, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
      const untrusted = await single({ capacity: 1, refillPerSecond: SLOW }, { trustProxy: false });
      expect((await send(untrusted.app, untrusted.path, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
      expect((await send(untrusted.app, untrusted.path, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(429);
    });

    test('IPv6 clients are limited by /56: one network shares a bucket, another has its own', async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW }, { trustProxy: true });
      const from = (ip: string) => send(app, path, { 'x-forwarded-for': ip });
      expect((await from('2001:db8:abcd:1200::1')).status).toBe(200);
      expect((await from('2001:db8:abcd:12ff:ffff:ffff:ffff:ffff')).status).toBe(429); // same /56
      expect((await from('2001:DB8:ABCD:1234:0:0:0:9')).status).toBe(429); // same /56, spelt otherwise
      expect((await from('2001:db8:abcd:1300::1')).status).toBe(200); // the next /56
      expect((await from('::ffff:198.51.100.4')).status).toBe(200); // IPv4-mapped: the IPv4 address
      expect((await from('198.51.100.4')).status).toBe(429);
      const perAddress = await single({ capacity: 1, refillPerSecond: SLOW, ipv6Subnet: false }, { trustProxy: true });
      expect((await send(perAddress.app, perAddress.path, { 'x-forwarded-for': '2001:db8::1' })).status).toBe(200);
      expect((await send(perAddress.app, perAddress.path, { 'x-forwarded-for': '2001:db8::2' })).status).toBe(200);
      expect((await send(perAddress.app, perAddress.path, { 'x-forwarded-for': '2001:db8:0:0::1' })).status).toBe(429);
    });

    test('a custom key function identifies the caller', async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, key: (req) => harness.header(req, 'x-tenant') });
      expect((await send(app, path, { 'x-tenant': 't1', 'x-api-key': 'a' })).status).toBe(200);
      expect((await send(app, path, { 'x-tenant': 't1', 'x-api-key': 'b' })).status).toBe(429);
      expect((await send(app, path, { 'x-tenant': 't2' })).status).toBe(200);
    });

    test('a 6000-character API key is just a key', async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW });
      const long = 'k'.repeat(6000);
      expect((await send(app, path, key(long))).status).toBe(200);
      expect((await send(app, path, key(long))).status).toBe(429);
      expect((await send(app, path, key(`${long}x`))).status).toBe(200);
    });

    test('cost: a number, or a function of the request', async () => {
      const fixed = await single({ capacity: 10, refillPerSecond: SLOW, cost: 4 });
      expect((await send(fixed.app, fixed.path, key('k'))).headers.get('ratelimit')).toMatch(/;r=6;/);
      const byHeader = await single({
        capacity: 10,
        refillPerSecond: SLOW,
        cost: (req) => Number(harness.header(req, 'x-batch') ?? 1),
      });
      expect((await send(byHeader.app, byHeader.path, { ...key('k'), 'x-batch': '7' })).headers.get('ratelimit')).toMatch(/;r=3;/);
      const denied = await send(byHeader.app, byHeader.path, { ...key('k'), 'x-batch': '4' });
      expect(denied.status).toBe(429);
      expect(denied.headers.get('ratelimit')).toMatch(/;r=3;/); // nothing debited
    });

    test('a static cost above the capacity fails when the app is built', async () => {
      await expect(single({ capacity: 5, refillPerSecond: 1, cost: 6 })).rejects.toThrow(
        /`cost` must be at most the smallest capacity \(5\).*got 6/,
      );
    });

    test('a computed cost above the capacity: 413, no Retry-After, never a 5xx', async () => {
      const { app, path } = await single({ capacity: 5, refillPerSecond: 1, cost: (req) => Number(harness.header(req, 'x-batch')) });
      const r = await send(app, path, { ...key('k'), 'x-batch': '6' });
      expect(r.status).toBe(413);
      expect(r.headers.get('retry-after')).toBeNull();
      expect(r.body).toMatchObject({ status: 413, limit: 5 });
      expect(r.body).not.toHaveProperty('retryAfter');
      expect((await send(app, path, { ...key('k'), 'x-batch': '5' })).status).toBe(200);
    });

    test('a key or cost function that throws or returns garbage reaches the framework error handler', async () => {
      const throws = await single({ capacity: 5, refillPerSecond: 1, key: () => { throw new Error('key lookup failed'); } });
      expect(await send(throws.app, throws.path)).toMatchObject({ status: 500, body: { handledBy: 'framework', message: 'key lookup failed' } });
      const notString = await single({ capacity: 5, refillPerSecond: 1, key: () => 42 as never });
      const r1 = await send(notString.app, notString.path);
      expect(r1).toMatchObject({ status: 500, body: { handledBy: 'framework' } });
      expect(r1.body.message).toMatch(/`key` function must return a string.*got 42/);
      const nan = await single({ capacity: 5, refillPerSecond: 1, cost: () => NaN });
      const r2 = await send(nan.app, nan.path, key('k'));
      expect(r2).toMatchObject({ status: 500, body: { handledBy: 'framework' } });
      expect(r2.body.message).toMatch(/`cost` must be a finite number >= 0; got NaN/);
      const rejects = await single({ capacity: 5, refillPerSecond: 1, cost: async () => { throw new Error('cost lookup failed'); } });
      expect(await send(rejects.app, rejects.path, key('k'))).toMatchObject({ status: 500, body: { message: 'cost lookup failed' } });
    });

    test('a skip function that throws reaches the framework error handler too', async () => {
      const { app, path } = await single({ capacity: 5, refillPerSecond: 1, skip: () => { throw new Error('skip failed'); } });
      expect(await send(app, path, key('k'))).toMatchObject({ status: 500, body: { handledBy: 'framework', message: 'skip failed' } });
    });

    test('a hook that throws or rejects never breaks the request: a warning is emitted', async () => {
      const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        const rejects = await single({ capacity: 5, refillPerSecond: 1, onDecision: async () => { throw new Error('metrics backend down'); } });
        const throws = await single({ capacity: 5, refillPerSecond: 1, onDecision: () => { throw new Error('logger broke'); } });
        expect((await send(rejects.app, rejects.path, key('k'))).status).toBe(200);
        expect((await send(throws.app, throws.path, key('k'))).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const messages = warn.mock.calls.map((call) => String(call[0]));
        expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/metrics backend down/), expect.stringMatching(/logger broke/)]));
      } finally {
        warn.mockRestore();
      }
    });

    test('skip(req) lets a request through without limiting it', async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, skip: (req) => harness.header(req, 'x-internal') === 'yes' });
      expect(await statuses(app, path, { ...key('k'), 'x-internal': 'yes' }, 3)).toEqual([200, 200, 200]);
      expect(await statuses(app, path, key('k'), 2)).toEqual([200, 429]);
    });

    test('dryRun: headers and hooks, never a block', async () => {
      const events: DecisionEvent[] = [];
      const { app, path } = await single({ capacity: 2, refillPerSecond: SLOW, dryRun: true, onDecision: (e) => events.push(e) });
      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await send(app, path, key('k')));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(replies[3]!.headers.get('ratelimit')).toBe(`"GET ${path}";r=0;t=7200`);
      expect(replies[3]!.headers.get('retry-after')).toBeNull();
      expect(events.map((e) => [e.decision.allowed, e.dryRun])).toEqual([[true, true], [true, true], [false, true], [false, true]]);
    });

    test('onLimited replaces the 429 response; headers are already set', async () => {
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, onLimited: harness.onLimited(418) });
      await send(app, path, key('k'));
      const r = await send(app, path, key('k'));
      expect(r.status).toBe(418);
      expect(r.body).toEqual({ custom: true, policy: `GET ${path}` });
      expect(r.headers.get('retry-after')).toBe('3600');
    });

    test('legacyHeaders adds X-RateLimit-Limit, -Remaining and -Reset', async () => {
      const { app, path } = await single({ capacity: 5, refillPerSecond: 1, legacyHeaders: true });
      const r = await send(app, path, key('k'));
      expect([r.headers.get('x-ratelimit-limit'), r.headers.get('x-ratelimit-remaining'), r.headers.get('x-ratelimit-reset')]).toEqual(['5', '4', '1']);
    });

    test('several policies: both in the headers; the binding one denies', async () => {
      const tag = randomBytes(3).toString('hex');
      const { app, path } = await single({
        policies: [
          { name: `burst-${tag}`, capacity: 3, refillPerSecond: 0.1 },
          { name: `daily-${tag}`, capacity: 4, refillPerSecond: 4 / 86400 },
        ],
      });
      const first = await send(app, path, key('k'));
      expect(first.headers.get('ratelimit-policy')).toBe(`"burst-${tag}";q=3;w=30, "daily-${tag}";q=4;w=86400`);
      expect(first.headers.get('ratelimit')).toBe(`"burst-${tag}";r=2;t=10, "daily-${tag}";r=3;t=21600`);
      expect(await statuses(app, path, key('k'), 4)).toEqual([200, 200, 429, 429]);
    });

    test('per-caller tiers: policies from a (cached) lookup of the caller', async () => {
      const tag = randomBytes(3).toString('hex');
      const FREE: PolicyOptions[] = [{ name: `free-${tag}`, capacity: 1, refillPerSecond: SLOW }];
      const PRO: PolicyOptions[] = [{ name: `pro-${tag}`, capacity: 3, refillPerSecond: SLOW }];
      let lookups = 0;
      const policies = memoizePolicies(async (apiKey: string) => {
        lookups++;
        return apiKey.startsWith('pro_') ? PRO : FREE;
      });
      const { app, path } = await single({ policies });
      expect(await statuses(app, path, key('free_1'), 2)).toEqual([200, 429]);
      expect(await statuses(app, path, key('pro_1'), 4)).toEqual([200, 200, 200, 429]);
      expect((await send(app, path, key('pro_2'))).headers.get('ratelimit-policy')).toBe(`"pro-${tag}";q=3;w=10800`);
      expect(lookups).toBe(3); // once per caller, then cached
    });

    test('hooks: onDecision sees every decision, never the raw key', async () => {
      const events: DecisionEvent[] = [];
      const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, onDecision: (e) => events.push(e) });
      await send(app, path, key('secret-key-123'));
      await send(app, path, key('secret-key-123'));
      await send(app, path, {});
      expect(events.map((e) => [e.route, e.decision.allowed, e.source, e.keySource])).toEqual([
        [`GET ${path}`, true, 'redis', 'key'],
        [`GET ${path}`, false, 'redis', 'key'],
        [`GET ${path}`, true, 'redis', 'ip'],
      ]);
      expect(events.map((e) => [e.policy, e.outcome, e.cost, e.remaining])).toEqual([
        [`GET ${path}`, 'allowed', 1, 0],
        [`GET ${path}`, 'denied', 1, 0],
        [`GET ${path}`, 'allowed', 1, 0],
      ]);
      expect(JSON.stringify(events)).not.toContain('secret-key-123');
      expect(events[0]!.callerId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    describe('when the store fails', () => {
      let broken: Redis;
      let brokenStore: RedisStore;
      beforeAll(async () => {
        // A real client to a port where nothing listens: every command fails at once.
        const port = await freePort();
        broken = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        broken.on('error', () => {});
        brokenStore = new RedisStore({ client: broken, prefix });
      });
      afterAll(() => {
        if (broken.status !== 'end') broken.disconnect();
      });

      test("'fallback' (default): limits locally with the same policies, and reports the error", async () => {
        const errors: StoreErrorEvent[] = [];
        const decisions: DecisionEvent[] = [];
        const { app, path } = await single({
          store: brokenStore,
          capacity: 2,
          refillPerSecond: SLOW,
          onError: (e) => errors.push(e),
          onDecision: (e) => decisions.push(e),
        });
        expect(await statuses(app, path, key('k'), 3)).toEqual([200, 200, 429]);
        expect(errors).toHaveLength(3);
        expect(errors[0]).toMatchObject({ route: `GET ${path}`, action: 'fallback' });
        expect(decisions.map((d) => d.source)).toEqual(['fallback', 'fallback', 'fallback']);
      });

      test("'allow': requests go through without headers", async () => {
        const { app, path } = await single({ store: brokenStore, capacity: 1, refillPerSecond: SLOW, onStoreError: 'allow' });
        const replies = [await send(app, path, key('k')), await send(app, path, key('k'))];
        expect(replies.map((r) => r.status)).toEqual([200, 200]);
        expect(replies[1]!.headers.get('ratelimit')).toBeNull();
      });

      test("'deny': 503 with Retry-After and a problem body", async () => {
        const { app, path } = await single({ store: brokenStore, capacity: 1, refillPerSecond: SLOW, onStoreError: 'deny' });
        const r = await send(app, path, key('k'));
        expect(r.status).toBe(503);
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(r.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
      });
    });

    test('dryRun never blocks, not even when the store fails under onStoreError deny', async () => {
      const port = await freePort();
      const down = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      down.on('error', () => {});
      try {
        const { app, path } = await single({ store: new RedisStore({ client: down, prefix }), capacity: 1, refillPerSecond: SLOW, onStoreError: 'deny', dryRun: true });
        expect((await send(app, path, key('k'))).status).toBe(200);
      } finally {
        if (down.status !== 'end') down.disconnect();
      }
    });

    test('bad options fail when the app is built, naming the option', async () => {
      await expect(single({ capacity: 0, refillPerSecond: 1 })).rejects.toThrow(/`capacity` must be an integer >= 1.*got 0/);
      await expect(single({ capacity: 1, refillPerSecond: 1, onMissingKey: 'ignore' as never })).rejects.toThrow(
        /`onMissingKey` must be one of 'ip', 'reject', 'skip'; got "ignore"/,
      );
      await expect(single({ capacity: 1, refillPerSecond: 1, onStoreError: 'retry' as never })).rejects.toThrow(/`onStoreError`/);
      await expect(single({ capacity: 1, refillPerSecond: 1, key: 'x-api-key' as never })).rejects.toThrow(/`key` must be a function/);
      await expect(single({ capacity: 1, refillPerSecond: 1, ipv6Subnet: 16 })).rejects.toThrow(/`ipv6Subnet` must be an integer prefix length from 32 to 128.*got 16/);
    });
  });
}
