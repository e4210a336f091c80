// Ladder step 7: step 6 (ours on a MemoryStore) with an ioredis client connected beside it, used
// by nothing. Isolates what loading ioredis and holding its connection costs a request.
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { announce, BODY, connectRedis, HOST, PATHS, PORT } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
const { route, capacity, refillPerSecond } = PATHS.allowed;
const app = Fastify();
await app.register(tokenBucket, { store: new MemoryStore() });
app.get(route, { config: { rateLimit: { capacity, refillPerSecond } } }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
