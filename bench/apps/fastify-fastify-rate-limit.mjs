// Fastify 5 with @fastify/rate-limit on Redis (one Redis, or a Cluster), per-route config.
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { announce, apiKey, BODY, connectRedis, HOST, PATHS, PORT } from './shared.mjs';

const app = Fastify();
await app.register(fastifyRateLimit, {
  global: false,
  redis: await connectRedis({ Redis, Cluster }),
  keyGenerator: (request) => apiKey(request.headers),
});
for (const { route, max, windowMs } of Object.values(PATHS)) {
  app.get(route, { config: { rateLimit: { max, timeWindow: windowMs } } }, async () => BODY);
}
await app.listen({ port: PORT, host: HOST });
announce(app.server);
