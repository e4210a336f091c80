// The options of the module, the decorators and the guard's answer: what users write.
import type { ExecutionContext } from '@nestjs/common';
import type { Decision } from '@tokenbucket/core';
import type { AdapterOptions } from '@tokenbucket/core/adapter';

/**
 * The request your `key`, `cost`, `skip` and `policies` functions receive: the platform's own,
 * Express's `Request` on `@nestjs/platform-express`, Fastify's `FastifyRequest` on
 * `@nestjs/platform-fastify` (what `context.switchToHttp().getRequest()` gives).
 */
// biome-ignore lint/suspicious/noExplicitAny: the platform's request type, which the app knows and this package does not
export type PlatformRequest = any;

/**
 * `onLimited` in Nest: answers a request denied by a policy, instead of the default
 * `RateLimitException` (429, or 413 for a cost no wait can allow). Throw the exception Nest
 * should answer with (your exception filters see it); if it returns, the default exception is
 * thrown. The rate-limit headers are already set on the response.
 */
export type OnLimited = (decision: Decision, context: ExecutionContext) => unknown;

/** Options of `@RateLimit(...)`: every option of the other adapters. */
export interface RateLimitOptions<Req = PlatformRequest> extends AdapterOptions<Req, OnLimited> {}

/**
 * Options of `RateLimitModule.forRoot(...)`: the `store` and defaults for every route. With a
 * policy (`capacity` and `refillPerSecond`, or `policies`), every route the guard covers is
 * limited, each with its own bucket; without one, only routes with `@RateLimit(...)` are.
 */
export interface RateLimitModuleOptions<Req = PlatformRequest> extends RateLimitOptions<Req> {}
