// tokenbucket_store_up follows a real outage: a redis-server of this test's own is killed
// (SIGKILL), the metric goes to 0 (Prometheus and OpenTelemetry alike); it is restarted on the same
// port, and the metric comes back to 1. On a Cluster, each master has its own series.
import Redis from 'ioredis';
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { registerMetrics as registerOpenTelemetry, type OpenTelemetryMetrics } from '@tokenbucket/opentelemetry';
import { registerMetrics, type PrometheusMetrics } from '@tokenbucket/prometheus';
import { Registry } from 'prom-client';
import { ClusterPool, requireCluster } from '../support/cluster';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix } from '../support/redis';
import { startApp, type App } from './apps';
import { parseExposition, total, type Sample } from './exposition';
import { meterProvider, pointValue } from './otel';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('store up', () => {
  const register = new Registry();
  const otel = meterProvider();
  let prometheus: PrometheusMetrics;
  let opentelemetry: OpenTelemetryMetrics;

  beforeAll(() => {
    prometheus = registerMetrics({ register });
    opentelemetry = registerOpenTelemetry({ meterProvider: otel.provider });
  });
  afterAll(async () => {
    prometheus?.close();
    opentelemetry?.close();
    await otel.provider.shutdown();
  });
  const scrape = async (): Promise<Sample[]> => parseExposition(await register.metrics());

  describe('through an outage of a standalone server', () => {
    let server: RedisProcess;
    let client: Redis;
    let app: App;
    const store = 'outage';

    beforeAll(async () => {
      server = await RedisProcess.start();
      client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {}); // the app's own logging would go here
      const redisStore = new RedisStore({
        client,
        prefix: randomPrefix('store-up'),
        name: store,
        timeoutMs: 150,
        breaker: { failureThreshold: 3, cooldownMs: 200 },
      });
      app = await startApp('express', [{ method: 'GET', path: '/x', limit: { store: redisStore, capacity: 1000, refillPerSecond: 1 } }]);
    });
    afterAll(async () => {
      await app?.close();
      client?.disconnect();
      await server?.stop();
    });

    /** Sends requests until `done` (each answered 200: the fallback limits while Redis is away), or fails after `ms`. */
    const until = async (what: string, ms: number, done: (samples: Sample[]) => boolean) => {
      const deadline = performance.now() + ms;
      for (;;) {
        const res = await fetch(`${app.url}/x`, { headers: { 'x-api-key': 'k' } });
        expect(res.status).toBe(200);
        if (done(await scrape())) return;
        if (performance.now() > deadline) throw new Error(`tokenbucket_store_up did not become ${what} within ${ms} ms`);
        await sleep(50);
      }
    };
    const up = (samples: Sample[]) => samples.filter((s) => s.name === 'tokenbucket_store_up' && s.labels.store === store);

    test('up before, 0 while the server is dead, 1 again once it is back', async () => {
      await until('1', 2000, (s) => up(s).length > 0);
      expect(up(await scrape())).toEqual([{ name: 'tokenbucket_store_up', labels: { store, node: 'default' }, value: 1 }]);
      expect(pointValue(await otel.collect(), 'tokenbucket.store.up', { store, node: 'default' })).toBe(1);

      await server.kill();
      await until('0', 5000, (s) => up(s)[0]?.value === 0);
      const down = await scrape();
      expect(total(down, 'tokenbucket_store_errors_total', { store })).toBeGreaterThanOrEqual(3);
      expect(total(down, 'tokenbucket_decisions_total', { route: 'GET /x', source: 'fallback', outcome: 'allowed' })).toBeGreaterThan(0);
      const otelDown = await otel.collect();
      expect(pointValue(otelDown, 'tokenbucket.store.up', { store, node: 'default' })).toBe(0);
      // OpenTelemetry's first collection of the errors shows them at 0 (so rates count them), the next every one.
      const otelErrors = (c: typeof otelDown) =>
        c.metrics
          .get('tokenbucket.store.errors')!
          .dataPoints.filter((p) => p.attributes.store === store)
          .reduce((sum, p) => sum + (p.value as number), 0);
      expect(otelErrors(otelDown)).toBe(0);
      expect(otelErrors(await otel.collect())).toBe(total(down, 'tokenbucket_store_errors_total', { store }));

      await server.restart();
      await until('1', 15000, (s) => up(s)[0]?.value === 1);
      expect(pointValue(await otel.collect(), 'tokenbucket.store.up', { store, node: 'default' })).toBe(1);
      expect(total(await scrape(), 'tokenbucket_decisions_total', { route: 'GET /x', source: 'redis' })).toBeGreaterThan(1);
    });
  });

  describe('on a Redis Cluster', () => {
    requireCluster();
    const pool = new ClusterPool();
    const prefix = randomPrefix('store-up-cluster');
    afterAll(() => pool.closeAll([prefix]));

    test('one series per master, named host:port, each 1', async () => {
      // A budget no busy machine misses: a first take waits for the new client's connection.
      const limiter = createLimiter({
        store: new RedisStore({ client: pool.cluster(), prefix, name: 'cluster', timeoutMs: 5_000 }),
        capacity: 5,
        refillPerSecond: 1,
      });
      for (let i = 0; i < 60; i++) await limiter.take(`caller-${i}`);
      const masters = (await pool.masters()).map((m) => m.address).sort();
      const series = (await scrape()).filter((s) => s.name === 'tokenbucket_store_up' && s.labels.store === 'cluster');
      expect(series.map((s) => s.labels.node).sort()).toEqual(masters);
      expect(series.every((s) => s.value === 1)).toBe(true);
      const collected = await otel.collect();
      for (const node of masters) expect(pointValue(collected, 'tokenbucket.store.up', { store: 'cluster', node })).toBe(1);
    });
  });
});
