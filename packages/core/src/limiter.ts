// createLimiter: validated policies over a store, answering take() with a Decision.
import { buildDecision, type Decision, type DecisionEvent } from './decision.js';
import { decisionChannel, type DecisionSource } from './diagnostics.js';
import { type CallerKey, callerIdOf } from './caller.js';
import { describeValue, invalidOption, TokenBucketError } from './errors.js';
import { hashCallerKey } from './hash.js';
import { type LockoutOptions, parseLockout } from './lockout.js';
import { checkOptionNames, optionNames } from './option-names.js';
import { parseCost, parsePolicies, type Policy, type PolicyOptions } from './policy.js';
import { sharedMemoryStore } from './store/memory.js';
import type { LockoutRule, Store, TakeResult } from './store/types.js';

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
  /**
   * Lock a caller out after repeated denials: after `after` denied takes within
   * `windowSeconds`, every take of that caller is denied for `durationSeconds`
   * (`decision.lockedMs` says how long is left), on every instance that shares the store.
   * `reset(key)` lifts it. An HTTP limiter with the same policy names and `lockout` shares it.
   * @default undefined (no lock-out)
   */
  lockout?: LockoutOptions;
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
   * otherwise takes nothing. `key` identifies the caller: the API key (or what an HTTP `key`
   * function returns), or `{ ip }` for a caller an HTTP limiter limits by IP; it is hashed
   * before it reaches the store, the same way the HTTP adapters hash it, so a limiter with the
   * same policy names and store reaches the same buckets as a route's limiter. Rejects with
   * INVALID_KEY or INVALID_COST on bad input, and with the store's error when the store fails.
   */
  take(key: CallerKey, options?: TakeOptions): Promise<Decision>;
  /** The caller's state, read without debiting anything (a take of cost 0). */
  get(key: CallerKey): Promise<Decision>;
  /**
   * Removes `tokens` from each of the caller's buckets whether or not they hold them (down to
   * empty, never below): e.g. for a request found abusive after it was admitted. Resolves with
   * the state after it.
   * @param tokens a finite number > 0; default 1
   */
  penalty(key: CallerKey, tokens?: number): Promise<Decision>;
  /**
   * Gives `tokens` back to each of the caller's buckets (never above capacity, never undoing what
   * other requests took meanwhile). Resolves with the state after it.
   * @param tokens a finite number > 0; default 1
   */
  reward(key: CallerKey, tokens?: number): Promise<Decision>;
  /** Refills the caller's buckets (the next take finds them full) and lifts its lock-out. */
  reset(key: CallerKey): Promise<void>;
}

const LIMITER_OPTIONS = optionNames<LimiterOptions>({ store: 1, name: 1, capacity: 1, refillPerSecond: 1, policies: 1, lockout: 1 });

/** Creates a limiter. Throws a TokenBucketError (code INVALID_OPTION) for bad options, unknown names included. */
export function createLimiter(options: LimiterOptions): Limiter {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
  checkOptionNames(options, LIMITER_OPTIONS);
  const policies = parsePolicies(options);
  return new TokenBucketLimiter(policies, parseStore(options.store), lockoutRule(policies, parseLockout(options.lockout)));
}

/**
 * The store's lock-out rule for these policies: named after the policies, so that every limiter
 * with the same policy names (a route's, an admin's) shares the lock.
 */
export function lockoutRule(policies: readonly Policy[], lockout: ReturnType<typeof parseLockout>): LockoutRule | undefined {
  if (lockout === undefined) return undefined;
  let name = policies.map((p) => p.name).join(',');
  if (name.length > 128) name = `${name.slice(0, 100)}~${hashCallerKey(name)}`;
  return Object.freeze({ name, after: lockout.after, windowMs: lockout.windowMs, durationMs: lockout.durationMs });
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
    readonly lockout?: LockoutRule,
  ) {}

  take(key: CallerKey, options?: TakeOptions): Promise<Decision> {
    let id: string;
    let cost: number;
    try {
      id = callerIdOf(key);
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
      const now = this.store.takeNow?.(callerId, this.policies, cost, this.lockout);
      if (now !== undefined) return this.decided(now, cost);
      return this.store.take(callerId, this.policies, cost, this.lockout).then((result) => this.decided(result, cost));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private decided(result: TakeResult, cost: number): Decided {
    return { decision: buildDecision(this.policies, result, cost), source: result.source ?? 'store' };
  }

  async get(key: CallerKey): Promise<Decision> {
    const decided = await this.takeById(callerIdOf(key), 0);
    return decided.decision;
  }

  async penalty(key: CallerKey, tokens = 1): Promise<Decision> {
    return this.adjust(key, -checkTokens(tokens));
  }

  async reward(key: CallerKey, tokens = 1): Promise<Decision> {
    return this.adjust(key, checkTokens(tokens));
  }

  private async adjust(key: CallerKey, tokens: number): Promise<Decision> {
    const result = await this.adjustById(callerIdOf(key), tokens);
    return buildDecision(this.policies, result, 0);
  }

  /** Gives back (tokens > 0) or removes (< 0) tokens of a caller id; what refunds go through. */
  adjustById(callerId: string, tokens: number): Promise<TakeResult> {
    try {
      return this.store.adjust(callerId, this.policies, tokens);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async reset(key: CallerKey): Promise<void> {
    const id = callerIdOf(key);
    await this.store.reset(id, this.policies);
    if (this.lockout !== undefined) await this.store.unlock(id, this.lockout);
  }
}

function checkTokens(tokens: unknown): number {
  if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens <= 0) {
    throw new TokenBucketError('INVALID_COST', `tokens must be a finite number > 0; got ${describeValue(tokens)}.`);
  }
  return tokens;
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
