// createLimiter: validated policies over a store, answering take() with a Decision.
import { buildDecision, type Decision } from './decision.js';
import { describeValue, invalidOption, TokenBucketError } from './errors.js';
import { hashCallerKey } from './hash.js';
import { parseCost, parsePolicies, type LimiterOptions, type Policy } from './options.js';
import type { Store } from './store.js';
import { MemoryStore } from './stores/memory.js';

export interface TakeOptions {
  /**
   * Tokens this request uses: a finite number >= 0. 0 reads the buckets without debiting. A cost
   * above a policy's capacity is denied with `retryAfterMs: Infinity`.
   * @default 1
   */
  cost?: number;
}

export interface Limiter {
  /** The validated policies, in the order given. */
  readonly policies: readonly Policy[];
  /** The store the buckets live in. */
  readonly store: Store;
  /**
   * Takes `cost` tokens from each of the caller's buckets if every one holds them, atomically;
   * otherwise takes nothing. `key` identifies the caller (an API key, an IP); it is hashed
   * before it reaches the store. Rejects with INVALID_KEY or INVALID_COST on bad input, and with
   * the store's error when the store fails.
   */
  take(key: string, options?: TakeOptions): Promise<Decision>;
  /** Refills the caller's buckets: the next take finds them full. */
  reset(key: string): Promise<void>;
}

/** Creates a limiter. Throws a TokenBucketError (code INVALID_OPTION) for bad options. */
export function createLimiter(options: LimiterOptions): Limiter {
  const policies = parsePolicies(options);
  const store = options.store ?? defaultMemoryStore();
  if (typeof store !== 'object' || store === null || typeof store.take !== 'function' || typeof store.reset !== 'function') {
    invalidOption('store', store, 'a store: new RedisStore({ client }) or new MemoryStore()');
  }
  return new TokenBucketLimiter(policies, store);
}

let sharedDefault: MemoryStore | undefined;

/**
 * The process-wide MemoryStore of every limiter created without a `store`, so that policies with
 * the same name share buckets there as they would on one Redis.
 */
export function defaultMemoryStore(): MemoryStore {
  return (sharedDefault ??= new MemoryStore());
}

class TokenBucketLimiter implements Limiter {
  constructor(
    readonly policies: readonly Policy[],
    readonly store: Store,
  ) {}

  async take(key: string, options?: TakeOptions): Promise<Decision> {
    const cost = options?.cost === undefined ? 1 : parseCost(options.cost);
    const levels = await this.store.take(callerId(key), this.policies, cost);
    return buildDecision(this.policies, levels, cost);
  }

  async reset(key: string): Promise<void> {
    await this.store.reset(callerId(key), this.policies);
  }
}

function callerId(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TokenBucketError('INVALID_KEY', `the caller key must be a non-empty string; got ${describeValue(key)}.`);
  }
  return hashCallerKey(key);
}
