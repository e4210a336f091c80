// Koa (with @koa/router) runs the HTTP contract: this file only builds the harness.
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/koa';
import { runBadInputContract } from './bad-input';
import { runHttpContract, type AdapterHarness, type AppSpec } from './contract';
import { runFaultContract } from './faults';

const harness: AdapterHarness = {
  name: 'koa',
  async start(spec: AppSpec) {
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
    for (const route of spec.routes) {
      const handlers = route.limit ? [rateLimit(route.limit as RateLimitOptions)] : [];
      router[route.method === 'GET' ? 'get' : 'post'](route.path, ...handlers, (ctx: Context) => {
        ctx.body = { ok: true };
      });
    }
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
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
