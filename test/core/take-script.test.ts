// The take script on a real Redis: known by its SHA-1, each take's verdict in one call, and
// allowed exactly when debited.
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { hashCallerKey } from '@tokenbucket/core/store';
import { TAKE_SCRIPT, TAKE_SCRIPT_SHA1 } from '../../packages/core/src/store/redis/script';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('script');
afterAll(() => pool.closeAll([prefix]));

describe("the script's identity on a real Redis", () => {
  test('Redis knows the script by that SHA-1 once a store has used it', async () => {
    const client = pool.client();
    const limiter = createLimiter({ store: new RedisStore({ client, prefix }), name: 'sha', capacity: 2, refillPerSecond: 1 });
    await limiter.take('k');
    expect(await client.script('EXISTS', TAKE_SCRIPT_SHA1)).toEqual([1]);
  });
});

describe('the script decides, on a real Redis', () => {
  test("on a real Redis: one call of two takes answers each take's verdict, then its buckets", async () => {
    const client = pool.client();
    const key = `${prefix}verdicts:{caller}`;
    // Two takes (code 0) of one policy (tau 3 s, inc 2 s, in microseconds) on one bucket: the first fits, the second does not.
    const reply = (await client.eval(TAKE_SCRIPT, 2, key, key, 0, 2, 0, 1, 3e6, 2e6, 1, 0, 1, 3e6, 2e6, 1)) as number[];
    expect(reply).toHaveLength(4);
    expect(reply[0]).toBe(1);
    expect(reply[1]).toBe(0); // a new bucket: full, nothing ahead
    expect(reply[2]).toBe(0);
    expect(reply[3]).toBeGreaterThan(1.9e6); // the first take moved it 2 s ahead (less the script's own run time)
    expect(reply[3]).toBeLessThanOrEqual(2e6);
  });

  test('on a real Redis: allowed exactly when debited, for fractional costs', async () => {
    const client = pool.client();
    const store = new RedisStore({ client, prefix, denialCache: false });
    const limiter = createLimiter({ store, name: 'fractional', capacity: 3, refillPerSecond: 7 });
    const bucket = async () => client.get(`${prefix}fractional:{${hashCallerKey('k')}}`);
    let admitted = 0;
    for (let i = 0; i < 60; i++) {
      const before = await bucket();
      const decision = await limiter.take('k', { cost: 0.3 + (i % 7) * 0.11 });
      const after = await bucket();
      expect(after !== before).toBe(decision.allowed);
      if (decision.allowed) admitted++;
      else expect(decision.retryAfterMs).toBeGreaterThan(0);
    }
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThan(60);
  });
});
