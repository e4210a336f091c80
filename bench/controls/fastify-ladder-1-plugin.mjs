// Ladder step 1 (bench/targets.mjs --only=fastify-ladder): apps/fastify-none.mjs with our plugin
// registered (on a MemoryStore) but no route limited. Isolates loading and registering
// @tokenbucket/fastify and core (its onRoute hooks, its diagnostics_channel subscription).
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = Fastify();
await app.register(tokenBucket, { store: new MemoryStore() });
app.get(PATHS.allowed.route, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
