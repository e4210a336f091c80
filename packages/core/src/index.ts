// Public entry point of @tokenbucket/core.
export { createLimiter } from './limiter.js';
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
export { TokenBucketError } from './errors.js';
export type { TokenBucketErrorCode } from './errors.js';
export { apiKeyFromHeaders, problemDetails, rateLimitHeaders, retryAfterSeconds } from './http.js';
export type { HeaderOptions, ProblemDetails, RequestHeaders } from './http.js';
