// RedisStore with what only ioredis has (5 and 6): its keyPrefix, auto-pipelining, and a store
// made on a client still connecting. The cases every client runs are in redis-store-suite.ts
// (test/core/clients/).
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { BATCH_COMMAND } from '../../packages/core/src/store/redis/script';
import { ClientPool, CLIENT_KINDS } from '../support/clients';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { runStoreSuite } from './store-suite';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('redis');
afterAll(() => pool.closeAll([prefix, `app:${prefix}`]));

// The README's way: a store made on a client that is still connecting (ioredis queues commands
// until it is ready).
runStoreSuite('RedisStore on an ioredis client still connecting', () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  return { store: () => store };
});

describe.each(CLIENT_KINDS.filter((k) => k.library === 'ioredis'))('RedisStore with ioredis options: $name', (kind) => {
  const clients = new ClientPool(kind);
  afterAll(() => clients.closeAll());
  /** ioredis's own view of the client's options (as the store reads and amends them). */
  type Options = { options: { autoPipeliningIgnoredCommands?: unknown }; autoPipelineQueueSize: number };

  test('ioredis keyPrefix is applied to bucket keys', async () => {
    const { client } = await clients.standalone({ ioredis: { keyPrefix: 'app:' } });
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: `kp-${kind.id}`, capacity: 3, refillPerSecond: 1 });
    await l.take('kp-caller');
    expect(await pool.keys(`app:${prefix}kp-${kind.id}:*`)).toHaveLength(1);
    expect(await pool.keys(`${prefix}kp-${kind.id}:*`)).toHaveLength(0);
    await l.reset('kp-caller');
    expect(await pool.keys(`app:${prefix}kp-${kind.id}:*`)).toHaveLength(0);
  });

  test('ioredis keyPrefix: lock keys get it, and clear deletes under it, only there', async () => {
    const { client } = await clients.standalone({ ioredis: { keyPrefix: 'app:' } });
    const own = `${prefix}kp-clear-${kind.id}:`;
    const store = new RedisStore({ client, prefix: own });
    const plain = new RedisStore({ client: pool.client(), prefix: own }); // the same prefix, without the client's keyPrefix
    const l = createLimiter({ store, name: 'kp', capacity: 2, refillPerSecond: 1 / 3600 });
    const rule = { name: 'kp-lock', after: 1, windowMs: 1000, durationMs: 60_000 };
    await store.take('a', l.policies, 1);
    await store.take('b', l.policies, 5, rule);
    await plain.take('a', l.policies, 1);
    expect((await pool.keys(`app:${own}*`)).sort()).toEqual([`app:${own}"lock":kp-lock:{b}`, `app:${own}kp:{a}`]);
    expect(await store.clear()).toBe(2);
    expect(await pool.keys(`app:${own}*`)).toEqual([]);
    expect(await pool.keys(`${own}*`)).toEqual([`${own}kp:{a}`]);
    expect(await plain.clear()).toBe(1);
  });

  test("batched takes are sent outside ioredis auto-pipelining, without changing the caller's options array", async () => {
    const ignored = ['ping'];
    const { client } = await clients.standalone({ autoPipelining: true, ioredis: { autoPipeliningIgnoredCommands: ignored } });
    const ioredis = client as unknown as Options;
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: `ap-bypass-${kind.id}`, capacity: 5, refillPerSecond: 1 / 3600 });
    expect(ioredis.options.autoPipeliningIgnoredCommands).toEqual(['ping', BATCH_COMMAND]);
    expect(ignored).toEqual(['ping']);
    new RedisStore({ client, prefix }); // a second store on the client adds nothing twice
    expect(ioredis.options.autoPipeliningIgnoredCommands).toEqual(['ping', BATCH_COMMAND]);
    const decisions = await Promise.all([l.take('ap'), l.take('ap'), l.take('ap')]);
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2]);
    expect(ioredis.autoPipelineQueueSize).toBe(0);
  });
});
