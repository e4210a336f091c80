// Decisions that need no waiting: Store.takeNow, the limiter over it, and the HTTP path that
// answers such a request in the same turn (no promise) with the same outcome as the waiting path.
import { createLimiter, MemoryStore, RedisStore, type Store } from '@tokenbucket/core';
import type { TakeResult } from '@tokenbucket/core/store';
import { Redis } from 'ioredis';
import { newResponse, plainLimiter, type PlainRequest } from '../support/plain-adapter';
import { randomPrefix, redisUrl, requireRedis } from '../support/redis';

const policy = { name: 'now', capacity: 2, refillPerSecond: 1 / 3600 };
const withKey = (key: string): PlainRequest => ({ headers: { 'x-api-key': key } });

describe('MemoryStore.takeNow', () => {
  test('is the take itself: it debits, and take and takeNow share the buckets', async () => {
    const store = new MemoryStore();
    const l = createLimiter({ store, ...policy });
    expect(store.takeNow('id', l.policies, 1)).toEqual({ allowed: true, levels: [2], source: 'memory' });
    expect((await store.take('id', l.policies, 1)).levels[0]).toBeCloseTo(1, 3);
    expect(store.takeNow('id', l.policies, 1)).toMatchObject({ allowed: false });
    store.close();
  });
});

describe('a custom store', () => {
  /** The Store methods these cases never reach. */
  const rest = { adjust: () => Promise.reject(new Error('not used')), unlock: () => Promise.resolve(), clear: () => Promise.resolve(0) };
  const failing = (where: 'takeNow' | 'take'): Store => ({
    takeNow: (): TakeResult | undefined => {
      if (where === 'takeNow') throw new Error('takeNow failed');
      return undefined;
    },
    take: (): Promise<TakeResult> => {
      if (where === 'take') throw new Error('take failed');
      return Promise.resolve({ allowed: true, levels: [2] });
    },
    reset: () => Promise.resolve(),
    ...rest,
  });

  test.each(['takeNow', 'take'] as const)('a fault thrown by %s is a rejection of limiter.take, never a throw', async (where) => {
    const l = createLimiter({ store: failing(where), ...policy });
    let taken: Promise<unknown> | undefined;
    expect(() => {
      taken = l.take('k');
    }).not.toThrow();
    await expect(taken).rejects.toThrow(`${where} failed`);
  });

  test.each(['takeNow', 'take'] as const)('over HTTP, a fault thrown by %s is a store failure: onStoreError, then the configured answer', async (where) => {
    const errors: unknown[] = [];
    const limiter = plainLimiter({ store: failing(where), ...policy, storeFailure: 'deny', onStoreError: ({ error }) => void errors.push(error) });
    const res = newResponse();
    await expect(Promise.resolve(limiter.handle(withKey('k'), res, 'GET /x'))).resolves.toBe(false);
    expect(res.status).toBe(503);
    expect(String(errors[0])).toContain(`${where} failed`);
  });

  test('a store without takeNow is asked through take, as before', async () => {
    const store: Store = { take: () => Promise.resolve({ allowed: false, levels: [0] }), reset: () => Promise.resolve(), ...rest };
    const limiter = plainLimiter({ store, ...policy });
    const handled = limiter.handle(withKey('k'), newResponse(), 'GET /x');
    expect(handled).toBeInstanceOf(Promise);
    expect(await handled).toBe(false);
  });
});

describe('HTTP handle on a MemoryStore', () => {
  test('without user functions: answered in the same turn, the same outcomes as with a key function', async () => {
    const plain = plainLimiter({ store: new MemoryStore(), ...policy });
    const viaFunction = plainLimiter({ store: new MemoryStore(), ...policy, key: (req) => req.headers?.['x-api-key'] });
    for (let i = 0; i < 3; i++) {
      const [a, b] = [newResponse(), newResponse()];
      const now = plain.handle(withKey('k'), a, 'GET /x');
      const later = viaFunction.handle(withKey('k'), b, 'GET /x');
      expect(typeof now).toBe('boolean');
      expect(later).toBeInstanceOf(Promise);
      expect(now).toBe(await later);
      expect(a).toEqual(b);
    }
  });

  test('onLimited makes the answer a promise, resolved after it', async () => {
    const order: string[] = [];
    const limiter = plainLimiter({
      store: new MemoryStore(),
      ...policy,
      capacity: 1,
      onLimited: async () => {
        await Promise.resolve();
        order.push('onLimited');
      },
    });
    expect(limiter.handle(withKey('k'), newResponse(), 'GET /x')).toBe(true);
    const denied = limiter.handle(withKey('k'), newResponse(), 'GET /x');
    expect(denied).toBeInstanceOf(Promise);
    expect(await denied).toBe(false);
    expect(order).toEqual(['onLimited']);
  });
});

describe('HTTP handle on a RedisStore', () => {
  requireRedis();
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redisUrl());
  });
  afterAll(() => client.quit());

  test('waits for Redis until a denial is remembered, then answers it in the same turn', async () => {
    const limiter = plainLimiter({ store: new RedisStore({ client, prefix: randomPrefix('take-now') }), ...policy });
    const results: (boolean | Promise<boolean>)[] = [];
    for (let i = 0; i < 4; i++) results.push(limiter.handle(withKey('k'), newResponse(), 'GET /x'));
    // Nothing is remembered yet: all four go to Redis (in one batch) and wait for its reply.
    expect(results.every((r) => r instanceof Promise)).toBe(true);
    expect(await Promise.all(results)).toEqual([true, true, false, false]);
    const res = newResponse();
    expect(limiter.handle(withKey('k'), res, 'GET /x')).toBe(false);
    expect(res.status).toBe(429);
    expect(res.headers['Retry-After']).toMatch(/^\d+$/);
  });
});
