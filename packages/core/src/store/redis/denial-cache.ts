// Remembered denials: a bucket only refills with time, so a denial stays certain for a while.
import { fits, type Policy } from '../../policy.js';

interface Denial {
  /** The bucket levels the store reported with the denial. */
  levels: readonly number[];
  /** Local monotonic time just before the take was sent: the levels held at or after it. */
  sentAt: number;
}

/**
 * Answers repeat takes of a denied caller without asking the store, exactly: the store measured
 * its levels at some moment after `sentAt`, and since then each bucket can have gained at most
 * (now - sentAt) x rate (other processes can only take tokens away). When even those upper bounds
 * cannot cover the cost, the take is denied for certain, and the upper bounds are the levels to
 * report. Once they could cover it, the store is asked again.
 */
export class DenialCache {
  /** Denials per policy list (one limiter's), then per caller id: no key string to build per check. */
  private byPolicies = new WeakMap<readonly Policy[], Map<string, Denial>>();
  /** Denials held, in every map. */
  private count = 0;

  constructor(
    readonly maxKeys: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Upper bounds of the levels now, if they still cannot cover `cost`; else undefined. */
  check(callerId: string, policies: readonly Policy[], cost: number): number[] | undefined {
    if (this.count === 0) return undefined;
    const denials = this.byPolicies.get(policies);
    const denial = denials?.get(callerId);
    if (denial === undefined) return undefined;
    const elapsed = Math.max(0, this.clock() - denial.sentAt);
    const upper = new Array<number>(policies.length);
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      upper[i] = Math.min(p.capacity, denial.levels[i]! + (elapsed * p.refillPerSecond) / 1000);
    }
    if (fits(upper, cost)) {
      this.delete(denials!, callerId);
      return undefined;
    }
    return upper;
  }

  remember(callerId: string, policies: readonly Policy[], levels: readonly number[], sentAt: number): void {
    let denials = this.byPolicies.get(policies);
    if (denials === undefined) {
      denials = new Map();
      this.byPolicies.set(policies, denials);
    }
    if (!denials.has(callerId)) {
      // Start over when full: a cache miss only costs one call to the store, and evicting one
      // entry at a time from a Map whose keys keep changing slows every eviction down.
      if (this.count >= this.maxKeys) {
        denials = new Map();
        this.byPolicies = new WeakMap([[policies, denials]]);
        this.count = 0;
      }
      this.count++;
    }
    denials.set(callerId, { levels, sentAt });
  }

  forget(callerId: string, policies: readonly Policy[]): void {
    const denials = this.byPolicies.get(policies);
    if (denials !== undefined) this.delete(denials, callerId);
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.byPolicies = new WeakMap();
    this.count = 0;
  }

  private delete(denials: Map<string, Denial>, callerId: string): void {
    if (denials.delete(callerId)) this.count--;
  }
}
