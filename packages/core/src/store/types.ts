// The contract between the limiter and a bucket store, and the bucket key layout they share.
import type { DecisionSource } from '../diagnostics.js';
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
}

/** A change of a store's availability, reported once per transition. */
export interface StoreStatusEvent {
  /** `'down'`: the store's circuit opened (it is being bypassed). `'up'`: it closed again. */
  readonly status: 'down' | 'up';
  /** The failure that opened the circuit (on `'down'`). */
  readonly error?: unknown;
  /** On a Redis Cluster, the master (`host:port`) whose circuit changed. */
  readonly node?: string;
}

/**
 * A place where buckets live. The limiter hands a store the hashed caller id, the policies and
 * the cost; the store does the one thing that must be atomic.
 */
export interface Store {
  /**
   * Atomically, for every policy: refill the caller's bucket to now (a missing bucket is full),
   * then, only if every bucket holds at least `cost` tokens, debit `cost` from each.
   */
  take(callerId: string, policies: readonly Policy[], cost: number): Promise<TakeResult>;
  /**
   * Optional: the same take, answered at once when the store can answer without waiting (from
   * memory), or `undefined` when it cannot (the limiter then calls `take`). A result must have
   * the same effect as `take`'s: it is the take, not a preview. It spares the request path a
   * promise per decision where none is needed.
   */
  takeNow?(callerId: string, policies: readonly Policy[], cost: number): TakeResult | undefined;
  /** Forgets the caller's buckets for these policies: the next take finds them full. */
  reset(callerId: string, policies: readonly Policy[]): Promise<void>;
  /**
   * For stores that can fail: calls `listener` once on each change of availability (the store
   * went down and is being bypassed; it came back). Returns the function that unsubscribes.
   */
  subscribe?(listener: (event: StoreStatusEvent) => void): () => void;
}

/**
 * The key of one caller's bucket for one policy: `<prefix><policy name>:{<caller id>}`. The hash
 * tag keeps one caller's buckets in one Cluster slot.
 */
export function bucketKey(prefix: string, policyName: string, callerId: string): string {
  return `${prefix}${policyName}:{${callerId}}`;
}
