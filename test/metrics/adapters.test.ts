// A burst through each adapter: the scraped decision counters equal the responses the app sent
// (200 = allowed, 429 = denied) per route and policy, and no label carries a caller key.
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS, RedisStore, type DecisionEvent } from '@tokenbucket/core';
import { registerMetrics, type PrometheusMetrics } from '@tokenbucket/prometheus';
import { Registry } from 'prom-client';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { FRAMEWORKS, startApp, type App, type Route } from './apps';
import { parseExposition, total } from './exposition';

requireRedis();

const SLOW = 1 / 3600;

/** Each policy's capacity is its own, so X-RateLimit-Limit names the binding policy of a 200. */
const POLICY_BY_LIMIT: Record<string, string> = { '5': 'GET /search', '8': 'catalog', '3': 'reports-burst', '2': 'reports-daily' };

describe.each(FRAMEWORKS)('decisions scraped after a burst through %s', (framework) => {
  const pool = new RedisPool();
  const prefix = randomPrefix(`metrics-${framework}`);
  const register = new Registry();
  const callerIds = new Set<string>();
  const onDecision = (event: unknown) => void callerIds.add((event as DecisionEvent).callerId);
  let metrics: PrometheusMetrics;
  let app: App;

  beforeAll(async () => {
    metrics = registerMetrics({ register });
    subscribe(CHANNELS.decision, onDecision);
    // A generous budget: on a busy machine a take that times out is answered by the fallback (still counted).
    const store = new RedisStore({ client: pool.client(), prefix, name: `metrics-${framework}`, timeoutMs: 2000 });
    const common = { store, legacyHeaders: true };
    const catalog = { ...common, name: 'catalog', capacity: 8, refillPerSecond: SLOW };
    const routes: Route[] = [
      { method: 'GET', path: '/search', limit: { ...common, capacity: 5, refillPerSecond: SLOW } },
      { method: 'GET', path: '/items', limit: catalog },
      { method: 'GET', path: '/items/:id', limit: catalog },
      {
        method: 'POST',
        path: '/reports',
        limit: {
          ...common,
          policies: [
            { name: 'reports-burst', capacity: 3, refillPerSecond: SLOW },
            { name: 'reports-daily', capacity: 2, refillPerSecond: SLOW / 24 },
          ],
        },
      },
      { method: 'GET', path: '/preview', limit: { ...common, capacity: 2, refillPerSecond: SLOW, dryRun: true } },
    ];
    app = await startApp(framework, routes);
  });

  afterAll(async () => {
    await app?.close();
    metrics?.close();
    unsubscribe(CHANNELS.decision, onDecision);
    await pool.closeAll([prefix]);
  });

  test('per route, policy and outcome; no raw or hashed caller key in any label', async () => {
    const keys = Array.from({ length: 4 }, (_, i) => `metrics-secret-${i}-${randomBytes(8).toString('hex')}`);
    type Req = { method: 'GET' | 'POST'; path: string; route: string; key: string | undefined };
    const plan: Req[] = [];
    const add = (n: number, method: 'GET' | 'POST', path: string, route: string, key: string | undefined) => {
      for (let i = 0; i < n; i++) plan.push({ method, path, route, key });
    };
    for (const key of keys) {
      add(9, 'GET', '/search', 'GET /search', key);
      for (let i = 0; i < 6; i++) {
        // The two catalog routes share one quota of 8: alternate, so each sees allowed and denied.
        add(1, 'GET', '/items', 'GET /items', key);
        add(1, 'GET', '/items/42', 'GET /items/:id', key);
      }
      add(5, 'POST', '/reports', 'POST /reports', key);
    }
    add(7, 'GET', '/search', 'GET /search', undefined); // no key: limited by IP

    const sent = new Map<string, number>(); // "route|policy|outcome" -> responses
    await Promise.all(
      plan.map(async ({ method, path, route, key }) => {
        const res = await fetch(app.url + path, { method, headers: key === undefined ? {} : { 'x-api-key': key } });
        const body = (await res.json()) as { policy?: string };
        let seen: string;
        if (res.status === 200) seen = `${route}|${POLICY_BY_LIMIT[res.headers.get('x-ratelimit-limit') ?? '']}|allowed`;
        else if (res.status === 429) seen = `${route}|${body.policy}|denied`;
        else throw new Error(`${method} ${path} answered ${res.status}`);
        sent.set(seen, (sent.get(seen) ?? 0) + 1);
      }),
    );
    // A dry run never blocks: every answer is a 200, and the denials it would have made are counted as denied.
    const previews: number[] = [];
    for (let i = 0; i < 5; i++) previews.push((await fetch(`${app.url}/preview`, { headers: { 'x-api-key': keys[0]! } })).status);
    expect(previews).toEqual([200, 200, 200, 200, 200]);

    const text = await register.metrics();
    const samples = parseExposition(text);
    const decisions = samples.filter((s) => s.name === 'tokenbucket_decisions_total');

    // The burst both allowed and denied on every route, so the comparison below is not vacuous.
    for (const route of ['GET /search', 'GET /items', 'GET /items/:id', 'POST /reports']) {
      expect([...sent.keys()].some((k) => k.startsWith(`${route}|`) && k.endsWith('|allowed'))).toBe(true);
      expect([...sent.keys()].some((k) => k.startsWith(`${route}|`) && k.endsWith('|denied'))).toBe(true);
    }
    const scraped = new Map<string, number>();
    for (const s of decisions) {
      if (s.labels.route === 'GET /preview') continue;
      const k = `${s.labels.route}|${s.labels.policy}|${s.labels.outcome}`;
      scraped.set(k, (scraped.get(k) ?? 0) + s.value);
    }
    expect(Object.fromEntries([...scraped].sort())).toEqual(Object.fromEntries([...sent].sort()));
    expect(total(decisions, 'tokenbucket_decisions_total', { route: 'GET /preview', outcome: 'allowed' })).toBe(2);
    expect(total(decisions, 'tokenbucket_decisions_total', { route: 'GET /preview', outcome: 'denied' })).toBe(3);

    // Where the answers came from: Redis, a remembered denial, or (a time-out) the fallback; every
    // series has the same four labels.
    expect(new Set(decisions.map((s) => s.labels.source))).toContain('redis');
    for (const s of decisions) {
      expect(['redis', 'denial-cache', 'fallback']).toContain(s.labels.source);
      expect(Object.keys(s.labels).sort()).toEqual(['kind', 'outcome', 'policy', 'route', 'source']);
    }
    const store = `metrics-${framework}`;
    expect(total(samples, 'tokenbucket_store_up', { store, node: 'default' })).toBe(1);
    expect(total(samples, 'tokenbucket_store_call_duration_seconds_count', { store })).toBeGreaterThan(0);

    // Secrecy and cardinality: no caller key, raw or hashed, and no client IP anywhere in the scrape.
    expect(callerIds.size).toBeGreaterThanOrEqual(keys.length + 1);
    for (const secret of [...keys, ...callerIds, '127.0.0.1']) expect(text).not.toContain(secret);
  });
});
