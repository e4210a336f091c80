// Concurrency limits: at most `max` requests of a caller in flight, each holding a slot under a
// lease that the process holding it renews until the request ends.
import { randomBytes } from 'node:crypto';
import type { Decision, PolicyDecision } from './decision.js';
import { invalidOption } from './errors.js';
import { checkOptionNames, optionNames } from './option-names.js';
import { isPolicyName } from './policy.js';
import type { ConcurrencyPolicy, SlotResult, Store } from './store/types.js';

/** A concurrency policy as the user writes it: `concurrency: 5` or `concurrency: { max: 5, leaseMs: 10000 }`. */
export interface ConcurrencyOptions {
  /** Most requests of one caller in flight at once, across every instance that shares the store. An integer >= 1. */
  max: number;
  /**
   * How long a slot outlives the process that holds it: a slot is renewed every `leaseMs / 3`
   * while its request runs, so it is never freed while the request still runs, and a slot held by
   * an instance that died (SIGKILL, a lost host) comes back `leaseMs` after its last renewal at
   * the latest. An integer from 300 to 86400000.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * The policy's name: in the store's keys (limiters with the same name on the same store share
   * slots) and in the `RateLimit` and `RateLimit-Policy` fields. Same rules as a token policy's
   * name; it must differ from the limiter's token policies' names.
   * @default 'concurrency' (createLimiter); the route's name and `#concurrency` (HTTP)
   */
  name?: string;
}

/** A validated concurrency policy whose name may still be missing (the HTTP layer names it after the route). */
export type ConcurrencyTemplate = Omit<ConcurrencyPolicy, 'name'> & { readonly name: string | undefined };

/** The lease of a slot when `leaseMs` is not given. */
export const DEFAULT_LEASE_MS = 30_000;
/**
 * The wait a denial for lack of a slot asks for: when a slot frees depends on requests still
 * running, which nothing knows, so the client gets a small fixed value (`Retry-After: 1`).
 */
export const CONCURRENCY_RETRY_AFTER_MS = 1000;
/** The quota unit of a concurrency policy in `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers). */
export const CONCURRENT_REQUESTS = 'concurrent-requests';
/** The name of a createLimiter concurrency policy without one. */
export const DEFAULT_CONCURRENCY_NAME = 'concurrency';

const CONCURRENCY_OPTIONS = optionNames<ConcurrencyOptions>({ max: 1, leaseMs: 1, name: 1 });

/** Validates the `concurrency` option (`N` or `{ max, leaseMs, name }`); undefined when not given. */
export function parseConcurrency(value: unknown, tokenPolicyNames: readonly (string | undefined)[] = []): ConcurrencyTemplate | undefined {
  if (value === undefined) return undefined;
  const o = typeof value === 'number' ? { max: value } : value;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    invalidOption('concurrency', value, 'an integer >= 1 (most requests in flight per caller), or { max, leaseMs, name }');
  }
  checkOptionNames(o, CONCURRENCY_OPTIONS, 'concurrency.');
  const { max, leaseMs = DEFAULT_LEASE_MS, name } = o as Partial<ConcurrencyOptions>;
  const path = typeof value === 'number' ? 'concurrency' : 'concurrency.max';
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1)
    invalidOption(path, max, 'an integer >= 1 (most requests of a caller in flight at once)');
  if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs < 300 || leaseMs > 86_400_000) {
    invalidOption('concurrency.leaseMs', leaseMs, 'an integer from 300 to 86400000 (ms a slot outlives an instance that died)');
  }
  if (name !== undefined && !isPolicyName(name)) {
    invalidOption('concurrency.name', name, 'a string of 1 to 128 printable ASCII characters without ", \\, { or }');
  }
  if (name !== undefined && tokenPolicyNames.includes(name)) {
    invalidOption('concurrency.name', name, "different from the token policies' names (each is a member of the RateLimit fields)");
  }
  return Object.freeze({ name, max, leaseMs });
}

/** What the store must offer for concurrency policies; stores without it are refused at creation. */
export function checkSlotStore(store: Store): void {
  if (typeof store.acquireSlot !== 'function' || typeof store.releaseSlot !== 'function' || typeof store.renewSlot !== 'function') {
    invalidOption('store', store, 'a store that holds slots for `concurrency` (MemoryStore, RedisStore)');
  }
}

const PROCESS_TAG = randomBytes(9).toString('base64url');
let requests = 0;

/** An id for one slot, unique across processes: a random tag of this process and a counter. */
export function nextSlotId(): string {
  requests++;
  return `${PROCESS_TAG}.${requests.toString(36)}`;
}

/**
 * A slot a request holds: renewed while it is held, given back once. A renewal or a release that
 * fails (the store is down) is not retried: the lease frees the slot in time.
 */
export class HeldSlot {
  private released = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly store: Store,
    readonly callerId: string,
    readonly policy: ConcurrencyPolicy,
    readonly id: string,
  ) {
    this.timer = setInterval(() => this.renew(), Math.floor(policy.leaseMs / 3));
    this.timer.unref();
  }

  /** Gives the slot back; only the first call does anything. Never rejects. */
  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    clearInterval(this.timer);
    return Promise.resolve()
      .then(() => this.store.releaseSlot!(this.callerId, this.policy, this.id))
      .then(
        () => undefined,
        () => undefined, // lost with the store: the lease frees the slot
      );
  }

  private renew(): void {
    Promise.resolve()
      .then(() => this.store.renewSlot!(this.callerId, this.policy, this.id))
      .then(undefined, () => {
        // The next renewal tries again; the lease is three renewals long.
      });
  }
}

/** A concurrency policy's view of an acquisition: slots left, and a denial's small fixed wait. */
export function slotView(policy: ConcurrencyPolicy, result: SlotResult): PolicyDecision {
  const remaining = Math.max(0, policy.max - result.held);
  return {
    name: policy.name,
    limit: policy.max,
    remaining,
    retryAfterMs: result.allowed ? 0 : CONCURRENCY_RETRY_AFTER_MS,
    // No slot frees on a schedule: a full policy says "in a second", as Retry-After does.
    resetMs: remaining > 0 ? 0 : CONCURRENCY_RETRY_AFTER_MS,
    windowSeconds: 0,
    kind: 'concurrency',
  };
}

/**
 * A decision over the token policies' views (after their take, or after its refund) and a
 * concurrency policy's view; the binding policy is chosen as `buildDecision` does.
 */
export function decisionWithSlot(tokenViews: readonly PolicyDecision[], view: PolicyDecision, allowed: boolean): Decision {
  const views = [...tokenViews, view];
  let b = views[0]!;
  for (let i = 1; i < views.length; i++) {
    const v = views[i]!;
    const tighter =
      !allowed && v.retryAfterMs !== b.retryAfterMs
        ? v.retryAfterMs > b.retryAfterMs
        : v.remaining !== b.remaining
          ? v.remaining < b.remaining
          : v.resetMs > b.resetMs;
    if (tighter) b = v;
  }
  return { allowed, limit: b.limit, remaining: b.remaining, retryAfterMs: b.retryAfterMs, resetMs: b.resetMs, policy: b.name, policies: views };
}

/** The `RateLimit-Policy` member of a concurrency policy: its name, `q` = max, and the quota unit. */
export function concurrencyPolicyMember(name: string, max: number): string {
  return `"${name}";q=${max};qu="${CONCURRENT_REQUESTS}"`;
}

/** Whether the decision's binding policy is a concurrency policy. */
export function boundBySlot(decision: Decision): boolean {
  const last = decision.policies[decision.policies.length - 1];
  return last?.kind === 'concurrency' && last.name === decision.policy;
}
