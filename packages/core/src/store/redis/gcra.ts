// The script's operations (takes, takes under a lockout rule, adjusts) in its units (GCRA, whole microseconds), and back.
import { TokenBucketError } from '../../errors.js';
import { timeScale, tokenInterval, type Policy } from '../../policy.js';
import type { LockoutRule, TakeResult } from '../types.js';

/** The script's operation codes (the first argument of each operation). */
export const OP_TAKE = 0;
export const OP_LOCKOUT_TAKE = 1;
export const OP_ADJUST = 2;

/** One operation of a script call: a take (with or without a lockout rule) or an adjust. */
export interface ScriptOp {
  readonly policies: readonly Policy[];
  /** `'take'`: `amount` is the cost. `'adjust'`: `amount` is the tokens to add (negative: remove). */
  readonly kind: 'take' | 'adjust';
  readonly amount: number;
  /** A take's lockout rule. */
  readonly lockout?: LockoutRule | undefined;
}

/** Keys the operation declares after its bucket keys: a lockout take's lock and denials keys. */
export const extraKeyCount = (op: ScriptOp): number => (op.lockout !== undefined && op.kind === 'take' ? 2 : 0);

/**
 * Appends one operation's arguments to `argv` (after the extra keys and the number of
 * operations): its code and number of policies; for a lockout take, the rule's `after`, window
 * and duration (microseconds); then per policy, in its time unit (`timeScale`: microseconds, or
 * nanoseconds above 1000 tokens a second), tau (capacity x interval: how far ahead of now a
 * bucket's TAT may be) and its move: for a take, inc = ceil(cost x interval) (0 for a cost of 0,
 * which only reads); for an adjust, the signed move of the TAT (ceil(|tokens| x interval),
 * negative for tokens given back, positive for tokens taken away); then the unit.
 */
export function pushOpArgs(argv: (string | number)[], op: ScriptOp): void {
  const { policies, amount, lockout } = op;
  if (op.kind === 'adjust') {
    argv.push(OP_ADJUST, policies.length);
  } else if (lockout !== undefined) {
    argv.push(OP_LOCKOUT_TAKE, policies.length, lockout.after, Math.ceil(lockout.windowMs * 1000), Math.ceil(lockout.durationMs * 1000));
  } else {
    argv.push(OP_TAKE, policies.length);
  }
  for (const p of policies) {
    const interval = tokenInterval(p.refillPerSecond);
    const move = amount === 0 ? 0 : Math.ceil(Math.abs(amount) * interval);
    argv.push(p.capacity * interval, op.kind === 'adjust' && amount > 0 ? -move : move, timeScale(p.refillPerSecond));
  }
}

/** Reply entries one operation occupies: its verdict, each `ahead`, and for a lockout take the lock's time left. */
export const replyLength = (op: ScriptOp): number => 1 + op.policies.length + extraKeyCount(op) / 2;

/** The verdict the script gives an operation whose keys the node it ran on does not serve. */
const ELSEWHERE = -1;
/** The verdict the script gives an operation one of whose keys holds another type (WRONGTYPE). */
const WRONGTYPE = -2;

/** The error for a reply from Redis that is not the take script's (the one place it is worded). */
export function storeReplyError(reply: unknown): TokenBucketError {
  return new TokenBucketError('TB_ERR_STORE_REPLY', `unexpected reply from the take script: ${JSON.stringify(reply)}`);
}

/**
 * One operation's result from the script's reply, from `offset` on: the script's verdict, and
 * each bucket's level, (tau - ahead) / interval within [0, capacity] (before a take's debit,
 * after an adjust); for a lockout take, `lockedMs` when the caller is locked. Undefined when the
 * script answered "not here" (a Cluster batch reached a node that no longer serves the slot).
 * Throws TB_ERR_STORE_WRONGTYPE, naming the key from `keysOf()` (the operation's, in the script's order),
 * when one of them holds another type: that operation alone failed.
 */
export function resultFrom(reply: unknown, op: ScriptOp, offset: number, keysOf?: () => readonly string[]): TakeResult | undefined {
  const { policies } = op;
  if (Array.isArray(reply) && reply.length >= offset + replyLength(op)) {
    const verdict = Number(reply[offset]);
    if (verdict === ELSEWHERE) return undefined;
    if (verdict === WRONGTYPE) {
      const key = keysOf?.()[Number(reply[offset + 1]) - 1];
      throw new TokenBucketError(
        'TB_ERR_STORE_WRONGTYPE',
        `Redis key ${key === undefined ? '(unknown)' : JSON.stringify(key)} holds a value that is not this store's (WRONGTYPE): ` +
          "that take failed alone. Something else writes under the store's prefix: delete the key, and give the store a prefix of its own.",
      );
    }
    const levels = new Array<number>(policies.length);
    let ok = op.kind === 'adjust' ? verdict === 1 : verdict === 0 || verdict === 1;
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      const ahead = Number(reply[offset + 1 + i]);
      if (!Number.isFinite(ahead)) ok = false;
      const interval = tokenInterval(p.refillPerSecond);
      levels[i] = Math.min(p.capacity, Math.max(0, (p.capacity * interval - ahead) / interval));
    }
    if (extraKeyCount(op) === 0) {
      if (ok) return { allowed: verdict === 1, levels, source: 'redis' };
    } else {
      const lockedMicros = Number(reply[offset + 1 + policies.length]);
      if (ok && lockedMicros >= 0 && (lockedMicros === 0 || verdict === 0)) {
        return lockedMicros > 0
          ? { allowed: false, levels, source: 'redis', lockedMs: Math.ceil(lockedMicros / 1000) }
          : { allowed: verdict === 1, levels, source: 'redis' };
      }
    }
  }
  throw storeReplyError(reply);
}
