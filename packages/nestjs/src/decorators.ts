// @RateLimit(...) and @SkipRateLimit(): per controller or per handler, the handler's wins.
import { SetMetadata } from '@nestjs/common';
import type { RateLimitOptions } from './options.js';

/** Metadata key of `@RateLimit(options)`. */
export const RATE_LIMIT = 'tokenbucket:rate-limit';
/** Metadata key of `@SkipRateLimit()`. */
export const SKIP_RATE_LIMIT = 'tokenbucket:skip-rate-limit';

/**
 * Limits a handler, or every handler of a controller, with these options over the module's
 * defaults (options that set any of `capacity`, `refillPerSecond`, `name` or `policies` replace
 * all four). A handler's `@RateLimit` or `@SkipRateLimit` wins over its controller's. Each
 * handler has its own bucket, named by its route pattern (`"GET /cats/:id"`), unless `name` is
 * given. Options are checked when the application starts (`app.init()` or `app.listen()`).
 */
export const RateLimit = (options: RateLimitOptions): ClassDecorator & MethodDecorator => SetMetadata(RATE_LIMIT, options);

/** Leaves a handler, or every handler of a controller, unlimited; a handler's `@RateLimit` wins over its controller's. */
export const SkipRateLimit = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP_RATE_LIMIT, true);
