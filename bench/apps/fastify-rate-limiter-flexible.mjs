// Fastify 5 with rate-limiter-flexible's RateLimiterRedis in an onRequest hook (one Redis, or a
// Cluster): the few lines its users write, with `inMemoryBlockOnConsumed` (its best configuration).
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { announce, apiKey, BODY, connectRedis, HOST, PATHS, PORT } from './shared.mjs';

const redis = await connectRedis({ Redis, Cluster });
const app = Fastify();
for (const [name, { route, max, windowMs }] of Object.entries(PATHS)) {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rlf-${name}`,
    points: max,
    duration: windowMs / 1000,
    inMemoryBlockOnConsumed: max,
  });
  const onRequest = (request, reply, done) => {
    limiter.consume(apiKey(request.headers)).then(
      () => done(),
      (rejection) => {
        if (rejection instanceof Error) return done(rejection);
        reply.header('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
        reply.code(429).send('Too Many Requests');
      },
    );
  };
  app.get(route, { onRequest }, async () => BODY);
}
await app.listen({ port: PORT, host: HOST });
announce(app.server);
