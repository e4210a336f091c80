// @tokenbucket/core's main entry: the names a user writes, nothing more. Adapter authors import
// `@tokenbucket/core/adapter`, metrics exporters `@tokenbucket/core/metrics`, store authors
// `@tokenbucket/core/store`; test/core/entry-points.test.ts pins this list.

// The limiter.
export { createLimiter } from './limiter.js';
export type { Acquired, Limiter, LimiterOptions, TakeOptions } from './limiter.js';
export type { ConcurrencyOptions } from './concurrency.js';
export type { CallerKey } from './caller.js';
export type { Policy, PolicyOptions } from './policy.js';
export type { Decision, DecisionEvent, PolicyDecision } from './decision.js';

// Stores.
export { MemoryStore } from './store/memory.js';
export type { MemoryStoreOptions } from './store/memory.js';
export { RedisStore } from './store/redis/store.js';
export type { RedisStoreOptions } from './store/redis/store.js';
export type { BreakerOptions } from './store/breaker.js';
export type { Store } from './store/types.js';

// The options every adapter takes.
export type { HttpLimiterOptions, MissingKeyStrategy, StoreFailureEvent, StoreFailureStrategy } from './http/options.js';
export type { HttpLockoutOptions, LockoutOptions } from './lockout.js';
export type { Ipv6Subnet } from './http/ip.js';
export { memoizePolicies } from './http/memoize.js';
export type { MemoizeOptions } from './http/memoize.js';

// Errors and warnings: each with a code, each code a section of docs/reference/errors.md.
export { TokenBucketError } from './errors.js';
export type { TokenBucketErrorCode, TokenBucketWarningCode } from './errors.js';

// Diagnostics channels: a stable interface for metrics and APM.
export { CHANNELS } from './diagnostics.js';
export type { DecisionSource, StoreCall, StoreCallError, StoreStatusChange } from './diagnostics.js';
