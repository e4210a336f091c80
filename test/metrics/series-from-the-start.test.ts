// Series a dashboard plots exist before they count: a policy's denied series is there (at 0) from
// its first decision, not from its first denial; a store's errors series is scraped at 0 once
// before it shows its count, so rate() over it counts the failures that opened the circuit (the
// series used to appear at 3, and rate() took that 3 as its starting point). Both exporters, read
// as a scraper reads them: prom-client's exposition text, OpenTelemetry's collected points.
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import Redis from 'ioredis';
import { createLimiter, MemoryStore, RedisStore } from '@tokenbucket/core';
import { registerMetrics as registerOpenTelemetry } from '@tokenbucket/opentelemetry';
import { registerMetrics as registerPrometheus } from '@tokenbucket/prometheus';
import { Registry } from 'prom-client';
import { freePort } from '../support/net';
import { closeClient } from '../support/redis';
import { parseExposition, type Sample } from './exposition';
import { meterProvider, pointValue } from './otel';

/** A RedisStore on a port where nothing listens: every take fails (TB_ERR_STORE_UNAVAILABLE). */
async function deadStore(name: string): Promise<{ store: RedisStore; client: Redis }> {
  const client = new Redis(await freePort(), '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('end', resolve));
  return { client, store: new RedisStore({ client, name, breaker: { failureThreshold: 3, cooldownMs: 60_000 } }) };
}

/** Three takes on the dead store: three failures, as many as open a circuit by default. */
async function threeFailures(store: RedisStore): Promise<void> {
  const limiter = createLimiter({ store, capacity: 5, refillPerSecond: 1 });
  for (let i = 0; i < 3; i++) await expect(limiter.take('k')).rejects.toMatchObject({ code: expect.any(String) });
}

describe('prom-client exposition', () => {
  const register = new Registry();
  const metrics = registerPrometheus({ register });
  const memory = new MemoryStore();
  afterAll(() => {
    metrics.close();
    memory.close();
  });
  const scrape = async (): Promise<Sample[]> => parseExposition(await register.metrics());
  const series = (samples: Sample[], name: string, labels: Record<string, string>) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .map((s) => [s.labels.outcome ?? s.labels.code, s.value]);

  test("a policy's first decision, allowed: its denied series is there, at 0", async () => {
    await createLimiter({ store: memory, name: 'zero-denied', capacity: 5, refillPerSecond: 1 }).take('k');
    expect(series(await scrape(), 'tokenbucket_decisions_total', { policy: 'zero-denied' })).toEqual([
      ['allowed', 1],
      ['denied', 0],
    ]);
  });

  test("a policy's first decision, denied: its allowed series is there, at 0", async () => {
    const limiter = createLimiter({ store: memory, name: 'zero-allowed', capacity: 2, refillPerSecond: 1 / 3600 });
    await limiter.take('k', { cost: 3 }); // more than the bucket can ever hold: denied
    expect(series(await scrape(), 'tokenbucket_decisions_total', { policy: 'zero-allowed' })).toEqual([
      ['denied', 1],
      ['allowed', 0],
    ]);
  });

  test('store errors: the first scrape after the first failures shows the series at 0, the next one every failure', async () => {
    const { store, client } = await deadStore('prom-dead');
    try {
      await threeFailures(store);
      expect(series(await scrape(), 'tokenbucket_store_errors_total', { store: 'prom-dead' })).toEqual([['TB_ERR_STORE_UNAVAILABLE', 0]]);
      expect(series(await scrape(), 'tokenbucket_store_errors_total', { store: 'prom-dead' })).toEqual([['TB_ERR_STORE_UNAVAILABLE', 3]]);
      await expect(createLimiter({ store, capacity: 5, refillPerSecond: 1 }).take('k')).rejects.toBeDefined();
      // A series already shown counts a new failure at once.
      expect(series(await scrape(), 'tokenbucket_store_errors_total', { store: 'prom-dead' })).toEqual([['TB_ERR_STORE_UNAVAILABLE', 4]]);
    } finally {
      await closeClient(client);
    }
  });
});

describe('OpenTelemetry collection', () => {
  const otel = meterProvider();
  const metrics = registerOpenTelemetry({ meterProvider: otel.provider });
  const memory = new MemoryStore();
  afterAll(async () => {
    metrics.close();
    memory.close();
    await otel.provider.shutdown();
  });
  const decision = (policy: string, outcome: string) => ({ route: '', policy, outcome, source: 'memory', kind: 'rate' });

  test("a policy's first decision: both outcomes' points, the other at 0", async () => {
    await createLimiter({ store: memory, name: 'otel-zero', capacity: 5, refillPerSecond: 1 }).take('k');
    const collected = await otel.collect();
    expect(pointValue(collected, 'tokenbucket.decisions', decision('otel-zero', 'allowed'))).toBe(1);
    expect(pointValue(collected, 'tokenbucket.decisions', decision('otel-zero', 'denied'))).toBe(0);
  });

  test('store errors: 0 at the first collection after the first failures, every failure at the next', async () => {
    const { store, client } = await deadStore('otel-dead');
    try {
      await threeFailures(store);
      const labels = { store: 'otel-dead', code: 'TB_ERR_STORE_UNAVAILABLE' };
      expect(pointValue(await otel.collect(), 'tokenbucket.store.errors', labels)).toBe(0);
      expect(pointValue(await otel.collect(), 'tokenbucket.store.errors', labels)).toBe(3);
    } finally {
      await closeClient(client);
    }
  });
});

test("OpenTelemetry's Prometheus exporter: the errors series is scraped at 0, then at its count; the denied one at 0", async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const metrics = registerOpenTelemetry({ meterProvider: provider });
  const memory = new MemoryStore();
  const { store, client } = await deadStore('exported-dead');
  const scrape = async () => parseExposition(new PrometheusSerializer().serialize((await exporter.collect()).resourceMetrics));
  const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  try {
    await createLimiter({ store: memory, name: 'exported-zero', capacity: 5, refillPerSecond: 1 }).take('k');
    await threeFailures(store);
    const first = await scrape();
    expect(value(first, 'tokenbucket_decisions_total', { policy: 'exported-zero', outcome: 'denied' })).toBe(0);
    expect(value(first, 'tokenbucket_store_errors_total', { store: 'exported-dead' })).toBe(0);
    expect(value(await scrape(), 'tokenbucket_store_errors_total', { store: 'exported-dead' })).toBe(3);
  } finally {
    metrics.close();
    memory.close();
    await closeClient(client);
    await provider.shutdown();
  }
});
