// RateLimitGuard: app-wide through APP_GUARD, or per controller or handler with @UseGuards.
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RateLimitRegistry } from './limits.js';

/**
 * Limits the HTTP requests it guards, with each handler's `@RateLimit` options (or the module's
 * defaults): sets the rate-limit headers, and throws a `RateLimitException` (429 problem+json)
 * for a denied request. Needs `RateLimitModule.forRoot(...)` in the application. Other contexts
 * (microservices, websockets) pass unlimited.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(@Inject(RateLimitRegistry) private readonly limits: RateLimitRegistry) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return context.getType() === 'http' ? this.limits.check(context) : true;
  }
}
