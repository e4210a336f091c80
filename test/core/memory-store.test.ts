// MemoryStore: the store contract, exact refill on a controlled clock, and bounded memory.
import { createLimiter, MemoryStore } from '@tokenbucket/core';
import { runStoreSuite } from './store-suite';

runStoreSuite('MemoryStore', () => {
  const store = new MemoryStore();
  return { store: () => store, close: async () => store.close() };
});

/** A clock the test moves by hand. */
function manualClock(start = 1000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('MemoryStore on a controlled clock', () => {
  test('refill is continuous and exact', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const l = createLimiter({ store, capacity: 10, refillPerSecond: 4 });
    expect((await l.take('k', { cost: 10 })).remaining).toBe(0);
    clock.advance(625); // 2.5 tokens
    const peek = await l.take('k', { cost: 0 });
    expect(peek).toMatchObject({ remaining: 2, resetMs: 1875 });
    const denied = await l.take('k', { cost: 3 });
    expect(denied).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 125 });
    clock.advance(125);
    expect(await l.take('k', { cost: 3 })).toMatchObject({ allowed: true, remaining: 0, resetMs: 2500 });
    clock.advance(60_000);
    expect((await l.take('k', { cost: 0 })).remaining).toBe(10); // never above capacity
    store.close();
  });

  test('a clock that goes backwards refills nothing and debits nothing extra', async () => {
    const clock = manualClock(50_000);
    const store = new MemoryStore({ clock: clock.now });
    const l = createLimiter({ store, capacity: 2, refillPerSecond: 1 });
    await l.take('k', { cost: 2 });
    clock.advance(-10_000);
    expect(await l.take('k')).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    store.close();
  });

  test('buckets that refilled to full are swept; a full bucket is the same as none', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const l = createLimiter({ store, capacity: 2, refillPerSecond: 1 });
    await l.take('a');
    await l.take('b', { cost: 2 });
    expect(store.size).toBe(2);
    clock.advance(1000); // a is full again, b is not
    store.sweep();
    expect(store.size).toBe(1);
    expect((await l.take('a', { cost: 0 })).remaining).toBe(2);
    expect((await l.take('b', { cost: 0 })).remaining).toBe(1);
    store.close();
  });

  test('maxKeys bounds memory: the bucket closest to full goes first', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now, maxKeys: 3 });
    const l = createLimiter({ store, capacity: 5, refillPerSecond: 0.001 });
    await l.take('a', { cost: 3 });
    await l.take('b');
    await l.take('c', { cost: 2 });
    await l.take('d'); // evicts b: one token short, the closest to full
    expect(store.size).toBe(3);
    expect((await l.take('a', { cost: 0 })).remaining).toBe(2);
    expect((await l.take('b', { cost: 0 })).remaining).toBe(5);
    expect((await l.take('c', { cost: 0 })).remaining).toBe(3);
    expect((await l.take('d', { cost: 0 })).remaining).toBe(4);
    for (let i = 0; i < 10_000; i++) await l.take(`flood-${i}`);
    expect(store.size).toBe(3);
    store.close();
  });

  test.each([
    [4, 1],
    [100, 40], // more denied callers than one eviction samples, all at the front of the store
  ])('maxKeys %i: a flood of fresh keys cannot evict %i denied callers and refill them', async (maxKeys, victims) => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now, maxKeys });
    const l = createLimiter({ store, capacity: 3, refillPerSecond: 1 / 3600 });
    const denied = Array.from({ length: victims }, (_, i) => `victim-${i}`);
    for (const k of denied) {
      await l.take(k, { cost: 3 });
      expect((await l.take(k)).allowed).toBe(false);
    }
    for (let i = 0; i < 5000; i++) {
      clock.advance(1);
      await l.take(`flood-${i}`);
    }
    expect(store.size).toBe(maxKeys);
    for (const k of denied) expect(await l.take(k)).toMatchObject({ allowed: false, remaining: 0 });
    store.close();
  });

  test('lock-outs on a controlled clock: the window slides, the lock lasts durationMs to the ms', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const { policies } = createLimiter({ store, capacity: 1, refillPerSecond: 1 / 3600 });
    const rule = { name: 'r', after: 3, windowMs: 1000, durationMs: 5000 };
    await store.take('k', policies, 1, rule);
    for (const step of [0, 600, 600]) {
      clock.advance(step);
      expect((await store.take('k', policies, 1, rule)).lockedMs).toBeUndefined(); // never 3 within 1000 ms
    }
    clock.advance(300);
    expect((await store.take('k', policies, 1, rule)).lockedMs).toBe(5000); // 600 + 300 ms after the first of three
    clock.advance(4999);
    expect(store.takeNow('k', policies, 0, rule)).toMatchObject({ allowed: false, lockedMs: 1 });
    clock.advance(1);
    expect(store.takeNow('k', policies, 0, rule)).toMatchObject({ allowed: true });
    expect(store.takeNow('k', policies, 0, rule).lockedMs).toBeUndefined();
    store.close();
  });

  test('lock-outs are bounded by maxKeys, swept once they say nothing, and dropped by close', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now, maxKeys: 3 });
    const { policies } = createLimiter({ store, capacity: 1, refillPerSecond: 1 / 3600 });
    const lock = { name: 'lock', after: 1, windowMs: 1000, durationMs: 60_000 };
    const count = { name: 'count', after: 5, windowMs: 1000, durationMs: 60_000 };
    await store.take('locked', policies, 2, lock);
    await store.take('a', policies, 2, count);
    await store.take('b', policies, 2, count);
    expect(store.lockoutSize).toBe(3);
    await store.take('c', policies, 2, count); // full: drops a caller that is not locked, the oldest
    expect(store.lockoutSize).toBe(3);
    expect(store.takeNow('locked', policies, 0, lock).lockedMs).toBeGreaterThan(0);
    clock.advance(1000); // the counts have left their window: they say nothing any more
    await store.take('d', policies, 2, count); // drops one that says nothing
    store.sweep();
    expect(store.lockoutSize).toBe(2); // the lock, and d's count
    clock.advance(60_000);
    await store.take('e', policies, 2, count);
    await store.take('f', policies, 2, count);
    await store.take('g', policies, 2, count); // the lock has ended: it says nothing, it goes first
    expect(store.takeNow('locked', policies, 0, lock).lockedMs).toBeUndefined();
    // Only locked callers left: the oldest goes.
    for (const id of ['x', 'y', 'z', 'w']) await store.take(id, policies, 2, lock);
    expect(store.lockoutSize).toBe(3);
    expect(store.takeNow('x', policies, 0, lock).lockedMs).toBeUndefined();
    expect(store.takeNow('w', policies, 0, lock).lockedMs).toBeGreaterThan(0);
    store.close();
    expect(store.lockoutSize).toBe(0);
  });

  test('invalid options name the option and the value', () => {
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(/`maxKeys` must be an integer >= 1; got 0/);
    expect(() => new MemoryStore({ sweepIntervalMs: NaN })).toThrow(/`sweepIntervalMs`.*got NaN/);
    expect(() => new MemoryStore({ clock: 5 as never })).toThrow(/`clock` must be a function/);
  });
});

describe('MemoryStore, exactly', () => {
  test('defaults: 100,000 buckets at most, swept every 60 s', () => {
    const store = new MemoryStore();
    expect([store.maxKeys, store.sweepIntervalMs]).toEqual([100_000, 60_000]);
    store.close();
  });

  test('options: an object; maxKeys from 1; sweepIntervalMs a finite number from 10 ms', () => {
    for (const options of [null, 'x', 5]) {
      expect(() => new MemoryStore(options as never)).toThrow(expect.objectContaining({ code: 'TB_ERR_INVALID_OPTION', option: 'options' }));
    }
    expect(() => new MemoryStore(null as never)).toThrow(/must be an object \{ maxKeys, sweepIntervalMs \}/);
    for (const sweepIntervalMs of [9, 9.99, Infinity, '100', -1]) {
      expect(() => new MemoryStore({ sweepIntervalMs } as never)).toThrow(/`sweepIntervalMs` must be a finite number of milliseconds >= 10/);
    }
    const ok = [new MemoryStore({ maxKeys: 1 }), new MemoryStore({ sweepIntervalMs: 10 })];
    expect(ok.map((s) => [s.maxKeys, s.sweepIntervalMs])).toEqual([
      [1, 60_000],
      [100_000, 10],
    ]);
    for (const s of ok) s.close();
  });

  test('a take too small to change a full bucket in floating point keeps no bucket', async () => {
    const store = new MemoryStore();
    const l = createLimiter({ store, capacity: 5, refillPerSecond: 1 });
    expect((await l.take('k', { cost: 1e-17 })).allowed).toBe(true); // 5 - 1e-17 === 5
    expect(store.size).toBe(0);
    await l.take('k', { cost: 1e-9 });
    expect(store.size).toBe(1);
    store.close();
  });

  /**
   * A store of 100 buckets (`c0` to `c99`, in that order) each taken at `costOf(i)` of 10 on one
   * clock, then `incoming` new callers taking `incomingCost`: the callers whose buckets were
   * dropped (they read full again).
   */
  async function evicted(costOf: (i: number) => number, incomingCost: number, incoming = 1): Promise<string[]> {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now, maxKeys: 100 });
    const l = createLimiter({ store, capacity: 10, refillPerSecond: 1 });
    for (let i = 0; i < 100; i++) await l.take(`c${i}`, { cost: costOf(i) });
    for (let n = 0; n < incoming; n++) await l.take(`new-${n}`, { cost: incomingCost });
    const gone: string[] = [];
    for (let i = 0; i < 100; i++) if ((await l.take(`c${i}`, { cost: 0 })).remaining === 10) gone.push(`c${i}`);
    expect(store.size).toBe(100);
    store.close();
    return gone;
  }

  test('buckets equally far from full: each eviction drops the first of the next 16 it looks at', async () => {
    expect(await evicted(() => 10, 10, 2)).toEqual(['c0', 'c16']);
  });

  test('a bucket closer to full beyond the first 16 is not looked for when one of them is no fuller than the new one', async () => {
    // c30 is the closest to full, but c0 (as far from full as the new bucket) is found within 16.
    expect(await evicted((i) => (i === 30 ? 1 : 5), 10)).toEqual(['c0']);
  });

  test('while all are emptier than the new bucket, it looks at 64 at most, and drops the fullest of them', async () => {
    // c90, as close to full as the new bucket, lies beyond the 64 looked at: c0 goes.
    expect(await evicted((i) => (i === 90 ? 1 : 10), 1)).toEqual(['c0']);
    // c40 lies within them: it goes. c64 is the 65th: not looked at.
    expect(await evicted((i) => (i === 40 ? 1 : 10), 1)).toEqual(['c40']);
    expect(await evicted((i) => (i === 64 ? 1 : 10), 1)).toEqual(['c0']);
  });

  test('a caller taken again and again is written in place: its levels stay exact, and it stays the newest bucket', async () => {
    // The second take onwards of the same caller and policies updates the buckets in place
    // (store/memory.ts `debit`). What must not change: each take's levels, and the store's order
    // (a re-taken bucket is the last written: eviction looks at the oldest first).
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now, maxKeys: 3 });
    const l = createLimiter({
      store,
      policies: [
        { name: 'burst', capacity: 10, refillPerSecond: 1 },
        { name: 'day', capacity: 100, refillPerSecond: 0.001 },
      ],
    });
    for (let i = 0; i < 5; i++) {
      clock.advance(500);
      const d = await l.take('hot', { cost: 2 });
      expect(d.policies.map((p) => p.remaining)).toEqual([Math.floor(10 - 2 * (i + 1) + 0.5 * i), Math.floor(100 - 2 * (i + 1) + 0.0005 * i)]);
    }
    expect(store.size).toBe(2);
    // Reset between two takes of the same caller: the next take finds the buckets full.
    await l.reset('hot');
    expect((await l.take('hot')).policies.map((p) => p.remaining)).toEqual([9, 99]);
    expect((await l.take('hot')).policies.map((p) => p.remaining)).toEqual([8, 98]);
    // A sweep dropping one of the two (burst refilled to full), then a take: both written again.
    clock.advance(2000);
    store.sweep();
    expect(store.size).toBe(1);
    expect((await l.take('hot')).policies.map((p) => p.remaining)).toEqual([9, 97]);
    expect(store.size).toBe(2);
    store.close();
  });

  test.each([
    // a re-taken while it is the newest bucket (in place): a stays older than b, and goes first.
    [
      [
        ['a', 2],
        ['a', 2],
        ['b', 4],
      ],
      'a',
    ],
    // a re-taken after b was written: a is now the newest (re-inserted, not updated where it was).
    [
      [
        ['a', 2],
        ['b', 4],
        ['a', 2],
      ],
      'b',
    ],
    // the same with b written by a penalty (an adjust) rather than a take.
    [
      [
        ['a', 2],
        ['b', -4],
        ['a', 2],
      ],
      'b',
    ],
  ] as [[string, number][], string][])('%j (take, or penalty when < 0), both equally far from full: a new caller evicts %s', async (ops, gone) => {
    const store = new MemoryStore({ clock: () => 1000, maxKeys: 2 });
    const l = createLimiter({ store, capacity: 10, refillPerSecond: 1 });
    for (const [key, n] of ops) await (n > 0 ? l.take(key, { cost: n }) : l.penalty(key, -n));
    await l.take('c', { cost: 4 });
    expect(store.size).toBe(2);
    expect((await l.take(gone, { cost: 0 })).remaining).toBe(10);
    expect((await l.take(gone === 'a' ? 'b' : 'a', { cost: 0 })).remaining).toBe(6);
  });

  test('the eviction hand wraps around the store, evicting as it goes', async () => {
    const store = new MemoryStore({ maxKeys: 20 });
    const l = createLimiter({ store, capacity: 10, refillPerSecond: 0.001 });
    for (let i = 0; i < 500; i++) await l.take(`w${i}`, { cost: 10 - (i % 7) });
    expect(store.size).toBe(20);
    store.close();
  });
});
