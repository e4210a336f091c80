// Token leases: a key hot in this process takes a batch of tokens from the store in one take and spends them locally.
import { invalidOption } from '../errors.js';
import { checkOptionNames, optionNames } from '../option-names.js';
import { type Policy, timeScale, tokenInterval } from '../policy.js';
import type { TakeResult } from './types.js';

/** The `leases` option of RedisStore. */
export interface LeaseOptions {
  /**
   * Most tokens one lease takes from each bucket (a lease is one take of `batch x cost`).
   * @default 1000
   */
  maxTokens?: number;
  /**
   * Longest a lease lives, in ms: what it has not spent by then goes back to Redis. A lease also
   * ends sooner when its key cools (no take for a quarter of this, at least 10 ms) and when the
   * bucket it came from would have refilled what it holds (see `leastUsable`).
   * @default 200
   */
  maxMs?: number;
  /**
   * Takes per second of one key in this process from which it is hot: below it, every take goes
   * to Redis. 0 makes every key hot from its second take, with leases of `maxTokens` (for tests).
   * @default 100
   */
  minRate?: number;
}

const LEASE_OPTIONS = optionNames<LeaseOptions>({ maxTokens: 1, maxMs: 1, minRate: 1 });

/** LeaseOptions, validated. */
export interface LeaseConfig {
  readonly maxTokens: number;
  readonly maxMs: number;
  readonly minRate: number;
}

/** Parses RedisStore's `leases` option: `false` (or absent) is off, `true` the defaults. */
export function parseLeaseOptions(value: unknown): LeaseConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    invalidOption('leases', value, 'true, false, or an object { maxTokens, maxMs, minRate }');
  }
  const options = (value === true ? {} : value) as Record<string, unknown>;
  checkOptionNames(options, LEASE_OPTIONS, 'leases.');
  const { maxTokens = 1000, maxMs = 200, minRate = 100 } = options;
  if (typeof maxTokens !== 'number' || !Number.isSafeInteger(maxTokens) || maxTokens < 2) {
    invalidOption('leases.maxTokens', maxTokens, 'an integer >= 2');
  }
  if (typeof maxMs !== 'number' || !Number.isFinite(maxMs) || maxMs < 10 || maxMs > 10_000) {
    invalidOption('leases.maxMs', maxMs, 'a number of milliseconds from 10 to 10000');
  }
  if (typeof minRate !== 'number' || !Number.isFinite(minRate) || minRate < 0) {
    invalidOption('leases.minRate', minRate, 'a finite number of takes per second >= 0');
  }
  return Object.freeze({ maxTokens, maxMs, minRate });
}

/** How long a key's take rate is counted over before it is read, in ms. */
const RATE_WINDOW_MS = 100;
/** A lease takes at most this share of the least a bucket held at the key's last take: the rest is left to other instances. */
const SHARE_OF_LEVEL = 1 / 4;
/**
 * A lease whose usable tokens fall below this share of what it took asks for the next one while
 * it still answers: the key's takes keep being answered here during that round trip, instead of
 * all waiting for it once the lease is spent.
 */
const RENEW_AT = 1 / 4;
/** Keys whose rate is followed; at this many the counts start over (as the denial cache does). */
const MAX_HEAT_KEYS = 10_000;

/** Tokens a policy's bucket refills in `seconds`, at the speed the store's script refills it (never above the policy's rate). */
function refilledIn(p: Policy, seconds: number): number {
  return (seconds * 1e6 * timeScale(p.refillPerSecond)) / tokenInterval(p.refillPerSecond);
}

/** How hot a key is in this process, and the levels its last take from Redis reported. */
interface Heat {
  windowStart: number;
  count: number;
  /** Takes per second over the last full window. */
  rate: number;
  /** The levels the key's last take from Redis reported (before its debit), or undefined. */
  levels: readonly number[] | undefined;
  /** A lease's take on its way to Redis: the key's other takes wait for it rather than ask too. */
  pending: Promise<unknown> | undefined;
}

/** A batch of tokens taken from every bucket of a caller's policies, spent here. */
interface Lease {
  readonly callerId: string;
  readonly policies: readonly Policy[];
  /** Tokens the lease's take debited from each bucket. */
  readonly taken: number;
  /** Each bucket's level before that debit, as Redis reported it. */
  readonly levels: readonly number[];
  /** Local monotonic time just before the take was sent (Redis ran it at or after this). */
  readonly sentAt: number;
  readonly expiresAt: number;
  /** Tokens admitted from the lease (the take's own request included), less refunds credited back. */
  spent: number;
  lastUsed: number;
  /** The next lease was asked for (see RENEW_AT). */
  renewing: boolean;
}

/**
 * The leases of one store. A lease never lets an instance admit more than the bucket would: its
 * tokens were debited from Redis by one atomic take before any is spent, so what every instance
 * admits is what Redis debited, less what went back. And it never lets a burst exceed the bucket's
 * own bound in any window: a lease's usable tokens shrink as the bucket it came from refills (see
 * `leastUsable`), so at every moment the bucket's level plus every lease's usable tokens is at most
 * the capacity.
 */
export class LeaseTable {
  private readonly leases = new Map<string, Map<readonly Policy[], Lease>>();
  private leaseCount = 0;
  private readonly heat = new Map<string, Map<readonly Policy[], Heat>>();
  private heatCount = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** A lease unused for this long is given back (the key cooled). */
  private readonly coolMs: number;

  constructor(
    readonly config: LeaseConfig,
    /** Gives tokens back to the caller's buckets in Redis (an adjust); must not throw or reject. */
    private readonly giveBack: (callerId: string, policies: readonly Policy[], tokens: number) => void,
    private readonly clock: () => number = () => performance.now(),
    /**
     * Asks for the key's next lease ahead of time, when a lease runs low (see RENEW_AT); the
     * store's lease take, which must not throw or reject. Without it a lease is renewed when
     * spent, by the take it cannot cover.
     */
    private readonly renew?: (callerId: string, policies: readonly Policy[], cost: number) => void,
  ) {
    this.coolMs = Math.max(10, config.maxMs / 4);
  }

  /** Leases held now (for tests and diagnostics). */
  get size(): number {
    return this.leaseCount;
  }

  /**
   * A take answered from the caller's lease, or undefined when there is none or it cannot cover
   * `cost` (the take then goes to Redis: a denial is never answered from a lease). The levels
   * reported are `estimate`'s.
   */
  spend(callerId: string, policies: readonly Policy[], cost: number): TakeResult | undefined {
    if (this.leaseCount === 0) return undefined;
    const lease = this.leases.get(callerId)?.get(policies);
    if (lease === undefined) return undefined;
    const now = this.clock();
    const least = this.leastUsable(lease, now);
    if (now >= lease.expiresAt || least < cost) {
      this.end(lease, now);
      return undefined;
    }
    const reported = this.estimate(lease, now);
    lease.spent += cost;
    lease.lastUsed = now;
    this.count(callerId, policies, now);
    if (!lease.renewing && least - cost < lease.taken * RENEW_AT && this.renew !== undefined) {
      lease.renewing = true;
      this.renew(callerId, policies, cost);
    }
    return { allowed: true, levels: reported, source: 'lease' };
  }

  /**
   * How many times `cost` the take going to Redis now should ask for: 1 (a plain take) for a cold
   * key, a cost of 0, or a bucket that held little at the key's last take; else a lease's batch,
   * sized to what this process spends of the key in half a lease's life, at most `maxTokens`,
   * and at most a quarter of the least level the key's last take reported. Counts the take
   * unless `counted` is false (a renewal asked by `spend`, whose take was counted there).
   */
  batchFor(callerId: string, policies: readonly Policy[], cost: number, counted = true): number {
    const heat = counted ? this.count(callerId, policies, this.clock()) : this.heat.get(callerId)?.get(policies);
    if (heat === undefined) return 1;
    const { minRate, maxTokens, maxMs } = this.config;
    if (cost <= 0 || heat.rate < minRate || heat.levels === undefined) return 1;
    let least = Number.POSITIVE_INFINITY;
    for (const level of heat.levels) least = Math.min(least, level);
    const forRate = minRate === 0 ? maxTokens : (heat.rate * cost * maxMs) / 2000;
    const tokens = Math.min(maxTokens, forRate, least * SHARE_OF_LEVEL);
    const batch = Math.floor(tokens / cost);
    return batch >= 2 ? batch : 1;
  }

  /** The lease take on its way for the key, if any: a take can wait for it, then spend from the lease. */
  pending(callerId: string, policies: readonly Policy[]): Promise<unknown> | undefined {
    return this.heat.get(callerId)?.get(policies)?.pending;
  }

  /** Marks the key's lease take as on its way until `taking` settles. */
  setPending(callerId: string, policies: readonly Policy[], taking: Promise<unknown>): void {
    const heat = this.heat.get(callerId)?.get(policies);
    if (heat === undefined) return;
    const settled = (): void => {
      if (heat.pending === marker) heat.pending = undefined;
    };
    const marker: Promise<unknown> = taking.then(settled, settled);
    heat.pending = marker;
  }

  /** Remembers the levels a take from Redis reported for the key, to size its next lease. */
  observe(callerId: string, policies: readonly Policy[], levels: readonly number[]): void {
    const heat = this.heat.get(callerId)?.get(policies);
    if (heat !== undefined) heat.levels = levels;
  }

  /**
   * Records the lease a take of `taken` tokens granted (`result.allowed`), its first `cost` spent
   * on the request that took it (0 for a renewal, which no request waits for); returns what that
   * request is answered (the take's own result). A lease still live (renewed ahead of time) ends
   * here and what it can still spend is carried into the new one, rather than given back to Redis
   * in a call of its own; an expired one gives back what it had not spent.
   */
  granted(callerId: string, policies: readonly Policy[], cost: number, taken: number, result: TakeResult, sentAt: number): TakeResult {
    this.observe(callerId, policies, result.levels);
    const now = this.clock();
    const old = this.leases.get(callerId)?.get(policies);
    let levels = result.levels;
    let carried = 0;
    if (old !== undefined && now < old.expiresAt) {
      // Debited from Redis and not admitted: the new lease holds them. Seen from this instance,
      // each bucket held them too when this take read it; the bound on what the new lease can
      // spend (`leastUsable`: C - level + taken - refilled) is then the same as without them.
      carried = this.retire(old, now);
      if (carried > 0) levels = result.levels.map((level) => level + carried);
    } else if (old !== undefined) {
      // What the old lease gives back reaches the buckets after this take read them: count it in.
      const back = this.end(old, now);
      if (back > 0) levels = result.levels.map((level, i) => Math.min(policies[i]!.capacity, level + back));
    }
    const lease: Lease = {
      callerId,
      policies,
      taken: taken + carried,
      levels,
      sentAt,
      expiresAt: sentAt + this.config.maxMs,
      spent: cost,
      lastUsed: now,
      renewing: false,
    };
    let byPolicies = this.leases.get(callerId);
    if (byPolicies === undefined) {
      byPolicies = new Map();
      this.leases.set(callerId, byPolicies);
    }
    byPolicies.set(policies, lease);
    this.leaseCount++;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.coolMs / 2);
      this.timer.unref();
    }
    return result;
  }

  /**
   * Credits a refund to the caller's live lease, up to what the lease has spent (never more than
   * it took); returns the tokens credited and the lease's usable levels after, or undefined when
   * there is no live lease. The rest of the refund is the store's to give back to Redis.
   */
  credit(callerId: string, policies: readonly Policy[], tokens: number): { credited: number; levels: number[] } | undefined {
    const lease = this.leases.get(callerId)?.get(policies);
    if (lease === undefined) return undefined;
    const now = this.clock();
    if (now >= lease.expiresAt) {
      this.end(lease, now);
      return undefined;
    }
    const credited = Math.min(tokens, lease.spent);
    lease.spent -= credited;
    return { credited, levels: this.estimate(lease, now) };
  }

  /** Forgets the caller's leases without giving anything back (its buckets were reset). */
  drop(callerId: string): void {
    const byPolicies = this.leases.get(callerId);
    if (byPolicies === undefined) return;
    this.leases.delete(callerId);
    this.leaseCount -= byPolicies.size;
    this.stopWhenIdle();
  }

  /** Forgets every lease and rate (the store was cleared). */
  clear(): void {
    this.leases.clear();
    this.leaseCount = 0;
    this.heat.clear();
    this.heatCount = 0;
    this.stopWhenIdle();
  }

  /** Gives back what every lease has not spent (the client is quitting). */
  releaseAll(): void {
    const now = this.clock();
    for (const byPolicies of [...this.leases.values()]) for (const lease of [...byPolicies.values()]) this.end(lease, now);
  }

  /** Ends the leases that expired or whose key cooled, giving back what they did not spend. */
  sweep(): void {
    const now = this.clock();
    for (const byPolicies of [...this.leases.values()]) {
      for (const lease of [...byPolicies.values()]) {
        if (now >= lease.expiresAt || now - lease.lastUsed >= this.coolMs) this.end(lease, now);
      }
    }
  }

  /**
   * Each bucket's level as this instance sees it at `now` (what `RateLimit` remaining is made
   * from under a lease): the level Redis reported before the lease's take, less what the lease has
   * spent since, plus what the bucket has refilled since the take was sent, at most the capacity.
   * While this instance is the only one taking the key it is exactly what Redis holds plus the
   * lease's unspent tokens; takes by other instances since the lease was taken are not in it
   * (they are seen at the key's next take from Redis, within one lease's life).
   */
  private estimate(lease: Lease, now: number): number[] {
    const elapsedS = Math.max(0, now - lease.sentAt) / 1000;
    const { policies } = lease;
    const out = new Array<number>(policies.length);
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      const refilled = refilledIn(p, elapsedS);
      out[i] = Math.max(0, Math.min(p.capacity, lease.levels[i]! - lease.spent + refilled));
    }
    return out;
  }

  /**
   * The least, over the lease's buckets, of the tokens it can still spend at `now` (what it can
   * spend at all). Each bucket's: what it took less what it spent, and
   * at most C - l + taken - refilled, where l is the level Redis reported before the lease's debit
   * and refilled what the bucket gains at its refill speed since the take was sent. The bucket held
   * at most l - taken after the debit and has gained at most `refilled` since (other takes only
   * lower it), so its level plus the lease's usable tokens stays at most its capacity C: tokens
   * held in a lease never add to a full bucket's burst. When the bucket was far from full (a
   * bucket in demand), the second term does not bind for (C - l) / rate seconds.
   */
  private leastUsable(lease: Lease, now: number): number {
    const elapsedS = Math.max(0, now - lease.sentAt) / 1000;
    const left = lease.taken - lease.spent;
    const { policies } = lease;
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      const refilled = refilledIn(p, elapsedS);
      least = Math.min(least, Math.max(0, Math.min(left, p.capacity - lease.levels[i]! + lease.taken - refilled)));
    }
    return least;
  }

  /**
   * Ends a lease and gives back its usable tokens, less one time unit's worth of the slowest
   * refill: the script moves a bucket by whole units (`timeScale`), rounding a give-back up, so
   * what goes back never exceeds what the lease holds. Returns the tokens given back.
   */
  private end(lease: Lease, now: number): number {
    const least = this.retire(lease, now);
    if (least <= 0) return 0;
    let shortestInterval = Number.POSITIVE_INFINITY;
    for (const p of lease.policies) shortestInterval = Math.min(shortestInterval, tokenInterval(p.refillPerSecond));
    const tokens = least - 1 / shortestInterval - least * 1e-9;
    if (tokens <= 0) return 0;
    this.giveBack(lease.callerId, lease.policies, tokens);
    return tokens;
  }

  /** Takes a lease out of the table (nothing goes back); returns what it could still spend, 0 if it was no longer in it. */
  private retire(lease: Lease, now: number): number {
    const byPolicies = this.leases.get(lease.callerId);
    if (byPolicies?.get(lease.policies) !== lease) return 0;
    byPolicies.delete(lease.policies);
    if (byPolicies.size === 0) this.leases.delete(lease.callerId);
    this.leaseCount--;
    this.stopWhenIdle();
    return this.leastUsable(lease, now);
  }

  private stopWhenIdle(): void {
    if (this.leaseCount === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Counts a take of the key in its rate window; returns the key's heat. */
  private count(callerId: string, policies: readonly Policy[], now: number): Heat {
    let byPolicies = this.heat.get(callerId);
    let heat = byPolicies?.get(policies);
    if (heat === undefined) {
      if (this.heatCount >= MAX_HEAT_KEYS) {
        this.heat.clear();
        this.heatCount = 0;
        byPolicies = undefined;
      }
      heat = { windowStart: now, count: 0, rate: 0, levels: undefined, pending: undefined };
      if (byPolicies === undefined) {
        byPolicies = new Map();
        this.heat.set(callerId, byPolicies);
      }
      byPolicies.set(policies, heat);
      this.heatCount++;
    }
    heat.count++;
    const elapsed = now - heat.windowStart;
    if (elapsed >= RATE_WINDOW_MS) {
      heat.rate = (heat.count * 1000) / elapsed;
      heat.count = 0;
      heat.windowStart = now;
    }
    return heat;
  }
}
