// buildDecision: the binding policy among several (on a denial the longest wait, on an allow the
// fewest tokens left, then the longest time to full), and a store reply of the wrong shape.
import { buildDecision } from '../../packages/core/src/decision';
import { parsePolicies } from '../../packages/core/src/policy';

const policies = (...specs: [string, number, number][]) =>
  parsePolicies({ policies: specs.map(([name, capacity, refillPerSecond]) => ({ name, capacity, refillPerSecond })) });

test('a store that returns a level per policy but one too few or too many is an error, not a decision', () => {
  const two = policies(['a', 5, 1], ['b', 5, 1]);
  expect(() => buildDecision(two, { allowed: true, levels: [5] }, 1)).toThrow('store returned 1 bucket levels for 2 policies');
  expect(() => buildDecision(two, { allowed: true, levels: [5, 5, 5] }, 1)).toThrow('store returned 3 bucket levels for 2 policies');
});

describe('the binding policy', () => {
  test('denied: the longest wait binds, even when another policy has fewer tokens left', () => {
    // fast: 0 left, 10 ms to a token; slow: 2.5 left, 500 s to hold 3.
    const d = buildDecision(policies(['fast', 10, 100], ['slow', 10, 0.001]), { allowed: false, levels: [0, 2.5] }, 3);
    expect(d).toMatchObject({ policy: 'slow', remaining: 2, retryAfterMs: 500_000 });
    expect(d.policies.map((p) => p.retryAfterMs)).toEqual([30, 500_000]);
  });

  test('denied, equal waits: the fewest tokens left binds, then the longest time to full', () => {
    // Both above capacity: no wait helps (Infinity); b has fewer tokens left.
    const fewer = buildDecision(policies(['a', 2, 1], ['b', 2, 1]), { allowed: false, levels: [2, 1] }, 5);
    expect(fewer).toMatchObject({ policy: 'b', remaining: 1, retryAfterMs: Infinity });
    // Equal waits, a has fewer left: a stays binding.
    expect(buildDecision(policies(['a', 2, 1], ['b', 2, 1]), { allowed: false, levels: [1, 2] }, 5).policy).toBe('a');
    // Equal waits and tokens left: the one longer to full (slower refill) binds.
    expect(buildDecision(policies(['a', 2, 1], ['b', 2, 0.5]), { allowed: false, levels: [1, 1] }, 5).policy).toBe('b');
    expect(buildDecision(policies(['a', 2, 0.5], ['b', 2, 1]), { allowed: false, levels: [1, 1] }, 5).policy).toBe('a');
  });

  test('allowed: the fewest tokens left binds, whatever the waits', () => {
    const d = buildDecision(policies(['roomy', 100, 1], ['tight', 10, 1]), { allowed: true, levels: [50, 3] }, 1);
    expect(d).toMatchObject({ allowed: true, policy: 'tight', remaining: 2, retryAfterMs: 0 });
    expect(buildDecision(policies(['tight', 10, 1], ['roomy', 100, 1]), { allowed: true, levels: [3, 50] }, 1).policy).toBe('tight');
  });

  test('allowed, equal tokens left: the longest time to full binds; all equal, the first', () => {
    expect(buildDecision(policies(['a', 10, 1], ['b', 10, 0.5]), { allowed: true, levels: [5, 5] }, 1).policy).toBe('b');
    expect(buildDecision(policies(['a', 10, 0.5], ['b', 10, 1]), { allowed: true, levels: [5, 5] }, 1).policy).toBe('a');
    expect(buildDecision(policies(['a', 10, 1], ['b', 10, 1], ['c', 10, 1]), { allowed: true, levels: [5, 5, 5] }, 1).policy).toBe('a');
  });
});
