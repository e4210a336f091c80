// The fallback's buckets start from what Redis last said about the caller, never full by default.
import { performance } from 'node:perf_hooks';
import type { Policy } from '../policy.js';
import { MemoryStore, sharedMemoryStore } from './memory.js';
import { bucketKey, type LockoutRule, type Store, type TakeResult } from './types.js';

/** A bucket's tokens at a moment of this process's monotonic clock (`performance.now()`). */
export interface Level {
  readonly tokens: number;
  readonly at: number;
}

/** Callers whose last levels a store keeps, by default; past it the oldest reading is dropped. */
export const LAST_LEVELS_KEYS = 100_000;

/**
 * What Redis last said about each caller's buckets in this process: the tokens left after the
 * take (after its debit when allowed), and when the take was sent. The bucket can only have
 * refilled since, and other processes can only have taken more, so the reading plus the refill
 * since is at least what Redis holds now. Bounded: at `maxKeys` the oldest reading is dropped
 * (that caller then starts full in the fallback, as one never seen).
 */
export class LastLevels {
  private readonly levels = new Map<string, Level>();

  constructor(readonly maxKeys = LAST_LEVELS_KEYS) {}

  get size(): number {
    return this.levels.size;
  }

  remember(callerId: string, policies: readonly Policy[], result: TakeResult, cost: number, at: number): void {
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      const key = bucketKey('', p.name, callerId);
      const level = result.levels[i]!;
      this.levels.delete(key);
      this.levels.set(key, { tokens: result.allowed ? level - cost : level, at });
    }
    while (this.levels.size > this.maxKeys) this.levels.delete(this.levels.keys().next().value as string);
  }

  get(key: string): Level | undefined {
    return this.levels.get(key);
  }

  forget(callerId: string, policies: readonly Policy[]): void {
    for (const p of policies) this.levels.delete(bucketKey('', p.name, callerId));
  }
}

/**
 * The local store that stands in for a failing RedisStore: a MemoryStore (lock-outs, refunds,
 * slots and all) whose buckets start from the more recent of two readings: what Redis last said
 * about the caller (its `LastLevels`), and what this fallback last left it at; plus the refill
 * since. A caller neither has seen starts full. So a caller Redis had drained stays drained
 * through a stall, and a fallback bucket that refilled while Redis was healthy is not handed out
 * again at the next stall: Redis's newer reading wins.
 */
export class FallbackStore extends MemoryStore {
  constructor(
    readonly levels: LastLevels,
    clock: () => number = () => performance.now(),
  ) {
    super({ maxKeys: levels.maxKeys, clock });
  }

  override takeNow(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): TakeResult {
    return { ...super.takeNow(callerId, policies, cost, lockout), source: 'fallback' };
  }

  protected override seenElsewhere(key: string): Level | undefined {
    return this.levels.get(key);
  }

  override reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    this.levels.forget(callerId, policies);
    return super.reset(callerId, policies);
  }
}

const fallbacks = new WeakMap<Store, MemoryStore>();

/**
 * The local store a limiter falls back to while `store` fails: for a store that remembers what
 * Redis said (RedisStore), one FallbackStore per store, shared by its routes (an instance admits at
 * most what one store would); for any other store, the process-wide MemoryStore.
 */
export function fallbackStore(store: Store): MemoryStore {
  const levels = (store as { levels?: unknown }).levels;
  if (!(levels instanceof LastLevels)) return sharedMemoryStore();
  let fallback = fallbacks.get(store);
  if (fallback === undefined) {
    fallback = new FallbackStore(levels);
    fallbacks.set(store, fallback);
  }
  return fallback;
}
