// In-process bucket store: the embedded default, and the same semantics as the Redis store.
import { performance } from 'node:perf_hooks';
import { invalidOption } from '../errors.js';
import { checkOptionNames, optionNames } from '../option-names.js';
import { fits, type Policy } from '../policy.js';
import { checkLockoutRule, checkTokens, lockId } from './lockout.js';
import { bucketKey, type ConcurrencyPolicy, type LockoutRule, type SlotResult, slotKey, type Store, type TakeResult } from './types.js';

export interface MemoryStoreOptions {
  /**
   * Most buckets held at once, and most callers whose lock-outs (locks, and denials counted
   * towards one) are held at once. When a new bucket would pass it, one bucket is dropped (its caller
   * starts full again): of the oldest few, the one closest to full. Denied callers hold empty
   * buckets, so a flood of new keys cannot evict them and hand them a fresh bucket. Keep it
   * above the number of callers active within one refill window.
   * @default 100000
   */
  maxKeys?: number;
  /**
   * How often, in ms, buckets that have refilled to full are dropped. A full bucket is the same
   * as no bucket, so this only frees memory.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * Monotonic clock in milliseconds. Wall-clock jumps (NTP, a changed system time) must not
   * move it.
   * @default performance.now
   */
  clock?: () => number;
}

const MEMORY_STORE_OPTIONS = optionNames<MemoryStoreOptions>({ maxKeys: 1, sweepIntervalMs: 1, clock: 1 });

interface Bucket {
  /** Tokens at `at`. */
  tokens: number;
  /** Clock reading when `tokens` was written. */
  at: number;
  /** Clock reading when the bucket will be full, after which it can be dropped. */
  fullAt: number;
}

/** One caller's state under one lockout rule. */
interface Lockout {
  /** Clock reading when the caller's lock ends (in the past: not locked). */
  until: number;
  /** Times of the denials counted towards a lock, oldest first: at most the rule's `after`. */
  denials: number[];
  /** Clock reading after which the entry says nothing (the lock ended, the denials left the window). */
  expiresAt: number;
}

/** Buckets in a Map inside this process. Limits hold per process, not across instances. */
export class MemoryStore implements Store {
  readonly maxKeys: number;
  readonly sweepIntervalMs: number;
  private readonly clock: () => number;
  // A write re-inserts: Map order is write order.
  private readonly buckets = new Map<string, Bucket>();
  /** Lock-outs by rule name and caller id; a write re-inserts, as for buckets. */
  private readonly lockouts = new Map<string, Lockout>();
  /** Held slots by slot key: slot id -> clock reading when its lease ends. As many as requests in flight. */
  private readonly slots = new Map<string, Map<string, number>>();
  /** Where eviction looks next; restarted from the first bucket when it runs out. */
  private hand: IterableIterator<[string, Bucket]> | undefined;
  /** The last take's caller, policies and bucket keys (see `keysOf`). */
  private lastPolicies: readonly Policy[] | undefined;
  private lastCallerId = '';
  private lastKeys: readonly string[] = [];
  /** Keys that are the Map's last entries, in this order, as the last take's debit left them; undefined once anything else is written. */
  private tail: readonly string[] | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object { maxKeys, sweepIntervalMs }');
    checkOptionNames(options, MEMORY_STORE_OPTIONS);
    const { maxKeys = 100_000, sweepIntervalMs = 60_000, clock = () => performance.now() } = options;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) invalidOption('maxKeys', maxKeys, 'an integer >= 1');
    if (typeof sweepIntervalMs !== 'number' || !(sweepIntervalMs >= 10) || !Number.isFinite(sweepIntervalMs)) {
      invalidOption('sweepIntervalMs', sweepIntervalMs, 'a finite number of milliseconds >= 10');
    }
    if (typeof clock !== 'function') invalidOption('clock', clock, 'a function returning milliseconds');
    this.maxKeys = maxKeys;
    this.sweepIntervalMs = sweepIntervalMs;
    this.clock = clock;
    this.timer = setInterval(() => this.sweep(), sweepIntervalMs);
    this.timer.unref();
  }

  /** Number of buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Number of callers whose lock-out state (a lock, or denials counted towards one) is held now. */
  get lockoutSize(): number {
    return this.lockouts.size;
  }

  take(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): Promise<TakeResult> {
    try {
      return Promise.resolve(this.takeNow(callerId, policies, cost, lockout));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The take, done now: a MemoryStore never waits. */
  takeNow(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): TakeResult {
    const now = this.clock();
    const keys = this.keysOf(callerId, policies);
    const n = policies.length;
    const levels = new Array<number>(n);
    for (let i = 0; i < n; i++) levels[i] = this.level(keys[i]!, policies[i]!, now);
    let lockoutId: string | undefined;
    if (lockout !== undefined) {
      checkLockoutRule(lockout);
      lockoutId = lockId(lockout.name, callerId);
      const until = this.lockouts.get(lockoutId)?.until;
      if (until !== undefined && until > now) {
        return { allowed: false, levels, source: 'memory', lockedMs: Math.ceil(Math.min(until - now, lockout.durationMs)) };
      }
    }
    const allowed = fits(levels, cost);
    if (allowed && cost > 0) this.debit(keys, policies, levels, cost, now);
    if (!allowed && lockoutId !== undefined && this.countDenial(lockoutId, lockout!, now)) {
      return { allowed: false, levels, source: 'memory', lockedMs: Math.ceil(lockout!.durationMs) };
    }
    return { allowed, levels, source: 'memory' };
  }

  /**
   * The bucket keys of a caller's policies: the last take's when it was for the same caller and
   * policies (a hot caller's keys are made once, not per take; a new array otherwise, so that an
   * array's identity stands for its keys: see `tail`).
   */
  private keysOf(callerId: string, policies: readonly Policy[]): readonly string[] {
    if (policies === this.lastPolicies && callerId === this.lastCallerId) return this.lastKeys;
    const keys = new Array<string>(policies.length);
    for (let i = 0; i < policies.length; i++) keys[i] = bucketKey('', policies[i]!.name, callerId);
    this.lastPolicies = policies;
    this.lastCallerId = callerId;
    this.lastKeys = keys;
    return keys;
  }

  /**
   * Debits `cost` from each bucket at its level. When the buckets are the Map's last entries, in
   * this order (`tail`: the previous take wrote them, and nothing was written since), each is
   * updated in place: the order a delete and re-insert would leave, without a new bucket and
   * without the deleted entries a re-insert leaves in the Map (which V8 then rehashes away).
   */
  private debit(keys: readonly string[], policies: readonly Policy[], levels: readonly number[], cost: number, now: number): void {
    const n = policies.length;
    if (this.tail === keys) {
      let inPlace = true;
      for (let i = 0; i < n && inPlace; i++) inPlace = levels[i]! - cost < policies[i]!.capacity && this.buckets.has(keys[i]!);
      if (inPlace) {
        for (let i = 0; i < n; i++) {
          const p = policies[i]!;
          const b = this.buckets.get(keys[i]!)!;
          const tokens = levels[i]! - cost;
          b.tokens = tokens;
          b.at = now;
          b.fullAt = fullAt(p, tokens, now);
        }
        return;
      }
    }
    let all = true;
    for (let i = 0; i < n; i++) all = this.write(keys[i]!, policies[i]!, levels[i]! - cost, now) && all;
    // Written in order, each re-inserted: they are now the Map's last entries.
    if (all) this.tail = keys;
  }

  async acquireSlot(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<SlotResult> {
    return this.acquireSlotNow(callerId, policy, slotId);
  }

  /** The acquisition, done now. */
  acquireSlotNow(callerId: string, policy: ConcurrencyPolicy, slotId: string): SlotResult {
    const key = slotKey('', policy.name, callerId);
    const now = this.clock();
    let held = this.liveSlots(key, now);
    if (held === undefined) {
      held = new Map();
      this.slots.set(key, held);
    }
    if (held.size >= policy.max) return { allowed: false, held: held.size, source: 'memory' };
    held.set(slotId, now + policy.leaseMs);
    return { allowed: true, held: held.size, source: 'memory' };
  }

  async renewSlot(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<boolean> {
    const now = this.clock();
    const held = this.liveSlots(slotKey('', policy.name, callerId), now);
    if (held?.has(slotId) !== true) return false;
    held.set(slotId, now + policy.leaseMs);
    return true;
  }

  async releaseSlot(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<void> {
    const key = slotKey('', policy.name, callerId);
    const held = this.slots.get(key);
    if (held === undefined) return;
    held.delete(slotId);
    if (held.size === 0) this.slots.delete(key);
  }

  async countSlots(callerId: string, policy: ConcurrencyPolicy): Promise<number> {
    return this.liveSlots(slotKey('', policy.name, callerId), this.clock())?.size ?? 0;
  }

  async resetSlots(callerId: string, policy: ConcurrencyPolicy): Promise<void> {
    this.slots.delete(slotKey('', policy.name, callerId));
  }

  /** Number of callers holding slots now. */
  get slotCallers(): number {
    return this.slots.size;
  }

  /** A key's slots with the ended leases dropped, or undefined (and the key forgotten) when none is left. */
  private liveSlots(key: string, now: number): Map<string, number> | undefined {
    const held = this.slots.get(key);
    if (held === undefined) return undefined;
    for (const [id, until] of held) if (until <= now) held.delete(id);
    if (held.size > 0) return held;
    this.slots.delete(key);
    return undefined;
  }

  /**
   * Adds `tokens` to each of the caller's buckets (negative: removes them), within [0, capacity].
   * Resolves with the levels after it.
   */
  async adjust(callerId: string, policies: readonly Policy[], tokens: number): Promise<TakeResult> {
    checkTokens(tokens);
    const now = this.clock();
    const levels = policies.map((p) => {
      const key = bucketKey('', p.name, callerId);
      const before = this.level(key, p, now);
      const after = Math.min(p.capacity, Math.max(0, before + tokens));
      if (after !== before) this.write(key, p, after, now);
      return after;
    });
    return { allowed: true, levels, source: 'memory' };
  }

  reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    for (const p of policies) this.buckets.delete(bucketKey('', p.name, callerId));
    return Promise.resolve();
  }

  async unlock(callerId: string, lockout: LockoutRule): Promise<void> {
    checkLockoutRule(lockout);
    this.lockouts.delete(lockId(lockout.name, callerId));
  }

  /** Drops every bucket, lock-out and slot; resolves with how many keys there were. For tests. */
  clear(): Promise<number> {
    const count = this.buckets.size + this.lockouts.size + this.slots.size;
    this.buckets.clear();
    this.lockouts.clear();
    this.slots.clear();
    this.hand = undefined;
    return Promise.resolve(count);
  }

  /** Drops every bucket that has refilled to full, and every lock-out that has ended. Runs on a timer; callable directly. */
  sweep(): void {
    const now = this.clock();
    for (const [key, b] of this.buckets) if (b.fullAt <= now) this.buckets.delete(key);
    for (const [key, l] of this.lockouts) if (l.expiresAt <= now) this.lockouts.delete(key);
    for (const key of this.slots.keys()) this.liveSlots(key, now);
  }

  /** Stops the sweep timer and drops every bucket and lock-out. */
  close(): void {
    clearInterval(this.timer);
    this.buckets.clear();
    this.lockouts.clear();
    this.slots.clear();
    this.hand = undefined;
  }

  private level(key: string, p: Policy, now: number): number {
    let b: { readonly tokens: number; readonly at: number } | undefined = this.buckets.get(key);
    const seen = this.seenElsewhere?.(key);
    if (seen !== undefined && (b === undefined || seen.at > b.at)) b = seen;
    return b === undefined ? p.capacity : Math.min(p.capacity, b.tokens + (Math.max(0, now - b.at) * p.refillPerSecond) / 1000);
  }

  /**
   * For a store standing in for another (the fallback of a RedisStore): a bucket's level as the
   * other store last reported it, on this store's clock. A bucket starts from the newer of that
   * reading and its own, instead of full.
   */
  protected seenElsewhere?(key: string): { readonly tokens: number; readonly at: number } | undefined;

  /**
   * Counts a denial of the caller under `rule`; true when it is the `after`-th within the
   * window, which locks the caller for `durationMs` from now.
   */
  private countDenial(id: string, rule: LockoutRule, now: number): boolean {
    let lockout = this.lockouts.get(id);
    if (lockout === undefined) {
      if (this.lockouts.size >= this.maxKeys) this.evictLockout(now);
      lockout = { until: 0, denials: [], expiresAt: 0 };
    } else {
      this.lockouts.delete(id); // re-inserted below: Map order is write order
    }
    const denials = lockout.denials.filter((t) => now - t < rule.windowMs);
    denials.push(now);
    if (denials.length > rule.after) denials.splice(0, denials.length - rule.after);
    const locks = denials.length >= rule.after;
    lockout.denials = locks ? [] : denials;
    if (locks) lockout.until = now + rule.durationMs;
    lockout.expiresAt = Math.max(lockout.until, now + rule.windowMs);
    this.lockouts.set(id, lockout);
    return locks;
  }

  /** Makes room for one lock-out: of the oldest few written, one that says nothing any more, else one not locked, else the oldest. */
  private evictLockout(now: number): void {
    let victim: string | undefined;
    let victimLocked = true;
    let looked = 0;
    for (const [key, l] of this.lockouts) {
      if (l.expiresAt <= now) {
        victim = key;
        break;
      }
      const locked = l.until > now;
      if (victim === undefined || (victimLocked && !locked)) [victim, victimLocked] = [key, locked];
      if (++looked >= EVICTION_SAMPLE) break;
    }
    if (victim !== undefined) this.lockouts.delete(victim);
  }

  /** Writes a bucket (re-inserted: Map order is write order); false when it is full, and so dropped. */
  private write(key: string, p: Policy, tokens: number, now: number): boolean {
    this.tail = undefined;
    this.buckets.delete(key);
    if (tokens >= p.capacity) return false;
    const bucket = { tokens, at: now, fullAt: fullAt(p, tokens, now) };
    if (this.buckets.size >= this.maxKeys) this.evict(bucket.fullAt);
    this.buckets.set(key, bucket);
    return true;
  }

  /**
   * Makes room for a bucket that will be full at `incomingFullAt`: looks at the next
   * EVICTION_SAMPLE buckets under the eviction hand, and on up to EVICTION_SCAN_LIMIT while all it
   * has seen are emptier than the new one, and drops the one closest to full (smallest `fullAt`).
   *
   * Dropping the least recently written bucket instead would drop exactly the denied callers (a
   * denial writes nothing, so they drift to the front) and refill them. The hand is a Map
   * iterator kept between evictions, a clock hand over the buckets: each eviction looks at the
   * next few, so a block of denied callers is passed over, not evicted one by one, and no
   * eviction rescans the front of the Map (where V8 leaves deleted entries until it rehashes).
   */
  private evict(incomingFullAt: number): void {
    const sample = Math.min(EVICTION_SAMPLE, this.buckets.size);
    const limit = Math.min(EVICTION_SCAN_LIMIT, this.buckets.size);
    let victim: string | undefined;
    let victimFullAt = Infinity;
    for (let looked = 0; looked < limit; looked++) {
      let next = this.hand?.next();
      if (next === undefined || next.done === true) {
        this.hand = this.buckets.entries();
        next = this.hand.next();
        if (next.done === true) return;
      }
      const [key, bucket] = next.value;
      if (bucket.fullAt < victimFullAt) [victim, victimFullAt] = [key, bucket.fullAt];
      if (looked + 1 >= sample && victimFullAt <= incomingFullAt) break;
    }
    if (victim !== undefined) this.buckets.delete(victim);
  }
}

/** Buckets one eviction compares at least. */
const EVICTION_SAMPLE = 16;
/** Buckets one eviction looks at, at most: memory stays at maxKeys and a take stays O(1). */
const EVICTION_SCAN_LIMIT = 64;

let shared: MemoryStore | undefined;

/**
 * The process-wide MemoryStore: the store of every limiter created without one, and the local
 * fallback while a store fails. One store, so that policies with the same name share buckets in
 * this process as they would on one Redis.
 */
export function sharedMemoryStore(): MemoryStore {
  shared ??= new MemoryStore();
  return shared;
}

/** When a bucket of `p` holding `tokens` at `now` is full again. */
function fullAt(p: Policy, tokens: number, now: number): number {
  return now + ((p.capacity - tokens) * 1000) / p.refillPerSecond;
}
