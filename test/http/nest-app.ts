// Nest applications for the tests of @tokenbucket/nestjs, on the platform the jest project names
// (NEST_PLATFORM: 'express' or 'fastify'), with the @nestjs packages it maps to one Nest major.
import 'reflect-metadata';
import { type ArgumentsHost, Catch, type DynamicModule, HttpException, type INestApplication, Module, type Type } from '@nestjs/common';
import { APP_FILTER, BaseExceptionFilter, NestFactory } from '@nestjs/core';

declare const NEST_PLATFORM: 'express' | 'fastify';
export const PLATFORM = NEST_PLATFORM;

/** The platform's adapter, loaded only in the projects that install it. */
function platformAdapter(trustProxy: boolean): object {
  if (PLATFORM === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify') as typeof import('@nestjs/platform-fastify');
    return new FastifyAdapter({ trustProxy });
  }
  const { ExpressAdapter } = require('@nestjs/platform-express') as typeof import('@nestjs/platform-express');
  const adapter = new ExpressAdapter();
  adapter.set('trust proxy', trustProxy);
  return adapter;
}

/**
 * The app's error handler, as the HTTP suites expect: HttpExceptions as Nest answers them,
 * anything else 500 `{ handledBy: 'framework', message }`. An app-wide filter (APP_FILTER) of
 * the root module: RateLimitModule's filter, registered after it, answers a RateLimitException
 * first. (One given to `app.useGlobalFilters` would see it first: nest-guard.test.ts.)
 */
@Catch()
class FrameworkErrors extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HttpException) {
      super.catch(exception, host);
      return;
    }
    const message = exception instanceof Error ? exception.message : String(exception);
    this.httpAdapterHost!.httpAdapter.reply(host.switchToHttp().getResponse(), { handledBy: 'framework', message }, 500);
  }
}

export interface NestAppOptions {
  imports?: (DynamicModule | Type)[];
  controllers?: Type[];
  providers?: NonNullable<Parameters<typeof Module>[0]>['providers'];
  trustProxy?: boolean;
  configure?(app: INestApplication): void;
}

/** A Nest app of these modules, initialised (not listening): rejects, closed, when it fails to start. */
export async function nestApp(options: NestAppOptions): Promise<INestApplication> {
  const providers = [{ provide: APP_FILTER, useClass: FrameworkErrors }, ...(options.providers ?? [])];
  @Module({ imports: options.imports ?? [], controllers: options.controllers ?? [], providers })
  class AppModule {}
  // biome-ignore lint/suspicious/noExplicitAny: the adapter type differs by platform and major
  const app = await NestFactory.create(AppModule, platformAdapter(options.trustProxy === true) as any, { logger: false, abortOnError: false });
  try {
    options.configure?.(app);
    await app.init();
    if (PLATFORM === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
    return app;
  } catch (err) {
    await app.close();
    throw err;
  }
}
