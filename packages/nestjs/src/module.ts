// RateLimitModule.forRoot / forRootAsync: the store and defaults, once per application.
import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { RateLimitExceptionFilter } from './filter.js';
import { RATE_LIMIT_OPTIONS, RateLimitRegistry } from './limits.js';
import type { RateLimitModuleOptions } from './options.js';

/** `RateLimitModule.forRootAsync(...)`: the options from a factory, with what it injects. */
export interface RateLimitModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Makes the module's options (the store and defaults), from the providers in `inject`. */
  // biome-ignore lint/suspicious/noExplicitAny: the injected providers, whatever they are
  useFactory: (...args: any[]) => RateLimitModuleOptions | Promise<RateLimitModuleOptions>;
  /** The providers handed to `useFactory`, in order (`[ConfigService]`). */
  // biome-ignore lint/suspicious/noExplicitAny: Nest's own type for injection tokens differs between majors
  inject?: any[];
}

/**
 * The rate limits of an application. Import it once, in the root module; it is global, so
 * `RateLimitGuard` works in every module. Options are checked when the application starts.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; forRoot and forRootAsync are how Nest modules take options
export class RateLimitModule {
  /** The store (`RedisStore`, or a process-local `MemoryStore` by default) and defaults for every route. */
  static forRoot(options: RateLimitModuleOptions = {}): DynamicModule {
    return RateLimitModule.with([{ provide: RATE_LIMIT_OPTIONS, useValue: options }], []);
  }

  /** The options from a factory, when they need other providers (configuration, a Redis client). */
  static forRootAsync(options: RateLimitModuleAsyncOptions): DynamicModule {
    return RateLimitModule.with([{ provide: RATE_LIMIT_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }], options.imports ?? []);
  }

  private static with(providers: NonNullable<ModuleMetadata['providers']>, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    return {
      module: RateLimitModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...providers, RateLimitRegistry, { provide: APP_FILTER, useClass: RateLimitExceptionFilter }],
      exports: [RateLimitRegistry],
    };
  }
}
