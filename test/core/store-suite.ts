// The store contract: the same cases run on every Store (memory, and Redis and Redis Cluster through
// every supported client).
import { randomBytes } from 'node:crypto';
import { createLimiter, type Decision, type PolicyOptions, type Store } from '@tokenbucket/core';
import { sleep } from '../support/redis';

export interface StoreHarness {
  /** The store under test; shared by every case, which use their own callers. */
  store(): Store;
  /** Closes what the harness opened. */
  close?(): Promise<void>;
}

const caller = (): string => `caller-${randomBytes(6).toString('hex')}`;
const SLOW = 1 / 3600; // one token an hour: no refill to speak of within a test
const policyName = (): string => `p${randomBytes(3).toString('hex')}`;

async function takeMany(take: () => Promise<Decision>, n: number): Promise<Decision[]> {
  const out: Decision[] = [];
  for (let i = 0; i < n; i++) out.push(await take());
  return out;
}

export function runStoreSuite(label: string, makeHarness: () => StoreHarness | Promise<StoreHarness>): void {
  describe(`store contract: ${label}`, () => {
    let harness: StoreHarness;
    beforeAll(async () => {
      harness = await makeHarness();
    });
    afterAll(async () => {
      await harness?.close?.(); // undefined when the suite failed before its first test
    });
    const limiter = (opts: Partial<PolicyOptions> | { policies: PolicyOptions[] }) =>
      createLimiter({ store: harness.store(), name: 'policies' in opts ? undefined : policyName(), ...opts } as never);

    test('a new bucket is full: the first take leaves capacity - 1', async () => {
      const l = limiter({ capacity: 10, refillPerSecond: 2 });
      const d = await l.take(caller());
      expect(d).toMatchObject({ allowed: true, limit: 10, remaining: 9, retryAfterMs: 0 });
      expect(d.resetMs).toBeGreaterThan(450);
      expect(d.resetMs).toBeLessThanOrEqual(500);
    });

    test('a burst of exactly capacity is admitted, then takes are denied with the true wait', async () => {
      const l = limiter({ capacity: 5, refillPerSecond: SLOW });
      const key = caller();
      const burst = await takeMany(() => l.take(key), 5);
      expect(burst.map((d) => d.allowed)).toEqual([true, true, true, true, true]);
      expect(burst.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
      const denied = await l.take(key);
      expect(denied.allowed).toBe(false);
      expect(denied.remaining).toBe(0);
      // One token takes an hour; almost nothing has refilled yet.
      expect(denied.retryAfterMs).toBeGreaterThan(3_590_000);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(3_600_000);
      expect(denied.resetMs).toBeGreaterThan(5 * 3_590_000);
      expect(denied.resetMs).toBeLessThanOrEqual(5 * 3_600_000);
    });

    test('refill is continuous: a drained bucket admits again after retryAfterMs', async () => {
      const l = limiter({ capacity: 2, refillPerSecond: 5 }); // a token every 200 ms
      const key = caller();
      await takeMany(() => l.take(key), 2);
      const denied = await l.take(key);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(200);
      await sleep(denied.retryAfterMs + 5);
      const again = await l.take(key);
      expect(again.allowed).toBe(true);
    });

    test('remaining is whole tokens, floored, while the bucket refills', async () => {
      const l = limiter({ capacity: 10, refillPerSecond: 10 });
      const key = caller();
      await takeMany(() => l.take(key), 10);
      await sleep(250); // about 2.5 tokens, more if the machine is slow
      const peek = await l.take(key, { cost: 0 });
      expect(peek.allowed).toBe(true);
      expect(Number.isInteger(peek.remaining)).toBe(true);
      expect(peek.remaining).toBeGreaterThanOrEqual(2);
      expect(peek.remaining).toBeLessThan(10);
      // resetMs is the time to full from the true (fractional) level, so it is not a multiple of 100.
      expect(peek.resetMs).toBeGreaterThan(0);
      expect(peek.resetMs).toBeLessThanOrEqual(7500);
    });

    test('fractional rates: 1000 a day waits 86.4 s per token', async () => {
      const l = limiter({ capacity: 3, refillPerSecond: 1000 / 86400 });
      const key = caller();
      await takeMany(() => l.take(key), 3);
      const denied = await l.take(key);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(86_000);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(86_400);
      expect(denied.resetMs).toBeGreaterThan(3 * 86_400 - 1000);
      expect(denied.resetMs).toBeLessThanOrEqual(3 * 86_400);
    });

    test('a denied take debits nothing: the caller can still spend what is left', async () => {
      const l = limiter({ capacity: 10, refillPerSecond: SLOW });
      const key = caller();
      expect((await l.take(key, { cost: 7 })).remaining).toBe(3);
      for (let i = 0; i < 5; i++) {
        const d = await l.take(key, { cost: 4 });
        expect(d.allowed).toBe(false);
        expect(d.remaining).toBe(3);
      }
      const rest = await l.take(key, { cost: 3 });
      expect(rest).toMatchObject({ allowed: true, remaining: 0 });
    });

    test('a denied take waits only for the missing tokens', async () => {
      const l = limiter({ capacity: 10, refillPerSecond: 1 });
      const key = caller();
      await l.take(key, { cost: 8 });
      const d = await l.take(key, { cost: 5 }); // 2 held, 3 missing: about 3 s
      expect(d.allowed).toBe(false);
      expect(d.retryAfterMs).toBeGreaterThan(2_500);
      expect(d.retryAfterMs).toBeLessThanOrEqual(3_000);
    });

    test('a cost above capacity is denied with retryAfterMs Infinity and debits nothing', async () => {
      const l = limiter({ capacity: 5, refillPerSecond: SLOW });
      const key = caller();
      await l.take(key);
      const d = await l.take(key, { cost: 6 });
      expect(d).toMatchObject({ allowed: false, remaining: 4, retryAfterMs: Infinity, limit: 5 });
      expect((await l.take(key, { cost: 4 })).allowed).toBe(true);
    });

    test('cost 0 reads without debiting, and fractional costs are exact', async () => {
      const l = limiter({ capacity: 3, refillPerSecond: SLOW });
      const key = caller();
      expect(await l.take(key, { cost: 0 })).toMatchObject({ allowed: true, remaining: 3, resetMs: 0 });
      expect((await l.take(key, { cost: 0.5 })).remaining).toBe(2);
      expect((await l.take(key, { cost: 2.5 })).allowed).toBe(true);
      expect((await l.take(key, { cost: 0.001 })).allowed).toBe(false);
    });

    test('several policies: all or nothing, and the binding policy is reported', async () => {
      const name = policyName();
      const l = limiter({
        policies: [
          { name: `${name}-burst`, capacity: 10, refillPerSecond: SLOW },
          { name: `${name}-daily`, capacity: 3, refillPerSecond: SLOW },
        ],
      });
      const key = caller();
      const first = await l.take(key);
      expect(first).toMatchObject({ allowed: true, policy: `${name}-daily`, limit: 3, remaining: 2 });
      expect(first.policies.map((p) => p.remaining)).toEqual([9, 2]);
      await l.take(key, { cost: 2 });
      const denied = await l.take(key);
      expect(denied).toMatchObject({ allowed: false, policy: `${name}-daily`, remaining: 0 });
      // The burst bucket held a token but was not debited.
      expect(denied.policies.map((p) => p.remaining)).toEqual([7, 0]);
      expect(denied.policies[0]!.retryAfterMs).toBe(0);
      expect(denied.policies[1]!.retryAfterMs).toBeGreaterThan(3_590_000);
      const peek = await l.take(key, { cost: 0 });
      expect(peek.policies.map((p) => p.remaining)).toEqual([7, 0]);
    });

    test('several policies: a denial reports the longest wait', async () => {
      const name = policyName();
      const l = limiter({
        policies: [
          { name: `${name}-fast`, capacity: 2, refillPerSecond: 1 },
          { name: `${name}-slow`, capacity: 2, refillPerSecond: 0.1 },
        ],
      });
      const key = caller();
      await l.take(key, { cost: 2 });
      const d = await l.take(key);
      expect(d.allowed).toBe(false);
      expect(d.policy).toBe(`${name}-slow`);
      expect(d.retryAfterMs).toBeGreaterThan(9_000);
      expect(d.retryAfterMs).toBeLessThanOrEqual(10_000);
    });

    test('policies with the same name share buckets; other names and other callers do not', async () => {
      const name = policyName();
      const a = limiter({ name, capacity: 3, refillPerSecond: SLOW });
      const b = limiter({ name, capacity: 3, refillPerSecond: SLOW });
      const other = limiter({ name: `${name}-other`, capacity: 3, refillPerSecond: SLOW });
      const key = caller();
      await a.take(key, { cost: 2 });
      expect((await b.take(key)).remaining).toBe(0);
      expect((await other.take(key)).remaining).toBe(2);
      expect((await a.take(caller())).remaining).toBe(2);
    });

    test("reset refills the caller's buckets in every policy", async () => {
      const name = policyName();
      const l = limiter({
        policies: [
          { name: `${name}-a`, capacity: 2, refillPerSecond: SLOW },
          { name: `${name}-b`, capacity: 4, refillPerSecond: SLOW },
        ],
      });
      const key = caller();
      await l.take(key, { cost: 2 });
      expect((await l.take(key)).allowed).toBe(false);
      await l.reset(key);
      expect((await l.take(key, { cost: 0 })).policies.map((p) => p.remaining)).toEqual([2, 4]);
    });

    test('concurrent takes on one key admit exactly capacity', async () => {
      const l = limiter({ capacity: 25, refillPerSecond: SLOW });
      const key = caller();
      const results = await Promise.all(Array.from({ length: 200 }, () => l.take(key)));
      expect(results.filter((d) => d.allowed)).toHaveLength(25);
    });

    test('a wall clock an hour ahead gives no extra tokens', async () => {
      const l = limiter({ capacity: 3, refillPerSecond: SLOW });
      const key = caller();
      await l.take(key, { cost: 3 });
      const realNow = Date.now;
      Date.now = () => realNow() + 3_600_000;
      try {
        const d = await l.take(key);
        expect(d.allowed).toBe(false);
        expect(d.retryAfterMs).toBeGreaterThan(3_590_000);
      } finally {
        Date.now = realNow;
      }
    });

    test('the slowest refill allowed (a bucket that fills in 30 years) works, with its long expiry', async () => {
      const l = limiter({ capacity: 3, refillPerSecond: 3 / (30 * 365 * 86400) });
      const key = caller();
      expect((await l.take(key)).remaining).toBe(2);
      expect((await l.take(key, { cost: 2 })).remaining).toBe(0);
      const denied = await l.take(key);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(9 * 365 * 86400 * 1000);
    });

    test('keys of any size and script are just keys', async () => {
      const l = limiter({ capacity: 2, refillPerSecond: SLOW });
      const huge = 'k'.repeat(6000);
      const unicode = 'clé-🔑-ключ';
      expect((await l.take(huge)).remaining).toBe(1);
      expect((await l.take(unicode)).remaining).toBe(1);
      expect((await l.take(huge)).remaining).toBe(0);
    });
  });
}
