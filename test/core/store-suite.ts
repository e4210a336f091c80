// The store contract: the same cases run on every Store (memory, and Redis and Redis Cluster through
// every supported client).
import { randomBytes } from 'node:crypto';
import { createLimiter, type Decision, type PolicyOptions, type Store } from '@tokenbucket/core';
import type { LockoutRule, TakeResult } from '@tokenbucket/core/store';
import { parsePolicies, type Policy } from '../../packages/core/src/policy';
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

/** Validated policies with fresh names. */
const policiesOf = (...specs: { capacity: number; refillPerSecond: number }[]): readonly Policy[] =>
  parsePolicies({ policies: specs.map((spec) => ({ name: policyName(), ...spec })) });

/** A lockout rule with a fresh name. */
const ruleOf = (after: number, windowMs: number, durationMs: number): LockoutRule => ({
  name: `lock-${randomBytes(3).toString('hex')}`,
  after,
  windowMs,
  durationMs,
});

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

    describe('adjust: refunds, rewards and penalties', () => {
      test('adds and removes tokens in every bucket, clamped to [0, capacity], and reports the levels after it', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 10, refillPerSecond: SLOW }, { capacity: 4, refillPerSecond: SLOW });
        const id = caller();
        expect(await store.take(id, policies, 3)).toMatchObject({ allowed: true });
        const levels = async (tokens: number) => (await store.adjust(id, policies, tokens)).levels.map((l) => Math.round(l * 1000) / 1000);
        expect(await levels(2)).toEqual([9, 3]);
        expect(await levels(100)).toEqual([10, 4]); // never above capacity
        expect(await levels(-5)).toEqual([5, 0]);
        expect(await levels(-100)).toEqual([0, 0]); // never below empty
        const adjusted = await store.adjust(id, policies, 1.5);
        expect(adjusted).toMatchObject({ allowed: true });
        expect(adjusted.levels[0]).toBeCloseTo(1.5, 3);
        expect(adjusted.levels[1]).toBeCloseTo(1.5, 3);
        // A take sees what the adjusts left, and so does the limiter.
        expect(await store.take(id, policies, 2)).toMatchObject({ allowed: false });
        expect(await store.take(id, policies, 1.5)).toMatchObject({ allowed: true });
        expect((await store.take(id, policies, 0)).levels.map((l) => Math.round(l))).toEqual([0, 0]);
      });

      test('a penalty on a new caller takes from a full bucket; a reward on one changes nothing', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 5, refillPerSecond: SLOW });
        expect((await store.adjust(caller(), policies, 3)).levels[0]).toBeCloseTo(5, 6);
        const id = caller();
        expect((await store.adjust(id, policies, -2)).levels[0]).toBeCloseTo(3, 3);
        expect((await store.take(id, policies, 0)).levels[0]).toBeCloseTo(3, 3);
      });

      test('a refund after other takes gives back only its own tokens: what the others took stays taken', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 5, refillPerSecond: SLOW });
        const id = caller();
        expect((await store.take(id, policies, 2)).allowed).toBe(true); // the request refunded later
        expect((await store.take(id, policies, 3)).allowed).toBe(true); // other requests: the bucket is empty
        expect((await store.take(id, policies, 1)).allowed).toBe(false);
        expect((await store.adjust(id, policies, 2)).levels[0]).toBeCloseTo(2, 3);
        expect((await store.take(id, policies, 2)).allowed).toBe(true);
        expect((await store.take(id, policies, 1)).allowed).toBe(false);
      });

      test('a refund of a bucket that refilled meanwhile stops at capacity', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 4, refillPerSecond: 20 }); // a token every 50 ms
        const id = caller();
        expect((await store.take(id, policies, 4)).allowed).toBe(true);
        await sleep(120); // 2.4 tokens back, or more on a slow machine
        const after = await store.adjust(id, policies, 4);
        expect(after.levels[0]).toBeCloseTo(4, 6); // not 6.4
        expect((await store.take(id, policies, 4)).allowed).toBe(true);
      });

      test('a refund reaches a caller this store has just denied: its next take is decided again', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 2, refillPerSecond: SLOW });
        const id = caller();
        /** As the limiter takes: from memory when the store can answer so, else the store. */
        const take = async (cost: number): Promise<TakeResult> => store.takeNow?.(id, policies, cost) ?? store.take(id, policies, cost);
        expect((await take(2)).allowed).toBe(true);
        expect((await take(1)).allowed).toBe(false);
        expect((await take(1)).allowed).toBe(false); // remembered, where the store remembers denials
        await store.adjust(id, policies, 1);
        expect(await take(1)).toMatchObject({ allowed: true });
        expect((await take(1)).allowed).toBe(false);
      });

      test('a penalty leaves a remembered denial true, and the caller denied', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 3, refillPerSecond: SLOW });
        const id = caller();
        const take = async (cost: number): Promise<TakeResult> => store.takeNow?.(id, policies, cost) ?? store.take(id, policies, cost);
        expect((await take(2)).allowed).toBe(true);
        expect((await take(2)).allowed).toBe(false);
        expect((await store.adjust(id, policies, -1)).levels[0]).toBeCloseTo(0, 3);
        expect((await take(1)).allowed).toBe(false);
      });

      test('adjusts made in one turn apply each once, with the takes of that turn', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 50, refillPerSecond: SLOW });
        const id = caller();
        await store.take(id, policies, 50);
        const refunds = await Promise.all(Array.from({ length: 20 }, () => store.adjust(id, policies, 1)));
        expect(refunds.every((r) => r.allowed)).toBe(true);
        const takes = await Promise.all(Array.from({ length: 30 }, () => store.take(id, policies, 1)));
        expect(takes.filter((t) => t.allowed)).toHaveLength(20);
      });

      test('an amount that is not a finite number is refused', async () => {
        const policies = policiesOf({ capacity: 5, refillPerSecond: SLOW });
        for (const bad of [Number.NaN, Infinity, '1' as never]) {
          await expect(harness.store().adjust(caller(), policies, bad)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_COST', option: 'tokens' });
        }
      });
    });

    describe('lock-out', () => {
      /** Takes as the limiter does: from memory when the store can answer so, else the store. */
      const taker =
        (store: Store, id: string, policies: readonly Policy[], rule: LockoutRule) =>
        async (cost = 1): Promise<TakeResult> =>
          store.takeNow?.(id, policies, cost, rule) ?? store.take(id, policies, cost, rule);

      test('the after-th denial within the window locks the caller: that take already says so, and later ones count down', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const rule = ruleOf(3, 60_000, 600);
        const id = caller();
        const take = taker(store, id, policies, rule);
        expect(await take()).toMatchObject({ allowed: true });
        const first = await take();
        expect(first.allowed).toBe(false);
        expect(first.lockedMs).toBeUndefined();
        expect((await take()).lockedMs).toBeUndefined();
        const locking = await take();
        expect(locking.allowed).toBe(false);
        expect(locking.lockedMs).toBeGreaterThan(500);
        expect(locking.lockedMs).toBeLessThanOrEqual(600);
        await sleep(200);
        const later = await take();
        expect(later.allowed).toBe(false);
        expect(later.lockedMs).toBeGreaterThan(0);
        expect(later.lockedMs).toBeLessThanOrEqual(locking.lockedMs! - 150);
        // A take without the rule is not locked: the lock belongs to the rule.
        expect((await store.take(id, policies, 0)).lockedMs).toBeUndefined();
      });

      test('a locked take debits nothing, even one the bucket would allow; the lock ends after durationMs', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 2, refillPerSecond: SLOW });
        const rule = ruleOf(2, 60_000, 1000);
        const id = caller();
        const take = taker(store, id, policies, rule);
        await take(2);
        await take();
        const locked = await take();
        expect(locked.lockedMs).toBeGreaterThan(0);
        await store.adjust(id, policies, 2); // tokens back while locked
        for (let i = 0; i < 5; i++) {
          const t = await take();
          expect(t.allowed).toBe(false);
          expect(t.lockedMs).toBeGreaterThan(0);
        }
        expect((await store.take(id, policies, 0)).levels[0]).toBeCloseTo(2, 3);
        await sleep(locked.lockedMs! + 20);
        expect(await take(2)).toMatchObject({ allowed: true });
        const again = await take();
        expect(again.allowed).toBe(false);
        expect(again.lockedMs).toBeUndefined(); // the count started over with the lock
      });

      test('denials farther apart than windowMs never lock; after of them within it do', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const rule = ruleOf(2, 500, 60_000);
        const id = caller();
        const take = taker(store, id, policies, rule);
        await take();
        expect((await take()).lockedMs).toBeUndefined();
        await sleep(550);
        expect((await take()).lockedMs).toBeUndefined();
        await sleep(550);
        expect((await take()).lockedMs).toBeUndefined();
        const locked = await take();
        expect(locked.lockedMs).toBeGreaterThan(59_000);
        await store.unlock(id, rule);
      });

      test('after: 1 locks on the first denial; cost 0 of a locked caller is denied too', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const rule = ruleOf(1, 1000, 60_000);
        const id = caller();
        const take = taker(store, id, policies, rule);
        expect((await take(0)).allowed).toBe(true);
        expect((await take(2)).lockedMs).toBeGreaterThan(59_000);
        expect(await take(0)).toMatchObject({ allowed: false });
        expect((await take(0)).levels[0]).toBeCloseTo(1, 3);
        await store.unlock(id, rule);
      });

      test('unlock lifts the lock and the denials counted; reset does not lift it', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const rule = ruleOf(2, 60_000, 60_000);
        const id = caller();
        const take = taker(store, id, policies, rule);
        await take();
        await take();
        expect((await take()).lockedMs).toBeGreaterThan(0);
        await store.reset(id, policies);
        const stillLocked = await take();
        expect(stillLocked).toMatchObject({ allowed: false });
        expect(stillLocked.lockedMs).toBeGreaterThan(0);
        await store.unlock(id, rule);
        expect(await take()).toMatchObject({ allowed: true }); // the reset refilled the bucket
        expect((await take()).lockedMs).toBeUndefined(); // one denial: the count started over
        expect((await take()).lockedMs).toBeGreaterThan(0);
        await store.unlock(id, rule);
        await store.unlock(caller(), rule); // a caller never locked: nothing to do
      });

      test('a rule named after every policy of a limiter joined is a valid name', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const rule = { ...ruleOf(1, 60_000, 60_000), name: Array.from({ length: 32 }, (_, i) => `${'n'.repeat(120)}-${i}`).join(',') };
        const id = caller();
        expect((await store.take(id, policies, 2, rule)).lockedMs).toBeGreaterThan(0);
        await store.unlock(id, rule);
      });

      test('locks are per caller and per rule', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const rule = ruleOf(1, 60_000, 60_000);
        const other = ruleOf(1, 60_000, 60_000);
        const id = caller();
        await taker(store, id, policies, rule)();
        expect((await taker(store, id, policies, rule)()).lockedMs).toBeGreaterThan(0);
        expect((await taker(store, id, policies, other)(0)).allowed).toBe(true);
        expect((await taker(store, caller(), policies, rule)()).allowed).toBe(true);
        await store.unlock(id, rule);
      });

      test('concurrent denials of one caller lock it once, and every take after is locked', async () => {
        const store = harness.store();
        const policies = policiesOf({ capacity: 5, refillPerSecond: SLOW });
        const rule = ruleOf(10, 60_000, 60_000);
        const id = caller();
        const results = await Promise.all(Array.from({ length: 40 }, () => store.take(id, policies, 1, rule)));
        expect(results.filter((r) => r.allowed)).toHaveLength(5);
        expect(results.filter((r) => !r.allowed && r.lockedMs === undefined)).toHaveLength(9);
        expect(results.filter((r) => (r.lockedMs ?? 0) > 0)).toHaveLength(26);
        await store.unlock(id, rule);
      });

      test('an invalid rule is refused, naming the field', async () => {
        const policies = policiesOf({ capacity: 1, refillPerSecond: SLOW });
        const cases: [Partial<LockoutRule>, string][] = [
          [{ after: 0 }, 'lockout.after'],
          [{ after: 1.5 }, 'lockout.after'],
          [{ windowMs: 0 }, 'lockout.windowMs'],
          [{ durationMs: Number.NaN }, 'lockout.durationMs'],
          [{ durationMs: 1e13 }, 'lockout.durationMs'],
          [{ name: 'a{b}' }, 'lockout.name'],
          [{ name: 'x'.repeat(32 * 129 + 1) }, 'lockout.name'],
          [{ name: '' }, 'lockout.name'],
        ];
        for (const [change, option] of cases) {
          const rule = { ...ruleOf(1, 1000, 1000), ...change };
          await expect(harness.store().take(caller(), policies, 1, rule)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_OPTION', option });
          await expect(harness.store().unlock(caller(), rule)).rejects.toMatchObject({ code: 'TB_ERR_INVALID_OPTION', option });
        }
      });
    });

    test('clear deletes every bucket and lock of the store', async () => {
      const store = harness.store();
      const policies = policiesOf({ capacity: 2, refillPerSecond: SLOW }, { capacity: 3, refillPerSecond: SLOW });
      const rule = ruleOf(1, 60_000, 60_000);
      const ids = [caller(), caller(), caller()];
      for (const id of ids) await store.take(id, policies, 2);
      await store.take(ids[0]!, policies, 1, rule); // denied: locked
      expect((await store.take(ids[0]!, policies, 0, rule)).lockedMs).toBeGreaterThan(0);
      expect(await store.clear()).toBeGreaterThanOrEqual(7); // 6 buckets and a lock, and any other case's
      for (const id of ids) expect((await store.take(id, policies, 0, rule)).levels).toEqual([2, 3]);
      expect(await store.clear()).toBeGreaterThanOrEqual(0);
    });

    test.each([300_000, 999_999, 1_000_000])('at %d tokens/s, a take retried right after retryAfterMs is allowed: the refill keeps the rate', async (rate) => {
      const l = limiter({ capacity: rate, refillPerSecond: rate }); // a second to fill
      const key = caller();
      const start = Date.now();
      expect((await l.take(key, { cost: rate })).allowed).toBe(true);
      const denied = await l.take(key, { cost: rate / 4 });
      const elapsed = Date.now() - start; // the most the bucket can have refilled for between the takes
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThanOrEqual(250 - elapsed - 1);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(251);
      await sleep(denied.retryAfterMs + 2);
      expect((await l.take(key, { cost: rate / 4 })).allowed).toBe(true);
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
