// The problem+json bodies the limiter answers with, word for word, and the cache of 429 bodies.
import { buildDecision } from '../../packages/core/src/decision';
import {
  limitedProblem,
  MISSING_CUSTOM_KEY_PROBLEM,
  MISSING_KEY_PROBLEM,
  missingKeyProblem,
  PROBLEM_CONTENT_TYPE,
  problemDetails,
  STORE_UNAVAILABLE_PROBLEM,
  storeUnavailableProblem,
} from '../../packages/core/src/http/problems';
import { parsePolicies } from '../../packages/core/src/policy';

const denial = (name: string, capacity: number, refillPerSecond: number, level: number, cost = 1) =>
  buildDecision(parsePolicies({ name, capacity, refillPerSecond }), { allowed: false, levels: [level] }, cost);

test('the content type of every body', () => {
  expect(PROBLEM_CONTENT_TYPE).toBe('application/problem+json; charset=utf-8');
});

test('401: no API key', () => {
  const body = {
    type: 'about:blank',
    title: 'Unauthorized',
    status: 401,
    detail: 'This endpoint needs an API key: send it in the X-API-Key header or as Authorization: Bearer <key>.',
  };
  expect(missingKeyProblem()).toEqual(body);
  expect(MISSING_KEY_PROBLEM.body).toEqual(body);
  expect(JSON.parse(MISSING_KEY_PROBLEM.bodyText)).toEqual(body);
});

test('401 of a limiter with its own key function: no header named, since the function may read another', () => {
  const body = { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'This endpoint needs an API key, and this request has none.' };
  expect(missingKeyProblem(true)).toEqual(body);
  expect(JSON.parse(MISSING_CUSTOM_KEY_PROBLEM.bodyText)).toEqual(body);
});

test('503: the store is down, one second or several', () => {
  expect(storeUnavailableProblem(1)).toEqual({
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    detail: 'The rate limiter cannot reach its store. Retry in 1 second.',
    retryAfter: 1,
  });
  expect(storeUnavailableProblem(3).detail).toBe('The rate limiter cannot reach its store. Retry in 3 seconds.');
  expect(JSON.parse(STORE_UNAVAILABLE_PROBLEM.bodyText)).toEqual(storeUnavailableProblem(1));
});

test('429: one second or several', () => {
  expect(problemDetails(denial('p', 5, 1, 0.5))).toEqual({
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: 'Rate limit "p" exceeded. Retry in 1 second.',
    policy: 'p',
    limit: 5,
    retryAfter: 1,
  });
  expect(problemDetails(denial('p', 5, 1, 0)).detail).toBe('Rate limit "p" exceeded. Retry in 1 second.');
  expect(problemDetails(denial('p', 5, 0.5, 0)).detail).toBe('Rate limit "p" exceeded. Retry in 2 seconds.');
});

test('413: a cost above the capacity, which no wait can cure', () => {
  expect(problemDetails(denial('p', 5, 1, 5, 6))).toEqual({
    type: 'about:blank',
    title: 'Content Too Large',
    status: 413,
    detail: 'This request costs more than rate limit "p" allows at once (5); it cannot succeed, however long you wait.',
    policy: 'p',
    limit: 5,
  });
});

describe('limitedProblem', () => {
  test('one body per policy, capacity and whole seconds to wait, serialized once', () => {
    const first = limitedProblem(denial('cache-a', 5, 1, 0.5));
    expect(JSON.parse(first.bodyText)).toEqual(problemDetails(denial('cache-a', 5, 1, 0.5)));
    expect(limitedProblem(denial('cache-a', 5, 1, 0.2))).toBe(first); // still 1 s
    const other = limitedProblem(denial('cache-b', 5, 1, 0.5));
    expect(other).not.toBe(first);
    expect(limitedProblem(denial('cache-a', 5, 1, 0.5))).toBe(first); // a second key does not push out the first
    expect(limitedProblem(denial('cache-a', 5, 1, 5, 6)).body.status).toBe(413);
  });

  test('holds up to 1000 bodies, then starts over', () => {
    const first = limitedProblem(denial('full-0', 5, 1, 0.5));
    for (let i = 1; i < 1000; i++) limitedProblem(denial(`full-${i}`, 5, 1, 0.5));
    // Whatever was cached before, 1000 new bodies have filled it past the bound at least once:
    // the first of them went with a start-over, or is still there, depending on where the count was.
    const again = limitedProblem(denial('full-0', 5, 1, 0.5));
    for (let i = 0; i < 1000; i++) limitedProblem(denial(`later-${i}`, 5, 1, 0.5));
    const last = limitedProblem(denial('later-999', 5, 1, 0.5));
    expect(limitedProblem(denial('later-999', 5, 1, 0.5))).toBe(last);
    expect(limitedProblem(denial('full-0', 5, 1, 0.5))).not.toBe(again); // gone after 1000 others
    expect(first.body.status).toBe(429);
  });
});
