// Ladder step 2: step 1 with an onRequest hook on the route, in the callback style ours uses,
// that calls `done()` at once. Isolates Fastify's running of a route hook.
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = Fastify();
await app.register(tokenBucket, { store: new MemoryStore() });
const onRequest = (_request, _reply, done) => done();
app.get(PATHS.allowed.route, { onRequest }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
