// One request, one decision: what the limiters a request has passed have taken, held and shown,
// so that a later denial gives their tokens and slots back and the response shows every policy met.
import type { HeldSlot } from '../concurrency.js';
import type { PolicyDecision } from '../decision.js';
import type { TokenBucketLimiter } from '../limiter.js';
import { callUserCode } from '../errors.js';

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

/**
 * What the limiters of one request have done so far. Each list is made when its first entry
 * comes, with that entry: most requests pass one limiter that holds no slot, and an allowed
 * request's state is then one object and one short list per thing recorded.
 */
export interface RequestState {
  /** Takes made, in order. */
  spent: Spent<unknown>[] | undefined;
  /** Concurrency slots held, in order: released when a later limiter denies, or when the response ends. */
  held: HeldSlot[] | undefined;
  /** Every policy met, in the order met, each once (a later view of a name replaces the earlier). */
  policies: PolicyDecision[] | undefined;
  /** Whether a response-end listener is registered. */
  listening: boolean;
}

/**
 * Where a request's state is kept: a symbol-keyed property of the request object itself. A
 * WeakMap from requests to states costs the garbage collector an ephemeron per request, which
 * measured as most of the request path (bench/engine.mjs).
 */
const STATE = Symbol('tokenbucket.request');

/** The state of the request `request` stands for (see `HttpAdapter.request`), made on first use. */
export function requestState(request: object): RequestState {
  const holder = request as { [STATE]?: RequestState };
  let state = holder[STATE];
  if (state === undefined) {
    state = { spent: undefined, held: undefined, policies: undefined, listening: false };
    holder[STATE] = state;
  }
  return state;
}

/** The state of a request if some limiter has seen it. */
export const existingState = (request: object): RequestState | undefined => (request as { [STATE]?: RequestState })[STATE];

/** Adds the views of a decision: a policy already shown keeps its place and takes the new view. */
export function showPolicies(state: RequestState, views: readonly PolicyDecision[]): void {
  const shown = state.policies;
  if (shown === undefined) {
    state.policies = views.slice();
    return;
  }
  for (const view of views) {
    let i = 0;
    while (i < shown.length && shown[i]!.name !== view.name) i++;
    shown[i] = view;
  }
}

/** Records a slot the request now holds. */
export function recordHeld(state: RequestState, slot: HeldSlot): void {
  if (state.held === undefined) state.held = [slot];
  else state.held.push(slot);
}

/** Records a take that debited tokens (allowed, cost > 0). */
export function recordSpent<Req>(
  state: RequestState,
  limiter: TokenBucketLimiter,
  callerId: string,
  cost: number,
  req: Req,
  refundWhen: Spent<Req>['refundWhen'],
): void {
  const spent = { limiter, callerId, cost, req, refundWhen, refunded: false } as Spent<unknown>;
  if (state.spent === undefined) state.spent = [spent];
  else state.spent.push(spent);
}

/**
 * Gives back every take not yet given back (a later limiter denied the request): each bucket
 * gets its cost back, never above capacity, and the views shown for those policies become what
 * they hold after the refund. A refund that fails (the store is down) is lost: the caller paid
 * for a request it did not get, never the other way round.
 */
export function refundAll(state: RequestState): void {
  releaseAll(state);
  if (state.spent === undefined) return;
  const shown = state.policies ?? [];
  for (const s of state.spent) {
    if (s.refunded) continue;
    s.refunded = true;
    refund(s);
    for (const p of s.limiter.policies) {
      const i = shown.findIndex((view) => view.name === p.name);
      if (i >= 0) shown[i] = refundedView(shown[i]!, s.cost, p.refillPerSecond);
    }
  }
}

/** Gives back every slot the request holds (each once: a slot released stays released). */
function releaseAll(state: RequestState): void {
  if (state.held !== undefined) for (const slot of state.held) slot.release();
}

/**
 * The response is done (sent in full, its connection closed, or errored): releases the slots the
 * request holds, and gives back the takes whose limiter says this outcome does not count.
 */
export function responseEnded(state: RequestState, status: number | undefined): void {
  releaseAll(state);
  if (state.spent === undefined) return;
  for (const s of state.spent) {
    if (s.refunded || s.refundWhen === undefined) continue;
    const when = s.refundWhen;
    callUserCode('TB_WARN_HOOK_FAILED', 'skipResponse', () => {
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
