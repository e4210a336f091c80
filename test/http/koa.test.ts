// Koa (with @koa/router) runs the shared HTTP suites: this file only builds the harness
// (`http.createServer(app.callback())`).
import { createServer } from 'node:http';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/koa';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import { limitsOf, routeAnswer } from './handler';
import type { AdapterHarness, AppSpec } from './harness';

const harness: AdapterHarness = {
  name: 'koa',
  async build(spec: AppSpec) {
    const app = new Koa({ proxy: spec.trustProxy === true });
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 500;
        ctx.body = { handledBy: 'framework', message: (err as Error).message };
      }
    });
    const router = new Router();
    for (const group of spec.groups ?? []) router.use(group.prefix, rateLimit(group.limit as RateLimitOptions));
    for (const route of spec.routes) {
      const handlers = limitsOf(route).map((limit) => rateLimit(limit as RateLimitOptions));
      router[route.method === 'GET' ? 'get' : 'post'](route.path, ...handlers, async (ctx: Context) => {
        const { status, body } = await routeAnswer(route);
        ctx.status = status;
        ctx.body = body;
      });
    }
    app.use(router.routes());
    return { server: createServer(app.callback()) };
  },
  header: (ctx, name) => (ctx as Context).get(name) || undefined,
  onLimited: (status) => (ctx: Context, decision: { policy: string }) => {
    ctx.status = status;
    ctx.body = { custom: true, policy: decision.policy };
  },
};

runHttpContract(harness);
runBadInputContract(harness);
runFaultContract(harness);
