// NestJS runs the shared HTTP suites through @tokenbucket/nestjs: a controller per route made at
// run time, `@RateLimit(...)` on its handler (one per stacked limiter), RateLimitGuard app-wide
// through APP_GUARD, on the platform and Nest major of the jest project.
import { Controller, Get, HttpCode, HttpException, Post, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type Decision, RateLimit, RateLimitGuard, RateLimitModule, type RateLimitOptions } from '@tokenbucket/nestjs';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import { rateLimit as expressRateLimit, type RateLimitOptions as ExpressRateLimitOptions } from '@tokenbucket/express';
import { limitsOf, routeAnswer } from './handler';
import type { AdapterHarness, AppSpec, GroupSpec, LimitOptions, RouteSpec } from './harness';
import { nestApp, PLATFORM } from './nest-app';

/**
 * A controller with one handler for `route`, limited by `route.limit` (several: one
 * `@RateLimit` each, top to bottom) after `before` (the limits of the groups it is in), answering
 * `route.status` after `route.delayMs`.
 */
function controllerFor(route: RouteSpec, before: LimitOptions[]): Type {
  class Routes {
    async handle(): Promise<object> {
      const { status, body } = await routeAnswer(route);
      if (status >= 400) throw new HttpException(body, status);
      return body;
    }
  }
  Controller()(Routes);
  const handle = Object.getOwnPropertyDescriptor(Routes.prototype, 'handle')!;
  const limits = [...before, ...limitsOf(route)];
  // Applied as the compiler applies decorators written above the method: the last one first.
  const decorators: MethodDecorator[] = [route.method === 'GET' ? Get(route.path) : Post(route.path), HttpCode(route.status ?? 200)];
  decorators.push(...limits.map((limit) => RateLimit(limit as RateLimitOptions)));
  for (const decorate of decorators.reverse()) decorate(Routes.prototype, 'handle', handle);
  return Routes;
}

const inGroup = (route: RouteSpec, group: GroupSpec): boolean => route.path.startsWith(`${group.prefix}/`);

const harness: AdapterHarness = {
  name: `nestjs-${PLATFORM}`,
  async build(spec: AppSpec) {
    const groups = spec.groups ?? [];
    // Groups: on Express, middleware of @tokenbucket/express on the prefix, before Nest's routes
    // (a middleware limiter and the guard on one request); on Fastify, the group's limiter first
    // on each handler under the prefix (a named policy: one quota for all of them).
    const stacked = (route: RouteSpec): LimitOptions[] => (PLATFORM === 'fastify' ? groups.filter((g) => inGroup(route, g)).map((g) => g.limit) : []);
    const app = await nestApp({
      imports: [RateLimitModule.forRoot()],
      controllers: spec.routes.map((route) => controllerFor(route, stacked(route))),
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
      trustProxy: spec.trustProxy === true,
      configure: (nest) => {
        if (PLATFORM !== 'express') return;
        const express = nest.getHttpAdapter().getInstance() as { use(prefix: string, handler: unknown): void };
        for (const group of groups) express.use(group.prefix, expressRateLimit(group.limit as ExpressRateLimitOptions));
      },
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
