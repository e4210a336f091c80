// The Grafana dashboard's queries name only metrics, labels and label values that registerMetrics
// really exposes: checked against a registry scraped after traffic on a live store and a dead one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisStore } from '@tokenbucket/core';
import { registerMetrics, type PrometheusMetrics } from '@tokenbucket/prometheus';
import { Registry } from 'prom-client';
import { freePort } from '../support/net';
import { closeClient, randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { startApp, type App } from './apps';
import { parseExposition } from './exposition';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(join(__dirname, '../../examples/metrics/grafana-dashboard.json'), 'utf8')) as { panels: Panel[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

test('the dashboard has the panels an operator looks for', () => {
  expect(panels.map((p) => p.title)).toEqual(expect.arrayContaining(['Decisions by outcome', 'Denial rate by policy', 'Store up', 'Redis call latency p99']));
  expect(queries.find((q) => q.panel === 'Redis call latency p99')?.expr).toMatch(/^histogram_quantile\(0\.99, .*_bucket\[/);
});

describe('every query against a real scrape', () => {
  requireRedis();
  const pool = new RedisPool();
  const prefix = randomPrefix('dashboard');
  const register = new Registry();
  let metrics: PrometheusMetrics;
  let app: App;
  let dead: Redis;

  beforeAll(async () => {
    metrics = registerMetrics({ register });
    const live = new RedisStore({ client: pool.client(), prefix, name: 'live' });
    // A client of a port where nothing listens: its store fails, opens its circuit, and is down.
    dead = new Redis(await freePort(), '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => {});
    await new Promise((resolve) => dead.once('end', resolve));
    const down = new RedisStore({ client: dead, prefix, name: 'down', breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    app = await startApp('express', [
      { method: 'GET', path: '/live', limit: { store: live, capacity: 2, refillPerSecond: 1 / 60 } },
      { method: 'GET', path: '/down', limit: { store: down, capacity: 2, refillPerSecond: 1 / 60 } },
    ]);
    for (const path of ['/live', '/live', '/live', '/down', '/down', '/down']) {
      await (await fetch(app.url + path, { headers: { 'x-api-key': 'dashboard' } })).arrayBuffer();
    }
  });
  afterAll(async () => {
    await app?.close();
    metrics?.close();
    if (dead !== undefined) await closeClient(dead);
    await pool.closeAll([prefix]);
  });

  test('names, labels and label values', async () => {
    const samples = parseExposition(await register.metrics());
    const labels = new Map<string, Set<string>>(); // metric name -> label names
    const values = new Map<string, Set<string>>(); // label name -> values seen
    for (const s of samples) {
      const names = labels.get(s.name) ?? new Set<string>();
      labels.set(s.name, names);
      for (const [k, v] of Object.entries(s.labels)) {
        names.add(k);
        values.set(k, (values.get(k) ?? new Set()).add(v));
      }
    }
    // The traffic reached every metric, with both states of the store.
    expect([...labels.keys()]).toEqual(
      expect.arrayContaining([
        'tokenbucket_decisions_total',
        'tokenbucket_store_errors_total',
        'tokenbucket_store_up',
        'tokenbucket_store_call_duration_seconds_bucket',
      ]),
    );
    expect(
      samples
        .filter((s) => s.name === 'tokenbucket_store_up')
        .map((s) => [s.labels.store, s.value])
        .sort(),
    ).toEqual([
      ['down', 0],
      ['live', 1],
    ]);
    expect(values.get('outcome')).toEqual(new Set(['allowed', 'denied']));

    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const { panel, expr } of queries) {
      const where = `${panel}: ${expr}`;
      const metricNames = [...new Set(expr.match(/\btokenbucket_[a-zA-Z0-9_:]*/g) ?? [])];
      expect([where, metricNames.length > 0]).toEqual([where, true]);
      for (const name of metricNames) expect([where, name, labels.has(name)]).toEqual([where, name, true]);
      const known = new Set(metricNames.flatMap((n) => [...(labels.get(n) ?? [])]));
      // Labels in selectors ({outcome="denied"}) and in grouping clauses (by (le, store)).
      for (const [, selector] of expr.matchAll(/\{([^}]*)\}/g)) {
        for (const [, label, op, value] of selector!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
          expect([where, label, known.has(label!)]).toEqual([where, label, true]);
          if (op === '=') expect([where, `${label}="${value}"`, values.get(label!)?.has(value!)]).toEqual([where, `${label}="${value}"`, true]);
        }
      }
      for (const [, list] of expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
        for (const label of list!
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean)) {
          expect([where, label, known.has(label)]).toEqual([where, label, true]);
        }
      }
    }
  });
});
