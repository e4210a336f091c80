// NestJS module, guard and decorators for tokenbucket, over core's adapter contract.
export { RateLimit, SkipRateLimit } from './decorators.js';
export { RateLimitGuard } from './guard.js';
export { RATE_LIMIT_OPTIONS } from './limits.js';
export { RateLimitModule, type RateLimitModuleAsyncOptions } from './module.js';
export type { OnLimited, PlatformRequest, RateLimitModuleOptions, RateLimitOptions } from './options.js';
export { RateLimitException } from './platforms.js';

export type { Decision } from '@tokenbucket/core';
