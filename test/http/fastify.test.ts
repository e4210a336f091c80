// Fastify runs the HTTP contract: this file only builds the harness (per-route config.rateLimit).
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import tokenBucket, { type RateLimitOptions } from '@tokenbucket/fastify';
import { runBadInputContract } from './bad-input';
import { runHttpContract, type AdapterHarness, type AppSpec } from './contract';
import { runFaultContract } from './faults';

const harness: AdapterHarness = {
  name: 'fastify',
  async start(spec: AppSpec) {
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
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: address, close: () => app.close() };
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
