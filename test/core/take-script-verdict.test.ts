// The take script's identity (SHA-1 and the command names derived from it) and its verdict, which
// is the verdict: Node never decides again from the levels. No Redis needed.
import { createHash } from 'node:crypto';
import { buildDecision } from '../../packages/core/src/decision';
import { parsePolicies, timeScale, tokenInterval } from '../../packages/core/src/policy';
import { resultFrom, type ScriptOp } from '../../packages/core/src/store/redis/gcra';
import { BATCH_COMMAND, TAKE_SCRIPT, TAKE_SCRIPT_SHA1, takeCommand } from '../../packages/core/src/store/redis/script';

describe("the script's identity", () => {
  test('its SHA-1 is pinned: a change to the script is a deliberate change to this line', () => {
    expect(TAKE_SCRIPT_SHA1).toBe(createHash('sha1').update(TAKE_SCRIPT).digest('hex'));
    expect(TAKE_SCRIPT_SHA1).toBe('298ab9964ce95836a2978df2fde7e3c342b70bca');
  });

  test('command names come from the SHA-1, so an old script never runs under a new name', () => {
    expect(BATCH_COMMAND).toBe(`tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}`);
    expect(takeCommand(3)).toBe(`tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}_k3`);
  });
});

describe('rates in whole units of time', () => {
  test.each([1e6, 999_999, 654_321.5, 300_000, 100_003, 1001, 1000, 999.7, 3, 1 / 3600, 1000 / 86400])(
    '%d tokens/s: the interval, rounded up to a whole unit, keeps the rate within 0.1% and never above it',
    (rate) => {
      const effective = (1e6 * timeScale(rate)) / tokenInterval(rate);
      expect(effective).toBeLessThanOrEqual(rate);
      expect(effective).toBeGreaterThanOrEqual(rate * 0.999);
    },
  );

  test('a policy too large for its fast rate is refused at creation, naming the capacity', () => {
    expect(() => parsePolicies({ capacity: 2e9, refillPerSecond: 1001 })).toThrow(
      expect.objectContaining({ code: 'TB_ERR_INVALID_OPTION', option: 'capacity', message: expect.stringContaining('within 1e6 seconds') }),
    );
    expect(() => parsePolicies({ capacity: 2e9, refillPerSecond: 1000 })).not.toThrow(); // counted in microseconds
    expect(() => parsePolicies({ capacity: 1e9, refillPerSecond: 1e6 })).not.toThrow();
  });
});

describe('the script decides', () => {
  const [policy] = parsePolicies({ name: 'p', capacity: 1, refillPerSecond: 10_000 }); // 100 us (100000 ns) a token
  const interval = tokenInterval(policy!.refillPerSecond);
  const take: ScriptOp = { kind: 'take', policies: [policy!], amount: 0.07 };

  test('a denial the levels seem to cover is a denial: cost 0.07 needs ceil(0.07 x 100000 ns) = 7001 ns of room', () => {
    // 0.07 x 100000 is 7000.000000000001 in floating point: the script asks for 7001 ns, and a
    // bucket with 7000 ns of room (0.07 tokens, as Node computes it) cannot give them.
    expect(interval).toBe(100_000);
    expect(Math.ceil(0.07 * interval)).toBe(7001);
    const reply = [0, policy!.capacity * interval - 7000]; // denied; ahead = tau - 7000 ns
    const result = resultFrom(reply, take, 0)!;
    expect(result.levels[0]! >= 0.07).toBe(true); // by the levels alone, it would fit
    expect(result.allowed).toBe(false);
    const decision = buildDecision([policy!], result, 0.07);
    expect(decision.allowed).toBe(false);
    expect(decision.retryAfterMs).toBeGreaterThanOrEqual(1); // a denial always asks for a wait
    expect(decision.policies[0]!.retryAfterMs).toBe(decision.retryAfterMs);
  });

  test('an admission the levels seem not to cover is an admission', () => {
    const result = resultFrom([1, policy!.capacity * interval - 6999], take, 0)!;
    expect(result.levels[0]! >= 0.07).toBe(false); // by the levels alone, it would not fit
    expect(result.allowed).toBe(true);
    const decision = buildDecision([policy!], result, 0.07);
    expect(decision).toMatchObject({ allowed: true, remaining: 0, retryAfterMs: 0 });
  });

  test('a WRONGTYPE verdict (-2) is a TB_ERR_STORE_WRONGTYPE error naming the key by its index', () => {
    const lockout: ScriptOp = { ...take, lockout: { name: 'r', after: 1, windowMs: 1, durationMs: 1 } };
    const keys = () => ['tb:p:{id}', 'tb:"lock":r:{id}', 'tb:"denials":r:{id}'];
    expect(() => resultFrom([-2, 3, 0], lockout, 0, keys)).toThrow(
      expect.objectContaining({ code: 'TB_ERR_STORE_WRONGTYPE', message: expect.stringContaining('"tb:\\"denials\\":r:{id}"') }),
    );
    expect(() => resultFrom([-2, 1], take, 0)).toThrow(
      expect.objectContaining({ code: 'TB_ERR_STORE_WRONGTYPE', message: expect.stringContaining('(unknown)') }),
    );
    expect(resultFrom([-1, 0, 0], lockout, 0)).toBeUndefined();
    expect(resultFrom([0, 0, 5000], lockout, 0)).toMatchObject({ allowed: false, lockedMs: 5 });
    expect(() => resultFrom([1, 0, 5000], lockout, 0)).toThrow(expect.objectContaining({ code: 'TB_ERR_STORE_REPLY' })); // locked yet allowed
    expect(() => resultFrom([0, 0, 1, 0], { kind: 'adjust', policies: take.policies, amount: 1 }, 0)).toThrow(
      expect.objectContaining({ code: 'TB_ERR_STORE_REPLY' }),
    );
  });

  test("a reply that is not the script's shape is a TB_ERR_STORE_REPLY error", () => {
    expect(() => resultFrom([2, 0], take, 0)).toThrow(expect.objectContaining({ code: 'TB_ERR_STORE_REPLY' }));
    expect(() => resultFrom([1], take, 0)).toThrow(expect.objectContaining({ code: 'TB_ERR_STORE_REPLY' }));
    expect(() => resultFrom('OK', take, 0)).toThrow(expect.objectContaining({ code: 'TB_ERR_STORE_REPLY' }));
  });
});
