// Types for hammer.cjs (plain Node, so the workers run without ts-jest).
export interface HammerTarget {
  /** The client library: ioredis, or node-redis by its aliased install. @default 'ioredis' */
  library?: 'ioredis' | 'redis4' | 'redis5' | 'redis6';
  url?: string;
  clusterNodes?: { host: string; port: number }[];
}

export interface HammerOptions {
  /** 'atomic': our RedisStore; 'naive': GET, compute in JS on the app clock, SET. */
  design?: 'atomic' | 'naive';
  target: HammerTarget;
  prefix: string;
  /** The one caller key every worker hammers. */
  key: string;
  policy: { name: string; capacity: number; refillPerSecond: number };
  /** Child processes, each with its own client. @default 4 */
  processes?: number;
  /** Takes each process keeps running at once. @default 50 */
  inFlight?: number;
  /** How long each process keeps taking (by its own clock; elapsed is measured on Redis's). @default 2500 */
  durationMs?: number;
  /** Random pause after each take, [min, max] ms. @default [0, 0] */
  pauseMs?: [number, number];
  /** @default 5000 */
  maxTakesPerProcess?: number;
  /** @default 20000 */
  timeoutMs?: number;
  /** Delete the bucket key afterwards. @default true */
  cleanup?: boolean;
  /** Share of admitted takes given back by the store's `adjust` (atomic design only), 0 to 1. @default 0 */
  refundShare?: number;
  /** Random pause before each refund, [min, max] ms. @default [0, 0] */
  refundDelayMs?: [number, number];
  /** RedisStore's `leases` option in every worker (atomic design only). @default undefined (off) */
  leases?: boolean | { maxTokens?: number; maxMs?: number; minRate?: number };
}

export interface HammerResult {
  design: 'atomic' | 'naive';
  processes: number;
  takes: number;
  admitted: number;
  /** Admitted takes given back (each one token), counted once the store applied the refund. */
  refunded: number;
  denied: number;
  /** Admitted takes answered from a lease (with `leases`). */
  fromLease: number;
  errors: number;
  firstError?: string;
  /** From the first worker's TIME before its first take to the last worker's TIME after its last take. */
  elapsedS: number;
  capacity: number;
  refillPerSecond: number;
  /** capacity + refillPerSecond * elapsedS */
  bound: number;
}

export function runHammer(options: HammerOptions): Promise<HammerResult>;
export function loadCore(): unknown;
export const CORE_DIST: string;
