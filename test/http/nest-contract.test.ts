// NestJS runs the shared HTTP suites through @tokenbucket/nestjs: a controller per route made at
// run time, `@RateLimit(...)` on its handler, RateLimitGuard app-wide through APP_GUARD, on the
// platform and Nest major of the jest project.
import { Controller, Get, HttpCode, HttpException, Post, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type Decision, RateLimit, RateLimitGuard, RateLimitModule, type RateLimitOptions } from '@tokenbucket/nestjs';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import type { AdapterHarness, AppSpec, RouteSpec } from './harness';
import { nestApp, PLATFORM } from './nest-app';

/** A controller with one handler for `route`, limited by `route.limit`. */
function controllerFor(route: RouteSpec): Type {
  class Routes {
    handle(): object {
      return { ok: true };
    }
  }
  Controller()(Routes);
  const handle = Object.getOwnPropertyDescriptor(Routes.prototype, 'handle')!;
  const decorators: MethodDecorator[] = [route.method === 'GET' ? Get(route.path) : Post(route.path), HttpCode(200)];
  if (route.limit !== undefined) decorators.push(RateLimit(route.limit as RateLimitOptions));
  for (const decorate of decorators) decorate(Routes.prototype, 'handle', handle);
  return Routes;
}

const harness: AdapterHarness = {
  name: `nestjs-${PLATFORM}`,
  async build(spec: AppSpec) {
    const app = await nestApp({
      imports: [RateLimitModule.forRoot()],
      controllers: spec.routes.map(controllerFor),
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
      trustProxy: spec.trustProxy === true,
    });
    return { server: app.getHttpServer(), close: () => app.close() };
  },
  header: (req, name) => {
    const value = (req as { headers: Record<string, string | string[] | undefined> }).headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
  onLimited: (status) => (decision: Decision) => {
    throw new HttpException({ custom: true, policy: decision.policy }, status);
  },
};

runHttpContract(harness);
runBadInputContract(harness);
runFaultContract(harness);
