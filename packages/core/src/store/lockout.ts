// Lock-outs the stores share: the rule's check, the time a denial counts, and the locks a process remembers.
import { invalidOption, TokenBucketError } from '../errors.js';
import { MAX_POLICIES, type Policy } from '../policy.js';
import { MEMORY_TRUST_MS } from './redis/denial-cache.js';
import type { LockoutRule } from './types.js';

/** The longest window or lock, in ms (1e9 s, as the slowest policy: Redis's arithmetic stays exact). */
const MAX_LOCKOUT_MS = 1e12;

const checked = new WeakSet<LockoutRule>();

/** A rule's name: printable ASCII without `"`, `\`, `{`, `}`, long enough for every policy name of a limiter joined. */
const RULE_NAME = /^[\x20-\x7e]+$/;
const RULE_NAME_FORBIDDEN = /["\\{}]/;
const MAX_RULE_NAME = MAX_POLICIES * 129;

/**
 * Throws TB_ERR_INVALID_OPTION when a lockout rule cannot work: a name that cannot be part of a key,
 * `after` not an integer >= 1, `windowMs` or `durationMs` not a number of ms > 0. Each rule
 * object is checked once.
 */
export function checkLockoutRule(rule: LockoutRule): void {
  if (checked.has(rule)) return;
  if (typeof rule !== 'object' || rule === null) invalidOption('lockout', rule, 'an object { name, after, windowMs, durationMs }');
  const { name } = rule;
  if (typeof name !== 'string' || name.length > MAX_RULE_NAME || !RULE_NAME.test(name) || RULE_NAME_FORBIDDEN.test(name)) {
    invalidOption('lockout.name', name, `a string of 1 to ${MAX_RULE_NAME} printable ASCII characters without ", \\, { or }`);
  }
  if (!Number.isSafeInteger(rule.after) || rule.after < 1) invalidOption('lockout.after', rule.after, 'an integer >= 1 (denials that lock the caller)');
  for (const option of ['windowMs', 'durationMs'] as const) {
    const ms = rule[option];
    if (typeof ms !== 'number' || !(ms > 0) || !(ms <= MAX_LOCKOUT_MS))
      invalidOption(`lockout.${option}`, ms, `a number of milliseconds > 0 and <= ${MAX_LOCKOUT_MS}`);
  }
  checked.add(rule);
}

/** Throws TB_ERR_INVALID_COST unless `tokens` is a finite number (an adjust's amount). */
export function checkTokens(tokens: unknown): asserts tokens is number {
  if (typeof tokens !== 'number' || !Number.isFinite(tokens)) {
    throw new TokenBucketError('TB_ERR_INVALID_COST', `the tokens to adjust by must be a finite number; got ${String(tokens)}.`, 'tokens');
  }
}

/** The key of one caller under one rule in a process's maps (rule names cannot contain `"`). */
export const lockId = (ruleName: string, callerId: string): string => `${ruleName}"${callerId}`;

interface KnownLock {
  /** Local monotonic time at which the lock ends, at the latest as far as this process knows. */
  readonly endsAt: number;
  readonly policies: readonly Policy[];
  /** The levels the store reported with the lock, and when (local time just before asking). */
  readonly levels: readonly number[];
  readonly sentAt: number;
}

/**
 * The locks a RedisStore has seen, answered without Redis until they end, or for MEMORY_TRUST_MS
 * at most (an unlock made by another process is then seen). The store saw the lock
 * with `lockedMs` left at some moment after `sentAt`, so it ends at `sentAt + lockedMs` or later:
 * remembering that end errs towards asking Redis again. Bounded: when full, it starts over (a
 * forgotten lock costs one call to Redis, which answers it again).
 */
export class LockCache {
  /** Locks per caller id, then per rule name: a caller's are forgotten together (`forgetCaller`). */
  private byCaller = new Map<string, Map<string, KnownLock>>();
  private count = 0;

  constructor(
    readonly maxKeys: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.count;
  }

  remember(ruleName: string, callerId: string, policies: readonly Policy[], levels: readonly number[], lockedMs: number, sentAt: number): void {
    let locks = this.byCaller.get(callerId);
    if (locks === undefined || !locks.has(ruleName)) {
      if (this.count >= this.maxKeys) {
        this.byCaller = new Map();
        this.count = 0;
        locks = undefined;
      }
      if (locks === undefined) {
        locks = new Map();
        this.byCaller.set(callerId, locks);
      }
      this.count++;
    }
    locks.set(ruleName, { endsAt: sentAt + lockedMs, policies, levels, sentAt });
  }

  /**
   * The remembered lock's ms left and the caller's levels now (upper bounds: the levels then,
   * refilled since), when this process knows the caller is locked; else undefined.
   */
  check(ruleName: string, callerId: string, policies: readonly Policy[]): { lockedMs: number; levels: number[] } | undefined {
    if (this.count === 0) return undefined;
    const lock = this.byCaller.get(callerId)?.get(ruleName);
    if (lock === undefined) return undefined;
    const now = this.clock();
    // Past MEMORY_TRUST_MS Redis is asked again: an unlock made by another process shows there.
    if (now >= lock.endsAt || now - lock.sentAt >= MEMORY_TRUST_MS) {
      this.forget(ruleName, callerId);
      return undefined;
    }
    const elapsed = Math.max(0, now - lock.sentAt);
    const levels = policies.map((p, i) => {
      // The same policies as when the lock was seen give that level refilled; others, unknown: full.
      const level = lock.policies === policies ? lock.levels[i]! : p.capacity;
      return Math.min(p.capacity, level + (elapsed * p.refillPerSecond) / 1000);
    });
    return { lockedMs: Math.ceil(lock.endsAt - now), levels };
  }

  forget(ruleName: string, callerId: string): void {
    const locks = this.byCaller.get(callerId);
    if (locks === undefined || !locks.delete(ruleName)) return;
    this.count--;
    if (locks.size === 0) this.byCaller.delete(callerId);
  }

  /** Forgets every lock remembered for the caller: tokens given back make its remembered levels stale. */
  forgetCaller(callerId: string): void {
    const locks = this.byCaller.get(callerId);
    if (locks === undefined) return;
    this.count -= locks.size;
    this.byCaller.delete(callerId);
  }

  clear(): void {
    this.byCaller = new Map();
    this.count = 0;
  }
}
