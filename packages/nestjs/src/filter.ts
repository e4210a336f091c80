// The exception filter that answers a RateLimitException: the problem response of the other adapters.
import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import { RateLimitRegistry } from './limits.js';
import { RateLimitException } from './platforms.js';

/**
 * Writes a `RateLimitException` as core's adapters write their answers (Nest's own filter would
 * send it as `application/json`). Registered app-wide by `RateLimitModule` (APP_FILTER); a
 * filter of yours bound to a controller or handler, or one registered after it, answers first.
 */
@Catch(RateLimitException)
export class RateLimitExceptionFilter implements ExceptionFilter<RateLimitException> {
  constructor(@Inject(RateLimitRegistry) private readonly limits: RateLimitRegistry) {}

  catch(exception: RateLimitException, host: ArgumentsHost): void {
    this.limits.write(host.switchToHttp().getResponse(), exception);
  }
}
