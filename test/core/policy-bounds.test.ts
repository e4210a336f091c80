// Policy validation at its exact bounds: the largest rate, the longest fill, the most policies,
// the name's characters at either end, and the option a bad cost is reported under.
import { createLimiter, MemoryStore } from '@tokenbucket/core';
import { MAX_POLICIES } from '../../packages/core/src/policy';

const store = new MemoryStore();
afterAll(() => store.close());
const limiter = (options: object) => () => createLimiter({ store, ...options });

test('refillPerSecond: 1,000,000 (a token a microsecond) is the most', () => {
  expect(limiter({ capacity: 1, refillPerSecond: 1e6 })).not.toThrow();
  expect(limiter({ capacity: 1, refillPerSecond: 1e6 + 1 })).toThrow(expect.objectContaining({ option: 'refillPerSecond' }));
});

test('an empty bucket may take up to exactly 1e15 microseconds to fill', () => {
  // 1e9 tokens at one a second: 1e9 x 1e6 us.
  expect(limiter({ capacity: 1e9, refillPerSecond: 1 })).not.toThrow();
  expect(limiter({ capacity: 1e9 + 1, refillPerSecond: 1 })).toThrow(expect.objectContaining({ option: 'refillPerSecond' }));
});

test(`${MAX_POLICIES} policies is the most`, () => {
  const policies = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, capacity: 1, refillPerSecond: 1 }));
  expect(MAX_POLICIES).toBe(32);
  expect(limiter({ policies: policies(32) })).not.toThrow();
  expect(limiter({ policies: policies(33) })).toThrow(expect.objectContaining({ option: 'policies' }));
});

test.each([
  ['a control character first', '\u0001name'],
  ['a control character last', 'name\u0001'],
  ['129 characters', 'n'.repeat(129)],
  ['empty', ''],
])('a policy name with %s is refused', (_label, name) => {
  expect(limiter({ name, capacity: 1, refillPerSecond: 1 })).toThrow(expect.objectContaining({ code: 'TB_ERR_INVALID_OPTION', option: 'name' }));
});

test('a policy name of 128 printable characters is accepted', () => {
  expect(limiter({ name: `~${'n'.repeat(126)} `, capacity: 1, refillPerSecond: 1 })).not.toThrow();
});

test('a bad cost is reported under the option `cost`', async () => {
  const l = createLimiter({ store, capacity: 1, refillPerSecond: 1 });
  await expect(l.take('k', { cost: -1 })).rejects.toMatchObject({ code: 'TB_ERR_INVALID_COST', option: 'cost' });
});
