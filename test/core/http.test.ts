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

  test("a denial: t is never later than Retry-After, and the denying policy's t is Retry-After (draft 11, section 6)", () => {
    // burst: 0.5 token missing at 2/s (250 ms, Retry-After 1); its time to full is 4.75 s.
    // daily: 900 of 1000, 100 tokens from full (8640 s).
    const d = buildDecision(two, [0.5, 900], 1);
    const headers = new Map(rateLimitHeaders(d));
    expect(headers.get('Retry-After')).toBe('1');
    expect(headers.get('RateLimit')).toBe('"burst";r=0;t=1, "daily";r=900;t=1');
    // daily denies: half a day-token missing (43.2 s), its time to full a day; burst (1 s from
    // full) keeps its t, shorter than the wait.
    const daily = buildDecision(two, [8, 0.5], 1);
    expect(new Map(rateLimitHeaders(daily)).get('RateLimit')).toBe('"burst";r=8;t=1, "daily";r=0;t=44');
    expect(retryAfterSeconds(daily)).toBe(44);
  });

  test('a cost above capacity sends no Retry-After, so t stays the time to full', () => {
    const d = buildDecision(two, [5, 1000], 20);
    expect(new Map(rateLimitHeaders(d)).get('RateLimit')).toBe('"burst";r=5;t=3, "daily";r=1000;t=0');
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

  test("a denial's headers and body are kept while what they show holds, and made again when it changes", async () => {
    const limiter = createHttpLimiter({
      store: new MemoryStore(),
      name: 'kept',
      capacity: 4,
      refillPerSecond: 1 / 60,
      legacyHeaders: true,
      cost: (r) => r.cost as number,
    });
    await limiter.check(req('k', { cost: 3 }), 'GET /x'); // 1 left
    const seen: { cost: number; headers: readonly [string, string][]; bodyText: string }[] = [];
    // 2 and 3 wait different times, 5 can never succeed (413); a caller with 4 left is denied 5 too
    for (const [key, cost] of [
      ['k', 2],
      ['k', 2],
      ['k', 3],
      ['k', 2],
      ['k', 5],
      ['fresh', 5],
      ['k', 5],
    ] as const) {
      const outcome = await limiter.check(req(key, { cost }), 'GET /x');
      if (outcome.action !== 'limited') throw new Error(`expected a denial of ${cost}`);
      expect(outcome.headers).toEqual(rateLimitHeaders(outcome.decision, { legacyHeaders: true }));
      expect(JSON.parse(outcome.bodyText)).toEqual(problemDetails(outcome.decision));
      seen.push({ cost, headers: outcome.headers, bodyText: outcome.bodyText });
    }
    expect(seen[1]!.headers).toBe(seen[0]!.headers); // the same figures: the answer kept
    expect(seen[2]!.headers).not.toEqual(seen[1]!.headers); // a longer wait
    expect(seen[3]!.headers).toEqual(seen[0]!.headers);
    expect(seen[4]!.bodyText).toMatch(/cannot succeed/);
    expect(seen[5]!.headers).not.toEqual(seen[4]!.headers); // another caller, another remaining
    expect(seen[6]!.headers).toEqual(seen[4]!.headers);
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
