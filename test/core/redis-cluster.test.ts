// RedisStore on a real Redis Cluster with what only ioredis has (5 and 6): its keyPrefix on a
// Cluster client, and a store made on a client still connecting; and the check that the Cluster
// under test is the one the suites need. The cases every client runs are in
// redis-cluster-suite.ts (test/core/clients/).
import { createLimiter, RedisStore } from '@tokenbucket/core';
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

// The README's way: a store made on a Cluster client that is still connecting (ioredis queues
// commands until it is ready, and the store sends takes on their own until it knows the slots).
runStoreSuite('RedisStore on an ioredis Cluster client still connecting', () => {
  const store = new RedisStore({ client: pool.cluster(), prefix });
  return { store: () => store };
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
});
