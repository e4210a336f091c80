// @RateLimit(...) and @SkipRateLimit(): per controller or per handler, the handler's wins.
import { SetMetadata } from '@nestjs/common';
import type { RateLimitOptions } from './options.js';

/** Metadata key of `@RateLimit(options)`. */
export const RATE_LIMIT = 'tokenbucket:rate-limit';
/** Metadata key of `@SkipRateLimit()`. */
export const SKIP_RATE_LIMIT = 'tokenbucket:skip-rate-limit';

/** What the decorators need of reflect-metadata (a peer dependency Nest loads), typed here. */
const metadata = Reflect as unknown as {
  getOwnMetadata(key: string, target: object): unknown;
  defineMetadata(key: string, value: unknown, target: object): void;
};

/**
 * Limits a handler, or every handler of a controller, with these options over the module's
 * defaults (options that set any of `capacity`, `refillPerSecond`, `name` or `policies` replace
 * all four). A handler's `@RateLimit` or `@SkipRateLimit` wins over its controller's. Each
 * handler has its own bucket, named by its route pattern (`"GET /cats/:id"`), unless `name` is
 * given. Several `@RateLimit` on one handler (or controller) are several limiters, passed top
 * to bottom, that decide as one: a request one of them denies costs the others nothing. Options
 * are checked when the application starts (`app.init()` or `app.listen()`).
 */
export const RateLimit =
  (options: RateLimitOptions): ClassDecorator & MethodDecorator =>
  (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const on = (descriptor?.value as object | undefined) ?? target;
    const below = (metadata.getOwnMetadata(RATE_LIMIT, on) as RateLimitOptions[] | undefined) ?? [];
    // Decorators apply from the bottom up: the one written above comes first.
    metadata.defineMetadata(RATE_LIMIT, [options, ...below], on);
  };

/** Leaves a handler, or every handler of a controller, unlimited; a handler's `@RateLimit` wins over its controller's. */
export const SkipRateLimit = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP_RATE_LIMIT, true);
