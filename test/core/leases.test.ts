// Token leases (RedisStore's `leases` option) on a real Redis: a hot key spends a batch of tokens
// taken in one take, gives back what it did not spend (at expiry, when the key cools, on quit),
// never answers a denial from a lease, and keeps costs, reads, refunds, resets and lock-outs as
// they are without leases; the store contract passes with leases on, standalone and Cluster.
import { createLimiter, RedisStore } from '@tokenbucket/core';
import type { TakeResult } from '@tokenbucket/core/store';
import { parseLeaseOptions } from '../../packages/core/src/store/lease';
import { parsePolicies } from '../../packages/core/src/policy';
import { bucketKey } from '../../packages/core/src/store/types';
import { ClusterPool, requireCluster } from '../support/cluster';
import { randomPrefix, RedisPool, requireRedis, sleep } from '../support/redis';
import { runStoreSuite } from './store-suite';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('leases');
afterAll(() => pool.closeAll([prefix]));

let n = 0;
/** What a bucket refilling one token an hour gains during a test (a few seconds): 0.001 token. */
const REFILL_SLACK = 0.001;
const policies = (capacity: number, refillPerSecond: number, more: { capacity: number; refillPerSecond: number }[] = []) =>
  parsePolicies({ policies: [{ capacity, refillPerSecond }, ...more].map((p) => ({ name: `lease${++n}`, ...p })) });

/** What Redis holds for the caller, read by a take of cost 0 on a store without leases. */
async function redisLevels(callerId: string, ps: ReturnType<typeof policies>): Promise<readonly number[]> {
  const plain = new RedisStore({ client: pool.client(), prefix });
  return (await plain.take(callerId, ps, 0)).levels;
}

const leaseStore = (leases: ConstructorParameters<typeof RedisStore>[0]['leases'] = { minRate: 0 }) =>
  new RedisStore({ client: pool.client(), prefix, leases, denialCache: false });

describe('leases option', () => {
  test('off by default; true gives the defaults', () => {
    expect(parseLeaseOptions(undefined)).toBeUndefined();
    expect(parseLeaseOptions(false)).toBeUndefined();
    expect(parseLeaseOptions(true)).toEqual({ maxTokens: 1000, maxMs: 200, minRate: 100 });
    expect(new RedisStore({ client: pool.client(), prefix }).leases).toBeUndefined();
    expect(new RedisStore({ client: pool.client(), prefix, leases: true }).leases?.config).toEqual({ maxTokens: 1000, maxMs: 200, minRate: 100 });
  });

  test.each([
    [{ leases: 'yes' }, 'leases'],
    [{ leases: { maxTokens: 1 } }, 'leases.maxTokens'],
    [{ leases: { maxTokens: 2.5 } }, 'leases.maxTokens'],
    [{ leases: { maxMs: 5 } }, 'leases.maxMs'],
    [{ leases: { maxMs: 60_000 } }, 'leases.maxMs'],
    [{ leases: { minRate: -1 } }, 'leases.minRate'],
    [{ leases: { maxToken: 10 } }, 'leases.maxToken'],
  ])('%j is refused at creation, naming %s', (options, option) => {
    let error: unknown;
    try {
      new RedisStore({ client: pool.client(), prefix, ...(options as object) });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'TB_ERR_INVALID_OPTION' });
    expect((error as Error).message).toContain(`\`${option}\``);
  });
});

describe('a hot key with leases on (standalone Redis)', () => {
  test('one take from Redis, then takes answered from the lease; Redis holds the lease debited; remaining counts down as without leases', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 50, maxMs: 2000 });
    const ps = policies(1000, 1 / 3600);
    const first = await store.take('hot', ps, 1); // a plain take: the key's level is not known yet
    expect(first).toMatchObject({ allowed: true, source: 'redis' });
    const leased = await store.take('hot', ps, 1); // a lease of 50 (maxTokens)
    expect(leased).toMatchObject({ allowed: true, source: 'redis' });
    expect(leased.levels[0]).toBeCloseTo(999, 3);
    expect(store.leases!.size).toBe(1);
    expect((await redisLevels('hot', ps))[0]).toBeCloseTo(1000 - 1 - 50, 3);
    const fromLease: TakeResult[] = [];
    for (let i = 0; i < 49; i++) fromLease.push(store.takeNow('hot', ps, 1)!);
    expect(fromLease.every((r) => r.allowed && r.source === 'lease')).toBe(true);
    expect(fromLease.map((r) => Math.floor(r.levels[0]!))).toEqual(Array.from({ length: 49 }, (_, i) => 998 - i));
    // Exhausted: the next take goes to Redis, where the lease's renewal (asked when it ran low) is on its way
    expect(store.takeNow('hot', ps, 1)).toBeUndefined();
    await store.leases!.pending('hot', ps);
    expect((await redisLevels('hot', ps))[0]).toBeCloseTo(1000 - 51 - 50, 3);
    expect(store.takeNow('hot', ps, 1)?.source).toBe('lease');
  });

  test('a lease running low takes the next one while it still answers (its key does not wait for Redis); the rest of the old one is carried into it, not sent back', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 40, maxMs: 5000 });
    const ps = policies(1000, 1 / 3600);
    await store.take('renew', ps, 1);
    await store.take('renew', ps, 1); // a lease of 40, 1 spent
    for (let i = 0; i < 29; i++) expect(store.takeNow('renew', ps, 1)?.source).toBe('lease'); // 30 spent: 10 left, a quarter
    expect(store.leases!.pending('renew', ps)).toBeUndefined();
    expect(store.takeNow('renew', ps, 1)?.source).toBe('lease'); // 31 spent: under a quarter left, the next lease is asked for
    const renewal = store.leases!.pending('renew', ps);
    expect(renewal).toBeDefined();
    expect(store.takeNow('renew', ps, 1)?.source).toBe('lease'); // still answered here meanwhile: 32 spent
    await renewal;
    expect(store.leases!.size).toBe(1);
    await sleep(20);
    // Both leases debited, nothing given back: the old one's 8 unspent tokens are the new one's
    const level = (await redisLevels('renew', ps))[0]!;
    expect(level).toBeLessThanOrEqual(1000 - 1 - 40 - 40 + REFILL_SLACK);
    expect(level).toBeGreaterThan(1000 - 1 - 40 - 40 - 1);
    const next = store.takeNow('renew', ps, 1)!;
    expect(next.source).toBe('lease');
    // Its level counts on from what was admitted (33), the carried tokens counted in
    expect(next.levels[0]).toBeCloseTo(1000 - 33, 0);
    expect(next.levels[0]).toBeLessThanOrEqual(1000 - 33 + REFILL_SLACK);
    // 48 to spend: 40 of its own and the 8 carried, then the key goes to Redis again
    for (let i = 1; i < 48; i++) expect(store.takeNow('renew', ps, 1)?.source).toBe('lease');
    expect(store.takeNow('renew', ps, 1)).toBeUndefined();
  });

  test('a renewal Redis fails is left to the next take: nothing escapes', async () => {
    const client = pool.client();
    const store = new RedisStore({ client, prefix, leases: { minRate: 0, maxTokens: 8, maxMs: 5000 }, denialCache: false, timeoutMs: 200 });
    const ps = policies(1000, 1 / 3600);
    await store.take('renew-fail', ps, 1);
    await store.take('renew-fail', ps, 1); // a lease of 8, 1 spent
    for (let i = 0; i < 5; i++) store.takeNow('renew-fail', ps, 1);
    client.disconnect(); // the renewal asked on the next spend fails
    expect(store.takeNow('renew-fail', ps, 1)?.source).toBe('lease');
    await store.leases!.pending('renew-fail', ps);
    expect(store.takeNow('renew-fail', ps, 1)?.source).toBe('lease'); // the lease's last token
    expect(store.takeNow('renew-fail', ps, 1)).toBeUndefined();
    await expect(store.take('renew-fail', ps, 1)).rejects.toMatchObject({ name: 'TokenBucketError' });
  });

  test('what a lease does not spend goes back to Redis when its key cools (no take for a quarter of maxMs)', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 100, maxMs: 1000 });
    const ps = policies(1000, 1 / 3600);
    await store.take('cool', ps, 1);
    await store.take('cool', ps, 1); // leases 100, spends 1
    for (let i = 0; i < 9; i++) expect(store.takeNow('cool', ps, 1)?.source).toBe('lease');
    expect((await redisLevels('cool', ps))[0]).toBeCloseTo(1000 - 1 - 100, 3);
    await sleep(600);
    expect(store.leases!.size).toBe(0);
    const level = (await redisLevels('cool', ps))[0]!;
    expect(level).toBeLessThanOrEqual(1000 - 11 + REFILL_SLACK); // 11 admitted: never more given back than was unspent
    expect(level).toBeGreaterThan(1000 - 11 - 1); // less at most one microsecond's worth of refill
  });

  test('a lease ends after maxMs however busy its key: the next take goes to Redis', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 1000, maxMs: 100 });
    const ps = policies(100_000, 1 / 3600);
    await store.take('expire', ps, 1);
    await store.take('expire', ps, 1);
    const started = performance.now();
    let fromLease = 0;
    while (store.takeNow('expire', ps, 1) !== undefined) {
      fromLease++;
      await sleep(5);
    }
    expect(performance.now() - started).toBeLessThan(5000);
    expect(fromLease).toBeLessThan(999);
    await sleep(20);
    expect((await redisLevels('expire', ps))[0]).toBeCloseTo(100_000 - 2 - fromLease, 0);
  });

  test("on the client's quit(), unspent tokens go back before QUIT", async () => {
    const client = pool.client();
    const store = new RedisStore({ client, prefix, leases: { minRate: 0, maxTokens: 100, maxMs: 5000 }, denialCache: false });
    const ps = policies(1000, 1 / 3600);
    await store.take('quit', ps, 1);
    await store.take('quit', ps, 1);
    store.takeNow('quit', ps, 1);
    expect(store.leases!.size).toBe(1);
    await client.quit();
    expect(store.leases!.size).toBe(0);
    const level = (await redisLevels('quit', ps))[0]!;
    expect(level).toBeLessThanOrEqual(997 + REFILL_SLACK);
    expect(level).toBeGreaterThan(996);
  });

  test('a take the lease cannot cover goes to Redis; a denial is never answered from a lease', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 10, maxMs: 5000 });
    const ps = policies(40, 1 / 3600);
    await store.take('deny', ps, 1); // 39 left
    expect(await store.take('deny', ps, 1)).toMatchObject({ allowed: true }); // lease of 9 (a quarter of 39): Redis 30
    expect(store.takeNow('deny', ps, 5)?.source).toBe('lease'); // 8 -> 3 in the lease
    expect(store.takeNow('deny', ps, 5)).toBeUndefined(); // the lease cannot cover 5: it ends, its 3 go back
    await sleep(20);
    expect((await redisLevels('deny', ps))[0]).toBeCloseTo(33, 0);
    const denied = await store.take('deny', ps, 34);
    expect(denied).toMatchObject({ allowed: false, source: 'redis' });
  });

  test('a lease is taken on every policy at once', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 20, maxMs: 5000 });
    const ps = policies(500, 1 / 3600, [{ capacity: 200, refillPerSecond: 1 / 3600 }]);
    await store.take('multi', ps, 2);
    expect(await store.take('multi', ps, 2)).toMatchObject({ allowed: true, source: 'redis' }); // 10 x 2 on both
    const levels = await redisLevels('multi', ps);
    expect(levels[0]).toBeCloseTo(500 - 2 - 20, 3);
    expect(levels[1]).toBeCloseTo(200 - 2 - 20, 3);
    const r = store.takeNow('multi', ps, 2)!;
    expect(r).toMatchObject({ allowed: true, source: 'lease' });
    expect(r.levels.map(Math.round)).toEqual([496, 196]);
  });

  test('reads (cost 0) and takes under a lock-out rule go to Redis', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 20, maxMs: 5000 });
    const ps = policies(500, 1 / 3600);
    await store.take('read', ps, 1);
    await store.take('read', ps, 1);
    expect(store.leases!.size).toBe(1);
    expect(store.takeNow('read', ps, 0)).toBeUndefined();
    const rule = { name: 'lease-lock', after: 3, windowMs: 1000, durationMs: 1000 };
    expect(store.takeNow('read', ps, 1, rule)).toBeUndefined();
    expect(await store.take('read', ps, 1, rule)).toMatchObject({ allowed: true, source: 'redis' });
  });

  test('a refund of a leased admission goes back into the lease (up to what it spent), the rest to Redis', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 20, maxMs: 5000 });
    const ps = policies(500, 1 / 3600);
    await store.take('refund', ps, 1);
    await store.take('refund', ps, 1); // lease of 20, 1 spent
    store.takeNow('refund', ps, 1); // 2 spent
    expect(await store.adjust('refund', ps, 2)).toMatchObject({ allowed: true, source: 'lease' });
    expect((await redisLevels('refund', ps))[0]).toBeCloseTo(479, 3); // Redis untouched
    for (let i = 0; i < 20; i++) expect(store.takeNow('refund', ps, 1)?.source).toBe('lease'); // 20 again
    expect(store.takeNow('refund', ps, 1)).toBeUndefined();
    const rewarded = await store.adjust('refund', ps, 5); // no live lease: Redis (which also holds the renewal's 20, asked when the lease ran low)
    expect(rewarded.source).toBe('redis');
    expect(rewarded.levels[0]).toBeCloseTo(479 - 20 + 5, 0);
  });

  test('a reset forgets the lease: the next take finds the buckets full', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 20, maxMs: 5000 });
    const l = createLimiter({ store, name: `lease-reset-${++n}`, capacity: 100, refillPerSecond: 1 / 3600 });
    await l.take('r');
    await l.take('r');
    expect(store.leases!.size).toBe(1);
    await l.reset('r');
    expect(store.leases!.size).toBe(0);
    expect((await l.take('r')).remaining).toBe(99);
  });

  test('a penalty goes to Redis, the lease untouched', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 20, maxMs: 5000 });
    const ps = policies(500, 1 / 3600);
    await store.take('penalty', ps, 1);
    await store.take('penalty', ps, 1); // lease of 20: Redis 479
    const penalised = await store.adjust('penalty', ps, -10);
    expect(penalised.source).toBe('redis');
    expect(penalised.levels[0]).toBeCloseTo(469, 2);
    expect(store.takeNow('penalty', ps, 1)?.source).toBe('lease');
  });

  test("a reset made through another instance is not seen by this one's lease until the lease ends", async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 20, maxMs: 5000 });
    const other = leaseStore();
    const ps = policies(500, 1 / 3600);
    await store.take('elsewhere', ps, 1);
    await store.take('elsewhere', ps, 1);
    await other.reset('elsewhere', ps);
    expect(store.takeNow('elsewhere', ps, 1)?.source).toBe('lease');
    expect((await redisLevels('elsewhere', ps))[0]).toBe(500);
  });

  test("a lease's usable tokens shrink as its bucket refills: a full bucket plus a lease never holds more than capacity", async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 25, maxMs: 5000 });
    const ps = policies(100, 200); // refills 25 tokens in 125 ms
    await store.take('shrink', ps, 1);
    await store.take('shrink', ps, 1); // lease of 25 from a bucket at ~99-100
    await sleep(200); // the bucket is full again: the lease can spend nothing more
    expect(store.takeNow('shrink', ps, 1)).toBeUndefined();
    expect(store.leases!.size).toBe(0);
    expect((await redisLevels('shrink', ps))[0]).toBe(100);
  });

  test('a cold key never leases; the default minRate needs 100 takes a second', async () => {
    const store = new RedisStore({ client: pool.client(), prefix, leases: true });
    const l = createLimiter({ store, name: `lease-cold-${++n}`, capacity: 1000, refillPerSecond: 1 });
    for (let i = 0; i < 5; i++) {
      await l.take('cold');
      await sleep(30);
    }
    expect(store.leases!.size).toBe(0);
  });

  test('concurrent takes of a hot key wait for its lease take rather than each asking for a lease', async () => {
    const store = leaseStore({ minRate: 0, maxTokens: 100, maxMs: 5000 });
    const ps = policies(10_000, 1 / 3600);
    await store.take('burst', ps, 1);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.takeNow('burst', ps, 1) ?? store.take('burst', ps, 1)));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(results.filter((r) => r.source === 'lease')).toHaveLength(49);
    expect((await redisLevels('burst', ps))[0]).toBeCloseTo(10_000 - 1 - 100, 3);
    const keys = await pool.keys(`${prefix}${ps[0]!.name}:*`);
    expect(keys).toEqual([bucketKey(prefix, ps[0]!.name, 'burst')]);
  });
});

// The contract of a store, not of its time budget: no time-out on a loaded machine.
runStoreSuite('RedisStore with leases on (minRate 0: every key leases from its second take)', () => {
  const store = new RedisStore({ client: pool.client(), prefix, leases: { minRate: 0, maxMs: 1000 }, timeoutMs: 5_000 });
  return { store: () => store };
});

describe('on a Redis Cluster', () => {
  requireCluster();
  const cluster = new ClusterPool();
  const clusterPrefix = randomPrefix('leases-cluster');
  afterAll(() => cluster.closeAll([clusterPrefix]));

  runStoreSuite('RedisStore on a Cluster with leases on (minRate 0)', () => {
    const store = new RedisStore({ client: cluster.cluster(), prefix: clusterPrefix, leases: { minRate: 0, maxMs: 1000 }, timeoutMs: 5_000 });
    return { store: () => store };
  });
});
