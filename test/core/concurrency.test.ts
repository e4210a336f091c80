// The concurrency option of createLimiter and of the HTTP engine, on MemoryStores: validation,
// acquire and release, all or nothing with token policies, renewal past the lease, the
// decision, its headers and problem body, the diagnostics channel, and check() holding nothing.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS, createLimiter, type DecisionEvent, MemoryStore, type Store, TokenBucketError } from '@tokenbucket/core';
import { problemDetails, rateLimitHeaders } from '@tokenbucket/core/adapter';
import { newResponse, plainLimiter } from '../support/plain-adapter';

const stores: MemoryStore[] = [];
const memory = (): MemoryStore => {
  const s = new MemoryStore();
  stores.push(s);
  return s;
};
afterAll(() => {
  for (const s of stores) s.close();
});

function creationError(fn: () => unknown): TokenBucketError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TokenBucketError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

describe('options', () => {
  test.each([
    [{ concurrency: 0 }, 'concurrency', /`concurrency` must be an integer >= 1.*got 0/],
    [{ concurrency: 1.5 }, 'concurrency', /got 1.5/],
    [{ concurrency: 'x' }, 'concurrency', /`concurrency` must be an integer >= 1 .* or \{ max, leaseMs, name \}; got "x"/],
    [{ concurrency: { max: 0 } }, 'concurrency.max', /`concurrency.max` must be .*; got 0/],
    [{ concurrency: { max: 2, leaseMs: 299 } }, 'concurrency.leaseMs', /from 300 to 86400000.*got 299/],
    [{ concurrency: { max: 2, name: 'a{b}' } }, 'concurrency.name', /got "a\{b\}"/],
    [{ concurrency: { max: 2, name: 'default' }, capacity: 1, refillPerSecond: 1 }, 'concurrency.name', /different from the token policies' names/],
    [{ concurrency: { max: 2, lease: 5 } }, 'concurrency.lease', /concurrency.lease/],
    [
      { concurrency: 2, name: 'concurrency', capacity: 1, refillPerSecond: 1 },
      'concurrency.name',
      /given: a token policy already has the default name "concurrency"/,
    ],
    [{ concurrency: 2, lockout: { after: 3, windowSeconds: 60, durationSeconds: 60 } }, 'lockout', /without token policies/],
    [{ concurrency: 2, name: 'x' }, 'capacity', /capacity/],
  ])('createLimiter(%j) throws naming %s', (options, option, message) => {
    const err = creationError(() => createLimiter({ store: memory(), ...options } as never));
    expect(err.code).toBe('TB_ERR_INVALID_OPTION');
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
  });

  test('a store that cannot hold slots is refused at creation', () => {
    const plain = memory();
    const store: Store = {
      take: plain.take.bind(plain),
      adjust: plain.adjust.bind(plain),
      reset: plain.reset.bind(plain),
      unlock: plain.unlock.bind(plain),
      clear: plain.clear.bind(plain),
    };
    expect(creationError(() => createLimiter({ store, concurrency: 1 })).option).toBe('store');
    expect(creationError(() => plainLimiter({ store, concurrency: 1 })).option).toBe('store');
  });

  test('HTTP: the same checks, and a lock-out needs token policies', () => {
    expect(creationError(() => plainLimiter({ store: memory(), concurrency: -1 })).option).toBe('concurrency');
    expect(creationError(() => plainLimiter({ store: memory(), concurrency: 1, lockout: { after: 2, windowSeconds: 1, durationSeconds: 1 } })).option).toBe(
      'lockout',
    );
    expect(creationError(() => plainLimiter({ store: memory(), capacity: 1, refillPerSecond: 1, name: 'a', concurrency: { max: 1, name: 'a' } })).option).toBe(
      'concurrency.name',
    );
  });
});

describe('createLimiter with concurrency', () => {
  test('acquire holds a slot until release; past max, denied with a small fixed wait; release is once', async () => {
    const l = createLimiter({ store: memory(), concurrency: 2 });
    const a = await l.acquire('k');
    const b = await l.acquire('k');
    const c = await l.acquire('k');
    expect([a, b, c].map((x) => x.decision.allowed)).toEqual([true, true, false]);
    expect(a.decision).toMatchObject({ allowed: true, limit: 2, remaining: 1, retryAfterMs: 0, resetMs: 0, policy: 'concurrency' });
    expect(c.decision).toMatchObject({ allowed: false, limit: 2, remaining: 0, retryAfterMs: 1000, resetMs: 1000, policy: 'concurrency' });
    expect(c.decision.policies).toEqual([
      { name: 'concurrency', limit: 2, remaining: 0, retryAfterMs: 1000, resetMs: 1000, windowSeconds: 0, kind: 'concurrency' },
    ]);
    await c.release(); // a denial holds nothing
    await a.release();
    await a.release();
    expect((await l.get('k')).remaining).toBe(1);
    expect((await l.acquire('k')).decision.allowed).toBe(true);
    expect((await l.acquire('k')).decision.allowed).toBe(false);
    await l.reset('k');
    expect((await l.get('k')).remaining).toBe(2);
  });

  test('take refuses a concurrency limiter; penalty and reward need token policies', async () => {
    const l = createLimiter({ store: memory(), concurrency: 1 });
    await expect(l.take('k')).rejects.toMatchObject({ code: 'TB_ERR_INVALID_OPTION', option: 'concurrency' });
    await expect(l.penalty('k')).rejects.toMatchObject({ code: 'TB_ERR_INVALID_OPTION' });
    await expect(l.reward('k')).rejects.toMatchObject({ code: 'TB_ERR_INVALID_OPTION' });
    await expect(l.acquire('')).rejects.toMatchObject({ code: 'TB_ERR_INVALID_KEY' });
  });

  test('acquire on a limiter without concurrency is a take with a release that does nothing', async () => {
    const l = createLimiter({ store: memory(), capacity: 1, refillPerSecond: 1 / 3600 });
    const a = await l.acquire('k');
    expect(a.decision.allowed).toBe(true);
    await a.release();
    expect((await l.acquire('k')).decision.allowed).toBe(false);
  });

  test('beside token policies: a rate denial takes no slot; a slot denial gives its tokens back', async () => {
    const store = memory();
    const l = createLimiter({ store, name: 'tokens', capacity: 3, refillPerSecond: 1 / 3600, concurrency: { max: 1, name: 'slots' } });
    const held = await l.acquire('k');
    expect(held.decision.policies.map((p) => [p.name, p.remaining])).toEqual([
      ['tokens', 2],
      ['slots', 0],
    ]);
    const denied = await l.acquire('k');
    expect(denied.decision).toMatchObject({ allowed: false, policy: 'slots', retryAfterMs: 1000 });
    // The tokens views show the bucket after the refund.
    expect(denied.decision.policies[0]).toMatchObject({ name: 'tokens', remaining: 2, retryAfterMs: 0 });
    const tokens = createLimiter({ store, name: 'tokens', capacity: 3, refillPerSecond: 1 / 3600 });
    expect((await tokens.get('k')).remaining).toBe(2);
    await held.release();
    const x = await l.acquire('k'); // tokens 1 left, the slot held
    expect((await l.acquire('k')).decision.policy).toBe('slots'); // denied: its token back
    await x.release();
    await (await l.acquire('k')).release(); // tokens 0 left
    const rate = await l.acquire('k');
    expect(rate.decision).toMatchObject({ allowed: false, policy: 'tokens' });
    expect(rate.decision.policies.map((p) => p.name)).toEqual(['tokens']);
    // The rate denial took no slot: the one slot is free.
    expect((await l.get('k')).policies[1]).toMatchObject({ name: 'slots', remaining: 1 });
  });

  test('a slot held past its lease is renewed, and so never freed while held', async () => {
    const store = memory();
    const l = createLimiter({ store, concurrency: { max: 1, leaseMs: 300 } });
    const a = await l.acquire('k');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await l.acquire('k')).decision.allowed).toBe(false);
    await a.release();
    expect((await l.acquire('k')).decision.allowed).toBe(true);
  });

  test('the tokenbucket:decision channel and onDecision carry the kind of the binding policy', async () => {
    const events: DecisionEvent[] = [];
    const listener = (e: unknown): void => void events.push(e as DecisionEvent);
    subscribe(CHANNELS.decision, listener);
    try {
      const l = createLimiter({ store: memory(), name: 'rate', capacity: 5, refillPerSecond: 1, concurrency: { max: 1, name: 'slots' } });
      await l.acquire('k');
      await l.acquire('k');
      const r = createLimiter({ store: memory(), capacity: 5, refillPerSecond: 1 });
      await r.take('k');
    } finally {
      unsubscribe(CHANNELS.decision, listener);
    }
    expect(events.map((e) => [e.outcome, e.kind, e.policy])).toEqual([
      ['allowed', 'concurrency', 'slots'],
      ['denied', 'concurrency', 'slots'],
      ['allowed', 'rate', 'default'],
    ]);
  });

  test('headers and problem body of a denial for lack of a slot', async () => {
    const l = createLimiter({ store: memory(), name: 'rate', capacity: 5, refillPerSecond: 1, concurrency: { max: 1, name: 'slots' } });
    await l.acquire('k');
    const { decision } = await l.acquire('k');
    expect(rateLimitHeaders(decision)).toEqual([
      ['RateLimit-Policy', '"rate";q=5;w=5, "slots";q=1;qu="concurrent-requests"'],
      ['RateLimit', '"rate";r=4;t=1, "slots";r=0;t=1'],
      ['Retry-After', '1'],
    ]);
    expect(problemDetails(decision)).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Too many concurrent requests: limit "slots" allows 1 in flight at once. Retry in 1 second, or once one of your requests has finished.',
      policy: 'slots',
      limit: 1,
      retryAfter: 1,
    });
  });
});

describe('a store that fails to give a slot', () => {
  /** A MemoryStore's buckets, with slot calls that fail (as a store that is down would). */
  function failingSlots(how: 'rejects' | 'throws'): Store {
    const m = memory();
    return {
      take: m.take.bind(m),
      takeNow: m.takeNow.bind(m),
      adjust: m.adjust.bind(m),
      reset: m.reset.bind(m),
      unlock: m.unlock.bind(m),
      clear: m.clear.bind(m),
      renewSlot: m.renewSlot.bind(m),
      releaseSlot: m.releaseSlot.bind(m),
      acquireSlotNow: () => {
        if (how === 'throws') throw new Error('slots down');
        return undefined;
      },
      acquireSlot: () => Promise.reject(new Error('slots down')),
    };
  }

  test.each(['rejects', 'throws'] as const)('when it %s, acquire rejects and the tokens taken go back', async (how) => {
    const store = failingSlots(how);
    const l = createLimiter({ store, name: 'tokens', capacity: 3, refillPerSecond: 1 / 3600, concurrency: { max: 1, name: 'slots' } });
    await expect(l.acquire('k')).rejects.toThrow('slots down');
    const tokens = createLimiter({ store, name: 'tokens', capacity: 3, refillPerSecond: 1 / 3600 });
    await new Promise((resolve) => setImmediate(resolve));
    expect((await tokens.get('k')).remaining).toBe(3);
  });

  test('a release or renewal that fails is dropped: the lease frees the slot', async () => {
    const store = memory();
    store.releaseSlot = () => Promise.reject(new Error('down'));
    store.renewSlot = () => {
      throw new Error('down');
    };
    const l = createLimiter({ store, concurrency: { max: 1, leaseMs: 300 } });
    const a = await l.acquire('k');
    await new Promise((resolve) => setTimeout(resolve, 150)); // one failed renewal
    await expect(a.release()).resolves.toBeUndefined();
    expect((await l.acquire('k')).decision.allowed).toBe(false);
  });
});

describe('HTTP engine', () => {
  test('check() decides but holds no slot: nothing would tell it when the response ends', async () => {
    const store = memory();
    const limiter = plainLimiter({ store, concurrency: { max: 1, name: 'c' } });
    for (let i = 0; i < 3; i++) expect((await limiter.check({ headers: { 'x-api-key': 'k' } }, 'GET /x')).action).toBe('pass');
  });

  test('an adapter without onResponseEnd holds no slot either; stacked, a later limiter still decides', async () => {
    const store = memory();
    const outer = plainLimiter({ store, concurrency: { max: 1, name: 'c' } });
    const inner = plainLimiter({ store, name: 'r', capacity: 1, refillPerSecond: 1 / 3600 });
    const req = { headers: { 'x-api-key': 'k' } };
    expect(await outer.handle(req, newResponse(), 'GET /x')).toBe(true);
    const req2 = { headers: { 'x-api-key': 'k' } };
    expect(await outer.handle(req2, newResponse(), 'GET /x')).toBe(true);
    expect(await inner.handle(req2, newResponse(), 'GET /x')).toBe(true);
    const req3 = { headers: { 'x-api-key': 'k' } };
    expect(await outer.handle(req3, newResponse(), 'GET /x')).toBe(true);
    const res3 = newResponse();
    expect(await inner.handle(req3, res3, 'GET /x')).toBe(false);
    expect(res3.status).toBe(429);
  });
});
