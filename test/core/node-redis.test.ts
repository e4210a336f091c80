// RedisStore with what only node-redis has (4 to 6): a client is connected by the app before the
// store can use it, and from quit() or close() on it refuses commands. The cases every client runs
// are in redis-store-suite.ts and redis-cluster-suite.ts (test/core/clients/).
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { ClientPool, CLIENT_KINDS } from '../support/clients';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { captureTokenBucketWarnings, type SeenWarning } from '../support/warnings';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('node-redis');
afterAll(() => pool.closeAll([prefix]));

const SLOW = 1 / 3600;
const closed = { code: 'TB_ERR_STORE_UNAVAILABLE', message: expect.stringContaining('status "closed"') };

// A store given a client that is not connected says so once, as a warning: taken here, not printed.
let warnings: SeenWarning[];
let restoreWarnings: () => void;
beforeEach(() => {
  ({ warnings, restore: restoreWarnings } = captureTokenBucketWarnings());
});
afterEach(() => restoreWarnings());
const notConnected = { code: expect.stringMatching(/NOT_CONNECTED$/), message: expect.stringContaining('await client.connect()') };

describe.each(CLIENT_KINDS.filter((k) => k.library === 'node-redis'))('RedisStore on a node-redis client: $name', (kind) => {
  const clients = new ClientPool(kind);
  afterAll(() => clients.closeAll());

  test('a client not connected yet: takes fail at once with TB_ERR_STORE_UNAVAILABLE, and succeed once connect() has resolved', async () => {
    const lazy = await clients.standalone({ connect: false });
    const l = createLimiter({ store: new RedisStore({ client: lazy.client, prefix }), name: `lazy-${kind.id}`, capacity: 2, refillPerSecond: SLOW });
    await expect(l.take('lazy-caller')).rejects.toMatchObject(closed);
    await lazy.connect();
    expect((await l.take('lazy-caller')).remaining).toBe(1);
    expect(warnings).toEqual([notConnected]);
  });

  test('adjust, unlock and clear on a client not connected yet fail at once with TB_ERR_STORE_UNAVAILABLE, and work once it is', async () => {
    const lazy = await clients.standalone({ connect: false });
    const store = new RedisStore({ client: lazy.client, prefix, breaker: { failureThreshold: 10 } });
    const { policies } = createLimiter({ store, name: `lazy-ops-${kind.id}`, capacity: 2, refillPerSecond: SLOW });
    const rule = { name: `lazy-ops-${kind.id}`, after: 1, windowMs: 1000, durationMs: 60_000 };
    await expect(store.adjust('lazy-ops', policies, -1)).rejects.toMatchObject(closed);
    await expect(store.take('lazy-ops', policies, 5, rule)).rejects.toMatchObject(closed);
    await expect(store.unlock('lazy-ops', rule)).rejects.toMatchObject(closed);
    await expect(store.clear()).rejects.toMatchObject(closed);
    await lazy.connect();
    expect((await store.adjust('lazy-ops', policies, -1)).levels[0]).toBeCloseTo(1, 3);
    expect((await store.take('lazy-ops', policies, 5, rule)).lockedMs).toBeGreaterThan(59_000);
    await store.unlock('lazy-ops', rule);
    expect(await store.take('lazy-ops', policies, 0, rule)).toMatchObject({ allowed: true });
    expect(warnings).toEqual([notConnected]);
  });

  test("from quit() or close() on, a take fails at once with TB_ERR_STORE_UNAVAILABLE, not the client's own error", async () => {
    const closing = await clients.standalone();
    // Unbatched: the take is checked and sent in the turn it is made, right after quit().
    const l = createLimiter({
      store: new RedisStore({ client: closing.client, prefix, batch: false }),
      name: `quit-${kind.id}`,
      capacity: 2,
      refillPerSecond: SLOW,
    });
    expect((await l.take('quit-caller')).remaining).toBe(1);
    const quitting = closing.quit();
    await expect(l.take('quit-caller')).rejects.toMatchObject(closed);
    await quitting;
    await expect(l.take('quit-caller')).rejects.toMatchObject(closed);
  });
});
