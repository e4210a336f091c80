// The contract between the limiter and a bucket store, and the bucket key layout they share.
import type { DecisionSource, StoreStatusChange } from '../diagnostics.js';
import type { Policy } from '../policy.js';

/** What a store's take found and did. */
export interface TakeResult {
  /**
   * The verdict: true when every bucket held the cost and was debited, false when nothing was
   * debited. The store's atomic step decides; nothing above it decides again.
   */
  readonly allowed: boolean;
  /** Each bucket's tokens after the refill and before any debit, in policy order. */
  readonly levels: readonly number[];
  /** Where the answer came from, for metrics (`'store'` when a store does not say). */
  readonly source?: DecisionSource;
  /**
   * > 0 when the caller is locked out under the take's lockout rule: ms the lock has left.
   * `allowed` is then false and nothing was debited.
   */
  readonly lockedMs?: number;
}

/** A validated concurrency policy: at most `max` slots per caller, each under a lease of `leaseMs`. */
export interface ConcurrencyPolicy {
  readonly name: string;
  readonly max: number;
  readonly leaseMs: number;
}

/** What a store's acquisition of a slot found and did. */
export interface SlotResult {
  /** True when a slot was free and is now held under the id given; false when none was taken. */
  readonly allowed: boolean;
  /** Slots of the caller held after it (the new one included), leases past their end not counted. */
  readonly held: number;
  /** Where the answer came from, for metrics (`'store'` when a store does not say). */
  readonly source?: DecisionSource;
}

/** Locks a caller out after repeated denials. */
export interface LockoutRule {
  /**
   * Names the lock: part of its Redis keys (the engine passes its policy names joined).
   * Printable ASCII, no `"`, `\`, `{`, `}`; at most 32 x 129 characters.
   */
  readonly name: string;
  /** Denials within `windowMs` that lock the caller (an integer >= 1). */
  readonly after: number;
  readonly windowMs: number;
  /** How long a lock lasts, from the denial that set it. */
  readonly durationMs: number;
}

/**
 * A place where buckets live. The limiter hands a store the hashed caller id, the policies and
 * the cost; the store does the one thing that must be atomic.
 */
export interface Store {
  /**
   * Atomically, for every policy: refill the caller's bucket to now (a missing bucket is full),
   * then, only if every bucket holds at least `cost` tokens, debit `cost` from each.
   *
   * With a `lockout` rule, in the same atomic step: a caller locked under the rule is denied with
   * `lockedMs` and nothing is debited; a denied take (not locked) counts one denial for the
   * caller under the rule, and the `after`-th denial within `windowMs` locks the caller for
   * `durationMs` (that take's result already carries `lockedMs`).
   */
  take(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): Promise<TakeResult>;
  /**
   * Optional: the same take, answered at once when the store can answer without waiting (from
   * memory), or `undefined` when it cannot (the limiter then calls `take`). A result must have
   * the same effect as `take`'s: it is the take, not a preview. It spares the request path a
   * promise per decision where none is needed.
   */
  takeNow?(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): TakeResult | undefined;
  /**
   * Adds `tokens` to each of the caller's buckets (a refund or a reward), or removes them when
   * negative (a penalty), atomically across the policies: never above capacity, never below
   * empty. Unlike a take it always applies. Resolves with each bucket's level after it
   * (`allowed: true`).
   */
  adjust(callerId: string, policies: readonly Policy[], tokens: number): Promise<TakeResult>;
  /** Forgets the caller's buckets for these policies: the next take finds them full. It does not lift a lock. */
  reset(callerId: string, policies: readonly Policy[]): Promise<void>;
  /** Lifts the caller's lock under `lockout`, and forgets the denials counted towards one. */
  unlock(callerId: string, lockout: LockoutRule): Promise<void>;
  /**
   * Deletes every bucket and lock of this store (RedisStore: every key under its prefix, on every
   * master). For tests; never in production. Resolves with the number of keys deleted.
   */
  clear(): Promise<number>;
  /**
   * Concurrency policies (optional: a store without these refuses `concurrency` at creation).
   * Atomically: forgets the caller's slots whose lease has ended, then, only if fewer than
   * `policy.max` remain, holds one more under `slotId` until now + `policy.leaseMs` (the store's
   * clock: Redis's TIME).
   */
  acquireSlot?(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<SlotResult>;
  /** Optional: the same acquisition answered at once, or undefined when the store cannot (see `takeNow`). */
  acquireSlotNow?(callerId: string, policy: ConcurrencyPolicy, slotId: string): SlotResult | undefined;
  /** Extends a held slot's lease to now + `policy.leaseMs`; false when the slot is no longer held. */
  renewSlot?(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<boolean>;
  /** Gives a slot back (nothing when it is not held). */
  releaseSlot?(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<void>;
  /** Slots of the caller held now, read without taking one. */
  countSlots?(callerId: string, policy: ConcurrencyPolicy): Promise<number>;
  /** Frees every slot of the caller under `policy` (the requests holding them are no longer counted). */
  resetSlots?(callerId: string, policy: ConcurrencyPolicy): Promise<void>;
  /**
   * For stores that can fail: calls `listener` once on each change of availability (the store
   * went down and is being bypassed; it came back). Returns the function that unsubscribes.
   */
  subscribe?(listener: (event: StoreStatusChange) => void): () => void;
}

/**
 * The key of one caller's bucket for one policy: `<prefix><policy name>:{<caller id>}`. The hash
 * tag keeps one caller's buckets in one Cluster slot.
 */
export function bucketKey(prefix: string, policyName: string, callerId: string): string {
  return `${prefix}${policyName}:{${callerId}}`;
}

/**
 * The key of one caller's slots under a concurrency policy, a sorted set of slot ids scored by
 * their lease's end: `<prefix>"slots":<policy name>:{<caller id>}`. It shares the slot of the
 * caller's buckets and never collides with a bucket key (policy names cannot contain `"`).
 */
export function slotKey(prefix: string, policyName: string, callerId: string): string {
  return `${prefix}"slots":${policyName}:{${callerId}}`;
}

/**
 * The keys of one caller's lock under a lockout rule, and of the denials counted towards it:
 * `<prefix>"lock":<rule name>:{<caller id>}` and `<prefix>"denials":<rule name>:{<caller id>}`.
 * Policy names cannot contain `"`, so these never collide with a bucket key; they carry the
 * caller's hash tag, so they share the slot of the caller's buckets.
 */
export function lockKeys(prefix: string, ruleName: string, callerId: string): [lock: string, denials: string] {
  return [`${prefix}"lock":${ruleName}:{${callerId}}`, `${prefix}"denials":${ruleName}:{${callerId}}`];
}
