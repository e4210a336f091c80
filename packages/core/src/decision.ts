// The Decision a take returns, built from what the store found and decided.
import type { DecisionSource } from './diagnostics.js';
import { type Policy, timeScale, tokenInterval } from './policy.js';
import type { TakeResult } from './store/types.js';

/** One policy's view of a take. */
export interface PolicyDecision {
  /** The policy's name. */
  readonly name: string;
  /** The policy's capacity. */
  readonly limit: number;
  /** Whole tokens left in this bucket after the take (floored). */
  readonly remaining: number;
  /**
   * 0 when this bucket held the cost; otherwise ms until it will. `Infinity` when the cost is
   * above the capacity: no wait will ever make that take succeed.
   */
  readonly retryAfterMs: number;
  /** Ms until this bucket is full again. */
  readonly resetMs: number;
  /** Seconds an empty bucket takes to fill (0 for a concurrency policy). */
  readonly windowSeconds: number;
  /**
   * `'concurrency'` for a concurrency policy: `limit` is its `max`, `remaining` the slots left
   * (after this request's, when it took one), `retryAfterMs` on a denial a small fixed wait
   * (1000), since when a slot frees is not known. Absent for a token bucket.
   */
  readonly kind?: 'concurrency';
}

/**
 * The outcome of a take. The top-level numbers are those of the binding policy: when allowed,
 * the one with the fewest tokens left; when denied, the one with the longest wait.
 */
export interface Decision {
  /** True when every bucket held the cost and was debited; false when nothing was debited. */
  readonly allowed: boolean;
  /** Capacity of the binding policy. */
  readonly limit: number;
  /** Whole tokens left in the binding bucket (floored). */
  readonly remaining: number;
  /**
   * 0 when allowed. When denied: ms until the take can succeed, or `Infinity` when the cost is
   * above a policy's capacity, so that no wait would help (send no Retry-After then).
   */
  readonly retryAfterMs: number;
  /** Ms until the binding bucket is full again. */
  readonly resetMs: number;
  /** Name of the binding policy. */
  readonly policy: string;
  /** Every policy's view, in the order the policies were given. */
  readonly policies: readonly PolicyDecision[];
  /**
   * Present when the caller is locked out (the `lockout` option): ms the lock-out has left.
   * `allowed` is then false, nothing was debited, and `retryAfterMs` is at least this.
   */
  readonly lockedMs?: number;
}

/**
 * Builds the Decision from the store's verdict and each bucket's level after refill and before
 * debit. The verdict is the store's: it is never recomputed from the levels here.
 */
export function buildDecision(policies: readonly Policy[], result: TakeResult, cost: number): Decision {
  const { allowed, levels } = result;
  if (levels.length !== policies.length) {
    throw new Error(`store returned ${levels.length} bucket levels for ${policies.length} policies`);
  }
  // Made at its length: pushed into, an empty array grows a backing store larger than most limiters' policies.
  const views = new Array<PolicyDecision>(policies.length);
  let binding = 0;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    const level = Math.min(p.capacity, Math.max(0, levels[i]!));
    const after = allowed ? Math.max(0, level - cost) : level;
    const view: PolicyDecision = {
      name: p.name,
      limit: p.capacity,
      remaining: Math.floor(after),
      retryAfterMs: allowed ? 0 : waitMs(p, level, cost),
      resetMs: after >= p.capacity ? 0 : Math.ceil(((p.capacity - after) * 1000) / storedRate(p)),
      windowSeconds: p.windowSeconds,
    };
    views[i] = view;
    if (i > 0 && binds(view, views[binding]!, allowed)) binding = i;
  }
  let b = views[binding]!;
  const lockedMs = result.lockedMs ?? 0;
  if (lockedMs > 0) {
    return {
      allowed: false,
      limit: b.limit,
      remaining: b.remaining,
      retryAfterMs: Math.max(b.retryAfterMs, Math.ceil(lockedMs)),
      resetMs: b.resetMs,
      policy: b.name,
      policies: views,
      lockedMs: Math.ceil(lockedMs),
    };
  }
  if (!allowed && b.retryAfterMs === 0) {
    // A store that counts in whole microseconds can deny a take that its levels, as floating
    // point numbers, seem to cover (the cost rounds up to the next microsecond of refill): the
    // wait is then below a microsecond, and a denial asks for at least one.
    views[binding] = b = { ...b, retryAfterMs: 1 };
  }
  return {
    allowed,
    limit: b.limit,
    remaining: b.remaining,
    retryAfterMs: b.retryAfterMs,
    resetMs: b.resetMs,
    policy: b.name,
    policies: views,
  };
}

/** Ms until a bucket at `level` holds `cost`: 0 when it does, Infinity when it never can. */
function waitMs(p: Policy, level: number, cost: number): number {
  if (cost > p.capacity) return Infinity;
  return level >= cost ? 0 : Math.ceil(((cost - level) * 1000) / storedRate(p));
}

/**
 * The rate a RedisStore refills at: a token's interval is a whole number of its time units
 * (microseconds, or nanoseconds above 1000 tokens/s), rounded up, so the rate is at most the
 * policy's and within 0.1% of it. Waits are computed from it, so a take retried after
 * `retryAfterMs` is never early.
 */
function storedRate(p: Policy): number {
  return (1e6 * timeScale(p.refillPerSecond)) / tokenInterval(p.refillPerSecond);
}

/** Whether `a` binds more tightly than `b`: on allow, fewer left; on deny, a longer wait. */
function binds(a: PolicyDecision, b: PolicyDecision, allowed: boolean): boolean {
  if (!allowed && a.retryAfterMs !== b.retryAfterMs) return a.retryAfterMs > b.retryAfterMs;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining;
  return a.resetMs > b.resetMs;
}

/** A decision, as `onDecision` and the `tokenbucket:decision` channel see it. Never the raw key. */
export interface DecisionEvent {
  /** The route's identity (`GET /items/:id`); undefined for a take outside the HTTP layer. */
  readonly route: string | undefined;
  /** The binding policy's name. */
  readonly policy: string;
  /** `'denied'` also for a denial that a dry run let through. */
  readonly outcome: 'allowed' | 'denied';
  readonly source: DecisionSource;
  readonly cost: number;
  /** Whole tokens left in the binding bucket (slots left, for a concurrency policy). */
  readonly remaining: number;
  /**
   * The binding policy's kind: `'concurrency'` when it is a concurrency policy (a denial for lack
   * of a slot, or an admission that left fewer slots than tokens), else `'rate'`.
   */
  readonly kind: 'rate' | 'concurrency';
  /** The hashed caller id. */
  readonly callerId: string;
  /** Whether the caller was identified by its key or, lacking one, by IP (HTTP layer only). */
  readonly keySource: 'key' | 'ip' | undefined;
  readonly dryRun: boolean;
  readonly decision: Decision;
}
