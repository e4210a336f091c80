// Bad limiter options and bad takes fail at once, with an error naming the option and the value.
import { createLimiter, MemoryStore, TokenBucketError, type LimiterOptions } from '@tokenbucket/core';

const store = new MemoryStore();
afterAll(() => store.close());

const bad: [string, unknown, RegExp][] = [
  ['capacity 0', { capacity: 0, refillPerSecond: 1 }, /`capacity` must be an integer >= 1.*; got 0\./],
  ['negative capacity', { capacity: -5, refillPerSecond: 1 }, /`capacity`.*got -5\./],
  ['NaN capacity', { capacity: NaN, refillPerSecond: 1 }, /`capacity`.*got NaN\./],
  ['non-integer capacity', { capacity: 2.5, refillPerSecond: 1 }, /`capacity`.*got 2\.5\./],
  ['string capacity', { capacity: '10', refillPerSecond: 1 }, /`capacity`.*got "10"\./],
  ['missing capacity', { refillPerSecond: 1 }, /`capacity`.*got undefined\./],
  ['refillPerSecond 0', { capacity: 1, refillPerSecond: 0 }, /`refillPerSecond` must be a finite number > 0.*got 0\./],
  ['negative refillPerSecond', { capacity: 1, refillPerSecond: -1 }, /`refillPerSecond`.*got -1\./],
  ['Infinity refillPerSecond', { capacity: 1, refillPerSecond: Infinity }, /`refillPerSecond`.*got Infinity\./],
  ['missing refillPerSecond', { capacity: 1 }, /`refillPerSecond`.*got undefined\./],
  ['refillPerSecond above a million', { capacity: 1, refillPerSecond: 2e6 }, /`refillPerSecond` must be at most 1000000.*got 2000000\./],
  [
    'a bucket that would take centuries to fill',
    { capacity: 100, refillPerSecond: 1e-9 },
    /`refillPerSecond` must be fast enough that an empty bucket of 100 fills within 1e9 seconds.*got 1e-9\./,
  ],
  ['empty policies', { policies: [] }, /`policies` must be a non-empty array.*got an array of 0\./],
  ['policies not an array', { policies: 'burst' }, /`policies` must be a non-empty array.*got "burst"\./],
  [
    'more than 32 policies',
    { policies: Array.from({ length: 33 }, (_, i) => ({ name: `p${i}`, capacity: 1, refillPerSecond: 1 })) },
    /`policies` must be at most 32 policies.*got an array of 33\./,
  ],
  [
    'duplicate policy name',
    {
      policies: [
        { name: 'a', capacity: 1, refillPerSecond: 1 },
        { name: 'a', capacity: 2, refillPerSecond: 1 },
      ],
    },
    /`policies\[1\]\.name` must be unique within the limiter.*got "a"\./,
  ],
  [
    'two unnamed policies',
    {
      policies: [
        { capacity: 1, refillPerSecond: 1 },
        { capacity: 2, refillPerSecond: 1 },
      ],
    },
    /`policies\[1\]\.name` must be unique.*got "default"\./,
  ],
  [
    'bad policy inside policies',
    {
      policies: [
        { name: 'a', capacity: 1, refillPerSecond: 1 },
        { name: 'b', capacity: 0, refillPerSecond: 1 },
      ],
    },
    /`policies\[1\]\.capacity`.*got 0\./,
  ],
  ['policy not an object', { policies: [null] }, /`policies\[0\]` must be an object.*got null\./],
  ['name with a brace', { name: 'a{b}', capacity: 1, refillPerSecond: 1 }, /`name` must be a string.*got "a\{b\}"\./],
  ['empty name', { name: '', capacity: 1, refillPerSecond: 1 }, /`name`.*got ""\./],
  ['inline and policies together', { capacity: 3, policies: [{ capacity: 1, refillPerSecond: 1 }] }, /either `policies` or the inline `capacity`/],
  ['a store that is not a store', { capacity: 1, refillPerSecond: 1, store: {} }, /`store` must be a store.*got an object\./],
  ['options not an object', null, /`options` must be an object; got null\./],
];

describe('createLimiter rejects bad options at creation', () => {
  test.each(bad)('%s', (_label, options, message) => {
    let thrown: unknown;
    try {
      createLimiter(options as LimiterOptions);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TokenBucketError);
    expect((thrown as TokenBucketError).code).toBe('TB_ERR_INVALID_OPTION');
    expect((thrown as Error).message).toMatch(message);
  });

  test('valid options give frozen policies with the fill window in whole seconds', () => {
    const l = createLimiter({
      store,
      policies: [
        { name: 'burst', capacity: 10, refillPerSecond: 2 },
        { name: 'daily', capacity: 1000, refillPerSecond: 1000 / 86400 },
      ],
    });
    expect(l.policies).toEqual([
      { name: 'burst', capacity: 10, refillPerSecond: 2, windowSeconds: 5 },
      { name: 'daily', capacity: 1000, refillPerSecond: 1000 / 86400, windowSeconds: 86400 },
    ]);
    expect(Object.isFrozen(l.policies)).toBe(true);
    expect(createLimiter({ capacity: 1, refillPerSecond: 1 }).policies[0]!.name).toBe('default');
  });
});

describe('take rejects bad input without touching the store', () => {
  const l = createLimiter({ store, name: 'take-input', capacity: 5, refillPerSecond: 1 });
  test.each([
    ['NaN', NaN, /`cost` must be a finite number >= 0; got NaN\./],
    ['negative', -1, /`cost`.*got -1\./],
    ['Infinity', Infinity, /`cost`.*got Infinity\./],
    ['a string', '2', /`cost`.*got "2"\./],
  ])('cost %s', async (_label, cost, message) => {
    await expect(l.take('k', { cost: cost as number })).rejects.toMatchObject({ code: 'TB_ERR_INVALID_COST', message: expect.stringMatching(message) });
    expect((await l.take('k', { cost: 0 })).remaining).toBe(5);
  });

  test.each([
    ['empty', ''],
    ['undefined', undefined],
    ['a number', 42],
  ])('key %s', async (_label, key) => {
    await expect(l.take(key as string)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_KEY' });
    await expect(l.reset(key as string)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_KEY' });
  });
});
