// Hono on Node.js (@hono/node-server) runs the shared HTTP suites: this file only builds the
// harness (`createAdaptorServer({ fetch: app.fetch })`). Hono has no trust-proxy setting: the
// harness gives the adapter's `ip` option the first X-Forwarded-For address when the suite trusts
// the proxy, as the README shows.
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/hono';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import { limitsOf, routeAnswer } from './handler';
import type { AdapterHarness, AppSpec } from './harness';

const forwardedFor = (c: Context): string | undefined => c.req.header('x-forwarded-for')?.split(',')[0]?.trim();

const harness: AdapterHarness = {
  name: 'hono',
  async build(spec: AppSpec) {
    const app = new Hono();
    const withIp = (limit: unknown) => ({ ...(limit as object), ...(spec.trustProxy === true ? { ip: forwardedFor } : {}) }) as RateLimitOptions;
    for (const group of spec.groups ?? []) app.use(`${group.prefix}/*`, rateLimit(withIp(group.limit)));
    for (const route of spec.routes) {
      const answer = async (c: Context) => {
        const { status, body } = await routeAnswer(route);
        return c.json(body, status as 200);
      };
      // One registration, as `app.get(path, limit1, limit2, handler)`: Hono's types take a fixed count.
      const on = app.on.bind(app) as (method: string, path: string, ...handlers: MiddlewareHandler[]) => Hono;
      on(route.method, route.path, ...limitsOf(route).map((limit) => rateLimit(withIp(limit))), answer);
    }
    app.onError((err, c) => c.json({ handledBy: 'framework', message: err.message }, 500));
    return { server: createAdaptorServer({ fetch: app.fetch }) as Server };
  },
  header: (c, name) => (c as Context).req.header(name),
  onLimited: (status) => (c: Context, decision: { policy: string }) => c.json({ custom: true, policy: decision.policy }, status as 418),
};

runHttpContract(harness);
runBadInputContract(harness);
runFaultContract(harness);
