// Public entry point of @tokenbucket/core: what users and adapters need, nothing more.

// The limiter.
export { createLimiter } from './limiter.js';
export type { Acquired, Limiter, LimiterOptions, TakeOptions } from './limiter.js';
export type { ConcurrencyOptions } from './concurrency.js';
export type { CallerKey } from './caller.js';
export type { Policy, PolicyOptions } from './policy.js';
export type { Decision, DecisionEvent, PolicyDecision } from './decision.js';
export { TokenBucketError, invalidOption } from './errors.js';
export { checkOptionNames, optionNames } from './option-names.js';
export type { TokenBucketErrorCode } from './errors.js';

// Diagnostics channels: a stable interface for metrics and APM.
export { CHANNELS } from './diagnostics.js';
export type { DecisionSource, StoreCallMessage, StoreErrorMessage, StoreStatusMessage } from './diagnostics.js';
// What the metrics packages share (for an exporter of your own too).
export { DecisionCounts, DEFAULT_CALL_BUCKETS, ONE_NODE, OTHER, parseCommonMetricsOptions, StoreStates, subscribeMetrics } from './metrics.js';
export type { CommonMetricsOptions, DecisionLabels, DecisionSeries, MetricsRecorder, MetricsSubscription } from './metrics.js';

// Stores.
export type { ConcurrencyPolicy, LockoutRule, SlotResult, Store, StoreStatusEvent, TakeResult } from './store/types.js';
export { bucketKey, slotKey } from './store/types.js';
export { hashCallerKey } from './hash.js';
export { MemoryStore } from './store/memory.js';
export type { MemoryStoreOptions } from './store/memory.js';
export { RedisStore } from './store/redis/store.js';
export type { RedisStoreOptions } from './store/redis/store.js';
export type { BreakerOptions } from './store/breaker.js';

// HTTP: the options every adapter takes, and the adapter contract.
export type { HttpLimiterOptions, OnMissingKey, OnStoreError, StoreErrorEvent } from './http/options.js';
export type { HttpLockoutOptions, LockoutOptions } from './lockout.js';
export type { Ipv6Subnet } from './http/ip.js';
export { memoizePolicies } from './http/memoize.js';
export type { MemoizeOptions } from './http/memoize.js';
export { ADAPTER_OPTION_NAMES, createHttpLimiter, onNodeResponseEnd } from './http/adapter.js';
export type { AdapterOptions, HttpAdapter, HttpLimiter, NodeResponse } from './http/adapter.js';
export type { HttpOutcome } from './http/engine.js';
export { mountId, NO_ROUTE, routeId } from './http/route.js';
export { apiKeyFromHeaders, keyHeaders } from './http/keys.js';
export type { NodeRequestHeaders, RequestHeaders } from './http/keys.js';
export { problemDetails } from './http/problems.js';
export type { ProblemDetails } from './http/problems.js';
export { rateLimitHeaders } from './http/headers.js';
export type { HeaderOptions } from './http/headers.js';
