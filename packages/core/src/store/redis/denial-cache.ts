// Remembered denials: a bucket only refills with time, so a denial stays certain for a while.
import { fits, type Policy } from '../../policy.js';

interface Denial {
  /** The bucket levels the store reported with the denial. */
  levels: readonly number[];
  /** Local monotonic time just before the take was sent: the levels held at or after it. */
  sentAt: number;
}

/**
 * How long a remembered denial or lock is trusted, in ms. Takes only move a bucket down, but
 * refunds, rewards and resets move it up, and one made by another process is not seen here: past
 * this age the store is asked again, so `reset(key)` anywhere reaches every instance within it.
 */
export const MEMORY_TRUST_MS = 1000;

/**
 * Answers repeat takes of a denied caller without asking the store: the store measured its levels
 * at some moment after `sentAt`, and since then each bucket can have gained at most
 * (now - sentAt) x rate by refill. Refunds, rewards and resets made in this process forget the
 * caller (`forget`); one made elsewhere is seen within MEMORY_TRUST_MS, after which the store is
 * asked again. When the upper bounds cannot cover the cost, the take is denied, and the upper
 * bounds are the levels to report. Once they could cover it, the store is asked again.
 */
export class DenialCache {
  /** Denials per caller id, then per policy list (one limiter's): no key string to build per check. */
  private byCaller = new Map<string, Map<readonly Policy[], Denial>>();
  /** Denials held, in every map. */
  private count = 0;

  constructor(
    readonly maxKeys: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Upper bounds of the levels now, if they still cannot cover `cost`; else undefined. */
  check(callerId: string, policies: readonly Policy[], cost: number): number[] | undefined {
    if (this.count === 0) return undefined;
    const denials = this.byCaller.get(callerId);
    const denial = denials?.get(policies);
    if (denial === undefined) return undefined;
    const elapsed = Math.max(0, this.clock() - denial.sentAt);
    if (elapsed >= MEMORY_TRUST_MS) {
      this.delete(callerId, denials!, policies);
      return undefined;
    }
    const upper = new Array<number>(policies.length);
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      upper[i] = Math.min(p.capacity, denial.levels[i]! + (elapsed * p.refillPerSecond) / 1000);
    }
    if (fits(upper, cost)) {
      this.delete(callerId, denials!, policies);
      return undefined;
    }
    return upper;
  }

  remember(callerId: string, policies: readonly Policy[], levels: readonly number[], sentAt: number): void {
    let denials = this.byCaller.get(callerId);
    if (denials === undefined || !denials.has(policies)) {
      // Start over when full: a cache miss only costs one call to the store, and evicting one
      // entry at a time from a Map whose keys keep changing slows every eviction down.
      if (this.count >= this.maxKeys) {
        this.byCaller = new Map();
        this.count = 0;
        denials = undefined;
      }
      if (denials === undefined) {
        denials = new Map();
        this.byCaller.set(callerId, denials);
      }
      this.count++;
    }
    denials.set(policies, { levels, sentAt });
  }

  /**
   * Forgets every denial remembered for the caller, under any limiter: a refund, a reward or a
   * reset through one limiter may concern buckets another limiter (with the same policy names)
   * remembers as empty.
   */
  forget(callerId: string): void {
    const denials = this.byCaller.get(callerId);
    if (denials === undefined) return;
    this.count -= denials.size;
    this.byCaller.delete(callerId);
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.byCaller = new Map();
    this.count = 0;
  }

  private delete(callerId: string, denials: Map<readonly Policy[], Denial>, policies: readonly Policy[]): void {
    if (denials.delete(policies)) this.count--;
    if (denials.size === 0) this.byCaller.delete(callerId);
  }
}
