// The take script's identity (SHA-1 and the command names derived from it) and its verdict, which
// is the verdict: Node never decides again from the levels.
import { createHash } from 'node:crypto';
import { createLimiter, hashCallerKey, RedisStore } from '@tokenbucket/core';
import { buildDecision } from '../../packages/core/src/decision';
import { parsePolicies, tokenIntervalMicros } from '../../packages/core/src/policy';
import { resultFrom } from '../../packages/core/src/store/redis/gcra';
import { BATCH_COMMAND, TAKE_SCRIPT, TAKE_SCRIPT_SHA1, takeCommand } from '../../packages/core/src/store/redis/script';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('script');
afterAll(() => pool.closeAll([prefix]));

describe('the script\'s identity', () => {
  test('its SHA-1 is pinned: a change to the script is a deliberate change to this line', () => {
    expect(TAKE_SCRIPT_SHA1).toBe(createHash('sha1').update(TAKE_SCRIPT).digest('hex'));
    expect(TAKE_SCRIPT_SHA1).toBe('18d6741b0528fdb366430ddae86a521132b7cd80');
  });

  test('command names come from the SHA-1, so an old script never runs under a new name', () => {
    expect(BATCH_COMMAND).toBe(`tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}`);
    expect(takeCommand(3)).toBe(`tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}_k3`);
  });

  test('Redis knows the script by that SHA-1 once a store has used it', async () => {
    const client = pool.client();
    const limiter = createLimiter({ store: new RedisStore({ client, prefix }), name: 'sha', capacity: 2, refillPerSecond: 1 });
    await limiter.take('k');
    expect(await client.script('EXISTS', TAKE_SCRIPT_SHA1)).toEqual([1]);
  });
});

describe('the script decides', () => {
  const [policy] = parsePolicies({ name: 'p', capacity: 1, refillPerSecond: 10_000 }); // 100 us a token
  const interval = tokenIntervalMicros(policy!.refillPerSecond);

  test('a denial the levels seem to cover is a denial: cost 0.07 needs ceil(0.07 x 100 us) = 8 us of room', () => {
    // 0.07 x 100 is 7.000000000000001 in floating point: the script asks for 8 us, and a bucket
    // with 7 us of room (0.07 tokens, as Node computes it) cannot give them.
    expect(Math.ceil(0.07 * interval)).toBe(8);
    const reply = [0, policy!.capacity * interval - 7]; // denied; ahead = tau - 7 us
    const result = resultFrom(reply, [policy!], 0)!;
    expect(result.levels[0]! >= 0.07).toBe(true); // by the levels alone, it would fit
    expect(result.allowed).toBe(false);
    const decision = buildDecision([policy!], result, 0.07);
    expect(decision.allowed).toBe(false);
    expect(decision.retryAfterMs).toBeGreaterThanOrEqual(1); // a denial always asks for a wait
    expect(decision.policies[0]!.retryAfterMs).toBe(decision.retryAfterMs);
  });

  test('an admission the levels seem not to cover is an admission', () => {
    const result = resultFrom([1, policy!.capacity * interval - 6], [policy!], 0)!;
    expect(result.levels[0]! >= 0.07).toBe(false); // by the levels alone, it would not fit
    expect(result.allowed).toBe(true);
    const decision = buildDecision([policy!], result, 0.07);
    expect(decision).toMatchObject({ allowed: true, remaining: 0, retryAfterMs: 0 });
  });

  test('a reply that is not the script\'s shape is a STORE_REPLY error', () => {
    expect(() => resultFrom([2, 0], [policy!], 0)).toThrow(expect.objectContaining({ code: 'STORE_REPLY' }));
    expect(() => resultFrom([1], [policy!], 0)).toThrow(expect.objectContaining({ code: 'STORE_REPLY' }));
    expect(() => resultFrom('OK', [policy!], 0)).toThrow(expect.objectContaining({ code: 'STORE_REPLY' }));
  });

  test('on a real Redis: one call of two takes answers each take\'s verdict, then its buckets', async () => {
    const client = pool.client();
    const key = `${prefix}verdicts:{caller}`;
    // Two takes of one policy (tau 3 s, inc 2 s) on one bucket: the first fits, the second does not.
    const reply = (await client.eval(TAKE_SCRIPT, 2, key, key, 0, 2, 1, 3e6, 2e6, 1, 3e6, 2e6)) as number[];
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
