// Hono on Node.js (@hono/node-server) runs the shared HTTP suites: this file only builds the
// harness (`createAdaptorServer({ fetch: app.fetch })`). Hono has no trust-proxy setting: the
// harness gives the adapter's `ip` option the first X-Forwarded-For address when the suite trusts
// the proxy, as the README shows.
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/hono';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import type { AdapterHarness, AppSpec } from './harness';

const forwardedFor = (c: Context): string | undefined => c.req.header('x-forwarded-for')?.split(',')[0]?.trim();

const harness: AdapterHarness = {
  name: 'hono',
  async build(spec: AppSpec) {
    const app = new Hono();
    for (const route of spec.routes) {
      const limit = route.limit && ({ ...route.limit, ...(spec.trustProxy === true ? { ip: forwardedFor } : {}) } as RateLimitOptions);
      const ok = (c: Context) => c.json({ ok: true });
      if (limit) app.on(route.method, route.path, rateLimit(limit), ok);
      else app.on(route.method, route.path, ok);
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
