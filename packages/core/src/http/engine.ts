// The request path shared by every adapter: from a request to "pass" or "answer this".
import { concurrencyPolicyMember } from '../concurrency.js';
import type { Decision } from '../decision.js';
import { decisionChannel } from '../diagnostics.js';
import { callUserCode, describeValue, invalidOption, TokenBucketError } from '../errors.js';
import { ipCallerId, keyCallerId } from '../caller.js';
import { decisionEvent, lockoutRule, TokenBucketLimiter, type Decided } from '../limiter.js';
import { parseCost, parsePolicyTemplates, type PolicyOptions, type PolicyTemplate } from '../policy.js';
import { fallbackStore } from '../store/fallback.js';
import { headersWithPolicy, mergedHeaders, rateLimitPolicy, retryAfterSeconds } from './headers.js';
import { subscribeOnce } from './hooks.js';
import { ipCallerKey } from './ip.js';
import { apiKeyOf, type NodeRequestHeaders } from './keys.js';
import { parseHttpOptions, type HttpConfig, type HttpLimiterOptions, type PoliciesFunction } from './options.js';
import {
  limitedProblem,
  MISSING_CUSTOM_KEY_PROBLEM,
  MISSING_KEY_PROBLEM,
  type Problem,
  STORE_DOWN_RETRY_AFTER_SECONDS,
  STORE_UNAVAILABLE_PROBLEM,
  type ProblemDetails,
} from './problems.js';
import { existingState, recordHeld, recordSpent, refundAll, requestState, responseEnded, showPolicies } from './request.js';
import { claimRoute, nameForRoute, routePolicyName } from './route.js';

/** How the engine reads a framework's request: only what it needs, only when it needs it. */
export interface RequestReader<Req> {
  /** The Node request under the framework's own (its headers give the default key). */
  incoming(req: Req): NodeRequestHeaders;
  /** The client IP per the framework's trust-proxy setting; read only for a request without a key. */
  ip(req: Req): string | undefined;
  /**
   * The application the request is in (Express: the root app; Koa: `ctx.app`; Fastify: the
   * server). Default names are made distinct per application: see `claimRoute`. Without it,
   * per process.
   */
  app?(req: Req): object;
  /**
   * The object that stands for one HTTP request whichever limiter sees it (see
   * `HttpAdapter.request`). Default: `incoming(req)`.
   */
  request?(req: Req): object;
}

/** Registers the one listener of a request's end (see `HttpAdapter.onResponseEnd`). */
export type OnResponseEnd = (listener: (status: number | undefined) => void) => void;

/** What to do with a request: set `headers`, then continue or answer. */
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

/** The limiters of one route (or of one set of named policies). */
interface RouteLimiters {
  readonly main: TokenBucketLimiter;
  /** The local limiter with the same policies, made when the store first fails. */
  fallback: TokenBucketLimiter | undefined;
  /** The `RateLimit-Policy` value: the same for every decision of these limiters that holds no slot. */
  readonly policyHeader: string;
  /** With a concurrency policy, the value for a decision that asked for a slot: `policyHeader` and its member. */
  readonly slotPolicyHeader: string;
  /** The last denial's answer, written again while a denial would be written the same (see `deniedAnswer`). */
  denied: DeniedAnswer | undefined;
}

/**
 * What a denial of one token-bucket policy writes, and the figures it was made from: a caller
 * hammering a limit is denied with the same `RateLimit` fields, `Retry-After` and problem body
 * for a second at a time (whole tokens and whole seconds), so the answer is kept and sent again
 * rather than rebuilt.
 */
interface DeniedAnswer {
  readonly policy: string;
  readonly remaining: number;
  readonly resetSeconds: number;
  readonly retryAfterSeconds: number;
  readonly headers: readonly [string, string][];
  readonly problem: Problem;
}

/** One request's take: what its outcome and a store failure need. */
interface Take<Req> {
  readonly req: Req;
  readonly route: string;
  readonly keySource: 'key' | 'ip';
  readonly callerId: string;
  readonly cost: number;
  readonly limiters: RouteLimiters;
  readonly onEnd: OnResponseEnd | undefined;
}

/** Route names whose limiters one engine keeps (per policies list); more are built per request. */
const MAX_CACHED_ROUTES = 10_000;
const NO_HEADERS: readonly [string, string][] = Object.freeze([]);
/** The application of adapters that do not say which one a request is in. */
const PROCESS = Object.freeze({});
const PASS: HttpOutcome = Object.freeze({ action: 'pass', headers: NO_HEADERS });
const MISSING_KEY_HEADERS = Object.freeze([['WWW-Authenticate', 'Bearer']] as [string, string][]);
const MISSING_KEY: HttpOutcome = Object.freeze({ action: 'reject', status: 401, headers: MISSING_KEY_HEADERS, ...MISSING_KEY_PROBLEM });
/** The 401 of a limiter with a `key` function: its text names no header the function may not read. */
const MISSING_CUSTOM_KEY: HttpOutcome = Object.freeze({ action: 'reject', status: 401, headers: MISSING_KEY_HEADERS, ...MISSING_CUSTOM_KEY_PROBLEM });
const STORE_DOWN: HttpOutcome = Object.freeze({
  action: 'reject',
  status: 503,
  headers: Object.freeze([['Retry-After', String(STORE_DOWN_RETRY_AFTER_SECONDS)]] as [string, string][]),
  ...STORE_UNAVAILABLE_PROBLEM,
});

/**
 * The decision engine behind `rateLimit(...)` in every adapter: a config parsed once, the
 * limiters of each route it has seen, and `check`, the request path.
 */
export class HttpEngine<Req> {
  private readonly config: HttpConfig<Req>;
  /** Fixed policies that all have names: one set of limiters for every route. */
  private readonly named: RouteLimiters | undefined;
  /** Fixed policies named after the route: limiters per route. */
  private readonly byRoute = new Map<string, RouteLimiters>();
  /** A policies function's results, parsed once per array object, then limiters per route. */
  private readonly byPolicies = new WeakMap<readonly PolicyOptions[], { templates: readonly PolicyTemplate[]; routes: Map<string, RouteLimiters> }>();

  /** The last route claimed (see `claim`). */
  private claimedApp: object | undefined;
  private claimedRoute = '';
  private claimedName = '';

  /** No user function to call per request (skip, key, cost, policies): the path that need not wait. */
  private readonly plain: boolean;
  /** Whether a decision may need the response's end: refunds by the outcome, or a held slot. */
  readonly needsResponseEnd: boolean;

  /** `known`: the option names the adapter takes (core's, `onLimited` and its own). */
  constructor(
    options: HttpLimiterOptions<Req>,
    private readonly reader: RequestReader<Req>,
    known?: readonly string[],
  ) {
    const config = parseHttpOptions(options, known);
    this.config = config;
    this.needsResponseEnd = config.refundWhen !== undefined || config.concurrency !== undefined;
    this.plain = config.skip === undefined && config.key === undefined && typeof config.cost === 'number' && typeof config.policies !== 'function';
    if (config.onStoreStatus !== undefined) subscribeOnce(config.store, config.onStoreStatus);
    const concurrencyNamed = config.concurrency === undefined || config.concurrency.name !== undefined;
    if (typeof config.policies !== 'function' && concurrencyNamed && config.policies.every((p) => p.name !== undefined)) {
      this.named = this.limiters(config.policies, '');
    }
  }

  /**
   * Decides what to do with a request: at once when nothing in the way waits (no user function
   * to call, the store answers from memory), else a promise. Rejects (or throws) only for a user
   * function's fault (key, cost, policies).
   */
  decide(req: Req, route: string, onEnd?: OnResponseEnd): HttpOutcome | Promise<HttpOutcome> {
    const c = this.config;
    // Before anything that may end the request: the order in which limiters claim a route's name
    // is the order requests reach them, whatever each one decides.
    const nameRoute = this.named !== undefined ? route : this.claim(req, route);
    if (!this.plain) return this.decideWithFunctions(req, route, nameRoute, onEnd);
    const key = apiKeyOf(this.reader.incoming(req));
    return this.missingKey(req, key) ?? this.take(req, route, key, this.limitersFor(key, req, nameRoute) as RouteLimiters, c.cost as number, onEnd);
  }

  /**
   * `claimRoute` for this engine, remembering its last answer: a limiter's claim on a route never
   * changes once made, so a run of requests to one route of one application asks once.
   */
  private claim(req: Req, route: string): string {
    const app = this.reader.app?.(req) ?? PROCESS;
    if (app === this.claimedApp && route === this.claimedRoute) return this.claimedName;
    const name = claimRoute(app, route, this);
    this.claimedApp = app;
    this.claimedRoute = route;
    this.claimedName = name;
    return name;
  }

  /** The request path with the user's functions (skip, key, policies, cost), each awaited in that order. */
  private async decideWithFunctions(req: Req, route: string, nameRoute: string, onEnd: OnResponseEnd | undefined): Promise<HttpOutcome> {
    const c = this.config;
    if (c.skip !== undefined && (await c.skip(req)) === true) return PASS;
    const key = c.key === undefined ? apiKeyOf(this.reader.incoming(req)) : checkKey(await c.key(req));
    const missing = this.missingKey(req, key);
    if (missing !== undefined) return missing;
    const found = this.limitersFor(key, req, nameRoute);
    const limiters = found instanceof Promise ? await found : found;
    const cost = typeof c.cost === 'number' ? c.cost : parseCost(await c.cost(req));
    return this.take(req, route, key, limiters, cost, onEnd);
  }

  /** The answer to a request without a key, unless it is limited by IP. */
  private missingKey(req: Req, key: string | undefined): HttpOutcome | undefined {
    if (key !== undefined || this.config.missingKey === 'ip') return undefined;
    return this.config.missingKey === 'skip' ? PASS : this.refused(req, this.config.key === undefined ? MISSING_KEY : MISSING_CUSTOM_KEY);
  }

  /** A request refused without a decision (401, 503): what earlier limiters took goes back. */
  private refused(req: Req, outcome: HttpOutcome): HttpOutcome {
    const state = existingState(this.requestOf(req));
    if (state !== undefined) refundAll(state);
    return outcome;
  }

  private requestOf(req: Req): object {
    return this.reader.request?.(req) ?? this.reader.incoming(req);
  }

  private take(
    req: Req,
    route: string,
    key: string | undefined,
    limiters: RouteLimiters,
    cost: number,
    onEnd: OnResponseEnd | undefined,
  ): HttpOutcome | Promise<HttpOutcome> {
    let callerId: string;
    if (key === undefined) {
      const ip = this.reader.ip(req);
      callerId = ipCallerId(ip === undefined ? 'unknown' : ipCallerKey(ip, this.config.ipv6Subnet));
    } else {
      callerId = keyCallerId(key);
    }
    const t: Take<Req> = { req, route, keySource: key === undefined ? 'ip' : 'key', callerId, cost, limiters, onEnd };
    const taken = limiters.main.admit(t.callerId, cost);
    if (!(taken instanceof Promise)) return this.outcome(taken, t, limiters.main);
    return taken.then(
      (decided) => this.outcome(decided, t, limiters.main),
      (error: unknown) => this.storeFailed(error, t),
    );
  }

  /** The store failed this take: the configured `storeFailure`, and `onStoreError` unless the circuit was already open. */
  private async storeFailed(error: unknown, t: Take<Req>): Promise<HttpOutcome> {
    const { req, route, limiters } = t;
    const c = this.config;
    const circuitOpen = error instanceof TokenBucketError && error.code === 'TB_ERR_STORE_CIRCUIT_OPEN';
    if (!circuitOpen && c.onStoreError !== undefined) {
      const onStoreError = c.onStoreError;
      callUserCode('TB_WARN_HOOK_FAILED', 'onStoreError', () => onStoreError({ route, error, action: c.storeFailure }, req));
    }
    if (c.storeFailure === 'allow' || (c.storeFailure === 'deny' && c.dryRun)) return PASS;
    if (c.storeFailure === 'deny') return this.refused(req, STORE_DOWN);
    const main = limiters.main;
    // The fallback starts from what Redis last said about the caller (store/fallback.ts), not from a fresh bucket.
    limiters.fallback ??= new TokenBucketLimiter(main.policies, fallbackStore(main.store), main.lockout, main.concurrency);
    const local = await limiters.fallback.admit(t.callerId, t.cost);
    return this.outcome({ ...local, source: 'fallback' }, t, limiters.fallback);
  }

  /**
   * A decision made: its event; the request's state (what it took, every policy met); its
   * headers; and pass, or the limited answer after giving back what earlier limiters of the
   * request took.
   */
  private outcome(decided: Decided, t: Take<Req>, limiter: TokenBucketLimiter): HttpOutcome {
    const c = this.config;
    const decision = decided.decision;
    if (c.onDecision !== undefined || decisionChannel.hasSubscribers) {
      const event = decisionEvent(decided, t.callerId, t.cost, t.route, t.keySource, c.dryRun);
      if (decisionChannel.hasSubscribers) decisionChannel.publish(event);
      const onDecision = c.onDecision;
      if (onDecision !== undefined) callUserCode('TB_WARN_HOOK_FAILED', 'onDecision', () => onDecision(event, t.req));
    }
    const state = requestState(this.requestOf(t.req));
    const alone = state.policies === undefined;
    showPolicies(state, decision.policies);
    const passes = decision.allowed || c.dryRun;
    const slot = decided.slot;
    if (slot !== undefined) {
      // Held until the response ends; with nothing to say when that is (`check`), not held at all.
      if (t.onEnd === undefined) slot.release();
      else recordHeld(state, slot);
    }
    if (decision.allowed && t.cost > 0 && limiter.policies.length > 0) recordSpent(state, limiter, t.callerId, t.cost, t.req, c.refundWhen);
    if (decision.allowed && t.onEnd !== undefined && !state.listening && (slot !== undefined || (c.refundWhen !== undefined && t.cost > 0))) {
      state.listening = true;
      t.onEnd((status) => responseEnded(state, status));
    }
    if (!passes) refundAll(state);
    const policyHeader = decision.policies.length > limiter.policies.length ? t.limiters.slotPolicyHeader : t.limiters.policyHeader;
    if (!passes && alone && decision.policies.length === 1 && decision.policies[0]!.kind === undefined && decision.lockedMs === undefined) {
      const answer = this.deniedAnswer(t.limiters, decision, policyHeader);
      return { action: 'limited', headers: answer.headers, decision, status: answer.problem.body.status, ...answer.problem };
    }
    // A dry run never blocks, so it never asks the client to wait: no Retry-After.
    const waits = !c.dryRun;
    const headers = alone ? headersWithPolicy(decision, c, policyHeader, waits) : mergedHeaders(state.policies!, decision, c, waits);
    if (passes) return { action: 'pass', headers, decision };
    const problem = limitedProblem(decision, c.lockout?.status);
    return { action: 'limited', headers, decision, status: problem.body.status, ...problem };
  }

  /**
   * The headers and problem of a denial by one token-bucket policy (no lock-out, no slot, no
   * other limiter's policies to show): the kept answer when the figures it shows are the same,
   * else a new one, kept for the next denial.
   */
  private deniedAnswer(limiters: RouteLimiters, decision: Decision, policyHeader: string): DeniedAnswer {
    const p = decision.policies[0]!;
    const resetSeconds = Math.ceil(p.resetMs / 1000);
    const retryAfter = retryAfterSeconds(decision) ?? 0;
    const kept = limiters.denied;
    if (
      kept !== undefined &&
      kept.remaining === p.remaining &&
      kept.resetSeconds === resetSeconds &&
      kept.retryAfterSeconds === retryAfter &&
      kept.policy === policyHeader
    ) {
      return kept;
    }
    const answer: DeniedAnswer = {
      policy: policyHeader,
      remaining: p.remaining,
      resetSeconds,
      retryAfterSeconds: retryAfter,
      headers: Object.freeze(headersWithPolicy(decision, this.config, policyHeader)),
      problem: limitedProblem(decision),
    };
    limiters.denied = answer;
    return answer;
  }

  /** Fixed policies answer at once (no await on the hot path); a policies function may not. */
  private limitersFor(key: string | undefined, req: Req, route: string): RouteLimiters | Promise<RouteLimiters> {
    if (this.named !== undefined) return this.named;
    const policies = this.config.policies;
    if (typeof policies !== 'function') return this.routeLimiters(this.byRoute, policies, route);
    return this.tierLimiters(policies, key, req, route);
  }

  private async tierLimiters(policies: PoliciesFunction<Req>, key: string | undefined, req: Req, route: string): Promise<RouteLimiters> {
    // Callers identified by IP have no key: the function gets ''.
    const list = await policies(key ?? '', req);
    if (!Array.isArray(list)) invalidOption('policies', list, 'a function returning an array of { name, capacity, refillPerSecond }');
    let parsed = this.byPolicies.get(list);
    if (parsed === undefined) {
      parsed = { templates: parsePolicyTemplates({ policies: list }, 'allowed'), routes: new Map() };
      this.byPolicies.set(list, parsed);
    }
    const named = parsed.templates.every((p) => p.name !== undefined) && (this.config.concurrency === undefined || this.config.concurrency.name !== undefined);
    return this.routeLimiters(parsed.routes, parsed.templates, named ? '' : route);
  }

  private routeLimiters(cache: Map<string, RouteLimiters>, templates: readonly PolicyTemplate[], route: string): RouteLimiters {
    let limiters = cache.get(route);
    if (limiters === undefined) {
      limiters = this.limiters(templates, route);
      // Adapters name routes by pattern; should one ever pass concrete URLs, stop caching rather than grow.
      if (cache.size < MAX_CACHED_ROUTES) cache.set(route, limiters);
    }
    return limiters;
  }

  private limiters(templates: readonly PolicyTemplate[], route: string): RouteLimiters {
    const policies = nameForRoute(templates, route);
    const c = this.config.concurrency;
    const concurrency = c === undefined ? undefined : Object.freeze({ ...c, name: c.name ?? `${routePolicyName(route)}#concurrency` });
    const main = new TokenBucketLimiter(policies, this.config.store, lockoutRule(policies, this.config.lockout), concurrency);
    const policyHeader = rateLimitPolicy(policies);
    const member = concurrency === undefined ? '' : concurrencyPolicyMember(concurrency.name, concurrency.max);
    return {
      main,
      fallback: undefined,
      denied: undefined,
      policyHeader,
      slotPolicyHeader: policyHeader === '' ? member : member === '' ? policyHeader : `${policyHeader}, ${member}`,
    };
  }
}

function checkKey(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new TokenBucketError('TB_ERR_INVALID_KEY', `the \`key\` function must return a string (or undefined for none); got ${describeValue(value)}.`, 'key');
  }
  return value;
}
