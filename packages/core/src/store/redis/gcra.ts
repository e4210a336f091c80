// Token-bucket policies in the script's units (GCRA, whole microseconds), and back.
import { TokenBucketError } from '../../errors.js';
import { tokenIntervalMicros, type Policy } from '../../policy.js';
import type { TakeResult } from '../types.js';

/**
 * Appends one take's arguments to `argv` (after the extra keys and the number of takes): its
 * number of policies, then per policy tau (capacity x interval: how far ahead of now a bucket's
 * TAT may be) and inc (ceil(cost x interval): how far this take moves it; 0 for a cost of 0,
 * which only reads).
 */
export function pushTakeArgs(argv: (string | number)[], policies: readonly Policy[], cost: number): void {
  argv.push(policies.length);
  for (const p of policies) {
    const interval = tokenIntervalMicros(p.refillPerSecond);
    argv.push(p.capacity * interval, cost === 0 ? 0 : Math.ceil(cost * interval));
  }
}

/** Reply entries one take of `policyCount` policies occupies: its verdict, then each `ahead`. */
export const replyLength = (policyCount: number): number => 1 + policyCount;

/** The verdict the script gives a take whose keys the node it ran on does not serve. */
const ELSEWHERE = -1;

/**
 * One take's result from the script's reply, from `offset` on: the script's verdict, and each
 * bucket's level, (tau - ahead) / interval within [0, capacity]. Undefined when the script
 * answered "not here" (a Cluster batch reached a node that no longer serves the take's slot).
 */
export function resultFrom(reply: unknown, policies: readonly Policy[], offset: number): TakeResult | undefined {
  if (Array.isArray(reply) && reply.length >= offset + replyLength(policies.length)) {
    const verdict = Number(reply[offset]);
    if (verdict === ELSEWHERE) return undefined;
    const levels = new Array<number>(policies.length);
    let ok = verdict === 0 || verdict === 1;
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      const ahead = Number(reply[offset + 1 + i]);
      if (!Number.isFinite(ahead)) ok = false;
      const interval = tokenIntervalMicros(p.refillPerSecond);
      levels[i] = Math.min(p.capacity, Math.max(0, (p.capacity * interval - ahead) / interval));
    }
    if (ok) return { allowed: verdict === 1, levels, source: 'redis' };
  }
  throw new TokenBucketError('STORE_REPLY', `unexpected reply from the take script: ${JSON.stringify(reply)}`);
}
