// The contract between the limiter and a bucket store, and the bucket key layout they share.
import type { StoreStatusEvent } from './breaker.js';
import type { Policy } from './options.js';

/**
 * A place where buckets live. The limiter hands a store the hashed caller id, the policies and
 * the cost; the store does the one thing that must be atomic.
 */
export interface Store {
  /**
   * Atomically, for every policy: refill the caller's bucket to now (a missing bucket is full),
   * then, only if every bucket holds at least `cost` tokens, debit `cost` from each.
   * Resolves to each bucket's token level after the refill and before any debit, in policy
   * order. Whether the take was allowed follows from those levels: every level >= cost.
   */
  take(callerId: string, policies: readonly Policy[], cost: number): Promise<number[]>;
  /** Forgets the caller's buckets for these policies: the next take finds them full. */
  reset(callerId: string, policies: readonly Policy[]): Promise<void>;
  /**
   * For stores that can fail: calls `listener` once on each change of availability (the store
   * went down and is being bypassed; it came back). Returns the function that unsubscribes.
   */
  subscribe?(listener: (event: StoreStatusEvent) => void): () => void;
}

/** `<prefix><policy name>:{<caller id>}`: the hash tag keeps one caller's buckets in one Cluster slot. */
export function bucketKey(prefix: string, policyName: string, callerId: string): string {
  return `${prefix}${policyName}:{${callerId}}`;
}
