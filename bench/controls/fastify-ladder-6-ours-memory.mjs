// Ladder step 6: ours, as apps/fastify-tokenbucket.mjs but on a MemoryStore: the plugin's
// per-route `config.rateLimit`, writing the headers it computes. Against step 5: writing computed
// values instead of constants. Against ours on Redis with leases (the next step): the store.
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const { route, capacity, refillPerSecond } = PATHS.allowed;
const app = Fastify();
await app.register(tokenBucket, { store: new MemoryStore() });
app.get(route, { config: { rateLimit: { capacity, refillPerSecond } } }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
