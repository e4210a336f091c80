// The engine's allowed path, made with fewer objects: the headers it writes are rateLimitHeaders'
// of the decision, and a request's first decision is never changed by what later limiters do.
import { type Decision, MemoryStore } from '@tokenbucket/core';
import { createHttpLimiter, type HttpAdapter, rateLimitHeaders } from '@tokenbucket/core/adapter';

interface Req {
  headers: Record<string, string>;
  rawHeaders: string[];
}
interface Res {
  sent: boolean;
  status?: number;
  headers: Record<string, string>;
}

/** Every limiter sees the same request object, as on one Node request: they decide as one. */
const adapter: HttpAdapter<Req, Res, never> = {
  incoming: (req) => req,
  ip: () => '127.0.0.1',
  headersSent: (res) => res.sent,
  setHeader: (res, name, value) => {
    res.headers[name] = value;
  },
  send: (res, status) => {
    res.sent = true;
    res.status = status;
  },
  callOnLimited: () => undefined,
};

const request = (key: string): Req => ({ headers: { 'x-api-key': key }, rawHeaders: ['x-api-key', key] });
const response = (): Res => ({ sent: false, headers: {} });

describe('an allowed request of one limiter', () => {
  test.each([
    ['one policy', { capacity: 10, refillPerSecond: 3 }, 5],
    ['one policy named, a cost that leaves a fraction', { name: 'api', capacity: 100, refillPerSecond: 0.7, cost: 1.5 }, 5],
    [
      'two policies',
      {
        policies: [
          { name: 'burst', capacity: 10, refillPerSecond: 2 },
          { name: 'daily', capacity: 1000, refillPerSecond: 1000 / 86400 },
        ],
      },
      5,
    ],
  ] as const)('%s: writes exactly rateLimitHeaders(decision), take after take', (_label, limits, takes) => {
    const store = new MemoryStore();
    let decision: Decision | undefined;
    const limiter = createHttpLimiter(adapter, {
      store,
      ...limits,
      onDecision: (event) => {
        decision = event.decision;
      },
    });
    for (let i = 0; i < takes; i++) {
      const res = response();
      expect(limiter.handle(request('k'), res, 'GET /a')).toBe(true);
      expect(decision!.allowed).toBe(true);
      expect(res.headers).toEqual(Object.fromEntries(rateLimitHeaders(decision!)));
    }
    store.close();
  });

  test('with legacyHeaders, the legacy fields too (the general path)', () => {
    const store = new MemoryStore();
    const limiter = createHttpLimiter(adapter, { store, capacity: 5, refillPerSecond: 1, legacyHeaders: true });
    const res = response();
    expect(limiter.handle(request('k'), res, 'GET /legacy')).toBe(true);
    expect(res.headers).toMatchObject({ RateLimit: '"GET /legacy";r=4;t=1', 'X-RateLimit-Remaining': '4', 'X-RateLimit-Limit': '5' });
    store.close();
  });
});

describe('a request that two limiters decide on', () => {
  test("a later limiter's denial gives the first's tokens back in the response, and leaves the first's Decision as it was", () => {
    const store = new MemoryStore();
    const decisions: Decision[] = [];
    const onDecision = (event: { decision: Decision }): void => void decisions.push(event.decision);
    const group = createHttpLimiter(adapter, { store, name: 'group', capacity: 10, refillPerSecond: 1 / 3600, onDecision });
    const route = createHttpLimiter(adapter, { store, name: 'route', capacity: 1, refillPerSecond: 1 / 3600, onDecision });
    // The route's one token is spent by a first request.
    const first = request('k');
    expect(group.handle(first, response(), 'GET /a')).toBe(true);
    expect(route.handle(first, response(), 'GET /a')).toBe(true);
    decisions.length = 0;
    const req = request('k');
    const res = response();
    expect(group.handle(req, res, 'GET /a')).toBe(true);
    expect(route.handle(req, res, 'GET /a')).toBe(false);
    expect(res.status).toBe(429);
    // The group's token went back: the response shows 9 left, as before this request.
    expect(res.headers.RateLimit).toBe('"group";r=9;t=3600, "route";r=0;t=3600');
    // The group's own Decision still says what its take found: 8 left.
    expect(decisions[0]!.policies.map((p) => [p.name, p.remaining])).toEqual([['group', 8]]);
    expect(decisions[0]!.remaining).toBe(8);
    store.close();
  });
});
