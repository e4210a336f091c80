// RedisStore on a real Redis Cluster of three masters, through one client library: the store
// contract, plus what only a Cluster has: one caller's policies in one slot, callers spread over
// every master, and NOSCRIPT recovery when every node has forgotten the script. Every supported
// client runs it; what the suite sees of the Cluster it reads with clients of its own, one per
// master (test/support/cluster).
import { createHash, randomBytes } from 'node:crypto';
import { createLimiter, RedisStore, type Decision } from '@tokenbucket/core';
import { parseRedisStoreOptions } from '../../packages/core/src/store/redis/options';
import { TAKE_SCRIPT } from '../../packages/core/src/store/redis/script';
import { ClientPool, type ClientKind } from '../support/clients';
import { ClusterPool, requireCluster } from '../support/cluster';
import { randomPrefix } from '../support/redis';
import { runStoreSuite } from './store-suite';

/**
 * These tests check what is admitted, not the time budget (the reliability and fault suites do):
 * on a loaded CI machine a cold Cluster client's first calls can pass the default 200 ms, and a
 * take that times out would fail the test for the wrong reason.
 */
const UNHURRIED = { timeoutMs: 5_000 };

const SLOW = 1 / 3600;
const caller = (): string => `caller-${randomBytes(6).toString('hex')}`;
const SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');
const tagOf = (key: string): string | undefined => /\{([^}]+)\}$/.exec(key)?.[1];

export function runRedisClusterSuite(kind: ClientKind): void {
  describe(`RedisStore through ${kind.name}, Redis Cluster`, () => {
    requireCluster();

    const clients = new ClientPool(kind);
    /** The test's own view of the Cluster: a plain client per master. */
    const pool = new ClusterPool();
    const prefix = randomPrefix(`cluster-${kind.id}`);
    afterAll(async () => {
      await clients.closeAll();
      await pool.closeAll([prefix]);
    });
    const cluster = async (options?: Parameters<ClientPool['cluster']>[0]) => (await clients.cluster(options)).client;
    /** The slot of `key`, as the Cluster computes it. */
    const keySlot = async (key: string): Promise<number> => (await pool.masters())[0]!.client.cluster('KEYSLOT', key);

    for (const variant of kind.variants) {
      runStoreSuite(`RedisStore on a Redis Cluster (${kind.name}, ${variant.label})`, async () => {
        const store = new RedisStore({ client: await cluster(variant.options), prefix, ...UNHURRIED });
        return { store: () => store };
      });
    }

    test("a multi-policy take: one caller's keys share a hash tag and a slot, on one master, all or nothing", async () => {
      const l = createLimiter({
        store: new RedisStore({ client: await cluster(), prefix, ...UNHURRIED }),
        policies: [
          { name: 'multi-burst', capacity: 4, refillPerSecond: SLOW },
          { name: 'multi-hourly', capacity: 10, refillPerSecond: SLOW },
          { name: 'multi-daily', capacity: 6, refillPerSecond: SLOW },
        ],
      });
      const key = caller();
      expect((await l.take(key, { cost: 3 })).policies.map((p) => p.remaining)).toEqual([1, 7, 3]);
      const denied = await l.take(key, { cost: 2 });
      expect(denied).toMatchObject({ allowed: false, policy: 'multi-burst' });
      expect(denied.policies.map((p) => p.remaining)).toEqual([1, 7, 3]); // nothing debited anywhere
      expect((await l.take(key)).policies.map((p) => p.remaining)).toEqual([0, 6, 2]);

      const perMaster = await pool.keysPerMaster(`${prefix}multi-*`);
      const holders = [...perMaster].filter(([, keys]) => keys.length > 0);
      expect(holders).toHaveLength(1); // all three keys on one master
      const keys = holders[0]![1].sort();
      expect(keys).toHaveLength(3);
      expect(new Set(keys.map(tagOf)).size).toBe(1);
      const slots = await Promise.all(keys.map(keySlot));
      expect(new Set(slots).size).toBe(1);
      // ... and that master is the one the cluster says serves the slot.
      const owner = (await pool.masters()).find((m) => m.slots.some(([a, b]) => slots[0]! >= a && slots[0]! <= b));
      expect(owner?.address).toBe(holders[0]![0]);
    });

    // Regression: with the count of keys as the script's first argument, ioredis's
    // auto-pipelining grouped takes by the slot of that number and refused every pipeline whose
    // keys lived on several masters ("All keys in the pipeline should belong to the same slots
    // allocation group"). RedisStore now defines its command with `numberOfKeys`.
    for (const [v, variant] of kind.variants.entries()) {
      test(`callers spread over every master: concurrent takes are right wherever the buckets land (${variant.label})`, async () => {
        const name = `spread-${v}`;
        const l = createLimiter({
          store: new RedisStore({ client: await cluster(variant.options), prefix, ...UNHURRIED }),
          policies: [
            { name: `${name}-a`, capacity: 5, refillPerSecond: SLOW },
            { name: `${name}-b`, capacity: 8, refillPerSecond: SLOW },
          ],
        });
        const callers = Array.from({ length: 300 }, caller);
        const first = await Promise.all(callers.map((c) => l.take(c, { cost: 2 })));
        expect(first.every((d) => d.allowed && d.policies[0]!.remaining === 3 && d.policies[1]!.remaining === 6)).toBe(true);
        const second = await Promise.all(callers.map((c) => l.take(c, { cost: 3 })));
        expect(second.every((d) => d.allowed && d.policies[0]!.remaining === 0 && d.policies[1]!.remaining === 3)).toBe(true);
        const third = await Promise.all(callers.map((c) => l.take(c)));
        expect(third.every((d) => !d.allowed && d.policy === `${name}-a`)).toBe(true);

        const perMaster = await pool.keysPerMaster(`${prefix}${name}-*`);
        const counts = [...perMaster.values()].map((keys) => keys.length);
        expect(counts).toHaveLength(3);
        for (const n of counts) expect(n).toBeGreaterThan(100); // about 200 of 600 on each master
        const all = [...perMaster.values()].flat();
        expect(all).toHaveLength(600);
        expect(new Set(all).size).toBe(600);
        // Both policies of a caller sit on the same master.
        for (const keys of perMaster.values()) {
          const tags = new Map<string, number>();
          for (const k of keys) tags.set(tagOf(k)!, (tags.get(tagOf(k)!) ?? 0) + 1);
          expect([...tags.values()].every((n) => n === 2)).toBe(true);
        }
        // Every key is on the master that serves its slot.
        for (const master of await pool.masters()) {
          for (const k of perMaster.get(master.address)!.slice(0, 20)) {
            const slot = await master.client.cluster('KEYSLOT', k);
            expect(master.slots.some(([a, b]) => slot >= a && slot <= b)).toBe(true);
          }
        }
        // reset deletes both keys wherever they are.
        await Promise.all(callers.map((c) => l.reset(c)));
        expect([...(await pool.keysPerMaster(`${prefix}${name}-*`)).values()].flat()).toHaveLength(0);
      });
    }

    test.each(kind.variants.map((variant, v) => [variant.label, v] as const))(
      'SCRIPT FLUSH on every node: the next takes reload the script on each master and are correct (%s)',
      async (_label, v) => {
        const name = `noscript-${v}`;
        const l = createLimiter({
          store: new RedisStore({ client: await cluster(kind.variants[v]!.options), prefix, ...UNHURRIED }),
          name,
          capacity: 3,
          refillPerSecond: SLOW,
        });
        const callers = Array.from({ length: 30 }, caller);
        // One take at a time: concurrency across masters is the spread case's business (see above).
        const remaining = async (): Promise<number[]> => {
          const out: number[] = [];
          for (const c of callers) out.push((await l.take(c)).remaining);
          return out;
        };
        expect(await remaining()).toEqual(callers.map(() => 2));
        const masters = await pool.masters();
        // The callers' buckets sit on every master, so every node has to reload the script.
        const perMaster = await pool.keysPerMaster(`${prefix}${name}:*`);
        expect([...perMaster.values()].every((keys) => keys.length > 0)).toBe(true);
        const loaded = async (): Promise<number[]> => Promise.all(masters.map(async (m) => ((await m.client.script('EXISTS', SHA)) as number[])[0]!));
        /** SCRIPT FLUSH on every master, again until none has the script (other files' takes reload it meanwhile). */
        const flush = async (): Promise<void> => {
          for (let i = 0; i < 20; i++) {
            await Promise.all(masters.map((m) => m.client.script('FLUSH')));
            if ((await loaded()).every((n) => n === 0)) return;
          }
          throw new Error('SCRIPT FLUSH: the script was back on a master each of 20 times');
        };
        // Other files flush the same cluster in this test: one at a time, so that no flush falls
        // between this one's reload and its check.
        await pool.exclusively('script-flush', async () => {
          await flush();
          expect(await remaining()).toEqual(callers.map(() => 1));
          expect(await loaded()).toEqual([1, 1, 1]); // reloaded on every master
        });

        await pool.exclusively('script-flush', flush);
        const hot = caller();
        const parallel = await Promise.all(Array.from({ length: 20 }, () => l.take(hot)));
        expect(parallel.filter((d) => d.allowed)).toHaveLength(3);
      },
    );

    test('many concurrent takes from several Cluster clients on one hot key admit exactly capacity', async () => {
      const capacity = 100;
      const limiters = await Promise.all(
        Array.from({ length: 4 }, async (_, i) =>
          createLimiter({
            store: new RedisStore({ client: await cluster({ autoPipelining: i % 2 === 0 }), prefix, ...UNHURRIED }),
            name: 'hot',
            capacity,
            refillPerSecond: SLOW,
          }),
        ),
      );
      const takes: Promise<Decision>[] = [];
      for (let round = 0; round < 100; round++) for (const l of limiters) takes.push(l.take('hot-caller'));
      const results = await Promise.all(takes);
      expect(results.filter((d) => d.allowed)).toHaveLength(capacity);
      const remaining = results
        .filter((d) => d.allowed)
        .map((d) => d.remaining)
        .sort((a, b) => a - b);
      expect(remaining).toEqual(Array.from({ length: capacity }, (_, i) => i));
    });

    test('adjusts and lockout takes of callers on every master, in one turn: each right, locks beside the buckets', async () => {
      const store = new RedisStore({ client: await cluster(), prefix, ...UNHURRIED });
      const l = createLimiter({
        store,
        policies: [
          { name: 'ops-a', capacity: 3, refillPerSecond: SLOW },
          { name: 'ops-b', capacity: 5, refillPerSecond: SLOW },
        ],
      });
      const rule = { name: 'ops-lock', after: 2, windowMs: 60_000, durationMs: 60_000 };
      const ids = Array.from({ length: 90 }, caller);
      await Promise.all(ids.map((id) => store.take(id, l.policies, 3)));
      const refunds = await Promise.all(ids.map((id) => store.adjust(id, l.policies, 1)));
      expect(refunds.every((r) => Math.round(r.levels[0]!) === 1 && Math.round(r.levels[1]!) === 3)).toBe(true);
      // A turn this size goes in several calls per master. Were a master without the script (after
      // another file's SCRIPT FLUSH) to load it from another client between two of them, the first
      // call's NOSCRIPT retry (EVAL) would run after the next call's EVALSHA, and a caller's takes
      // out of order. So, holding the lock those files take to flush: every master runs the
      // script first (reads, cost 0), then the turn.
      const turn = await pool.exclusively('script-flush', async () => {
        await Promise.all(ids.map((id) => store.take(id, l.policies, 0)));
        return Promise.all(
          ids.flatMap((id) => [store.take(id, l.policies, 1, rule), store.take(id, l.policies, 1, rule), store.take(id, l.policies, 1, rule)]),
        );
      });
      for (let i = 0; i < ids.length; i++) {
        const [first, second, third] = turn.slice(3 * i, 3 * i + 3);
        expect(first).toMatchObject({ allowed: true });
        expect(second!.allowed).toBe(false);
        expect(second!.lockedMs).toBeUndefined();
        expect(third!.lockedMs).toBeGreaterThan(59_000);
      }
      const perMaster = await pool.keysPerMaster(`${prefix}"lock":ops-lock:*`);
      expect([...perMaster.values()].every((keys) => keys.length > 10)).toBe(true);
      for (const [address, keys] of perMaster) {
        const buckets = await pool.keysPerMaster(`${prefix}ops-a:*`);
        const here = new Set(buckets.get(address)!.map(tagOf));
        expect(keys.every((k) => here.has(tagOf(k)))).toBe(true);
      }
      await Promise.all(ids.map((id) => store.unlock(id, rule)));
      expect([...(await pool.keysPerMaster(`${prefix}"*`)).values()].flat()).toHaveLength(0);
    });

    test('a key of another type (WRONGTYPE) fails its own take alone; the other callers of that master are decided', async () => {
      const store = new RedisStore({ client: await cluster(), prefix, ...UNHURRIED });
      const statuses: string[] = [];
      store.subscribe((e) => statuses.push(e.status));
      const l = createLimiter({ store, name: 'wt', capacity: 10, refillPerSecond: SLOW });
      const bad = caller();
      const slot = await keySlot(`{${bad}}`);
      const master = (await pool.masters()).find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b))!;
      await master.client.lpush(`${prefix}wt:{${bad}}`, 'not a bucket');
      const ids = Array.from({ length: 60 }, caller);
      for (let round = 0; round < 4; round++) {
        const [failed, ...others] = await Promise.allSettled([store.take(bad, l.policies, 1), ...ids.map((id) => store.take(id, l.policies, 1))]);
        expect(failed).toMatchObject({ status: 'rejected', reason: { code: 'TB_ERR_STORE_WRONGTYPE' } });
        expect(others.every((s) => s.status === 'fulfilled' && s.value.allowed)).toBe(true);
      }
      expect(statuses).toEqual([]);
      await master.client.del(`${prefix}wt:{${bad}}`);
    });

    test('clear deletes the keys under the prefix on every master, and only those', async () => {
      const own = `${prefix}clear-${kind.id}:`;
      const store = new RedisStore({ client: await cluster(), prefix: own, ...UNHURRIED });
      const other = new RedisStore({ client: await cluster(), prefix: `${prefix}kept-${kind.id}:`, ...UNHURRIED });
      const l = createLimiter({ store, name: 'c', capacity: 2, refillPerSecond: SLOW });
      const ids = Array.from({ length: 60 }, caller);
      await Promise.all(ids.map((id) => store.take(id, l.policies, 1)));
      await Promise.all(ids.slice(0, 6).map((id) => store.take(id, l.policies, 5, { name: 'c', after: 1, windowMs: 1000, durationMs: 60_000 })));
      await other.take(ids[0]!, l.policies, 1);
      const perMaster = await pool.keysPerMaster(`${own}*`);
      expect([...perMaster.values()].every((keys) => keys.length > 5)).toBe(true);
      expect(await store.clear()).toBe(66);
      expect([...(await pool.keysPerMaster(`${own}*`)).values()].flat()).toHaveLength(0);
      expect(await other.clear()).toBe(1);
    });

    test('the script answers "not here" for every kind of operation whose keys the node does not serve', async () => {
      const masters = await pool.masters();
      // Two callers whose slots two different masters serve.
      const owner = async (id: string) => {
        const slot = await keySlot(`{${id}}`);
        return masters.findIndex((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
      };
      const here = caller();
      let away = caller();
      while ((await owner(away)) === (await owner(here))) away = caller();
      const node = masters[await owner(here)]!.client;
      const key = (id: string, name: string) => `${prefix}${name}:{${id}}`;
      const tau = 5e6;
      // One call: a take of `here`, then a take, a lockout take and an adjust of `away`.
      const extraKeys = [key(away, 'nh'), key(away, 'nh'), `${prefix}"lock":nh:{${away}}`, `${prefix}"denials":nh:{${away}}`, key(away, 'nh')];
      const operations = [
        [0, 1, tau, 1e6, 1], // a take of here (in microseconds)
        [0, 1, tau, 1e6, 1], // a take of away
        [1, 1, 1, 1e6, 1e6, tau, 1e6, 1], // a lockout take of away
        [2, 1, tau, -1e6, 1000], // an adjust of away (in nanoseconds)
      ];
      const args = [extraKeys.length, ...extraKeys, operations.length, ...operations.flat()];
      const reply = (await node.eval(TAKE_SCRIPT, 1, key(here, 'nh'), ...args)) as number[];
      expect(reply).toEqual([1, 0, -1, 0, -1, 0, 0, -1, 0]);
      await node.del(key(here, 'nh'));
    });

    test("the maxmemory-policy check reads every master's policy", async () => {
      const { connection } = parseRedisStoreOptions({ client: await cluster(), checkMemoryPolicy: false });
      const report = await connection.memoryPolicies();
      expect(report.map((r) => r.policy)).toEqual(['noeviction', 'noeviction', 'noeviction']);
      expect(report.map((r) => r.node).sort()).toEqual((await pool.masters()).map((m) => m.address).sort());
    });
  });
}
