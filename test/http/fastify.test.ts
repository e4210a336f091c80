// Fastify runs the shared HTTP suites: this file only builds the harness (per-route
// config.rateLimit; `app.server` after `ready()`).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import tokenBucket, { type RateLimitOptions } from '@tokenbucket/fastify';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import { limitsOf, routeAnswer } from './handler';
import type { AdapterHarness, AppSpec, RouteSpec } from './harness';

const harness: AdapterHarness = {
  name: 'fastify',
  async build(spec: AppSpec) {
    const app = Fastify({ trustProxy: spec.trustProxy === true });
    app.setErrorHandler((err: Error, _request, reply) => {
      void reply.code(500).send({ handledBy: 'framework', message: err.message });
    });
    await app.register(tokenBucket);
    try {
      const groups = spec.groups ?? [];
      const inGroup = (route: RouteSpec, prefix: string): boolean => route.path.startsWith(`${prefix}/`);
      const addRoute = (instance: FastifyInstance, route: RouteSpec, prefix: string): void => {
        const limits = limitsOf(route);
        instance.route({
          method: route.method,
          url: route.path.slice(prefix.length),
          // One limiter: the route's config; several: hooks stacked on the route, in order.
          config: limits.length === 1 ? { rateLimit: limits[0] as RateLimitOptions } : {},
          ...(limits.length > 1 ? { onRequest: limits.map((limit) => instance.rateLimit(limit as RateLimitOptions)) } : {}),
          handler: async (_request, reply) => {
            const { status, body } = await routeAnswer(route);
            return reply.code(status).send(body);
          },
        });
      };
      // Each group prefix: an encapsulated context whose onRequest hooks limit every route in it.
      for (const prefix of new Set(groups.map((g) => g.prefix))) {
        await app.register(
          async (sub) => {
            for (const g of groups) if (g.prefix === prefix) sub.addHook('onRequest', sub.rateLimit(g.limit as RateLimitOptions));
            for (const route of spec.routes) if (inGroup(route, prefix)) addRoute(sub, route, prefix);
          },
          { prefix },
        );
      }
      for (const route of spec.routes) if (!groups.some((g) => inGroup(route, g.prefix))) addRoute(app, route, '');
      await app.ready();
      return { server: app.server, close: () => app.close() };
    } catch (err) {
      await app.close();
      throw err;
    }
  },
  header: (request, name) => {
    const value = (request as FastifyRequest).headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
  onLimited: (status) => async (_request: FastifyRequest, reply: FastifyReply, decision: { policy: string }) => {
    await reply.code(status).send({ custom: true, policy: decision.policy });
  },
};

runHttpContract(harness);
runBadInputContract(harness);
runFaultContract(harness);
