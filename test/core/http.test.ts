// The HTTP pieces every adapter shares: the caller key, the RateLimit headers, the problem body.
import { MemoryStore } from '@tokenbucket/core';
import { apiKeyFromHeaders, keyHeaders, problemDetails, rateLimitHeaders } from '@tokenbucket/core/adapter';
import { buildDecision as fromResult } from '../../packages/core/src/decision';
import { retryAfterSeconds } from '../../packages/core/src/http/headers';
import { fits, parsePolicies, type Policy } from '../../packages/core/src/policy';
import { plainLimiter as createHttpLimiter } from '../support/plain-adapter';

/** A decision as a store that decides by tokens (MemoryStore) would make it. */
const buildDecision = (policies: readonly Policy[], levels: number[], cost: number) => fromResult(policies, { allowed: fits(levels, cost), levels }, cost);

describe('apiKeyFromHeaders', () => {
  test.each([
    ['X-API-Key', { 'x-api-key': 'key-1' }, 'key-1'],
    ['X-API-Key trimmed', { 'x-api-key': '  key-1 ' }, 'key-1'],
    ['X-API-Key before Authorization', { 'x-api-key': 'key-1', authorization: 'Bearer tok' }, 'key-1'],
    ['Bearer token', { authorization: 'Bearer tok.en-1' }, 'tok.en-1'],
    ['bearer is case-insensitive', { authorization: 'bearer tok' }, 'tok'],
    ['empty X-API-Key falls through to Bearer', { 'x-api-key': '  ', authorization: 'Bearer tok' }, 'tok'],
    ['Bearer without a token', { authorization: 'Bearer ' }, undefined],
    ['Basic auth is not a key', { authorization: 'Basic dXNlcjpwYXNz' }, undefined],
    ['two tokens is not a token', { authorization: 'Bearer a b' }, undefined],
    ['nothing', {}, undefined],
    ['one line as an array (headersDistinct)', { 'x-api-key': ['key-1'] }, 'key-1'],
    ['X-API-Key given twice is no key', { 'x-api-key': ['first', 'second'] }, undefined],
    ['X-API-Key given twice, same value: still no key', { 'x-api-key': ['k', 'k'] }, undefined],
    ['X-API-Key given twice does not fall through to Bearer', { 'x-api-key': ['a', 'b'], authorization: ['Bearer tok'] }, undefined],
    ['an empty X-API-Key line falls through to Bearer', { 'x-api-key': [''], authorization: ['Bearer tok'] }, 'tok'],
    ['Authorization given twice is no key', { authorization: ['Bearer a', 'Bearer b'] }, undefined],
    ['X-API-Key wins over a repeated Authorization', { 'x-api-key': ['k'], authorization: ['Bearer a', 'Bearer b'] }, 'k'],
    ['Bearer alone', { authorization: 'Bearer' }, undefined],
  ])('%s', (_label, headers, expected) => {
    expect(apiKeyFromHeaders(headers)).toBe(expected);
  });
});

describe('keyHeaders', () => {
  test("Node's headersDistinct when there is one, else headers", () => {
    const distinct = { 'x-api-key': ['a', 'b'] };
    expect(keyHeaders({ headers: { 'x-api-key': 'a, b' }, headersDistinct: distinct })).toBe(distinct);
    const headers = { 'x-api-key': 'a' };
    expect(keyHeaders({ headers })).toBe(headers);
  });
});

const two = parsePolicies({
  policies: [
    { name: 'burst', capacity: 10, refillPerSecond: 2 },
    { name: 'daily', capacity: 1000, refillPerSecond: 1000 / 86400 },
  ],
});

describe('rateLimitHeaders', () => {
  test('an allowed take: policies and state for every policy, no Retry-After', () => {
    const d = buildDecision(two, [10, 500.5], 1);
    expect(rateLimitHeaders(d)).toEqual([
      ['RateLimit-Policy', '"burst";q=10;w=5, "daily";q=1000;w=86400'],
      ['RateLimit', '"burst";r=9;t=1, "daily";r=499;t=43244'],
    ]);
  });

  test('a denied take: Retry-After is the ceiling of the true wait, in whole seconds', () => {
    const d = buildDecision(two, [0.5, 900], 1); // 0.5 token missing at 2/s: 250 ms
    expect(d.retryAfterMs).toBe(250);
    expect(rateLimitHeaders(d)).toContainEqual(['Retry-After', '1']);
    const long = buildDecision(two, [10, 0.2], 1); // 0.8 of a day-token: 69.12 s
    expect(retryAfterSeconds(long)).toBe(70);
  });

  test('legacy headers on request, for the binding policy', () => {
    const d = buildDecision(two, [3, 900], 1);
    expect(rateLimitHeaders(d, { legacyHeaders: true })).toEqual(
      expect.arrayContaining([
        ['X-RateLimit-Limit', '10'],
        ['X-RateLimit-Remaining', '2'],
        ['X-RateLimit-Reset', '4'],
      ]),
    );
  });

  test('a cost above capacity: no Retry-After, because no wait helps', () => {
    const d = buildDecision(two, [10, 1000], 20);
    expect(d.retryAfterMs).toBe(Infinity);
    expect(retryAfterSeconds(d)).toBeUndefined();
    expect(rateLimitHeaders(d).map(([name]) => name)).toEqual(['RateLimit-Policy', 'RateLimit']);
  });
});

describe('problemDetails', () => {
  test('429 with the policy and the wait', () => {
    expect(problemDetails(buildDecision(two, [0, 900], 1))).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Rate limit "burst" exceeded. Retry in 1 second.',
      policy: 'burst',
      limit: 10,
      retryAfter: 1,
    });
  });

  test('413 without a wait when the cost is above capacity', () => {
    const body = problemDetails(buildDecision(two, [10, 1000], 11));
    expect(body).toMatchObject({ status: 413, policy: 'burst', limit: 10 });
    expect(body).not.toHaveProperty('retryAfter');
    expect(body.detail).toMatch(/cannot succeed/);
  });
});

describe('the body text of an outcome', () => {
  const req = (key: string, extra: Record<string, unknown> = {}) => ({ headers: { 'x-api-key': key }, ip: '127.0.0.1', ...extra });

  test('is the JSON of its problem body, for 429, 413 and 401', async () => {
    const limiter = createHttpLimiter({
      store: new MemoryStore(),
      name: "GET /a/:id <b>&'c'",
      capacity: 1,
      refillPerSecond: 1 / 60,
      cost: (r) => r.cost as number,
    });
    await limiter.check(req('a', { cost: 1 }), 'GET /x');
    for (const cost of [1, 1, 2]) {
      const outcome = await limiter.check(req('a', { cost }), 'GET /x');
      expect(outcome.action).toBe('limited');
      if (outcome.action !== 'limited') continue;
      expect(JSON.parse(outcome.bodyText)).toEqual(problemDetails(outcome.decision));
      expect(outcome.body).toEqual(problemDetails(outcome.decision));
      expect(outcome.body.status).toBe(cost === 2 ? 413 : 429);
      expect(outcome.body.policy).toBe("GET /a/:id <b>&'c'");
      expect(Object.isFrozen(outcome.body)).toBe(true); // shared between requests: nobody may change it
    }
    const rejecting = createHttpLimiter({ store: new MemoryStore(), capacity: 1, refillPerSecond: 1, missingKey: 'reject' });
    const missing = await rejecting.check({ ip: '127.0.0.1' }, 'GET /x');
    expect(missing.action).toBe('reject');
    if (missing.action === 'reject') expect(JSON.parse(missing.bodyText)).toEqual(missing.body);
  });

  test('changes with the wait: the same wait gives the same text, another wait another text', async () => {
    const limiter = createHttpLimiter({ store: new MemoryStore(), name: 'slow', capacity: 1, refillPerSecond: 1 / 3600 });
    await limiter.check(req('b'), 'GET /x');
    const first = await limiter.check(req('b'), 'GET /x');
    const second = await limiter.check(req('b'), 'GET /x');
    if (first.action !== 'limited' || second.action !== 'limited') throw new Error('expected two denials');
    expect(first.body.retryAfter).toBe(3600);
    expect(second.bodyText).toBe(first.bodyText);
    const other = createHttpLimiter({ store: new MemoryStore(), name: 'slow', capacity: 1, refillPerSecond: 1 / 60 });
    await other.check(req('c'), 'GET /x');
    const third = await other.check(req('c'), 'GET /x');
    if (third.action !== 'limited') throw new Error('expected a denial');
    expect(third.body.retryAfter).toBe(60);
    expect(JSON.parse(third.bodyText).retryAfter).toBe(60);
  });
});
