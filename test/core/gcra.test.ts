// The take script's arguments and reply, in the script's units (whole microseconds): what
// RedisStore sends per take and how it reads the answer, without a server.
import { parsePolicies } from '../../packages/core/src/policy';
import { pushTakeArgs, replyLength, resultFrom } from '../../packages/core/src/store/redis/gcra';

const two = parsePolicies({
  policies: [
    { name: 'a', capacity: 10, refillPerSecond: 4 }, // 250,000 us a token
    { name: 'b', capacity: 3, refillPerSecond: 1000 / 86400 }, // 86,400,000 us a token
  ],
});

describe('pushTakeArgs', () => {
  test('per policy tau (capacity x interval) and inc (ceil(cost x interval)), after the policy count', () => {
    const argv: (string | number)[] = ['kept'];
    pushTakeArgs(argv, two, 1.5);
    expect(argv).toEqual(['kept', 2, 2_500_000, 375_000, 259_200_000, 129_600_000]);
  });

  test('a cost of 0 moves nothing (inc 0); a fraction of a microsecond rounds up', () => {
    const argv: (string | number)[] = [];
    pushTakeArgs(argv, two, 0);
    expect(argv).toEqual([2, 2_500_000, 0, 259_200_000, 0]);
    const tiny: (string | number)[] = [];
    pushTakeArgs(tiny, two, 1e-9);
    expect(tiny).toEqual([2, 2_500_000, 1, 259_200_000, 1]);
  });
});

describe('resultFrom', () => {
  test('replyLength: the verdict and one entry per policy', () => {
    expect(replyLength(1)).toBe(2);
    expect(replyLength(2)).toBe(3);
  });

  test("reads one take's verdict and levels at its offset in a batch reply", () => {
    // Take 1 (offset 0): denied, a at 7.5 tokens (ahead 625,000), b full. Take 2 (offset 3): allowed, both empty.
    const reply = [0, 625_000, 0, 1, 2_500_000, 259_200_000];
    expect(resultFrom(reply, two, 0)).toEqual({ allowed: false, levels: [7.5, 3], source: 'redis' });
    expect(resultFrom(reply, two, 3)).toEqual({ allowed: true, levels: [0, 0], source: 'redis' });
  });

  test('levels are clamped to [0, capacity]', () => {
    expect(resultFrom([1, -250_000, 999_999_999_999], two, 0)!.levels).toEqual([10, 0]);
  });

  test('"not here" (-1, a Cluster batch on a node that does not serve the slot) is undefined', () => {
    expect(resultFrom([-1, 0, 0], two, 0)).toBeUndefined();
    expect(resultFrom([1, 0, 0, -1, 0, 0], two, 3)).toBeUndefined();
  });

  test.each([
    ['too short for the take at its offset', [1, 0, 0], 1],
    ['too short by one entry', [1, 0], 0],
    ['a verdict that is neither 0 nor 1', [2, 0, 0], 0],
    ['a level that is not a number', [1, 'x', 0], 0],
    ['not an array', 'OK', 0],
  ])('%s: STORE_REPLY naming the reply', (_label, reply, offset) => {
    expect(() => resultFrom(reply, two, offset)).toThrow(
      expect.objectContaining({ code: 'STORE_REPLY', message: `tokenbucket: unexpected reply from the take script: ${JSON.stringify(reply)}` }),
    );
  });
});
