// RedisStore on a real Redis Cluster with what only ioredis has (5 and 6): its keyPrefix on a
// Cluster client, and a store made on a client still connecting; and the check that the Cluster
// under test is the one the suites need. The cases every client runs are in
// redis-cluster-suite.ts (test/core/clients/).
import { randomBytes } from 'node:crypto';
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { hashCallerKey } from '../../packages/core/src/hash';
import { callerSlot } from '../../packages/core/src/store/redis/slot';
import { ClientPool, CLIENT_KINDS } from '../support/clients';
import { ClusterPool, requireCluster } from '../support/cluster';
import { randomPrefix } from '../support/redis';
import { runStoreSuite } from './store-suite';

requireCluster();

const pool = new ClusterPool();
const prefix = randomPrefix('cluster');
afterAll(() => pool.closeAll([prefix, `app:${prefix}`]));

test('the cluster under test has three masters that serve every slot', async () => {
  const masters = await pool.masters();
  expect(masters).toHaveLength(3);
  const served = masters.flatMap((m) => m.slots).reduce((n, [a, b]) => n + b - a + 1, 0);
  expect(served).toBe(16384);
});

test("callerSlot is the Cluster's own CLUSTER KEYSLOT, for 20,000 caller ids and their bucket keys", async () => {
  // The store routes each caller's batch by callerSlot: a slot off for a few ids would send their
  // takes to the wrong master, whose "not here" answers would count against its breaker.
  const ids: string[] = [];
  for (let i = 0; i < 16_000; i++) ids.push(hashCallerKey(`keyslot-caller-${i}`));
  for (let i = 0; i < 4_000; i++) ids.push(randomBytes(1 + (i % 48)).toString('base64url'));
  const node = (await pool.masters())[0]!.client;
  const pipeline = node.pipeline();
  for (const id of ids) pipeline.cluster('KEYSLOT', id);
  // A whole bucket key hashes by its tag: the same slot as the bare id.
  for (const id of ids.slice(0, 2_000)) pipeline.cluster('KEYSLOT', `${prefix}GET /x#0:{${id}}`);
  const replies = (await pipeline.exec())!.map(([err, slot]) => {
    if (err) throw err;
    return slot as number;
  });
  const wrong = ids.flatMap((id, i) => (callerSlot(id) === replies[i] ? [] : [`${id}: ${callerSlot(id)}, Redis ${replies[i]}`]));
  expect(wrong).toEqual([]);
  expect(replies.slice(ids.length)).toEqual(ids.slice(0, 2_000).map(callerSlot));
});

// The README's way: a store made on a Cluster client that is still connecting (ioredis queues
// commands until it is ready, and the store sends takes on their own until it knows the slots).
runStoreSuite('RedisStore on an ioredis Cluster client still connecting', () => {
  const store = new RedisStore({ client: pool.cluster(), prefix });
  return { store: () => store };
});

test('a store on a Cluster client still connecting: adjusts and lockout takes of its first turn, spread over every master, are each right', async () => {
  const store = new RedisStore({ client: pool.cluster(), prefix, timeoutMs: 5_000 });
  const l = createLimiter({ store, name: 'connecting-ops', capacity: 2, refillPerSecond: 1 / 3600 });
  const rule = { name: 'connecting-ops', after: 1, windowMs: 1000, durationMs: 60_000 };
  const ids = Array.from({ length: 30 }, (_, i) => `connecting-${i}`);
  // The first turn: the client knows no slot yet, so one call carries them all and each master
  // answers "not here" for the others, which are sent again on their own (in no set order: a
  // penalty and a take of more than capacity give the same results either way).
  const turn = await Promise.all(ids.flatMap((id) => [store.adjust(id, l.policies, -2), store.take(id, l.policies, 5, rule)]));
  for (let i = 0; i < ids.length; i++) {
    const [penalty, denied] = turn.slice(2 * i, 2 * i + 2);
    expect(penalty).toMatchObject({ allowed: true, levels: [0] });
    expect(denied!.lockedMs).toBeGreaterThan(59_000);
  }
  const locked = await Promise.all(ids.map((id) => store.take(id, l.policies, 0, rule)));
  expect(locked.every((r) => !r.allowed && r.lockedMs! > 59_000)).toBe(true);
  await Promise.all(ids.map((id) => store.unlock(id, rule)));
  expect((await Promise.all(ids.map((id) => store.take(id, l.policies, 0, rule)))).every((r) => r.allowed && r.lockedMs === undefined)).toBe(true);
});

describe.each(CLIENT_KINDS.filter((k) => k.library === 'ioredis'))('RedisStore on a Redis Cluster with ioredis options: $name', (kind) => {
  const clients = new ClientPool(kind);
  afterAll(() => clients.closeAll());

  test('ioredis keyPrefix on a Cluster client is applied to bucket keys', async () => {
    const { client } = await clients.cluster({ ioredis: { keyPrefix: 'app:' } });
    const name = `kp-${kind.id}`;
    const l = createLimiter({
      store: new RedisStore({ client, prefix }),
      policies: [
        { name: `${name}-a`, capacity: 3, refillPerSecond: 1 },
        { name: `${name}-b`, capacity: 3, refillPerSecond: 1 },
      ],
    });
    await l.take('kp-caller');
    expect([...(await pool.keysPerMaster(`app:${prefix}${name}-*`)).values()].flat()).toHaveLength(2);
    expect([...(await pool.keysPerMaster(`${prefix}${name}-*`)).values()].flat()).toHaveLength(0);
    await l.reset('kp-caller');
    expect([...(await pool.keysPerMaster(`app:${prefix}${name}-*`)).values()].flat()).toHaveLength(0);
  });

  test('ioredis keyPrefix on a Cluster client: batched lockout takes and adjusts reach the prefixed keys, and clear deletes them', async () => {
    const { client } = await clients.cluster({ ioredis: { keyPrefix: 'app:' } });
    const own = `${prefix}kp-ops-${kind.id}:`;
    const store = new RedisStore({ client, prefix: own, timeoutMs: 5_000 });
    const l = createLimiter({ store, name: 'kp', capacity: 1, refillPerSecond: 1 / 3600 });
    const rule = { name: 'kp-lock', after: 1, windowMs: 1000, durationMs: 60_000 };
    const ids = Array.from({ length: 30 }, (_, i) => `kp-${i}`);
    await Promise.all(ids.map((id) => store.take(id, l.policies, 1)));
    const turn = await Promise.all(ids.flatMap((id) => [store.take(id, l.policies, 1, rule), store.adjust(id, l.policies, 1)]));
    expect(turn.filter((_, i) => i % 2 === 0).every((r) => (r.lockedMs ?? 0) > 59_000)).toBe(true);
    expect(turn.filter((_, i) => i % 2 === 1).every((r) => r.levels[0] === 1)).toBe(true);
    const keys = [...(await pool.keysPerMaster(`app:${own}*`)).values()].flat();
    expect(keys).toHaveLength(30); // the locks; full buckets have no key
    expect(await store.clear()).toBe(30);
    expect([...(await pool.keysPerMaster(`app:${own}*`)).values()].flat()).toHaveLength(0);
  });
});
