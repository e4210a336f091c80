// The locks a RedisStore remembers (LockCache), on a controlled clock: until when, with which
// levels, and bounded. No Redis needed.
import { parsePolicies } from '../../packages/core/src/policy';
import { LockCache } from '../../packages/core/src/store/lockout';

describe('LockCache', () => {
  let now = 1000;
  const clock = () => now;
  const policies = parsePolicies({ policies: [{ name: 'a', capacity: 10, refillPerSecond: 2 }] });

  test('a lock seen with lockedMs left ends at sentAt + lockedMs, at the latest; the levels then refill', () => {
    const cache = new LockCache(10, clock);
    cache.remember('r', 'id', policies, [1], 500, now - 100); // asked 100 ms ago, 500 ms left
    expect(cache.check('r', 'id', policies)).toEqual({ lockedMs: 400, levels: [1.2] });
    now += 250.5;
    expect(cache.check('r', 'id', policies)).toEqual({ lockedMs: 150, levels: [1.701] });
    expect(cache.check('other-rule', 'id', policies)).toBeUndefined();
    // Other policies under the same rule: their levels are not known, so they read full.
    const others = parsePolicies({ policies: [{ name: 'b', capacity: 3, refillPerSecond: 1 }] });
    expect(cache.check('r', 'id', others)?.levels).toEqual([3]);
    now += 150;
    expect(cache.check('r', 'id', policies)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('bounded by maxKeys: when full it starts over; forget and clear drop locks', () => {
    const cache = new LockCache(2, clock);
    cache.remember('r', 'a', policies, [0], 1000, now);
    cache.remember('r', 'b', policies, [0], 1000, now);
    cache.remember('r', 'b', policies, [0], 900, now); // the same lock again: no room needed
    expect(cache.size).toBe(2);
    cache.remember('r', 'c', policies, [0], 1000, now);
    expect(cache.size).toBe(1);
    expect(cache.check('r', 'a', policies)).toBeUndefined();
    expect(cache.check('r', 'c', policies)?.lockedMs).toBe(1000);
    cache.forget('r', 'c');
    expect(cache.check('r', 'c', policies)).toBeUndefined();
    cache.remember('r', 'd', policies, [0], 1000, now);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
