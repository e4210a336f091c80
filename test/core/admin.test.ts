// The limiter's admin methods (get, penalty, reward, reset) and the lockout option, on a
// MemoryStore with a clock the test moves.
import { createLimiter, MemoryStore, TokenBucketError } from '@tokenbucket/core';

function clocked() {
  let now = 1_000_000;
  const store = new MemoryStore({ clock: () => now });
  const advance = (ms: number): void => {
    now += ms;
  };
  return { store, advance };
}

const stores: MemoryStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
});

function limiter(options: Partial<Parameters<typeof createLimiter>[0]> = {}) {
  const { store, advance } = clocked();
  stores.push(store);
  return { limiter: createLimiter({ store, name: 'admin', capacity: 5, refillPerSecond: 1, ...options }), store, advance };
}

describe('get, penalty, reward', () => {
  test('get reads without debiting', async () => {
    const { limiter: l } = limiter();
    await l.take('k', { cost: 2 });
    expect(await l.get('k')).toMatchObject({ allowed: true, remaining: 3, limit: 5, retryAfterMs: 0 });
    expect((await l.get('k')).remaining).toBe(3);
  });

  test('penalty takes tokens whatever the bucket holds, down to empty and no lower', async () => {
    const { limiter: l, advance } = limiter();
    expect((await l.penalty('k', 3)).remaining).toBe(2);
    expect((await l.penalty('k', 100)).remaining).toBe(0);
    // Empty, not in debt: one second brings one token.
    advance(1000);
    expect((await l.take('k')).allowed).toBe(true);
  });

  test('reward gives tokens back, never above capacity', async () => {
    const { limiter: l } = limiter();
    await l.take('k', { cost: 4 });
    expect((await l.reward('k', 2)).remaining).toBe(3);
    expect((await l.reward('k', 100)).remaining).toBe(5);
    expect((await l.take('k', { cost: 5 })).allowed).toBe(true);
  });

  test('penalty and reward default to one token, on every policy of the limiter', async () => {
    const { limiter: l } = limiter({
      name: undefined,
      capacity: undefined,
      refillPerSecond: undefined,
      policies: [
        { name: 'a', capacity: 3, refillPerSecond: 1 },
        { name: 'b', capacity: 10, refillPerSecond: 1 },
      ],
    });
    const after = await l.penalty('k');
    expect(after.policies.map((p) => p.remaining)).toEqual([2, 9]);
    expect((await l.reward('k')).policies.map((p) => p.remaining)).toEqual([3, 10]);
  });

  test.each([0, -1, Number.NaN, Infinity, '2'])('tokens %p is refused with TB_ERR_INVALID_COST', async (tokens) => {
    const { limiter: l } = limiter();
    await expect(l.penalty('k', tokens as number)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_COST' });
    await expect(l.reward('k', tokens as number)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_COST' });
  });

  test('a key that is neither a string nor { ip } with an address is refused with TB_ERR_INVALID_KEY', async () => {
    const { limiter: l } = limiter();
    for (const bad of ['', 42, null, { ip: 'not-an-address' }, { ip: 7 }, {}]) {
      await expect(l.get(bad as never)).rejects.toBeInstanceOf(TokenBucketError);
      await expect(l.take(bad as never)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_KEY' });
    }
  });

  test('{ ip } and the same address as a string are different callers; IPv6 groups by /56 unless told', async () => {
    const { limiter: l } = limiter();
    await l.penalty({ ip: '192.0.2.1' }, 5);
    expect((await l.get('192.0.2.1')).remaining).toBe(5);
    expect((await l.get({ ip: '192.0.2.1' })).remaining).toBe(0);
    await l.penalty({ ip: '2001:db8:0:1::1' }, 5);
    expect((await l.get({ ip: '2001:db8:0:ff::2' })).remaining).toBe(0);
    expect((await l.get({ ip: '2001:db8:0:ff::2', ipv6Subnet: 64 })).remaining).toBe(5);
    expect((await l.get({ ip: '::ffff:192.0.2.1' })).remaining).toBe(0);
  });
});

describe('lockout', () => {
  const lockout = { after: 2, windowSeconds: 10, durationSeconds: 60 };

  test('after `after` denials within the window, takes are denied with lockedMs, counting down as time passes', async () => {
    const { limiter: l, advance } = limiter({ capacity: 1, refillPerSecond: 1, lockout });
    expect((await l.take('k')).allowed).toBe(true);
    const first = await l.take('k');
    expect(first.allowed).toBe(false);
    expect(first.lockedMs).toBeUndefined();
    const second = await l.take('k');
    expect(second).toMatchObject({ allowed: false, lockedMs: 60_000, retryAfterMs: 60_000 });
    advance(5_000); // the bucket is full again; the caller is still locked out
    const later = await l.take('k');
    expect(later).toMatchObject({ allowed: false, lockedMs: 55_000, retryAfterMs: 55_000 });
    expect((await l.get('k')).lockedMs).toBe(55_000);
    expect((await l.take('other')).allowed).toBe(true);
    advance(55_000);
    expect((await l.take('k')).allowed).toBe(true);
  });

  test('denials further apart than the window do not add up', async () => {
    const { limiter: l, advance } = limiter({ capacity: 1, refillPerSecond: 0.01, lockout });
    await l.take('k');
    expect((await l.take('k')).lockedMs).toBeUndefined();
    advance(11_000);
    expect((await l.take('k')).lockedMs).toBeUndefined();
    expect((await l.take('k')).lockedMs).toBe(60_000);
  });

  test('reset lifts the lock-out and the denials counted', async () => {
    const { limiter: l } = limiter({ capacity: 1, refillPerSecond: 0.01, lockout });
    await l.take('k');
    await l.take('k');
    expect((await l.take('k')).lockedMs).toBe(60_000);
    await l.reset('k');
    expect((await l.take('k')).allowed).toBe(true);
    expect((await l.take('k')).lockedMs).toBeUndefined();
  });

  test.each([
    [{ after: 0, windowSeconds: 1, durationSeconds: 1 }, 'lockout.after'],
    [{ after: 1.5, windowSeconds: 1, durationSeconds: 1 }, 'lockout.after'],
    [{ after: 1, windowSeconds: 0, durationSeconds: 1 }, 'lockout.windowSeconds'],
    [{ after: 1, windowSeconds: 1, durationSeconds: -5 }, 'lockout.durationSeconds'],
    [{ after: 1, windowSeconds: 1 }, 'lockout.durationSeconds'],
    [{ after: 1, windowSeconds: 1, durationSeconds: 1, status: 403 }, 'lockout.status'],
    [{ after: 1, windowSecs: 1, durationSeconds: 1 }, 'lockout.windowSecs'],
    ['often', 'lockout'],
  ])('createLimiter lockout %p throws naming %s', (bad, option) => {
    const { store } = clocked();
    stores.push(store);
    expect(() => createLimiter({ store, capacity: 1, refillPerSecond: 1, lockout: bad as never })).toThrow(
      expect.objectContaining({ code: 'TB_ERR_INVALID_OPTION', option }),
    );
  });
});
