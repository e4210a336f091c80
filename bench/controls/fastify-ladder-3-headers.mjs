// Ladder step 3: step 2 with the hook writing exactly the two fields ours writes on an allowed
// request of this route, as constants, the way our adapter writes them (two `reply.header` calls,
// lower-case names). Isolates the header writing.
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, constantFieldsHook, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = Fastify();
await app.register(tokenBucket, { store: new MemoryStore() });
app.get(PATHS.allowed.route, { onRequest: constantFieldsHook }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
