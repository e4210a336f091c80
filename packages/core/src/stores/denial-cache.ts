// Remembered denials: a bucket only refills with time, so a denial stays certain for a while.
import { canTake } from '../decision.js';
import type { Policy } from '../options.js';

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
  private readonly denials = new Map<string, Denial>();
  private readonly ids = new WeakMap<readonly Policy[], number>();
  private nextId = 0;

  constructor(
    readonly maxKeys: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Upper bounds of the levels now, if they still cannot cover `cost`; else undefined. */
  check(callerId: string, policies: readonly Policy[], cost: number): number[] | undefined {
    if (this.denials.size === 0) return undefined;
    const key = this.key(callerId, policies);
    const denial = this.denials.get(key);
    if (denial === undefined) return undefined;
    const elapsed = Math.max(0, this.clock() - denial.sentAt);
    const upper = policies.map((p, i) => Math.min(p.capacity, denial.levels[i]! + (elapsed * p.refillPerSecond) / 1000));
    if (canTake(upper, cost)) {
      this.denials.delete(key);
      return undefined;
    }
    return upper;
  }

  remember(callerId: string, policies: readonly Policy[], levels: readonly number[], sentAt: number): void {
    const key = this.key(callerId, policies);
    // Start over when full: a cache miss only costs one call to the store, and evicting one
    // entry at a time from a Map whose keys keep changing slows every eviction down.
    if (this.denials.size >= this.maxKeys && !this.denials.has(key)) this.denials.clear();
    this.denials.set(key, { levels, sentAt });
  }

  forget(callerId: string, policies: readonly Policy[]): void {
    this.denials.delete(this.key(callerId, policies));
  }

  get size(): number {
    return this.denials.size;
  }

  private key(callerId: string, policies: readonly Policy[]): string {
    let id = this.ids.get(policies);
    if (id === undefined) this.ids.set(policies, (id = this.nextId++));
    return `${id}:${callerId}`;
  }
}
