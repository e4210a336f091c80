// The take script's arguments and reply, in the script's units (whole microseconds below 1000
// tokens a second): what RedisStore sends per operation and how it reads the answer, without a
// server.
import { parsePolicies } from '../../packages/core/src/policy';
import { pushOpArgs, replyLength, resultFrom, type ScriptOp } from '../../packages/core/src/store/redis/gcra';

const two = parsePolicies({
  policies: [
    { name: 'a', capacity: 10, refillPerSecond: 4 }, // 250,000 us a token
    { name: 'b', capacity: 3, refillPerSecond: 1000 / 86400 }, // 86,400,000 us a token
  ],
});
const take = (amount: number): ScriptOp => ({ policies: two, kind: 'take', amount });

describe('pushOpArgs', () => {
  test('a take: its code and policy count, then per policy tau (capacity x interval), inc (ceil(cost x interval)) and the time unit', () => {
    const argv: (string | number)[] = ['kept'];
    pushOpArgs(argv, take(1.5));
    expect(argv).toEqual(['kept', 0, 2, 2_500_000, 375_000, 1, 259_200_000, 129_600_000, 1]);
  });

  test('a cost of 0 moves nothing (inc 0); a fraction of a microsecond rounds up', () => {
    const argv: (string | number)[] = [];
    pushOpArgs(argv, take(0));
    expect(argv).toEqual([0, 2, 2_500_000, 0, 1, 259_200_000, 0, 1]);
    const tiny: (string | number)[] = [];
    pushOpArgs(tiny, take(1e-9));
    expect(tiny).toEqual([0, 2, 2_500_000, 1, 1, 259_200_000, 1, 1]);
  });

  test('an adjust moves the TAT back for tokens given back, forward for tokens taken away', () => {
    const back: (string | number)[] = [];
    pushOpArgs(back, { policies: two, kind: 'adjust', amount: 2 });
    expect(back).toEqual([2, 2, 2_500_000, -500_000, 1, 259_200_000, -172_800_000, 1]);
    const away: (string | number)[] = [];
    pushOpArgs(away, { policies: two, kind: 'adjust', amount: -1 });
    expect(away).toEqual([2, 2, 2_500_000, 250_000, 1, 259_200_000, 86_400_000, 1]);
  });
});

describe('resultFrom', () => {
  test('replyLength: the verdict and one entry per policy', () => {
    expect(replyLength({ policies: two.slice(0, 1), kind: 'take', amount: 1 })).toBe(2);
    expect(replyLength(take(1))).toBe(3);
  });

  test("reads one take's verdict and levels at its offset in a batch reply", () => {
    // Take 1 (offset 0): denied, a at 7.5 tokens (ahead 625,000), b full. Take 2 (offset 3): allowed, both empty.
    const reply = [0, 625_000, 0, 1, 2_500_000, 259_200_000];
    expect(resultFrom(reply, take(1), 0)).toEqual({ allowed: false, levels: [7.5, 3], source: 'redis' });
    expect(resultFrom(reply, take(1), 3)).toEqual({ allowed: true, levels: [0, 0], source: 'redis' });
  });

  test('levels are clamped to [0, capacity]', () => {
    expect(resultFrom([1, -250_000, 999_999_999_999], take(1), 0)!.levels).toEqual([10, 0]);
  });

  test('"not here" (-1, a Cluster batch on a node that does not serve the slot) is undefined', () => {
    expect(resultFrom([-1, 0, 0], take(1), 0)).toBeUndefined();
    expect(resultFrom([1, 0, 0, -1, 0, 0], take(1), 3)).toBeUndefined();
  });

  test.each([
    ['too short for the take at its offset', [1, 0, 0], 1],
    ['too short by one entry', [1, 0], 0],
    ['a verdict that is neither 0 nor 1', [2, 0, 0], 0],
    ['a level that is not a number', [1, 'x', 0], 0],
    ['not an array', 'OK', 0],
  ])('%s: TB_ERR_STORE_REPLY naming the reply', (_label, reply, offset) => {
    expect(() => resultFrom(reply, take(1), offset)).toThrow(expect.objectContaining({ code: 'TB_ERR_STORE_REPLY' }));
  });
});
