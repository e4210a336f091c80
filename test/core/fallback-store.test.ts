// The fallback's buckets: from what Redis last said (LastLevels), or its own newer level, plus the refill since; full for a caller never seen.
import { FallbackStore, fallbackStore, LastLevels } from '../../packages/core/src/store/fallback';
import { MemoryStore } from '../../packages/core/src/store/memory';
import type { Policy } from '../../packages/core/src/policy';
import { sharedMemoryStore } from '../../packages/core/src/store/memory';

const policy = { name: 'api', capacity: 10, refillPerSecond: 2 } as Policy;

function setup(maxKeys?: number) {
  let now = 1000;
  const levels = new LastLevels(maxKeys);
  const store = new FallbackStore(levels, () => now);
  const advance = (ms: number): void => {
    now += ms;
  };
  return { levels, store, at: () => now, advance };
}

test('a caller never seen starts full', async () => {
  const { store } = setup();
  expect(store.takeNow('new', [policy], 1)).toEqual({ allowed: true, levels: [10], source: 'fallback' });
  expect((await store.take('new', [policy], 1)).levels).toEqual([9]);
});

test('a caller Redis drained starts from that level plus the refill since the take was sent', () => {
  const { levels, store, at, advance } = setup();
  levels.remember('drained', [policy], { allowed: true, levels: [1] }, 1, at()); // 0 left after the debit
  advance(250);
  expect(store.takeNow('drained', [policy], 1)).toEqual({ allowed: false, levels: [0.5], source: 'fallback' });
  advance(250);
  expect(store.takeNow('drained', [policy], 1).allowed).toBe(true);
  expect(store.takeNow('drained', [policy], 1).allowed).toBe(false);
});

test('the newer of the two readings wins: a fallback bucket refilled while Redis answered is not handed out again', () => {
  const { levels, store, at, advance } = setup();
  store.takeNow('c', [policy], 5); // the fallback leaves 5
  advance(5000);
  levels.remember('c', [policy], { allowed: false, levels: [0.2] }, 1, at()); // Redis, later: 0.2
  advance(100);
  expect(store.takeNow('c', [policy], 1).levels[0]).toBeCloseTo(0.4);
});

test('never above capacity; reset forgets both readings', async () => {
  const { levels, store, at, advance } = setup();
  levels.remember('c', [policy], { allowed: false, levels: [3] }, 1, at());
  advance(60_000);
  expect(store.takeNow('c', [policy], 0).levels).toEqual([10]);
  store.takeNow('c', [policy], 10);
  await store.reset('c', [policy]);
  expect(levels.get('api:{c}')).toBeUndefined();
  expect(store.takeNow('c', [policy], 0).levels).toEqual([10]);
});

test('bounded: the oldest readings and buckets are dropped first', () => {
  const { levels, store, at } = setup(2);
  for (const c of ['a', 'b', 'c']) levels.remember(c, [policy], { allowed: true, levels: [1] }, 1, at());
  expect(levels.size).toBe(2);
  expect(levels.get('api:{a}')).toBeUndefined();
  for (const c of ['x', 'y', 'z']) store.takeNow(c, [policy], 1);
  expect(store.takeNow('x', [policy], 0).levels).toEqual([10]); // dropped: full again
});

test('fallbackStore: one FallbackStore per store that remembers levels, the shared MemoryStore otherwise', () => {
  const redisLike = { levels: new LastLevels(), take: jest.fn(), reset: jest.fn(), adjust: jest.fn(), unlock: jest.fn(), clear: jest.fn() };
  const a = fallbackStore(redisLike);
  expect(a).toBeInstanceOf(FallbackStore);
  expect(fallbackStore(redisLike)).toBe(a);
  const memory = new MemoryStore();
  expect(fallbackStore(memory)).toBe(sharedMemoryStore());
  memory.close();
});
