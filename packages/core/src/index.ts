// Public entry point of @tokenbucket/core.
export { createLimiter, defaultMemoryStore } from './limiter.js';
export type { Limiter, TakeOptions } from './limiter.js';
export type { LimiterOptions, Policy, PolicyOptions } from './options.js';
export { parseCost, parsePolicies } from './options.js';
export type { Decision, PolicyDecision } from './decision.js';
export { buildDecision, canTake } from './decision.js';
export type { Store } from './store.js';
export { bucketKey } from './store.js';
export { MemoryStore } from './stores/memory.js';
export type { MemoryStoreOptions } from './stores/memory.js';
export { RedisStore } from './stores/redis.js';
export type { RedisStoreOptions } from './stores/redis.js';
export { TAKE_SCRIPT } from './stores/take-script.js';
export { hashCallerKey } from './hash.js';
export { ipCallerKey } from './ip.js';
export type { Ipv6Subnet } from './ip.js';
export { invalidOption, TokenBucketError } from './errors.js';
export type { TokenBucketErrorCode } from './errors.js';
export { apiKeyFromHeaders, keyHeaders, problemDetails, rateLimitHeaders, retryAfterSeconds } from './http.js';
export type { HeaderOptions, NodeRequestHeaders, ProblemDetails, RequestHeaders } from './http.js';
export { createHttpLimiter, memoizePolicies, routePolicyName, STORE_DOWN_RETRY_AFTER_SECONDS } from './http-limiter.js';
export type {
  DecisionEvent,
  HttpLimiter,
  HttpLimiterOptions,
  HttpOutcome,
  OnMissingKey,
  OnStoreError,
  RequestInfo,
  StoreErrorEvent,
} from './http-limiter.js';
export { missingKeyProblem, storeUnavailableProblem } from './http.js';
export { CircuitBreaker } from './breaker.js';
export type { BreakerOptions, StoreStatusEvent } from './breaker.js';
