// Every `@default` in the option docs of packages/*/src, pinned: a default that changes fails a
// test here, whatever test elsewhere passes its own value. The first test reads the sources and
// fails on a documented default that has no pin below (or a pin whose default is gone). No server:
// stores are MemoryStores, Redis options are parsed on a client that never connects.
import { channel } from 'node:diagnostics_channel';
import { performance as realPerformance } from 'node:perf_hooks';
import { metrics as otelApi } from '@opentelemetry/api';
import Fastify from 'fastify';
import Redis from 'ioredis';
import { Registry, register as promDefaultRegistry } from 'prom-client';
import { CHANNELS, createLimiter, memoizePolicies, MemoryStore, RedisStore } from '@tokenbucket/core';
import { rateLimitHeaders } from '@tokenbucket/core/adapter';
import tokenBucket from '@tokenbucket/fastify';
import { rateLimit as honoRateLimit } from '@tokenbucket/hono';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { DEFAULT_BUCKETS as OTEL_BUCKETS, registerMetrics as registerOtel } from '@tokenbucket/opentelemetry';
import { DEFAULT_BUCKETS as PROM_BUCKETS, registerMetrics as registerProm } from '@tokenbucket/prometheus';
import { buildDecision } from '../../packages/core/src/decision';
import { parseConcurrency } from '../../packages/core/src/concurrency';
import { parseHttpOptions } from '../../packages/core/src/http/options';
import { parseLeaseOptions } from '../../packages/core/src/store/lease';
import { parsePolicies } from '../../packages/core/src/policy';
import { CircuitBreaker } from '../../packages/core/src/store/breaker';
import { sharedMemoryStore } from '../../packages/core/src/store/memory';
import { parseRedisStoreOptions } from '../../packages/core/src/store/redis/options';
import { meterProvider } from '../metrics/otel';
import { parseExposition } from '../metrics/exposition';
import { documentedDefaults as listDefaults } from '../support/defaults';
import { newResponse, type PlainRequest, plainLimiter } from '../support/plain-adapter';

/** `<file> <option>` for every `@default` in packages/*\/src. */
const documentedDefaults = (): string[] =>
  listDefaults()
    .map((d) => `${d.file} ${d.option}`)
    .sort();

const SLOW = 1 / 3600;
const realNow = () => realPerformance.now();
/** Waits `ms` of real time, whatever timers Jest fakes. */
const realDelay = async (ms: number): Promise<void> => {
  const until = realNow() + ms;
  while (realNow() < until) await new Promise((resolve) => setImmediate(resolve));
};
const stores: MemoryStore[] = [];
const ownStore = (): MemoryStore => {
  const store = new MemoryStore();
  stores.push(store);
  return store;
};
const idle: Redis[] = [];
/** A client that never connects: enough to parse RedisStore options. */
const idleClient = (): Redis => {
  const client = new Redis({ lazyConnect: true });
  idle.push(client);
  return client;
};
afterEach(() => {
  jest.useRealTimers();
  for (const s of stores.splice(0)) s.close();
});
afterAll(() => {
  for (const c of idle) c.disconnect();
});

/** A request through a plain HTTP limiter: the outcome's action and headers. */
async function request(limiter: ReturnType<typeof plainLimiter>, req: PlainRequest, route = 'GET /x') {
  const outcome = await limiter.check(req, route);
  return { action: outcome.action, headers: Object.fromEntries(outcome.headers.map(([n, v]) => [n.toLowerCase(), v])) };
}
const withKey = (key: string): PlainRequest => ({ headers: { 'x-api-key': key } });

/** Each documented default and a check that fails when it changes. */
const PINS: Record<string, () => void | Promise<void>> = {
  'packages/core/src/limiter.ts store': async () => {
    const a = createLimiter({ name: 'pin-limiter-store', capacity: 1, refillPerSecond: SLOW });
    const b = createLimiter({ name: 'pin-limiter-store', capacity: 1, refillPerSecond: SLOW });
    expect(a.store).toBe(sharedMemoryStore());
    expect(b.store).toBe(a.store);
    expect((await a.take('k')).allowed).toBe(true);
    expect((await b.take('k')).allowed).toBe(false); // one process-wide store: one bucket
  },
  'packages/core/src/limiter.ts cost': async () => {
    const l = createLimiter({ store: ownStore(), capacity: 5, refillPerSecond: SLOW });
    expect((await l.take('k')).remaining).toBe(4);
  },
  'packages/core/src/policy.ts name': async () => {
    const l = createLimiter({ store: ownStore(), capacity: 5, refillPerSecond: SLOW });
    expect(l.policies[0]!.name).toBe('default');
    expect((await l.take('k')).policy).toBe('default');
  },
  'packages/core/src/http/options.ts store': async () => {
    const a = plainLimiter({ name: 'pin-http-store', capacity: 1, refillPerSecond: SLOW });
    const b = plainLimiter({ name: 'pin-http-store', capacity: 1, refillPerSecond: SLOW });
    expect((await request(a, withKey('k'))).action).toBe('pass');
    expect((await request(b, withKey('k'))).action).toBe('limited');
  },
  'packages/core/src/http/options.ts name': async () => {
    const l = plainLimiter({ store: ownStore(), capacity: 2, refillPerSecond: SLOW });
    expect((await request(l, withKey('k'), 'GET /items/:id')).headers['ratelimit-policy']).toBe('"GET /items/:id";q=2;w=7200');
  },
  'packages/core/src/http/options.ts key': async () => {
    const l = plainLimiter({ store: ownStore(), capacity: 1, refillPerSecond: SLOW });
    expect((await request(l, withKey('same'))).action).toBe('pass');
    // The Bearer token is the same caller as the X-API-Key of the same value.
    expect((await request(l, { headers: { authorization: 'Bearer same' } })).action).toBe('limited');
    expect((await request(l, { headers: { authorization: 'Bearer other' } })).action).toBe('pass');
  },
  'packages/core/src/http/options.ts missingKey': async () => {
    const l = plainLimiter({ store: ownStore(), capacity: 1, refillPerSecond: SLOW });
    expect((await request(l, { ip: '192.0.2.1' })).action).toBe('pass');
    expect((await request(l, { ip: '192.0.2.1' })).action).toBe('limited');
    expect((await request(l, { ip: '192.0.2.2' })).action).toBe('pass');
  },
  'packages/core/src/http/options.ts ipv6Subnet': async () => {
    const l = plainLimiter({ store: ownStore(), capacity: 1, refillPerSecond: SLOW });
    expect((await request(l, { ip: '2001:db8:0:100::1' })).action).toBe('pass');
    expect((await request(l, { ip: '2001:db8:0:1ff:ffff::2' })).action).toBe('limited'); // the same /56
    expect((await request(l, { ip: '2001:db8:0:200::1' })).action).toBe('pass'); // the next /56
  },
  'packages/core/src/http/options.ts cost': async () => {
    const l = plainLimiter({ store: ownStore(), name: 'pin-cost', capacity: 5, refillPerSecond: SLOW });
    expect((await request(l, withKey('k'))).headers.ratelimit).toMatch(/^"pin-cost";r=4;/);
  },
  'packages/core/src/http/options.ts skipSuccessfulRequests': () => {
    expect(parseHttpOptions({ capacity: 1, refillPerSecond: 1 }).refundWhen).toBeUndefined();
    const failedOnly = parseHttpOptions({ capacity: 1, refillPerSecond: 1, skipFailedRequests: true }).refundWhen!;
    expect(failedOnly({}, 200)).toBe(false);
    expect(failedOnly({}, 500)).toBe(true);
  },
  'packages/core/src/http/options.ts skipFailedRequests': () => {
    expect(parseHttpOptions({ capacity: 1, refillPerSecond: 1 }).refundWhen).toBeUndefined();
    const successfulOnly = parseHttpOptions({ capacity: 1, refillPerSecond: 1, skipSuccessfulRequests: true }).refundWhen!;
    expect(successfulOnly({}, 200)).toBe(true);
    expect(successfulOnly({}, 500)).toBe(false);
    expect(successfulOnly({}, undefined)).toBe(false);
  },
  'packages/core/src/http/options.ts lockout': () => {
    expect(parseHttpOptions({ capacity: 1, refillPerSecond: 1 }).lockout).toBeUndefined();
  },
  'packages/core/src/lockout.ts status': () => {
    const { lockout } = parseHttpOptions({ capacity: 1, refillPerSecond: 1, lockout: { after: 3, windowSeconds: 60, durationSeconds: 600 } });
    expect(lockout).toEqual({ after: 3, windowMs: 60_000, durationMs: 600_000, status: 429 });
  },
  'packages/core/src/http/options.ts concurrency': () => {
    expect(parseHttpOptions({ capacity: 1, refillPerSecond: 1 }).concurrency).toBeUndefined();
  },
  'packages/core/src/limiter.ts lockout': () => {
    expect((createLimiter({ store: ownStore(), capacity: 1, refillPerSecond: 1 }) as unknown as { lockout?: unknown }).lockout).toBeUndefined();
  },
  'packages/core/src/limiter.ts concurrency': () => {
    expect((createLimiter({ store: ownStore(), capacity: 1, refillPerSecond: 1 }) as unknown as { concurrency?: unknown }).concurrency).toBeUndefined();
  },
  'packages/core/src/concurrency.ts leaseMs': () => {
    expect(parseConcurrency(5)?.leaseMs).toBe(30_000);
  },
  'packages/core/src/concurrency.ts name': () => {
    const l = createLimiter({ store: ownStore(), concurrency: 2 }) as unknown as { concurrency: { name: string } };
    expect(l.concurrency.name).toBe('concurrency');
    expect(parseConcurrency(2)?.name).toBeUndefined(); // HTTP: named after the route
  },
  'packages/core/src/store/redis/options.ts leases': () => {
    expect(parseRedisStoreOptions({ client: idleClient() }).leases).toBeUndefined();
  },
  'packages/core/src/store/lease.ts maxTokens': () => {
    expect(parseLeaseOptions(true)?.maxTokens).toBe(1000);
  },
  'packages/core/src/store/lease.ts maxMs': () => {
    expect(parseLeaseOptions(true)?.maxMs).toBe(200);
  },
  'packages/core/src/store/lease.ts minRate': () => {
    expect(parseLeaseOptions(true)?.minRate).toBe(100);
  },
  'packages/hono/src/index.ts ip': async () => {
    // Without `ip`, a keyless caller is limited by the connection's peer: here every request is 127.0.0.1's.
    const app = new Hono();
    app.get('/x', honoRateLimit({ store: ownStore(), capacity: 1, refillPerSecond: SLOW }), (c) => c.text('ok'));
    const server = createAdaptorServer({ fetch: app.fetch });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url)).status).toBe(429);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  },
  'packages/core/src/http/options.ts dryRun': async () => {
    const l = plainLimiter({ store: ownStore(), capacity: 1, refillPerSecond: SLOW });
    await request(l, withKey('k'));
    const res = newResponse();
    expect(await l.handle(withKey('k'), res, 'GET /x')).toBe(false);
    expect(res.status).toBe(429);
  },
  'packages/core/src/http/options.ts storeFailure': async () => {
    const failing = {
      take: () => Promise.reject(new Error('store down')),
      reset: () => Promise.resolve(),
      adjust: () => Promise.reject(new Error('store down')),
      unlock: () => Promise.resolve(),
      clear: () => Promise.resolve(0),
    };
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const l = plainLimiter({ store: failing, name: 'pin-fallback', capacity: 1, refillPerSecond: SLOW });
      // 'fallback': limited in this process with the same policies (not 'allow', not 'deny').
      expect((await request(l, withKey('k'))).action).toBe('pass');
      expect((await request(l, withKey('k'))).action).toBe('limited');
    } finally {
      warn.mockRestore();
    }
  },
  'packages/core/src/http/options.ts legacyHeaders': async () => {
    const l = plainLimiter({ store: ownStore(), capacity: 1, refillPerSecond: SLOW });
    const { headers } = await request(l, withKey('k'));
    expect(headers.ratelimit).toBeDefined();
    expect(Object.keys(headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
  },
  'packages/core/src/http/headers.ts legacyHeaders': () => {
    const policies = parsePolicies({ name: 'h', capacity: 5, refillPerSecond: 1 });
    const names = rateLimitHeaders(buildDecision(policies, { allowed: true, levels: [5] }, 1)).map(([n]) => n);
    expect(names).toEqual(['RateLimit-Policy', 'RateLimit']);
  },
  'packages/core/src/http/memoize.ts ttlMs': async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    let lookups = 0;
    const policies = memoizePolicies(() => {
      lookups++;
      return [{ capacity: 1, refillPerSecond: 1 }];
    });
    await policies('k', {});
    jest.advanceTimersByTime(59_999);
    await policies('k', {});
    expect(lookups).toBe(1); // still kept
    jest.advanceTimersByTime(1);
    await policies('k', {});
    expect(lookups).toBe(2); // 60 s: looked up again
  },
  'packages/core/src/http/memoize.ts maxKeys': async () => {
    const looked: string[] = [];
    const policies = memoizePolicies((key: string) => {
      looked.push(key);
      return [{ capacity: 1, refillPerSecond: 1 }];
    });
    for (let i = 0; i < 10_000; i++) await policies(`k${i}`, {});
    await policies('k0', {});
    expect(looked).toHaveLength(10_000); // 10,000 callers kept
    await policies('k-new', {}); // the 10,001st: the oldest (k0) goes
    await policies('k0', {});
    await policies('k2', {});
    expect(looked.slice(10_000)).toEqual(['k-new', 'k0']); // k0 went to make room for k-new
  },
  'packages/core/src/store/memory.ts maxKeys': async () => {
    const store = ownStore();
    expect(store.maxKeys).toBe(100_000);
  },
  'packages/core/src/store/memory.ts sweepIntervalMs': async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
    const store = ownStore();
    expect(store.sweepIntervalMs).toBe(60_000);
    await createLimiter({ store, capacity: 10, refillPerSecond: 1000 }).take('k');
    await realDelay(5); // full again (1 ms of refill), but only the sweep drops it
    expect(store.size).toBe(1);
    jest.advanceTimersByTime(59_999);
    expect(store.size).toBe(1);
    jest.advanceTimersByTime(1);
    expect(store.size).toBe(0);
  },
  'packages/core/src/store/memory.ts clock': async () => {
    const l = createLimiter({ store: ownStore(), capacity: 10, refillPerSecond: 10 });
    await l.take('k', { cost: 10 });
    // The wall clock jumping an hour refills nothing: the clock is monotonic ...
    const wall = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    try {
      expect((await l.take('k', { cost: 0 })).remaining).toBe(0);
    } finally {
      wall.mockRestore();
    }
    // ... and real: 250 ms refill 2.5 tokens.
    await realDelay(250);
    expect((await l.take('k', { cost: 0 })).remaining).toBeGreaterThanOrEqual(2);
  },
  'packages/core/src/store/breaker.ts failureThreshold': () => {
    const breaker = new CircuitBreaker({}, () => 0);
    expect(breaker.failureThreshold).toBe(3);
    breaker.failure(new Error('1'));
    breaker.failure(new Error('2'));
    expect(breaker.closed).toBe(true);
    breaker.failure(new Error('3'));
    expect(breaker.closed).toBe(false);
  },
  'packages/core/src/store/breaker.ts cooldownMs': () => {
    let now = 0;
    const breaker = new CircuitBreaker(undefined, () => now);
    expect(breaker.cooldownMs).toBe(1000);
    for (let i = 0; i < 3; i++) breaker.failure(new Error('down'));
    now = 999;
    expect(breaker.allow()).toBe(false);
    now = 1000;
    expect(breaker.allow()).toBe(true); // the probe
  },
  'packages/core/src/store/redis/options.ts prefix': () => {
    expect(parseRedisStoreOptions({ client: idleClient() }).prefix).toBe('tb:');
    expect(new RedisStore({ client: idleClient(), checkMemoryPolicy: false }).prefix).toBe('tb:');
  },
  'packages/core/src/store/redis/options.ts name': () => {
    expect(new RedisStore({ client: idleClient(), checkMemoryPolicy: false }).name).toBe('redis');
  },
  'packages/core/src/store/redis/options.ts timeoutMs': () => {
    expect(new RedisStore({ client: idleClient(), checkMemoryPolicy: false }).timeoutMs).toBe(200);
  },
  'packages/core/src/store/redis/options.ts breaker': () => {
    // No options of its own: each CircuitBreaker takes its defaults (pinned above), 3 and 1000 ms.
    expect(parseRedisStoreOptions({ client: idleClient() }).breaker).toBeUndefined();
  },
  'packages/core/src/store/redis/options.ts denialCache': () => {
    expect(parseRedisStoreOptions({ client: idleClient() }).denialCacheKeys).toBe(100_000);
  },
  'packages/core/src/store/redis/options.ts batch': () => {
    expect(parseRedisStoreOptions({ client: idleClient() }).batch).toBe(true);
  },
  'packages/core/src/store/redis/options.ts checkMemoryPolicy': () => {
    expect(parseRedisStoreOptions({ client: idleClient() }).checkMemoryPolicy).toBe(true);
  },
  'packages/fastify/src/index.ts hook': async () => {
    const app = Fastify();
    try {
      await app.register(tokenBucket, { store: ownStore(), global: true, capacity: 1, refillPerSecond: SLOW });
      // The route's own preParsing hook sees the limit's headers: the limit ran before it, in
      // onRequest (a limit in preParsing or later would run after it).
      let seenBeforeParsing: unknown;
      app.post(
        '/p',
        {
          preParsing: async (_request, reply, payload) => {
            seenBeforeParsing = reply.getHeader('ratelimit-policy');
            return payload;
          },
        },
        async () => ({ ok: true }),
      );
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      // A body that does not parse: the second request is limited before its body is read.
      const bad = () => fetch(`${url}/p`, { method: 'POST', headers: { 'x-api-key': 'k', 'content-type': 'application/json' }, body: '{not json' });
      expect((await bad()).status).toBe(400);
      expect(seenBeforeParsing).toBe('"POST /p";q=1;w=3600');
      expect((await bad()).status).toBe(429);
    } finally {
      await app.close();
    }
  },
  'packages/fastify/src/index.ts global': async () => {
    const app = Fastify();
    try {
      await app.register(tokenBucket, { store: ownStore(), capacity: 1, refillPerSecond: SLOW });
      app.get('/open', async () => ({ ok: true }));
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${url}/open`, { headers: { 'x-api-key': 'k' } });
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-policy')).toBeNull();
      }
    } finally {
      await app.close();
    }
  },
  'packages/prometheus/src/index.ts register': async () => {
    const m = registerProm();
    try {
      expect(promDefaultRegistry.getSingleMetric('tokenbucket_decisions_total')).toBe(m.decisions);
    } finally {
      m.close();
    }
  },
  'packages/prometheus/src/index.ts prefix': async () => {
    const register = new Registry();
    const m = registerProm({ register });
    try {
      expect(register.getMetricsAsArray().map((metric) => metric.name)).toEqual([
        'tokenbucket_decisions_total',
        'tokenbucket_store_errors_total',
        'tokenbucket_store_up',
        'tokenbucket_store_call_duration_seconds',
      ]);
    } finally {
      m.close();
    }
  },
  'packages/prometheus/src/index.ts buckets': async () => {
    expect(PROM_BUCKETS[0]).toBe(0.0001);
    expect(PROM_BUCKETS.at(-1)).toBe(1);
    const register = new Registry();
    const m = registerProm({ register });
    try {
      expect((m.storeCallDuration as unknown as { upperBounds: number[] }).upperBounds).toEqual(PROM_BUCKETS);
    } finally {
      m.close();
    }
  },
  'packages/prometheus/src/index.ts maxLabelValues': async () => {
    const register = new Registry();
    const m = registerProm({ register });
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const store = ownStore();
      for (let i = 0; i < 1001; i++) await createLimiter({ store, name: `p${i}`, capacity: 1, refillPerSecond: 1 }).take('k');
      const policies = new Set(parseExposition(await register.metrics()).flatMap((s) => (s.name === 'tokenbucket_decisions_total' ? [s.labels.policy] : [])));
      expect(policies.size).toBe(1001); // 1000 of their own, and (other)
      expect(policies.has('p999')).toBe(true);
      expect(policies.has('p1000')).toBe(false);
      expect(policies.has('(other)')).toBe(true);
    } finally {
      warn.mockRestore();
      m.close();
    }
  },
  'packages/opentelemetry/src/index.ts meterProvider': async () => {
    const otel = meterProvider();
    otelApi.setGlobalMeterProvider(otel.provider);
    const m = registerOtel();
    try {
      await createLimiter({ store: ownStore(), name: 'pin-otel-global', capacity: 1, refillPerSecond: 1 }).take('k');
      const points = (await otel.collect()).metrics.get('tokenbucket.decisions')!.dataPoints;
      expect([...new Set(points.map((p) => p.attributes.policy))]).toEqual(['pin-otel-global']);
    } finally {
      m.close();
      otelApi.disable();
      await otel.provider.shutdown();
    }
  },
  'packages/opentelemetry/src/index.ts buckets': async () => {
    expect(OTEL_BUCKETS).toEqual(PROM_BUCKETS);
    const otel = meterProvider();
    const m = registerOtel({ meterProvider: otel.provider });
    try {
      channel(CHANNELS.storeCall).publish({ store: 'redis', node: undefined, durationMs: 1, takes: 1, ok: true });
      const point = (await otel.collect()).metrics.get('tokenbucket.store.call.duration')!.dataPoints[0]!;
      expect((point.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual(OTEL_BUCKETS);
    } finally {
      m.close();
      await otel.provider.shutdown();
    }
  },
  'packages/opentelemetry/src/index.ts maxLabelValues': async () => {
    const otel = meterProvider();
    const m = registerOtel({ meterProvider: otel.provider });
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const store = ownStore();
      for (let i = 0; i < 1001; i++) await createLimiter({ store, name: `o${i}`, capacity: 1, refillPerSecond: 1 }).take('k');
      const policies = new Set((await otel.collect()).metrics.get('tokenbucket.decisions')!.dataPoints.map((p) => p.attributes.policy));
      expect(policies.size).toBe(1001);
      expect(policies.has('o999')).toBe(true);
      expect(policies.has('o1000')).toBe(false);
      expect(policies.has('(other)')).toBe(true);
    } finally {
      warn.mockRestore();
      m.close();
      await otel.provider.shutdown();
    }
  },
};

test('every documented @default has a pin here, and every pin a documented default', () => {
  expect(Object.keys(PINS).sort()).toEqual(documentedDefaults());
});

test.each(Object.entries(PINS))('%s', async (_default, pin) => {
  await pin();
});
