// One request, one decision: what the limiters a request has passed have taken and shown, so
// that a later denial gives their tokens back and the response shows every policy met.
import type { PolicyDecision } from '../decision.js';
import type { TokenBucketLimiter } from '../limiter.js';
import { runHook } from './hooks.js';

type MaybePromise<T> = T | Promise<T>;

/** Tokens one limiter took for a request, and when they go back. */
interface Spent<Req> {
  /** The limiter that decided (the route's, or its local fallback): refunds go to its store. */
  readonly limiter: TokenBucketLimiter;
  readonly callerId: string;
  readonly cost: number;
  readonly req: Req;
  /** The limiter's `skip*Requests` / `skipResponse`, as one test of the outcome. */
  readonly refundWhen: ((req: Req, status: number | undefined) => MaybePromise<boolean>) | undefined;
  refunded: boolean;
}

/** What the limiters of one request have done so far. */
export interface RequestState {
  /** Takes made, in order. */
  readonly spent: Spent<unknown>[];
  /** Every policy met, by name (a later decision on the same name replaces the earlier view). */
  readonly policies: Map<string, PolicyDecision>;
  /** Whether a response-end listener is registered. */
  listening: boolean;
}

const states = new WeakMap<object, RequestState>();

/** The state of the request `request` stands for (see `HttpAdapter.request`), made on first use. */
export function requestState(request: object): RequestState {
  let state = states.get(request);
  if (state === undefined) {
    state = { spent: [], policies: new Map(), listening: false };
    states.set(request, state);
  }
  return state;
}

/** The state of a request if some limiter has seen it. */
export const existingState = (request: object): RequestState | undefined => states.get(request);

/** Records a take that debited tokens (allowed, cost > 0). */
export function recordSpent<Req>(
  state: RequestState,
  limiter: TokenBucketLimiter,
  callerId: string,
  cost: number,
  req: Req,
  refundWhen: Spent<Req>['refundWhen'],
): void {
  state.spent.push({ limiter, callerId, cost, req, refundWhen, refunded: false } as Spent<unknown>);
}

/**
 * Gives back every take not yet given back (a later limiter denied the request): each bucket
 * gets its cost back, never above capacity, and the views shown for those policies become what
 * they hold after the refund. A refund that fails (the store is down) is lost: the caller paid
 * for a request it did not get, never the other way round.
 */
export function refundAll(state: RequestState): void {
  for (const s of state.spent) {
    if (s.refunded) continue;
    s.refunded = true;
    refund(s);
    for (const p of s.limiter.policies) {
      const view = state.policies.get(p.name);
      if (view !== undefined) state.policies.set(p.name, refundedView(view, s.cost, p.refillPerSecond));
    }
  }
}

/** The response is done: gives back the takes whose limiter says this outcome does not count. */
export function responseEnded(state: RequestState, status: number | undefined): void {
  for (const s of state.spent) {
    if (s.refunded || s.refundWhen === undefined) continue;
    const when = s.refundWhen;
    runHook(() => {
      const verdict = when(s.req, status);
      if (verdict === true) give(s);
      else if (verdict !== false && typeof (verdict as Promise<boolean> | undefined)?.then === 'function') {
        return (verdict as Promise<boolean>).then((v) => v === true && give(s));
      }
      return undefined;
    });
  }
}

function give(s: Spent<unknown>): void {
  if (s.refunded) return;
  s.refunded = true;
  refund(s);
}

function refund(s: Spent<unknown>): void {
  s.limiter.adjustById(s.callerId, s.cost).then(undefined, () => {
    // Lost with the store: under-admission only (see refundAll).
  });
}

/** A policy's view after `cost` tokens went back: as many more left, full that much sooner. */
function refundedView(view: PolicyDecision, cost: number, refillPerSecond: number): PolicyDecision {
  return {
    ...view,
    remaining: Math.min(view.limit, Math.floor(view.remaining + cost)),
    resetMs: Math.max(0, view.resetMs - Math.floor((cost * 1000) / refillPerSecond)),
  };
}
