// registerMetrics on prom-client: its options, one registration per registry, close(), bounded labels.
import { channel } from 'node:diagnostics_channel';
import { CHANNELS, createLimiter, MemoryStore, TokenBucketError } from '@tokenbucket/core';
import { registerMetrics, type PrometheusMetrics } from '@tokenbucket/prometheus';
import { register as defaultRegistry, Registry } from 'prom-client';
import { parseExposition, total } from './exposition';

const NAMES = ['tokenbucket_decisions_total', 'tokenbucket_store_errors_total', 'tokenbucket_store_up', 'tokenbucket_store_call_duration_seconds'];

const open: PrometheusMetrics[] = [];
const stores: MemoryStore[] = [];
afterEach(() => {
  jest.restoreAllMocks();
  for (const m of open.splice(0)) m.close();
  for (const s of stores.splice(0)) s.close();
});
const register = (options: Parameters<typeof registerMetrics>[0]) => {
  const m = registerMetrics(options);
  open.push(m);
  return m;
};
const limiter = (name: string, capacity = 2) => {
  const store = new MemoryStore();
  stores.push(store);
  return createLimiter({ store, name, capacity, refillPerSecond: 1 / 3600 });
};
const scrape = async (r: Registry) => parseExposition(await r.metrics());

test('a denial for lack of a concurrency slot counts as its own kind', async () => {
  const r = new Registry();
  register({ register: r });
  const store = new MemoryStore();
  stores.push(store);
  const l = createLimiter({ store, name: 'kinds', capacity: 2, refillPerSecond: 1 / 3600, concurrency: { max: 1, name: 'kinds-slots' } });
  const held = await l.acquire('k'); // allowed: 1 token left, 0 slots
  await l.acquire('k'); // denied for lack of a slot (its token given back)
  await held.release();
  await (await l.acquire('k')).release(); // allowed: 0 tokens left
  await l.acquire('k'); // denied by the rate
  const samples = await scrape(r);
  expect(total(samples, 'tokenbucket_decisions_total', { policy: 'kinds-slots', outcome: 'denied', kind: 'concurrency' })).toBe(1);
  expect(total(samples, 'tokenbucket_decisions_total', { policy: 'kinds', outcome: 'denied', kind: 'rate' })).toBe(1);
  expect(total(samples, 'tokenbucket_decisions_total', { outcome: 'allowed' })).toBe(2);
});

test('registers the four metrics, on prom-client’s default registry when none is given', async () => {
  const m = register(undefined);
  for (const name of NAMES) expect(defaultRegistry.getSingleMetric(name)).toBeDefined();
  const l = limiter('default-registry');
  for (let i = 0; i < 3; i++) await l.take('k');
  const samples = parseExposition(await defaultRegistry.metrics());
  expect(total(samples, 'tokenbucket_decisions_total', { policy: 'default-registry', outcome: 'allowed', source: 'memory', route: '' })).toBe(2);
  expect(total(samples, 'tokenbucket_decisions_total', { policy: 'default-registry', outcome: 'denied' })).toBe(1);
  m.close();
  for (const name of NAMES) expect(defaultRegistry.getSingleMetric(name)).toBeUndefined();
});

test('a second registration on one registry throws, naming the metric and what to do; after close() it works', () => {
  const r = new Registry();
  const first = register({ register: r });
  let error: unknown;
  try {
    registerMetrics({ register: r });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(TokenBucketError);
  expect(error).toMatchObject({ code: 'TB_ERR_INVALID_OPTION', option: 'register' });
  expect((error as Error).message).toMatch(/tokenbucket_decisions_total.*already registered.*close\(\)/);
  first.close();
  first.close(); // twice is fine
  expect(() => register({ register: r })).not.toThrow();
  // Another prefix on the same registry is another set of metrics.
  expect(() => register({ register: r, prefix: 'edge_' })).not.toThrow();
  expect(r.getSingleMetric('edge_decisions_total')).toBeDefined();
});

test('close() stops counting: a new registration starts from zero, and the closed one counted nothing after it', async () => {
  const r = new Registry();
  const first = register({ register: r });
  const l = limiter('close');
  await l.take('a');
  expect(total(await scrape(r), 'tokenbucket_decisions_total', { policy: 'close' })).toBe(1);
  first.close();
  expect(channel(CHANNELS.decision).hasSubscribers).toBe(false);
  await l.take('a');
  const second = register({ register: r });
  await l.take('a');
  expect(total(await scrape(r), 'tokenbucket_decisions_total', { policy: 'close' })).toBe(1);
  expect(await first.decisions.get()).toMatchObject({
    values: [
      { value: 1, labels: { outcome: 'allowed' } },
      { value: 0, labels: { outcome: 'denied' } },
    ],
  });
  second.close();
});

test('counts accumulate across scrapes', async () => {
  const r = new Registry();
  register({ register: r });
  const l = limiter('scrapes', 100);
  await l.take('a');
  await l.take('b');
  expect(total(await scrape(r), 'tokenbucket_decisions_total', { policy: 'scrapes' })).toBe(2);
  expect(total(await scrape(r), 'tokenbucket_decisions_total', { policy: 'scrapes' })).toBe(2);
  await l.take('c');
  expect(total(await scrape(r), 'tokenbucket_decisions_total', { policy: 'scrapes' })).toBe(3);
});

test('past maxLabelValues, new policies count as (other), with one warning', async () => {
  const r = new Registry();
  register({ register: r, maxLabelValues: 2 });
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  const p1 = limiter('p1');
  for (const l of [p1, limiter('p2'), limiter('p3'), limiter('p4'), p1]) await l.take('k');
  const samples = (await scrape(r)).filter((s) => s.name === 'tokenbucket_decisions_total');
  expect(samples.map((s) => [s.labels.policy, s.labels.outcome, s.value])).toEqual([
    ['p1', 'allowed', 2],
    ['p1', 'denied', 0],
    ['p2', 'allowed', 1],
    ['p2', 'denied', 0],
    ['(other)', 'allowed', 2],
    ['(other)', 'denied', 0],
  ]);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn).toHaveBeenCalledWith(expect.stringMatching(/more than 2 distinct `policy` label values/), {
    type: 'TokenBucketWarning',
    code: 'TB_WARN_LABEL_VALUES',
  });
  warn.mockRestore();
});

test('a message its subscriber cannot read is a warning, never an uncaught exception', async () => {
  register({ register: new Registry() });
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  channel(CHANNELS.storeCall).publish(null);
  channel(CHANNELS.storeCall).publish(null);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^tokenbucket: a metrics subscriber threw/), {
    type: 'TokenBucketWarning',
    code: 'TB_WARN_METRICS_FAILED',
  });
  warn.mockRestore();
});

test.each([
  [null, 'options'],
  [{ prefix: 'bad-prefix' }, 'prefix'],
  [{ prefix: 3 }, 'prefix'],
  [{ buckets: [] }, 'buckets'],
  [{ buckets: [0.1, 0.05] }, 'buckets'],
  [{ buckets: [0, 1] }, 'buckets'],
  [{ maxLabelValues: 0 }, 'maxLabelValues'],
  [{ register: {} }, 'register'],
  [{ registry: new Registry() }, 'registry'],
])('bad option %p throws TB_ERR_INVALID_OPTION naming %s', (options, option) => {
  expect(() => registerMetrics(options as never)).toThrow(expect.objectContaining({ code: 'TB_ERR_INVALID_OPTION', option }));
  expect(channel(CHANNELS.decision).hasSubscribers).toBe(false);
});
