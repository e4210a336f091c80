// registerMetrics on OpenTelemetry: the same four instruments, read by the SDK's own reader after a
// burst through a real app on Redis; what a Prometheus exporter makes of them; its options.
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, MeterProvider, type Histogram } from '@opentelemetry/sdk-metrics';
import { CHANNELS, createLimiter, MemoryStore, RedisStore, TokenBucketError } from '@tokenbucket/core';
import { DEFAULT_BUCKETS, registerMetrics, type OpenTelemetryMetrics } from '@tokenbucket/opentelemetry';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { startApp, type App } from './apps';
import { parseExposition } from './exposition';
import { meterProvider, pointValue } from './otel';

const SLOW = 1 / 3600;

describe('after a burst through fastify on Redis', () => {
  requireRedis();
  const pool = new RedisPool();
  const prefix = randomPrefix('metrics-otel');
  const otel = meterProvider();
  let metrics: OpenTelemetryMetrics;
  let app: App;

  beforeAll(async () => {
    metrics = registerMetrics({ meterProvider: otel.provider });
    const store = new RedisStore({ client: pool.client(), prefix, name: 'otel', timeoutMs: 2000 });
    app = await startApp('fastify', [
      { method: 'GET', path: '/search', limit: { store, capacity: 4, refillPerSecond: SLOW } },
      { method: 'GET', path: '/items/:id', limit: { store, name: 'catalog', capacity: 6, refillPerSecond: SLOW } },
    ]);
  });
  afterAll(async () => {
    await app?.close();
    metrics?.close();
    await otel.provider.shutdown();
    await pool.closeAll([prefix]);
  });

  test('decisions per route, policy and outcome equal the 200s and 429s; the store is up; calls are timed', async () => {
    const keys = [`otel-secret-a-${randomBytes(6).toString('hex')}`, `otel-secret-b-${randomBytes(6).toString('hex')}`];
    const plan: [string, string, string][] = []; // path, route, key
    for (const key of keys) {
      for (let i = 0; i < 7; i++) plan.push(['/search', 'GET /search', key]);
      for (let i = 0; i < 9; i++) plan.push([`/items/${i}`, 'GET /items/:id', key]);
    }
    const sent = new Map<string, number>();
    await Promise.all(
      plan.map(async ([path, route, key]) => {
        const res = await fetch(app.url + path, { headers: { 'x-api-key': key } });
        await res.arrayBuffer();
        expect([200, 429]).toContain(res.status);
        const k = `${route}|${route === 'GET /search' ? 'GET /search' : 'catalog'}|${res.status === 200 ? 'allowed' : 'denied'}`;
        sent.set(k, (sent.get(k) ?? 0) + 1);
      }),
    );
    // Both outcomes on both routes: 4 and 6 allowed per key, the rest denied.
    expect(Object.fromEntries([...sent].sort())).toEqual({
      'GET /items/:id|catalog|allowed': 12,
      'GET /items/:id|catalog|denied': 6,
      'GET /search|GET /search|allowed': 8,
      'GET /search|GET /search|denied': 6,
    });

    const collected = await otel.collect();
    const decisions = collected.metrics.get('tokenbucket.decisions')!;
    expect(decisions.dataPointType).toBe(DataPointType.SUM);
    expect(decisions.dataPointType === DataPointType.SUM && decisions.isMonotonic).toBe(true);
    expect(decisions.descriptor.unit).toBe('{decision}');
    const counted = new Map<string, number>();
    for (const p of decisions.dataPoints) {
      expect(Object.keys(p.attributes).sort()).toEqual(['kind', 'outcome', 'policy', 'route', 'source']);
      const k = `${p.attributes.route}|${p.attributes.policy}|${p.attributes.outcome}`;
      counted.set(k, (counted.get(k) ?? 0) + (p.value as number));
    }
    expect(Object.fromEntries([...counted].sort())).toEqual(Object.fromEntries([...sent].sort()));

    expect(pointValue(collected, 'tokenbucket.store.up', { store: 'otel', node: 'default' })).toBe(1);
    const duration = collected.metrics.get('tokenbucket.store.call.duration')!;
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.descriptor.unit).toBe('s');
    const calls = duration.dataPoints.find((p) => p.attributes.store === 'otel')!.value as Histogram;
    expect(calls.count).toBeGreaterThan(0);
    expect(calls.buckets.boundaries).toEqual(DEFAULT_BUCKETS);
    expect(calls.max).toBeLessThan(2); // seconds: the budget is 2 s

    // No caller key, raw or hashed, in any attribute.
    const attributes = JSON.stringify([...collected.metrics.values()].map((m) => m.dataPoints.map((p) => p.attributes)));
    for (const key of keys) expect(attributes).not.toContain(key);
    expect(attributes).not.toMatch(/[A-Za-z0-9_-]{22}/); // the length of a hashed caller id
  });
});

test('through an OpenTelemetry Prometheus exporter, the names are those of @tokenbucket/prometheus (the histogram has no unit suffix)', async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const metrics = registerMetrics({ meterProvider: provider });
  const store = new MemoryStore();
  try {
    await createLimiter({ store, name: 'exported', capacity: 1, refillPerSecond: 1 }).take('k');
    channel(CHANNELS.storeCall).publish({ store: 'redis', node: undefined, durationMs: 0.3, takes: 2, ok: true });
    channel(CHANNELS.storeError).publish({ store: 'redis', node: undefined, code: 'ECONNREFUSED', error: new Error('refused') });
    const { resourceMetrics } = await exporter.collect();
    const names = new Set(parseExposition(new PrometheusSerializer().serialize(resourceMetrics)).map((s) => s.name));
    expect([...names].filter((n) => n.startsWith('tokenbucket_')).sort()).toEqual([
      'tokenbucket_decisions_total',
      'tokenbucket_store_call_duration_bucket',
      'tokenbucket_store_call_duration_count',
      'tokenbucket_store_call_duration_sum',
      'tokenbucket_store_errors_total',
      'tokenbucket_store_up',
    ]);
  } finally {
    metrics.close();
    store.close();
    await provider.shutdown();
  }
});

test('one open registration per MeterProvider; close() stops counting', async () => {
  const otel = meterProvider();
  const first = registerMetrics({ meterProvider: otel.provider });
  expect(() => registerMetrics({ meterProvider: otel.provider })).toThrow(
    expect.objectContaining({ code: 'TB_ERR_INVALID_OPTION', option: 'meterProvider', message: expect.stringMatching(/close\(\)/) }),
  );
  const store = new MemoryStore();
  const limiter = createLimiter({ store, name: 'closing', capacity: 10, refillPerSecond: 1 });
  await limiter.take('k');
  const attributes = { route: '', policy: 'closing', outcome: 'allowed', source: 'memory', kind: 'rate' };
  expect(pointValue(await otel.collect(), 'tokenbucket.decisions', attributes)).toBe(1);
  first.close();
  first.close();
  expect(channel(CHANNELS.decision).hasSubscribers).toBe(false);
  await limiter.take('k');
  // The SDK keeps the last value reported; the decision after close() is not in it.
  expect(pointValue(await otel.collect(), 'tokenbucket.decisions', attributes)).toBe(1);
  // A new registration counts from zero, like a restarted process.
  const second = registerMetrics({ meterProvider: otel.provider });
  await limiter.take('k');
  await limiter.take('k');
  expect(pointValue(await otel.collect(), 'tokenbucket.decisions', attributes)).toBe(2);
  second.close();
  store.close();
  await otel.provider.shutdown();
});

test('past maxLabelValues, new policies count as (other), with one warning; a subscriber never throws', async () => {
  const otel = meterProvider();
  const metrics = registerMetrics({ meterProvider: otel.provider, maxLabelValues: 1 });
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  const stores = [new MemoryStore(), new MemoryStore(), new MemoryStore()];
  try {
    for (const [i, store] of stores.entries()) await createLimiter({ store, name: `q${i}`, capacity: 1, refillPerSecond: 1 }).take('k');
    channel(CHANNELS.storeCall).publish(null);
    const points = (await otel.collect()).metrics.get('tokenbucket.decisions')!.dataPoints;
    expect(points.map((p) => [p.attributes.policy, p.attributes.outcome, p.value])).toEqual([
      ['q0', 'allowed', 1],
      ['q0', 'denied', 0],
      ['(other)', 'allowed', 2],
      ['(other)', 'denied', 0],
    ]);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/more than 1 distinct `policy` label values/), {
      type: 'TokenBucketWarning',
      code: 'TB_WARN_LABEL_VALUES',
    });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^tokenbucket: a metrics subscriber threw/), {
      type: 'TokenBucketWarning',
      code: 'TB_WARN_METRICS_FAILED',
    });
  } finally {
    warn.mockRestore();
    metrics.close();
    for (const store of stores) store.close();
    await otel.provider.shutdown();
  }
});

test.each([
  [null, 'options'],
  [{ buckets: [2, 1] }, 'buckets'],
  [{ maxLabelValues: 1.5 }, 'maxLabelValues'],
  [{ meterProvider: {} }, 'meterProvider'],
  [{ register: {} }, 'register'],
])('bad option %p throws TB_ERR_INVALID_OPTION naming %s', (options, option) => {
  let error: unknown;
  try {
    registerMetrics(options as never);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(TokenBucketError);
  expect(error).toMatchObject({ code: 'TB_ERR_INVALID_OPTION', option });
  expect(channel(CHANNELS.decision).hasSubscribers).toBe(false);
});
