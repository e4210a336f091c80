// The options every adapter takes, and their parsing, once, into a frozen config.
import { type ConcurrencyOptions, type ConcurrencyTemplate, checkSlotStore, parseConcurrency } from '../concurrency.js';
import type { DecisionEvent } from '../decision.js';
import { invalidOption } from '../errors.js';
import { parseStore } from '../limiter.js';
import { type HttpLockoutOptions, type LockoutConfig, parseLockout } from '../lockout.js';
import { checkOptionNames, optionNames } from '../option-names.js';
import { parseCost, parsePolicyTemplates, type PolicyOptions, type PolicyTemplate } from '../policy.js';
import type { StoreStatusChange } from '../diagnostics.js';
import type { Store } from '../store/types.js';
import { parseIpv6Subnet, type Ipv6Subnet } from './ip.js';

type MaybePromise<T> = T | Promise<T>;

/** What to do with a request that carries no API key. */
export type MissingKeyStrategy = 'ip' | 'reject' | 'skip';
/** What to do when the store fails. */
export type StoreFailureStrategy = 'fallback' | 'allow' | 'deny';
/** A function of the caller's key and the request giving its policies (per-caller tiers). */
export type PoliciesFunction<Req> = (key: string, req: Req) => MaybePromise<readonly PolicyOptions[]>;

/** Options every adapter accepts; `Req` is the framework's request (Koa: the context). */
export interface HttpLimiterOptions<Req> {
  /**
   * Where buckets live. Use a `RedisStore` to share limits across instances.
   * @default a process-wide MemoryStore shared by every limiter created without a store
   */
  store?: Store;
  /** Bucket size: the largest burst, an integer >= 1. */
  capacity?: number;
  /** Tokens per second, a number > 0 (`1000 / 86400` is 1000 a day). */
  refillPerSecond?: number;
  /**
   * Policy name. Routes whose policies share a name share one quota; without a name, each route
   * (method and route pattern, e.g. `GET /items/:id`) has its own buckets.
   * @default the route: method and pattern
   */
  name?: string;
  /**
   * Several policies checked together (all or nothing), or a function of the caller's key and
   * the request that returns them (sync or async), for per-caller tiers (free vs pro). The
   * function's result is parsed once per array object: return the same constant arrays (e.g.
   * `FREE` or `PRO`), and wrap a slow lookup in `memoizePolicies` to cache it per caller.
   */
  policies?: readonly PolicyOptions[] | PoliciesFunction<Req>;
  /**
   * The caller's identity. Returning `undefined`, `null` or `''` means "no key" (see
   * `missingKey`); anything else but a string is an error.
   * @default the `X-API-Key` header, else the token of `Authorization: Bearer <token>`
   */
  key?: (req: Req) => MaybePromise<string | undefined | null>;
  /**
   * A request without a key: `'ip'` limits it by client IP (as the framework's trust-proxy
   * setting reports it), `'reject'` answers 401, `'skip'` lets it through unlimited.
   * @default 'ip'
   */
  missingKey?: MissingKeyStrategy;
  /**
   * How the `'ip'` fallback groups IPv6 clients: by their network of this prefix length (an
   * integer from 32 to 128), since one client usually owns a whole /64 or more and could change
   * address with every request; `false` limits each IPv6 address on its own. IPv4-mapped IPv6
   * addresses (`::ffff:1.2.3.4`) always count as the IPv4 address.
   * @default 56
   */
  ipv6Subnet?: Ipv6Subnet;
  /**
   * Tokens a request costs: a number >= 0, or a function of the request. A static cost above a
   * policy's capacity is an error at creation; a computed one answers 413 (no wait would help).
   * @default 1
   */
  cost?: number | ((req: Req) => MaybePromise<number>);
  /** Return true to let a request through without limiting it or sending headers. */
  skip?: (req: Req) => MaybePromise<boolean>;
  /**
   * Give a request's tokens back when its response succeeds (status below 400): only failures
   * count, e.g. failed logins.
   * @default false
   */
  skipSuccessfulRequests?: boolean;
  /**
   * Give a request's tokens back when its response fails (status 400 or above), and when its
   * connection closes before the response is sent: e.g. do not count your own 5xx.
   * @default false
   */
  skipFailedRequests?: boolean;
  /**
   * Give a request's tokens back when this returns true, given the response's status code
   * (`undefined` when the connection closed before the response was sent). Called once the
   * response is done, not awaited by the response; a throw or rejection keeps the tokens spent
   * and emits a warning. Combines with the two flags above: any of them gives the tokens back.
   */
  skipResponse?: (req: Req, status: number | undefined) => MaybePromise<boolean>;
  /**
   * Lock a caller out after repeated denials: after `after` denials by this limiter within
   * `windowSeconds`, every request of that caller is denied for `durationSeconds` (status
   * `status`, with `Retry-After` the time left), on every instance that shares the store, and
   * from memory once an instance knows it. `limiter.reset(key)` lifts it.
   * @default undefined (no lock-out)
   */
  lockout?: HttpLockoutOptions;
  /**
   * At most this many requests of a caller in flight at once on this limiter's routes, across
   * every instance that shares the store: `N`, or `{ max, leaseMs, name }`. A request holds a
   * slot from its admission until its response is sent, its connection closes or it errors.
   * Alone (no capacity, refillPerSecond or policies) or beside token policies, all or nothing:
   * a request its rate denies takes no slot, one denied for lack of a slot spends no tokens. A
   * denial answers 429 with `Retry-After: 1`. Unnamed, the policy is named after the route with
   * `#concurrency`.
   * @default undefined (no concurrency limit)
   */
  concurrency?: number | ConcurrencyOptions;
  /**
   * Compute decisions, send headers and call hooks, but never block a request (not even with
   * `storeFailure: 'deny'` while the store fails).
   * @default false
   */
  dryRun?: boolean;
  /**
   * When the store fails: `'fallback'` limits locally in this process with the same policies,
   * `'allow'` lets requests through, `'deny'` answers 503 with Retry-After.
   * @default 'fallback'
   */
  storeFailure?: StoreFailureStrategy;
  /**
   * Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
   * @default false
   */
  legacyHeaders?: boolean;
  /**
   * Called with every decision, for metrics and logs, with the same event the
   * `tokenbucket:decision` diagnostics channel publishes. Never given the raw key. Not awaited;
   * if it throws or its promise rejects, the request goes on and a warning is emitted.
   */
  onDecision?: (event: DecisionEvent, req: Req) => unknown;
  /**
   * Called when a call to the store fails (an error or a time-out), with what the limiter did
   * about it. Not while the store's circuit is open: then `onStoreStatus` has said it is down
   * and requests are answered by `storeFailure` without calling it. Not awaited.
   */
  onStoreError?: (event: StoreFailureEvent, req: Req) => unknown;
  /**
   * Called once per change of the store's availability, not per request: `'down'` when the
   * store's circuit opens (from then on `storeFailure` answers, e.g. the local fallback), `'up'`
   * when it closes again. Given the same function, several limiters on one store report each
   * change once. Not awaited.
   */
  onStoreStatus?: (event: StoreStatusChange) => unknown;
}

/** What `onStoreError` receives. */
export interface StoreFailureEvent {
  readonly route: string;
  readonly error: unknown;
  /** What the limiter did: the `storeFailure` setting. */
  readonly action: StoreFailureStrategy;
}

/** HttpLimiterOptions, validated: what the engine reads on every request, and nothing else. */
export interface HttpConfig<Req> {
  readonly store: Store;
  /** Fixed policies (unnamed ones are named after the route), or a function of the caller. */
  readonly policies: readonly PolicyTemplate[] | PoliciesFunction<Req>;
  readonly key: HttpLimiterOptions<Req>['key'];
  readonly missingKey: MissingKeyStrategy;
  readonly ipv6Subnet: Ipv6Subnet;
  readonly cost: number | ((req: Req) => MaybePromise<number>);
  readonly skip: HttpLimiterOptions<Req>['skip'];
  /** Whether a response with this status (undefined: connection closed first) gives the tokens back; undefined when none does. */
  readonly refundWhen: ((req: Req, status: number | undefined) => MaybePromise<boolean>) | undefined;
  readonly lockout: LockoutConfig | undefined;
  /** The concurrency policy (unnamed: named after the route), if any. */
  readonly concurrency: ConcurrencyTemplate | undefined;
  readonly dryRun: boolean;
  readonly storeFailure: StoreFailureStrategy;
  readonly legacyHeaders: boolean;
  readonly onDecision: HttpLimiterOptions<Req>['onDecision'];
  readonly onStoreError: HttpLimiterOptions<Req>['onStoreError'];
  readonly onStoreStatus: HttpLimiterOptions<Req>['onStoreStatus'];
}

/** The names of HttpLimiterOptions. */
export const HTTP_OPTION_NAMES = optionNames<HttpLimiterOptions<unknown>>({
  store: 1,
  capacity: 1,
  refillPerSecond: 1,
  name: 1,
  policies: 1,
  key: 1,
  missingKey: 1,
  ipv6Subnet: 1,
  cost: 1,
  skip: 1,
  skipSuccessfulRequests: 1,
  skipFailedRequests: 1,
  skipResponse: 1,
  lockout: 1,
  concurrency: 1,
  dryRun: 1,
  storeFailure: 1,
  legacyHeaders: 1,
  onDecision: 1,
  onStoreError: 1,
  onStoreStatus: 1,
});

const MISSING_KEYS: readonly MissingKeyStrategy[] = ['ip', 'reject', 'skip'];
const STORE_FAILURES: readonly StoreFailureStrategy[] = ['fallback', 'allow', 'deny'];

/**
 * Validates adapter options into a frozen config. Throws a TokenBucketError (TB_ERR_INVALID_OPTION)
 * naming the option and value for anything wrong, and for a name not in `known` (the adapter's
 * options: these and the ones it reads itself).
 */
export function parseHttpOptions<Req>(options: HttpLimiterOptions<Req>, known: readonly string[] = HTTP_OPTION_NAMES): HttpConfig<Req> {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
  checkOptionNames(options, known);
  const o = options;
  const cost = typeof o.cost === 'function' ? o.cost : o.cost === undefined ? 1 : parseCost(o.cost);
  let policies: HttpConfig<Req>['policies'];
  const tokenless =
    o.concurrency !== undefined && o.capacity === undefined && o.refillPerSecond === undefined && o.policies === undefined && o.name === undefined;
  if (tokenless) {
    policies = Object.freeze([]);
    if (o.lockout !== undefined) invalidOption('lockout', o.lockout, 'left out on a limiter without token policies (a lock-out counts denials of tokens)');
  } else if (typeof o.policies === 'function') {
    for (const inline of ['name', 'capacity', 'refillPerSecond'] as const) {
      if (o[inline] !== undefined) {
        invalidOption(inline, o[inline], 'left out when `policies` is a function (the function gives the policies)');
      }
    }
    policies = o.policies;
  } else {
    if (o.policies !== undefined && !Array.isArray(o.policies)) {
      invalidOption('policies', o.policies, 'a non-empty array of { name, capacity, refillPerSecond }, or a function returning one');
    }
    policies = parsePolicyTemplates(o, 'allowed');
    const smallest = policies.reduce((min, p) => Math.min(min, p.capacity), Infinity);
    if (typeof cost === 'number' && cost > smallest) {
      invalidOption('cost', cost, `at most the smallest capacity (${smallest}): a request costing more could never be allowed`);
    }
  }
  const store = parseStore(o.store);
  const concurrency = parseConcurrency(o.concurrency, typeof policies === 'function' ? [] : policies.map((p) => p.name));
  if (concurrency !== undefined) checkSlotStore(store);
  return Object.freeze({
    store,
    policies,
    key: optionalFunction(o, 'key'),
    missingKey: oneOf(o, 'missingKey', MISSING_KEYS, 'ip'),
    ipv6Subnet: parseIpv6Subnet(o.ipv6Subnet),
    cost,
    skip: optionalFunction(o, 'skip'),
    refundWhen: parseRefundWhen(o),
    lockout: parseLockout(o.lockout, true),
    concurrency,
    dryRun: flag(o, 'dryRun'),
    storeFailure: oneOf(o, 'storeFailure', STORE_FAILURES, 'fallback'),
    legacyHeaders: flag(o, 'legacyHeaders'),
    onDecision: optionalFunction(o, 'onDecision'),
    onStoreError: parseOnStoreError(o.onStoreError),
    onStoreStatus: optionalFunction(o, 'onStoreStatus'),
  });
}

/** skipSuccessfulRequests, skipFailedRequests and skipResponse as one test of the outcome. */
function parseRefundWhen<Req>(o: HttpLimiterOptions<Req>): HttpConfig<Req>['refundWhen'] {
  const successful = flag(o, 'skipSuccessfulRequests');
  const failed = flag(o, 'skipFailedRequests');
  const custom = optionalFunction(o, 'skipResponse');
  if (!successful && !failed) return custom;
  const byStatus = (status: number | undefined): boolean => (status === undefined || status >= 400 ? failed : successful);
  if (custom === undefined) return (_req, status) => byStatus(status);
  return (req, status) => byStatus(status) || custom(req, status);
}

/** `onStoreError` is the callback; its strings of before 1.0 are the strategy `storeFailure` now. */
function parseOnStoreError<Req>(value: HttpLimiterOptions<Req>['onStoreError']): HttpLimiterOptions<Req>['onStoreError'] {
  if (typeof value === 'string') {
    invalidOption(
      'onStoreError',
      value,
      `a function, called when the store fails; the strategy ${STORE_FAILURES.map((a) => `'${a}'`).join(', ')} is now the option \`storeFailure\``,
    );
  }
  return optionalFunction({ onStoreError: value }, 'onStoreError');
}

/** Validates an option that, when given, must be a function. */
export function optionalFunction<O extends object, K extends keyof O>(o: O, name: K): O[K] {
  const value = o[name];
  if (value !== undefined && typeof value !== 'function') invalidOption(String(name), value, 'a function');
  return value;
}

function oneOf<T extends string>(o: object, name: string, allowed: readonly T[], fallback: T): T {
  const value = (o as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) invalidOption(name, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return value as T;
}

function flag(o: object, name: string): boolean {
  const value = (o as Record<string, unknown>)[name];
  if (value !== undefined && typeof value !== 'boolean') invalidOption(name, value, 'true or false');
  return value === true;
}
