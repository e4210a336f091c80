// In-process bucket store: the embedded default, and the same semantics as the Redis store.
import { performance } from 'node:perf_hooks';
import { canTake } from '../decision.js';
import { invalidOption } from '../errors.js';
import type { Policy } from '../options.js';
import { bucketKey, type Store } from '../store.js';

export interface MemoryStoreOptions {
  /**
   * Most buckets held at once. When a new bucket would pass it, the least recently debited
   * bucket is dropped (its caller starts full again), so keep it above the number of callers
   * active within one refill window.
   * @default 100000
   */
  maxKeys?: number;
  /**
   * How often, in ms, buckets that have refilled to full are dropped. A full bucket is the same
   * as no bucket, so this only frees memory.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * Monotonic clock in milliseconds. Wall-clock jumps (NTP, a changed system time) must not
   * move it.
   * @default performance.now
   */
  clock?: () => number;
}

interface Bucket {
  /** Tokens at `at`. */
  tokens: number;
  /** Clock reading when `tokens` was written. */
  at: number;
  /** Clock reading when the bucket will be full, after which it can be dropped. */
  fullAt: number;
}

/** Buckets in a Map inside this process. Limits hold per process, not across instances. */
export class MemoryStore implements Store {
  readonly maxKeys: number;
  readonly sweepIntervalMs: number;
  private readonly clock: () => number;
  // Insertion order is write order (a write re-inserts), so the first entry is the least
  // recently debited bucket.
  private readonly buckets = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxKeys = 100_000, sweepIntervalMs = 60_000, clock = () => performance.now() } = options;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) invalidOption('maxKeys', maxKeys, 'an integer >= 1');
    if (typeof sweepIntervalMs !== 'number' || !(sweepIntervalMs >= 10) || !Number.isFinite(sweepIntervalMs)) {
      invalidOption('sweepIntervalMs', sweepIntervalMs, 'a finite number of milliseconds >= 10');
    }
    if (typeof clock !== 'function') invalidOption('clock', clock, 'a function returning milliseconds');
    this.maxKeys = maxKeys;
    this.sweepIntervalMs = sweepIntervalMs;
    this.clock = clock;
    this.timer = setInterval(() => this.sweep(), sweepIntervalMs);
    this.timer.unref();
  }

  /** Number of buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  take(callerId: string, policies: readonly Policy[], cost: number): Promise<number[]> {
    const now = this.clock();
    const keys: string[] = [];
    const levels: number[] = [];
    for (const p of policies) {
      const key = bucketKey('', p.name, callerId);
      keys.push(key);
      const b = this.buckets.get(key);
      levels.push(b === undefined ? p.capacity : Math.min(p.capacity, b.tokens + (Math.max(0, now - b.at) * p.refillPerSecond) / 1000));
    }
    if (cost > 0 && canTake(levels, cost)) {
      policies.forEach((p, i) => this.write(keys[i]!, p, levels[i]! - cost, now));
    }
    return Promise.resolve(levels);
  }

  reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    for (const p of policies) this.buckets.delete(bucketKey('', p.name, callerId));
    return Promise.resolve();
  }

  /** Drops every bucket that has refilled to full. Runs on a timer; callable directly. */
  sweep(): void {
    const now = this.clock();
    for (const [key, b] of this.buckets) if (b.fullAt <= now) this.buckets.delete(key);
  }

  /** Stops the sweep timer and drops every bucket. */
  close(): void {
    clearInterval(this.timer);
    this.buckets.clear();
  }

  private write(key: string, p: Policy, tokens: number, now: number): void {
    this.buckets.delete(key);
    if (tokens >= p.capacity) return;
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    this.buckets.set(key, { tokens, at: now, fullAt: now + ((p.capacity - tokens) * 1000) / p.refillPerSecond });
  }
}
