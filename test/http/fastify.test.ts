// Fastify runs the shared HTTP suites: this file only builds the harness (per-route
// config.rateLimit; `app.server` after `ready()`).
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import tokenBucket, { type RateLimitOptions } from '@tokenbucket/fastify';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import type { AdapterHarness, AppSpec } from './harness';

const harness: AdapterHarness = {
  name: 'fastify',
  async build(spec: AppSpec) {
    const app = Fastify({ trustProxy: spec.trustProxy === true });
    app.setErrorHandler((err: Error, _request, reply) => {
      void reply.code(500).send({ handledBy: 'framework', message: err.message });
    });
    await app.register(tokenBucket);
    try {
      for (const route of spec.routes) {
        app.route({
          method: route.method,
          url: route.path,
          config: route.limit ? { rateLimit: route.limit as RateLimitOptions } : {},
          handler: async () => ({ ok: true }),
        });
      }
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
