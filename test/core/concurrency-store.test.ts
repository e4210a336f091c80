// Concurrency slots in the stores: MemoryStore on a clock the test moves, and RedisStore through
// every client library version, on the standalone Redis and on the Cluster: acquire up to max,
// deny past it, release, renew, a lease that ends frees the slot (a holder that died), the key's
// name, hash tag and expiry, and the script reloaded after SCRIPT FLUSH.
import { randomBytes } from 'node:crypto';
import { MemoryStore, RedisStore, type Store } from '@tokenbucket/core';
import { type ConcurrencyPolicy, slotKey } from '@tokenbucket/core/store';
import { CLIENT_KINDS, ClientPool, type TestClient } from '../support/clients';
import { requireCluster } from '../support/cluster';
import { randomPrefix, requireRedis, sleep } from '../support/redis';

const policy = (max: number, leaseMs = 30_000): ConcurrencyPolicy => ({ name: `p-${randomBytes(3).toString('hex')}`, max, leaseMs });
const caller = (): string => randomBytes(16).toString('base64url').slice(0, 22);

/** The cases every store keeps; `expire` makes a lease of `leaseMs` run out (moves the clock, or waits). */
function slotCases(store: () => Store, expire: (leaseMs: number) => Promise<void>): void {
  test('acquire up to max, deny past it; a release frees one; ids are per slot', async () => {
    const s = store();
    const [p, id] = [policy(2), caller()];
    expect(await s.acquireSlot!(id, p, 'a')).toMatchObject({ allowed: true, held: 1 });
    expect(await s.acquireSlot!(id, p, 'b')).toMatchObject({ allowed: true, held: 2 });
    expect(await s.acquireSlot!(id, p, 'c')).toMatchObject({ allowed: false, held: 2 });
    expect(await s.countSlots!(id, p)).toBe(2);
    await s.releaseSlot!(id, p, 'a');
    await s.releaseSlot!(id, p, 'a'); // twice: nothing more
    expect(await s.countSlots!(id, p)).toBe(1);
    expect(await s.acquireSlot!(id, p, 'c')).toMatchObject({ allowed: true, held: 2 });
    // Another caller, and another policy of the same caller, have slots of their own.
    expect((await s.acquireSlot!(caller(), p, 'a')).allowed).toBe(true);
    expect((await s.acquireSlot!(id, policy(1), 'a')).allowed).toBe(true);
    await s.resetSlots!(id, p);
    expect(await s.countSlots!(id, p)).toBe(0);
  });

  test('a slot whose lease ends without a renewal is free again (its holder died); a renewed one is not', async () => {
    const s = store();
    // On Redis the leases run on real time: a run where this machine stalled long enough for
    // 'alive' to end before its renewal, or before the count, proves nothing and is made again.
    for (let attempt = 1; ; attempt++) {
      const [p, id] = [policy(2, 1_000), caller()];
      const started = performance.now();
      await s.acquireSlot!(id, p, 'dead');
      await s.acquireSlot!(id, p, 'alive');
      expect((await s.acquireSlot!(id, p, 'x')).allowed).toBe(false);
      await expire(600);
      const renewing = performance.now();
      const renewed = await s.renewSlot!(id, p, 'alive');
      const renewedBy = performance.now();
      await expire(600);
      // 1.2 s after both were taken: 'dead' has ended, 'alive' was renewed 0.6 s ago.
      const count = await s.countSlots!(id, p);
      const stalled = renewedBy - started >= 980 || performance.now() - renewing >= 980;
      if (stalled && attempt < 3) continue;
      expect(renewed).toBe(true);
      expect(count).toBe(1);
      expect(await s.renewSlot!(id, p, 'dead')).toBe(false);
      expect(await s.acquireSlot!(id, p, 'x')).toMatchObject({ allowed: true, held: 2 });
      return;
    }
  });
}

describe('MemoryStore slots', () => {
  let now = 1_000_000;
  const stores: MemoryStore[] = [];
  const make = (): MemoryStore => {
    const s = new MemoryStore({ clock: () => now });
    stores.push(s);
    return s;
  };
  afterAll(() => {
    for (const s of stores) s.close();
  });
  slotCases(make, async (ms) => {
    now += ms;
  });

  test('acquireSlotNow answers at once; sweep and clear drop slots', async () => {
    const s = make();
    const p = policy(1, 1000);
    expect(s.acquireSlotNow('c', p, 'a')).toEqual({ allowed: true, held: 1, source: 'memory' });
    expect(s.slotCallers).toBe(1);
    now += 1001;
    s.sweep();
    expect(s.slotCallers).toBe(0);
    s.acquireSlotNow('c', p, 'a');
    expect(await s.clear()).toBe(1);
    expect(await s.countSlots('c', p)).toBe(0);
    await s.releaseSlot('nobody', p, 'a');
    expect(await s.renewSlot('nobody', p, 'a')).toBe(false);
  });
});

describe.each(CLIENT_KINDS.flatMap((kind) => (['standalone', 'cluster'] as const).map((target) => [`${kind.name}, ${target}`, kind, target] as const)))(
  'RedisStore slots through %s',
  (_label, kind, target) => {
    if (target === 'cluster') requireCluster();
    else requireRedis();
    const pool = new ClientPool(kind);
    const prefix = randomPrefix(`slots-${kind.id}-${target}`);
    let client: TestClient;
    let store: RedisStore;
    beforeAll(async () => {
      client = target === 'standalone' ? await pool.standalone() : await pool.cluster();
      store = new RedisStore({ client: client.client, prefix, timeoutMs: 5_000 });
    });
    afterAll(async () => {
      await store?.clear();
      await pool.closeAll();
    });

    slotCases(
      () => store,
      (ms) => sleep(ms),
    );

    test("the slots key: under the prefix, the caller's hash tag, a sorted set of lease ends in Redis time, expiring with the longest lease", async () => {
      const [p, id] = [policy(3, 5_000), caller()];
      await store.acquireSlot(id, p, 'one');
      const key = slotKey(prefix, p.name, id);
      expect(key).toBe(`${prefix}"slots":${p.name}:{${id}}`);
      expect(await client.send(['TYPE', key], key)).toBe('zset');
      const ttl = Number(await client.send(['PTTL', key], key));
      expect(ttl).toBeGreaterThan(4_000);
      expect(ttl).toBeLessThanOrEqual(5_000);
      const [seconds] = (await client.send(['TIME'], key)) as [string, string];
      const score = Number(await client.send(['ZSCORE', key, 'one'], key));
      expect(Math.abs(score - (Number(seconds) * 1000 + 5_000))).toBeLessThan(1_500);
      await store.releaseSlot(id, p, 'one');
      expect(await client.send(['EXISTS', key], key)).toBe(0);
    });

    if (target === 'standalone') {
      test('after SCRIPT FLUSH the script is sent again and the slots stay exact', async () => {
        const [p, id] = [policy(1), caller()];
        await store.acquireSlot(id, p, 'a');
        await client.send(['SCRIPT', 'FLUSH']);
        expect((await store.acquireSlot(id, p, 'b')).allowed).toBe(false);
        await store.releaseSlot(id, p, 'a');
        expect((await store.acquireSlot(id, p, 'b')).allowed).toBe(true);
      });
    }
  },
);
