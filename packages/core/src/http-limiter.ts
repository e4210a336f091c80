// The framework-free heart of every HTTP adapter: from a request to "pass" or "answer this".
import type { Decision } from './decision.js';
import { describeValue, invalidOption, TokenBucketError } from './errors.js';
import { hashCallerKey } from './hash.js';
import {
  apiKeyFromHeaders,
  headersWithPolicy,
  missingKeyProblem,
  problemDetails,
  rateLimitPolicy,
  retryAfterSeconds,
  storeUnavailableProblem,
  type ProblemDetails,
  type RequestHeaders,
} from './http.js';
import { ipCallerKey, parseIpv6Subnet, type Ipv6Subnet } from './ip.js';
import { createLimiter, defaultMemoryStore, type Limiter } from './limiter.js';
import { parseCost, parsePolicies, type LimiterOptions, type PolicyOptions } from './options.js';
import type { StoreStatusEvent } from './breaker.js';
import type { Store } from './store.js';
import { MemoryStore } from './stores/memory.js';

type MaybePromise<T> = T | Promise<T>;

/** What to do with a request that carries no API key. */
export type OnMissingKey = 'ip' | 'reject' | 'skip';
/** What to do when the store fails. */
export type OnStoreError = 'fallback' | 'allow' | 'deny';

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
  policies?: readonly PolicyOptions[] | ((key: string, req: Req) => MaybePromise<readonly PolicyOptions[]>);
  /**
   * The caller's identity. Returning `undefined`, `null` or `''` means "no key" (see
   * `onMissingKey`); anything else but a string is an error.
   * @default the `X-API-Key` header, else the token of `Authorization: Bearer <token>`
   */
  key?: (req: Req) => MaybePromise<string | undefined | null>;
  /**
   * A request without a key: `'ip'` limits it by client IP (as the framework's trust-proxy
   * setting reports it), `'reject'` answers 401, `'skip'` lets it through unlimited.
   * @default 'ip'
   */
  onMissingKey?: OnMissingKey;
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
   * Compute decisions, send headers and call hooks, but never block a request (not even with
   * `onStoreError: 'deny'` while the store fails).
   * @default false
   */
  dryRun?: boolean;
  /**
   * When the store fails: `'fallback'` limits locally in this process with the same policies,
   * `'allow'` lets requests through, `'deny'` answers 503 with Retry-After.
   * @default 'fallback'
   */
  onStoreError?: OnStoreError;
  /**
   * Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
   * @default false
   */
  legacyHeaders?: boolean;
  /**
   * Called with every decision, for metrics and logs. Never given the raw key. Not awaited; if
   * it throws or its promise rejects, the request goes on and a warning is emitted.
   */
  onDecision?: (event: DecisionEvent, req: Req) => unknown;
  /**
   * Called when a call to the store fails (an error or a time-out), with what the limiter did
   * about it. Not while the store's circuit is open: then `onStoreStatus` has said it is down
   * and requests are answered by `onStoreError` without calling it. Not awaited.
   */
  onError?: (event: StoreErrorEvent, req: Req) => unknown;
  /**
   * Called once per change of the store's availability, not per request: `'down'` when the
   * store's circuit opens (from then on `onStoreError` answers, e.g. the local fallback), `'up'`
   * when it closes again. Given the same function, several limiters on one store report each
   * change once. Not awaited.
   */
  onStoreStatus?: (event: StoreStatusEvent) => unknown;
}

/** What `onDecision` receives. */
export interface DecisionEvent {
  /** The route's identity, e.g. `GET /items/:id`. */
  readonly route: string;
  /** The hashed caller id (the raw key never leaves the limiter). */
  readonly callerId: string;
  /** Whether the caller was identified by its key or, lacking one, by IP. */
  readonly keySource: 'key' | 'ip';
  readonly decision: Decision;
  /** `'fallback'` when the store failed and the local limiter decided. */
  readonly source: 'store' | 'fallback';
  readonly dryRun: boolean;
}

/** What `onError` receives. */
export interface StoreErrorEvent {
  readonly route: string;
  readonly error: unknown;
  /** What the limiter did: the `onStoreError` setting. */
  readonly action: OnStoreError;
}

/** What the adapter learns about a request. */
export interface RequestInfo {
  /** The route's identity: method and route pattern (never the concrete URL). */
  route: string;
  /** The request's headers; pass `keyHeaders(nodeRequest)`, which keeps a repeated header's lines apart. */
  headers: RequestHeaders;
  /** The client IP per the framework's trust-proxy setting. */
  ip: string | undefined;
}

/** What the adapter must do: set `headers`, then continue or answer. */
export type HttpOutcome =
  /** Continue to the handler. */
  | { readonly action: 'pass'; readonly headers: readonly [string, string][]; readonly decision?: Decision }
  /** Denied by a policy: answer `status` (429, or 413 for an impossible cost) unless `onLimited` does. */
  | {
      readonly action: 'limited';
      readonly headers: readonly [string, string][];
      readonly decision: Decision;
      readonly status: number;
      /** The problem body (frozen: outcomes may share it). */
      readonly body: ProblemDetails;
      /** `body` as JSON, what adapters send as `application/problem+json`. */
      readonly bodyText: string;
    }
  /** Refused without a decision: 401 (no key, `'reject'`) or 503 (store down, `'deny'`). */
  | {
      readonly action: 'reject';
      readonly headers: readonly [string, string][];
      readonly status: number;
      readonly body: ProblemDetails;
      readonly bodyText: string;
    };

/** Retry-After, in seconds, of a 503 answered because the store failed. */
export const STORE_DOWN_RETRY_AFTER_SECONDS = 1;

interface Problem {
  body: ProblemDetails;
  bodyText: string;
}
const problem = (body: ProblemDetails): Problem => ({ body: Object.freeze(body), bodyText: JSON.stringify(body) });
const MISSING_KEY = problem(missingKeyProblem());
const STORE_UNAVAILABLE = problem(storeUnavailableProblem(STORE_DOWN_RETRY_AFTER_SECONDS));

/**
 * Problem bodies of recent denials, serialized once: a caller hammering a limit gets the same body
 * for a second at a time (it depends only on the policy, its capacity and the whole seconds to
 * wait), and building and serializing it was most of a cached denial's cost.
 */
const limitedProblems = new Map<string, Problem>();
const LIMITED_PROBLEMS_MAX = 1000;

function limitedProblem(decision: Decision): Problem {
  const key = `${decision.policy}\n${decision.limit}\n${retryAfterSeconds(decision) ?? 'never'}`;
  let found = limitedProblems.get(key);
  if (found === undefined) {
    found = problem(problemDetails(decision));
    if (limitedProblems.size >= LIMITED_PROBLEMS_MAX) limitedProblems.clear();
    limitedProblems.set(key, found);
  }
  return found;
}

/** Route names whose limiters one engine keeps (per policies list); more are built per request. */
const MAX_CACHED_ROUTES = 10_000;
const NO_HEADERS: readonly [string, string][] = Object.freeze([]);
const PASS: HttpOutcome = Object.freeze({ action: 'pass', headers: NO_HEADERS });
const MISSING_KEYS: readonly OnMissingKey[] = ['ip', 'reject', 'skip'];
const STORE_ERRORS: readonly OnStoreError[] = ['fallback', 'allow', 'deny'];

interface Limiters {
  main: Limiter;
  fallback: Limiter | undefined;
  /** The `RateLimit-Policy` value, the same for every decision of these limiters (kept flat and ready). */
  policyHeader: string | undefined;
}

/** The decision engine behind `rateLimit(...)` in every adapter. */
export interface HttpLimiter<Req> {
  /** Decides what to do with a request. Rejects only for a user function's fault (key, cost, policies). */
  check(req: Req, info: RequestInfo): Promise<HttpOutcome>;
}

/**
 * Validates adapter options and builds the engine. Throws a TokenBucketError (INVALID_OPTION)
 * naming the option and value for anything wrong.
 */
export function createHttpLimiter<Req>(options: HttpLimiterOptions<Req>): HttpLimiter<Req> {
  return new Engine(options);
}

class Engine<Req> implements HttpLimiter<Req> {
  private readonly store: Store;
  private readonly policyOptions: readonly PolicyOptions[] | undefined;
  private readonly policiesFn: ((key: string, req: Req) => MaybePromise<readonly PolicyOptions[]>) | undefined;
  private readonly named: Limiters | undefined; // static policies that all have names
  private readonly byRoute = new Map<string, Limiters>();
  private readonly byPolicies = new WeakMap<readonly PolicyOptions[], Map<string, Limiters>>();
  private readonly keyFn: HttpLimiterOptions<Req>['key'];
  private readonly onMissingKey: OnMissingKey;
  private readonly ipv6Subnet: Ipv6Subnet;
  private readonly staticCost: number | undefined;
  private readonly costFn: ((req: Req) => MaybePromise<number>) | undefined;
  private readonly skip: HttpLimiterOptions<Req>['skip'];
  private readonly dryRun: boolean;
  private readonly onStoreError: OnStoreError;
  private readonly headerOptions: { legacyHeaders: boolean };
  private readonly onDecision: HttpLimiterOptions<Req>['onDecision'];
  private readonly onError: HttpLimiterOptions<Req>['onError'];

  constructor(options: HttpLimiterOptions<Req>) {
    if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
    const o = options;
    this.store = o.store ?? defaultMemoryStore();
    this.keyFn = optionalFunction(o, 'key');
    this.skip = optionalFunction(o, 'skip');
    this.onDecision = optionalFunction(o, 'onDecision');
    this.onError = optionalFunction(o, 'onError');
    const onStoreStatus = optionalFunction(o, 'onStoreStatus');
    if (onStoreStatus !== undefined) subscribeOnce(this.store, onStoreStatus, (call) => this.report(call));
    this.onMissingKey = oneOf(o, 'onMissingKey', MISSING_KEYS, 'ip');
    this.ipv6Subnet = parseIpv6Subnet(o.ipv6Subnet);
    this.onStoreError = oneOf(o, 'onStoreError', STORE_ERRORS, 'fallback');
    this.dryRun = flag(o, 'dryRun');
    this.headerOptions = { legacyHeaders: flag(o, 'legacyHeaders') };

    if (typeof o.cost === 'function') this.costFn = o.cost;
    else if (o.cost !== undefined) this.staticCost = parseCost(o.cost);

    if (typeof o.policies === 'function') {
      for (const inline of ['name', 'capacity', 'refillPerSecond'] as const) {
        if (o[inline] !== undefined) {
          invalidOption(inline, o[inline], 'left out when `policies` is a function (the function gives the policies)');
        }
      }
      this.policiesFn = o.policies;
      return;
    }
    if (o.policies !== undefined && !Array.isArray(o.policies)) {
      invalidOption('policies', o.policies, 'a non-empty array of { name, capacity, refillPerSecond }, or a function returning one');
    }
    // Validate now, as core does (inline or `policies`, not both), with a stand-in route name for
    // unnamed policies: the real name is the route's, known per request.
    const parsed = parsePolicies({
      name: o.policies === undefined ? (o.name ?? 'route') : o.name,
      capacity: o.capacity,
      refillPerSecond: o.refillPerSecond,
      policies: o.policies === undefined ? undefined : nameForRoute(o.policies, 'route'),
    } as LimiterOptions);
    const list: readonly PolicyOptions[] =
      o.policies ?? [{ name: o.name, capacity: o.capacity, refillPerSecond: o.refillPerSecond } as PolicyOptions];
    if (this.staticCost !== undefined) {
      const smallest = parsed.reduce((min, p) => Math.min(min, p.capacity), Infinity);
      if (this.staticCost > smallest) {
        invalidOption('cost', this.staticCost, `at most the smallest capacity (${smallest}): a request costing more could never be allowed`);
      }
    }
    this.policyOptions = list;
    if (list.every((p) => p.name !== undefined)) this.named = this.limiters(list, '');
  }

  async check(req: Req, info: RequestInfo): Promise<HttpOutcome> {
    if (this.skip !== undefined && (await this.skip(req)) === true) return PASS;

    const key = this.keyFn === undefined ? apiKeyFromHeaders(info.headers) : checkKey(await this.keyFn(req));
    let keySource: 'key' | 'ip' = 'key';
    if (key === undefined) {
      if (this.onMissingKey === 'skip') return PASS;
      if (this.onMissingKey === 'reject') {
        return { action: 'reject', status: 401, headers: [['WWW-Authenticate', 'Bearer']], ...MISSING_KEY };
      }
      keySource = 'ip';
    }
    const found = this.limitersFor(key, req, info.route);
    const limiters = found instanceof Promise ? await found : found;
    const cost = this.costFn === undefined ? (this.staticCost ?? 1) : parseCost(await this.costFn(req));
    const callerKey = key === undefined ? `ip:${info.ip === undefined ? 'unknown' : ipCallerKey(info.ip, this.ipv6Subnet)}` : `key:${key}`;

    let decision: Decision;
    let source: 'store' | 'fallback' = 'store';
    try {
      decision = await limiters.main.take(callerKey, { cost });
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'STORE_CIRCUIT_OPEN') {
        this.report(() => this.onError?.({ route: info.route, error, action: this.onStoreError }, req));
      }
      if (this.onStoreError === 'allow' || (this.onStoreError === 'deny' && this.dryRun)) return PASS;
      if (this.onStoreError === 'deny') {
        const retryAfter = STORE_DOWN_RETRY_AFTER_SECONDS;
        return { action: 'reject', status: 503, headers: [['Retry-After', String(retryAfter)]], ...STORE_UNAVAILABLE };
      }
      limiters.fallback ??= createLimiter({ store: fallbackStore(), policies: limiters.main.policies });
      decision = await limiters.fallback.take(callerKey, { cost });
      source = 'fallback';
    }

    if (this.onDecision !== undefined) {
      const event: DecisionEvent = { route: info.route, callerId: hashCallerKey(callerKey), keySource, decision, source, dryRun: this.dryRun };
      this.report(() => this.onDecision?.(event, req));
    }
    const headers = headersWithPolicy(decision, this.headerOptions, (limiters.policyHeader ??= rateLimitPolicy(decision)));
    if (decision.allowed) return { action: 'pass', headers, decision };
    // A dry run never blocks, so it never asks the client to wait.
    if (this.dryRun) return { action: 'pass', headers: headers.filter(([name]) => name !== 'Retry-After'), decision };
    const problem = limitedProblem(decision);
    return { action: 'limited', headers, decision, status: problem.body.status, ...problem };
  }

  /** Static policies answer at once (no await on the hot path); a policies function may not. */
  private limitersFor(key: string | undefined, req: Req, route: string): Limiters | Promise<Limiters> {
    if (this.named !== undefined) return this.named;
    if (this.policyOptions !== undefined) return this.routeLimiters(this.byRoute, this.policyOptions, route);
    return this.tierLimiters(key, req, route);
  }

  private async tierLimiters(key: string | undefined, req: Req, route: string): Promise<Limiters> {
    // Callers identified by IP have no key: the function gets ''.
    const list = await this.policiesFn!(key ?? '', req);
    if (!Array.isArray(list)) invalidOption('policies', list, 'a function returning an array of { name, capacity, refillPerSecond }');
    let routes = this.byPolicies.get(list);
    if (routes === undefined) this.byPolicies.set(list, (routes = new Map()));
    return this.routeLimiters(routes, list, list.every((p) => p?.name !== undefined) ? '' : route);
  }

  private routeLimiters(cache: Map<string, Limiters>, list: readonly PolicyOptions[], route: string): Limiters {
    let limiters = cache.get(route);
    if (limiters === undefined) {
      limiters = this.limiters(list, route);
      // Routes are named by pattern, but a router that only knows the concrete URL (Express 4
      // under a mount with parameters) names one per URL: stop caching rather than grow.
      if (cache.size < MAX_CACHED_ROUTES) cache.set(route, limiters);
    }
    return limiters;
  }

  private limiters(list: readonly PolicyOptions[], route: string): Limiters {
    return { main: createLimiter({ store: this.store, policies: nameForRoute(list, route) }), fallback: undefined, policyHeader: undefined };
  }

  /** Runs a user hook; a hook that throws or rejects must not break the request. */
  private report(call: () => unknown): void {
    try {
      const result = call();
      if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
        (result as Promise<unknown>).then(undefined, hookFailed);
      }
    } catch (err) {
      hookFailed(err);
    }
  }
}

function hookFailed(err: unknown): void {
  process.emitWarning(`tokenbucket: a hook threw: ${err instanceof Error ? err.message : String(err)}`, 'TokenBucketWarning');
}

/** Each store's status hooks, so a hook given to many limiters hears each change once. */
const statusHooks = new WeakMap<Store, Set<(event: StoreStatusEvent) => unknown>>();

function subscribeOnce(store: Store, hook: (event: StoreStatusEvent) => unknown, report: (call: () => unknown) => void): void {
  if (typeof store.subscribe !== 'function') return; // a store that cannot fail has no status
  let hooks = statusHooks.get(store);
  if (hooks === undefined) statusHooks.set(store, (hooks = new Set()));
  if (hooks.has(hook)) return;
  hooks.add(hook);
  store.subscribe((event) => report(() => hook(event)));
}

let sharedFallback: MemoryStore | undefined;

/** The process-wide MemoryStore that decides while the store is failing ('fallback'). */
function fallbackStore(): MemoryStore {
  return (sharedFallback ??= new MemoryStore());
}

/** Gives unnamed policies the route's name (`#i` appended when there are several). */
function nameForRoute(list: readonly PolicyOptions[], route: string): PolicyOptions[] {
  const name = routePolicyName(route);
  return list.map((p, i) =>
    p === null || typeof p !== 'object' || p.name !== undefined ? p : { ...p, name: list.length === 1 ? name : `${name}#${i}` },
  );
}

/** A route identity made safe as a policy name: printable ASCII, no quotes or braces, bounded. */
export function routePolicyName(route: string): string {
  let name = route.replace(/[^\x20-\x7e]|["\\]/g, '_').replace(/\{/g, '(').replace(/\}/g, ')');
  if (name.length === 0) name = '/';
  if (name.length > 120) name = `${name.slice(0, 97)}~${hashCallerKey(route)}`;
  return name;
}

function checkKey(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new TokenBucketError('INVALID_KEY', `the \`key\` function must return a string (or undefined for none); got ${describeValue(value)}.`, 'key');
  }
  return value;
}

function optionalFunction<O extends object, K extends keyof O>(o: O, name: K): O[K] {
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

/**
 * Caches a per-caller policy lookup (a plan read from a database, say) for `ttlMs`, keeping at
 * most `maxKeys` callers. Returns a function for the `policies` option.
 */
export function memoizePolicies<Req>(
  lookup: (key: string, req: Req) => MaybePromise<readonly PolicyOptions[]>,
  options: { ttlMs?: number; maxKeys?: number } = {},
): (key: string, req: Req) => MaybePromise<readonly PolicyOptions[]> {
  const { ttlMs = 60_000, maxKeys = 10_000 } = options;
  if (typeof lookup !== 'function') invalidOption('lookup', lookup, 'a function (key, req) => policies');
  if (!(typeof ttlMs === 'number' && ttlMs > 0 && Number.isFinite(ttlMs))) invalidOption('ttlMs', ttlMs, 'a finite number > 0');
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) invalidOption('maxKeys', maxKeys, 'an integer >= 1');
  const cache = new Map<string, { at: number; value: Promise<readonly PolicyOptions[]> }>();
  return (key, req) => {
    const now = performance.now();
    const hit = cache.get(key);
    if (hit !== undefined && now - hit.at < ttlMs) return hit.value;
    const value = Promise.resolve(lookup(key, req));
    value.catch(() => cache.delete(key)); // a failed lookup is not cached
    cache.delete(key);
    if (cache.size >= maxKeys) cache.delete(cache.keys().next().value!);
    cache.set(key, { at: now, value });
    return value;
  };
}
