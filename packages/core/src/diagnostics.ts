// What the limiter publishes on node:diagnostics_channel: a stable interface for metrics and APM.
import { channel } from 'node:diagnostics_channel';

/**
 * Where a decision came from: `'redis'` (the script ran), `'lease'` (tokens this process leased
 * from Redis, spent without a call), `'denial-cache'` (a remembered denial,
 * answered without Redis), `'lockout'` (a lock-out this process remembers, answered without
 * Redis), `'memory'` (a MemoryStore), `'fallback'` (the local MemoryStore standing in for a
 * failing store), or `'store'` (a custom store).
 */
export type DecisionSource = 'redis' | 'lease' | 'denial-cache' | 'lockout' | 'memory' | 'fallback' | 'store';

/** A failed call to a store, as the `tokenbucket:store:error` channel sees it. */
export interface StoreCallError {
  /** The store's name (RedisStore's `name` option). */
  readonly store: string;
  /** The Redis node (`host:port`) the call went to, when known. */
  readonly node: string | undefined;
  /** The error's `code` (`TB_ERR_STORE_TIMEOUT`, `ECONNREFUSED`...), else its name. */
  readonly code: string;
  readonly error: unknown;
}

/**
 * A change of a store's (or one Cluster node's) availability, reported once per transition: what
 * `onStoreStatus` receives, a store's `subscribe` listeners hear, and the
 * `tokenbucket:store:status` diagnostics channel publishes.
 */
export interface StoreStatusChange {
  /** The store's name (RedisStore's `name` option). */
  readonly store: string;
  /** On a Redis Cluster, the master (`host:port`) whose circuit changed; undefined when the store has one circuit for all. */
  readonly node: string | undefined;
  /** `'down'`: the store's circuit opened (it is being bypassed). `'up'`: it closed again. */
  readonly status: 'down' | 'up';
  /** The failure that opened the circuit (on `'down'`). */
  readonly error?: unknown;
}

/** One call to Redis (one take, or a batch of takes), on `tokenbucket:store:call`. */
export interface StoreCall {
  readonly store: string;
  readonly node: string | undefined;
  /** From the command's send to its reply or failure. */
  readonly durationMs: number;
  /** Operations the call carried: takes, and adjusts (refunds, rewards, penalties). */
  readonly takes: number;
  readonly ok: boolean;
}

/** The channels, by name. Subscribing costs the limiter nothing until someone does. */
export const CHANNELS = Object.freeze({
  decision: 'tokenbucket:decision',
  storeError: 'tokenbucket:store:error',
  storeStatus: 'tokenbucket:store:status',
  storeCall: 'tokenbucket:store:call',
});

/** Publishes `DecisionEvent`s (see decision.ts). */
export const decisionChannel = channel(CHANNELS.decision);
export const storeErrorChannel = channel(CHANNELS.storeError);
export const storeStatusChannel = channel(CHANNELS.storeStatus);
export const storeCallChannel = channel(CHANNELS.storeCall);

/**
 * An error's code for metrics: its `code` when it is a string (`TB_ERR_STORE_TIMEOUT`, `ECONNREFUSED`),
 * the Redis error's own code for a Redis reply error (`OOM`, `NOPERM`, `READONLY`, `WRONGTYPE`...),
 * else its name.
 */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0 && code.length <= 64) return code;
  return redisErrorCode(error) ?? (error instanceof Error ? error.name : 'Error');
}

/** Redis error codes a reply can carry inside another's message (a script's `redis.call` failing). */
const NESTED_CODES =
  /(?:^|[\s-])(OOM|NOPERM|READONLY|WRONGTYPE|NOAUTH|WRONGPASS|BUSY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|CROSSSLOT|NOSCRIPT|MISCONF|NOREPLICAS)\b/;

const SCRIPT_NOPERM = /user executing the script can't run this command/;

/**
 * The code of a Redis reply error (its first word: `OOM command not allowed...` is `OOM`), or of
 * the error a script's `redis.call` met (`ERR Error running script... -NOPERM ...` is `NOPERM`);
 * undefined for an error that is not a Redis reply.
 */
export function redisErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !/ReplyError|ErrorReply|SimpleError|BlobError/.test(error.name + (error.constructor?.name ?? ''))) return undefined;
  const message = error.message;
  const first = /^([A-Z][A-Z_]{1,31})\b/.exec(message)?.[1];
  if (first !== undefined && first !== 'ERR') return first;
  // Redis 7 reports a script's command refused by the ACL as ERR, without naming the command.
  if (SCRIPT_NOPERM.test(message)) return 'NOPERM';
  return NESTED_CODES.exec(message)?.[1] ?? first;
}
