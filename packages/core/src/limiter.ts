// createLimiter: validated policies over a store, answering take() with a Decision.
import { buildDecision, type Decision, type DecisionEvent } from './decision.js';
import { decisionChannel, type DecisionSource } from './diagnostics.js';
import { type CallerKey, callerIdOf } from './caller.js';
import {
  checkSlotStore,
  boundBySlot,
  type ConcurrencyOptions,
  DEFAULT_CONCURRENCY_NAME,
  decisionWithSlot,
  HeldSlot,
  nextSlotId,
  parseConcurrency,
  slotView,
} from './concurrency.js';
import { describeValue, invalidOption, TokenBucketError } from './errors.js';
import { hashCallerKey } from './hash.js';
import { type LockoutOptions, parseLockout } from './lockout.js';
import { checkOptionNames, optionNames } from './option-names.js';
import { parseCost, parsePolicies, type Policy, type PolicyOptions } from './policy.js';
import { sharedMemoryStore } from './store/memory.js';
import type { ConcurrencyPolicy, LockoutRule, SlotResult, Store, TakeResult } from './store/types.js';

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
  /**
   * At most this many requests of a caller in flight at once, across every instance that shares
   * the store: `N`, or `{ max, leaseMs, name }`. Alone (no capacity, refillPerSecond or policies)
   * or beside token policies: an acquisition takes the tokens first, then a slot; a denial by a
   * token policy takes no slot, and one for lack of a slot gives the tokens back. Use
   * `acquire(key)`, which holds the slot until `release()`; `take` refuses such a limiter.
   * @default undefined (no concurrency limit)
   */
  concurrency?: number | ConcurrencyOptions;
}

/** What `acquire` resolves with: the decision, and the slot to give back when the work is done. */
export interface Acquired {
  readonly decision: Decision;
  /**
   * Gives the slot back (call it once the work is done, in a `finally`); only the first call
   * does anything, and it never rejects. Does nothing when the acquisition was denied. Until it
   * is called, the slot's lease is renewed every `leaseMs / 3`.
   */
  release(): Promise<void>;
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
   * TB_ERR_INVALID_KEY or TB_ERR_INVALID_COST on bad input, and with the store's error when the store fails.
   */
  take(key: CallerKey, options?: TakeOptions): Promise<Decision>;
  /**
   * For a limiter with `concurrency`: takes the cost from the token policies (if any) and holds
   * one of the caller's slots, all or nothing. Resolves with the decision and `release`, which
   * gives the slot back. A limiter without `concurrency` resolves as `take` does, with a
   * `release` that does nothing.
   */
  acquire(key: CallerKey, options?: TakeOptions): Promise<Acquired>;
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
  /** Refills the caller's buckets (the next take finds them full), lifts its lock-out and frees its slots. */
  reset(key: CallerKey): Promise<void>;
}

const LIMITER_OPTIONS = optionNames<LimiterOptions>({ store: 1, name: 1, capacity: 1, refillPerSecond: 1, policies: 1, lockout: 1, concurrency: 1 });
const NO_POLICIES: readonly Policy[] = Object.freeze([]);

/** Creates a limiter. Throws a TokenBucketError (code TB_ERR_INVALID_OPTION) for bad options, unknown names included. */
export function createLimiter(options: LimiterOptions): Limiter {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
  checkOptionNames(options, LIMITER_OPTIONS);
  const o = options;
  const tokenless =
    o.concurrency !== undefined && o.capacity === undefined && o.refillPerSecond === undefined && o.policies === undefined && o.name === undefined;
  const policies = tokenless ? NO_POLICIES : parsePolicies(options);
  const store = parseStore(options.store);
  const template = parseConcurrency(
    o.concurrency,
    policies.map((p) => p.name),
  );
  let concurrency: ConcurrencyPolicy | undefined;
  if (template !== undefined) {
    checkSlotStore(store);
    concurrency = Object.freeze({ ...template, name: template.name ?? DEFAULT_CONCURRENCY_NAME });
    // A given name was checked against the token policies' names; the default can clash too.
    if (policies.some((p) => p.name === concurrency!.name)) {
      invalidOption('concurrency.name', template.name, `given: a token policy already has the default name "${DEFAULT_CONCURRENCY_NAME}"`);
    }
  }
  if (tokenless && o.lockout !== undefined)
    invalidOption('lockout', o.lockout, 'left out on a limiter without token policies (a lock-out counts denials of tokens)');
  return new TokenBucketLimiter(policies, store, lockoutRule(policies, parseLockout(options.lockout)), concurrency);
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
    /** At most `max` requests of a caller in flight: see `admit`. */
    readonly concurrency?: ConcurrencyPolicy,
  ) {}

  take(key: CallerKey, options?: TakeOptions): Promise<Decision> {
    let id: string;
    let cost: number;
    try {
      if (this.concurrency !== undefined) {
        throw new TokenBucketError(
          'TB_ERR_INVALID_OPTION',
          'this limiter has a `concurrency` policy: use `acquire(key)`, which holds a slot until you call `release()`.',
          'concurrency',
        );
      }
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

  async acquire(key: CallerKey, options?: TakeOptions): Promise<Acquired> {
    const id = callerIdOf(key);
    const cost = options?.cost === undefined ? 1 : parseCost(options.cost);
    const decided = await this.admit(id, cost);
    if (decisionChannel.hasSubscribers) decisionChannel.publish(decisionEvent(decided, id, cost, undefined, undefined, false));
    const slot = decided.slot;
    return { decision: decided.decision, release: slot === undefined ? releaseNothing : () => slot.release() };
  }

  /**
   * A request's admission: the take, and with a concurrency policy a slot, all or nothing. Tokens
   * first: a request its rate denies takes no slot; one denied for lack of a slot gets its tokens
   * back (a refund, which other requests' takes meanwhile may make a denial of their own: the
   * under-admission a refund allows). A store's fault after the tokens were taken gives them back
   * too, and rejects. At once when the store answers at once.
   */
  admit(callerId: string, cost: number): Decided | Promise<Decided> {
    const c = this.concurrency;
    if (c === undefined) return this.takeById(callerId, cost);
    if (this.policies.length === 0) return this.withSlot(callerId, c, undefined, cost);
    let taken: TakeResult | Promise<TakeResult>;
    try {
      taken = this.store.takeNow?.(callerId, this.policies, cost, this.lockout) ?? this.store.take(callerId, this.policies, cost, this.lockout);
    } catch (err) {
      return Promise.reject(err);
    }
    if (taken instanceof Promise) return taken.then((result) => this.slotAfter(callerId, c, result, cost));
    return this.slotAfter(callerId, c, taken, cost);
  }

  private slotAfter(callerId: string, c: ConcurrencyPolicy, taken: TakeResult, cost: number): Decided | Promise<Decided> {
    if (!taken.allowed) return this.decided(taken, cost);
    return this.withSlot(callerId, c, taken, cost);
  }

  /** Acquires a slot after `taken` (allowed; undefined: no token policies), and decides on both. */
  private withSlot(callerId: string, c: ConcurrencyPolicy, taken: TakeResult | undefined, cost: number): Decided | Promise<Decided> {
    const slotId = nextSlotId();
    const refund = (): void => {
      if (taken !== undefined && cost > 0) this.adjustById(callerId, cost).then(undefined, () => undefined);
    };
    let got: SlotResult | Promise<SlotResult>;
    try {
      got = this.store.acquireSlotNow?.(callerId, c, slotId) ?? this.store.acquireSlot!(callerId, c, slotId);
    } catch (err) {
      refund();
      return Promise.reject(err);
    }
    const decide = (slot: SlotResult): Decided => {
      if (!slot.allowed) refund();
      const tokenViews = taken === undefined ? [] : buildDecision(this.policies, taken, slot.allowed ? cost : 0).policies;
      const decision = decisionWithSlot(tokenViews, slotView(c, slot), slot.allowed);
      const source = slot.source ?? 'store';
      return slot.allowed ? { decision, source, slot: new HeldSlot(this.store, callerId, c, slotId) } : { decision, source };
    };
    if (!(got instanceof Promise)) return decide(got);
    return got.then(decide, (err: unknown) => {
      refund();
      throw err;
    });
  }

  private decided(result: TakeResult, cost: number): Decided {
    return { decision: buildDecision(this.policies, result, cost), source: result.source ?? 'store' };
  }

  async get(key: CallerKey): Promise<Decision> {
    const id = callerIdOf(key);
    const c = this.concurrency;
    if (c === undefined) return (await this.takeById(id, 0)).decision;
    const [tokens, held] = await Promise.all([this.policies.length === 0 ? undefined : this.takeById(id, 0), this.store.countSlots?.(id, c) ?? 0]);
    const free = held < c.max;
    return decisionWithSlot(tokens?.decision.policies ?? [], slotView(c, { allowed: free, held }), (tokens?.decision.allowed ?? true) && free);
  }

  async penalty(key: CallerKey, tokens = 1): Promise<Decision> {
    return this.adjust(key, -checkTokens(tokens));
  }

  async reward(key: CallerKey, tokens = 1): Promise<Decision> {
    return this.adjust(key, checkTokens(tokens));
  }

  private async adjust(key: CallerKey, tokens: number): Promise<Decision> {
    if (this.policies.length === 0) {
      throw new TokenBucketError('TB_ERR_INVALID_OPTION', 'this limiter has no token policies to give tokens to or take them from.', 'concurrency');
    }
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
    if (this.policies.length > 0) await this.store.reset(id, this.policies);
    if (this.lockout !== undefined) await this.store.unlock(id, this.lockout);
    if (this.concurrency !== undefined) await this.store.resetSlots?.(id, this.concurrency);
  }
}

function checkTokens(tokens: unknown): number {
  if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens <= 0) {
    throw new TokenBucketError('TB_ERR_INVALID_COST', `tokens must be a finite number > 0; got ${describeValue(tokens)}.`);
  }
  return tokens;
}

/** A decision and where it came from. */
export interface Decided {
  readonly decision: Decision;
  readonly source: DecisionSource;
  /** The slot the request now holds (an allowed admission under a concurrency policy). */
  readonly slot?: HeldSlot;
}

const releaseNothing = (): Promise<void> => Promise.resolve();

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
    kind: boundBySlot(decision) ? 'concurrency' : 'rate',
    callerId,
    keySource,
    dryRun,
    decision,
  };
}
