// createLimiter: validated policies over a store, answering take() with a Decision.
import { buildDecision, type Decision, type DecisionEvent } from './decision.js';
import { decisionChannel, type DecisionSource } from './diagnostics.js';
import { describeValue, invalidOption, TokenBucketError } from './errors.js';
import { hashCallerKey } from './hash.js';
import { checkOptionNames, optionNames } from './option-names.js';
import { parseCost, parsePolicies, type Policy, type PolicyOptions } from './policy.js';
import { sharedMemoryStore } from './store/memory.js';
import type { Store, TakeResult } from './store/types.js';

/** Options of `createLimiter`: one policy inline, or several in `policies`. */
export interface LimiterOptions extends Partial<PolicyOptions> {
  /**
   * Where buckets live. A `RedisStore` shares limits across every instance of the app; a
   * `MemoryStore` limits within one process.
   * @default a process-wide MemoryStore shared by every limiter created without a store
   */
  store?: Store;
  /**
   * Several policies checked together: a take is allowed only when every bucket holds the cost,
   * and then every bucket is debited (all or nothing). Give either `policies` or the inline
   * `capacity` / `refillPerSecond` / `name`, not both.
   */
  policies?: readonly PolicyOptions[];
}

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

const LIMITER_OPTIONS = optionNames<LimiterOptions>({ store: 1, name: 1, capacity: 1, refillPerSecond: 1, policies: 1 });

/** Creates a limiter. Throws a TokenBucketError (code INVALID_OPTION) for bad options, unknown names included. */
export function createLimiter(options: LimiterOptions): Limiter {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
  checkOptionNames(options, LIMITER_OPTIONS);
  return new TokenBucketLimiter(parsePolicies(options), parseStore(options.store));
}

/** Validates the `store` option; a missing one is the process-wide MemoryStore. */
export function parseStore(store: unknown): Store {
  if (store === undefined) return sharedMemoryStore();
  if (typeof store !== 'object' || store === null || typeof (store as Store).take !== 'function' || typeof (store as Store).reset !== 'function') {
    invalidOption('store', store, 'a store: new RedisStore({ client }) or new MemoryStore()');
  }
  return store as Store;
}

/**
 * A limiter over validated policies. The HTTP engine, which has already validated the cost and
 * hashed the caller's key, calls `takeById` directly.
 */
export class TokenBucketLimiter implements Limiter {
  constructor(
    readonly policies: readonly Policy[],
    readonly store: Store,
  ) {}

  take(key: string, options?: TakeOptions): Promise<Decision> {
    let id: string;
    let cost: number;
    try {
      id = callerId(key);
      cost = options?.cost === undefined ? 1 : parseCost(options.cost);
    } catch (err) {
      return Promise.reject(err);
    }
    const taken = Promise.resolve(this.takeById(id, cost));
    if (!decisionChannel.hasSubscribers) return taken.then(decisionOf);
    return taken.then((decided) => {
      decisionChannel.publish(decisionEvent(decided, id, cost, undefined, undefined, false));
      return decided.decision;
    });
  }

  /**
   * A take for a hashed caller id and a cost already validated, and where its answer came from:
   * at once when the store answers at once (`takeNow`), else a promise. Never throws: a store's
   * fault is a rejection.
   */
  takeById(callerId: string, cost: number): Decided | Promise<Decided> {
    try {
      const now = this.store.takeNow?.(callerId, this.policies, cost);
      if (now !== undefined) return this.decided(now, cost);
      return this.store.take(callerId, this.policies, cost).then((result) => this.decided(result, cost));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private decided(result: TakeResult, cost: number): Decided {
    return { decision: buildDecision(this.policies, result, cost), source: result.source ?? 'store' };
  }

  async reset(key: string): Promise<void> {
    await this.store.reset(callerId(key), this.policies);
  }
}

/** A decision and where it came from. */
export interface Decided {
  readonly decision: Decision;
  readonly source: DecisionSource;
}

const decisionOf = (decided: Decided): Decision => decided.decision;

/** The event `onDecision` and the `tokenbucket:decision` channel receive. */
export function decisionEvent(
  { decision, source }: Decided,
  callerId: string,
  cost: number,
  route: string | undefined,
  keySource: DecisionEvent['keySource'],
  dryRun: boolean,
): DecisionEvent {
  return {
    route,
    policy: decision.policy,
    outcome: decision.allowed ? 'allowed' : 'denied',
    source,
    cost,
    remaining: decision.remaining,
    callerId,
    keySource,
    dryRun,
    decision,
  };
}

function callerId(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TokenBucketError('INVALID_KEY', `the caller key must be a non-empty string; got ${describeValue(key)}.`);
  }
  return hashCallerKey(key);
}
