// The application/problem+json (RFC 9457) bodies the limiter answers with, serialized once.
import { boundBySlot } from '../concurrency.js';
import type { Decision } from '../decision.js';
import { retryAfterSeconds } from './headers.js';

/** An RFC 9457 problem details object. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Name of the policy that denied the request. */
  policy?: string;
  /** That policy's capacity. */
  limit?: number;
  /** Whole seconds to wait; absent when no wait can help. */
  retryAfter?: number;
}

/**
 * The `application/problem+json` body of a denied request. Status 429 when a wait will help;
 * 413 when the request costs more than the policy's capacity, which no wait can fix.
 */
export function problemDetails(decision: Decision, lockedStatus: 429 | 403 = 429): ProblemDetails {
  const retryAfter = retryAfterSeconds(decision);
  if (decision.lockedMs !== undefined && retryAfter !== undefined) {
    return {
      type: 'about:blank',
      title: lockedStatus === 403 ? 'Forbidden' : 'Too Many Requests',
      status: lockedStatus,
      detail: `Locked out of rate limit "${decision.policy}" after repeated denials. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
      policy: decision.policy,
      limit: decision.limit,
      retryAfter,
    };
  }
  if (boundBySlot(decision) && retryAfter !== undefined) {
    return {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: `Too many concurrent requests: limit "${decision.policy}" allows ${decision.limit} in flight at once. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}, or once one of your requests has finished.`,
      policy: decision.policy,
      limit: decision.limit,
      retryAfter,
    };
  }
  if (retryAfter === undefined) {
    return {
      type: 'about:blank',
      title: 'Content Too Large',
      status: 413,
      detail: `This request costs more than rate limit "${decision.policy}" allows at once (${decision.limit}); it cannot succeed, however long you wait.`,
      policy: decision.policy,
      limit: decision.limit,
    };
  }
  return {
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: `Rate limit "${decision.policy}" exceeded. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    policy: decision.policy,
    limit: decision.limit,
    retryAfter,
  };
}

/**
 * The 401 body when a route needs an API key and the request has none. It says where to send the
 * key only for the default `key` (X-API-Key, else a Bearer token): a `key` function of the user's
 * may read anything else, so with one (`customKey`) the text names no header.
 */
export function missingKeyProblem(customKey = false): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Unauthorized',
    status: 401,
    detail: customKey
      ? 'This endpoint needs an API key, and this request has none.'
      : 'This endpoint needs an API key: send it in the X-API-Key header or as Authorization: Bearer <key>.',
  };
}

/** The 503 body when the store failed and `storeFailure` is 'deny'. */
export function storeUnavailableProblem(retryAfter: number): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    detail: `The rate limiter cannot reach its store. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    retryAfter,
  };
}

/** The content type of every body the limiter sends. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Retry-After, in seconds, of a 503 answered because the store failed. */
export const STORE_DOWN_RETRY_AFTER_SECONDS = 1;

/** A problem body, frozen (outcomes share it), and its JSON text, what adapters send. */
export interface Problem {
  readonly body: ProblemDetails;
  readonly bodyText: string;
}

const problem = (body: ProblemDetails): Problem => Object.freeze({ body: Object.freeze(body), bodyText: JSON.stringify(body) });

export const MISSING_KEY_PROBLEM = problem(missingKeyProblem());
/** The 401 of a limiter whose `key` is the user's function. */
export const MISSING_CUSTOM_KEY_PROBLEM = problem(missingKeyProblem(true));
export const STORE_UNAVAILABLE_PROBLEM = problem(storeUnavailableProblem(STORE_DOWN_RETRY_AFTER_SECONDS));

/**
 * Problem bodies of recent denials, serialized once: a caller hammering a limit gets the same body
 * for a second at a time (it depends only on the policy, its capacity and the whole seconds to
 * wait), and building and serializing it was most of a cached denial's cost.
 */
const limitedProblems = new Map<string, Problem>();
const LIMITED_PROBLEMS_MAX = 1000;

/**
 * The problem of a denied decision (429, or 413 when no wait can help; a lock-out's with
 * `lockedStatus`), from the cache when it can.
 */
export function limitedProblem(decision: Decision, lockedStatus: 429 | 403 = 429): Problem {
  const locked = decision.lockedMs === undefined ? '' : `\nlocked ${lockedStatus}`;
  const key = `${decision.policy}\n${decision.limit}\n${retryAfterSeconds(decision) ?? 'never'}${locked}${boundBySlot(decision) ? '\nslots' : ''}`;
  let found = limitedProblems.get(key);
  if (found === undefined) {
    found = problem(problemDetails(decision, lockedStatus));
    if (limitedProblems.size >= LIMITED_PROBLEMS_MAX) limitedProblems.clear();
    limitedProblems.set(key, found);
  }
  return found;
}
