// Fastify 5 with ours: the @tokenbucket/fastify plugin, per-route config, on a RedisStore (with token leases when BENCH_LEASES is `on`; one
// Redis, or a Cluster).
import { RedisStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { announce, BODY, connectRedis, HOST, leaseOption, PATHS, PORT, storeEvents } from './shared.mjs';

const app = Fastify();
await app.register(tokenBucket, { store: new RedisStore({ client: await connectRedis({ Redis, Cluster }), ...leaseOption }), ...storeEvents });
for (const { route, capacity, refillPerSecond } of Object.values(PATHS)) {
  app.get(route, { config: { rateLimit: { capacity, refillPerSecond } } }, async () => BODY);
}
await app.listen({ port: PORT, host: HOST });
announce(app.server);
