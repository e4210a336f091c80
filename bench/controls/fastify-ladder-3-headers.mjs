// Ladder step 3: step 2 with the hook writing exactly the two fields ours writes on an allowed
// request of this route, as constants, the way our adapter writes them (two `reply.header` calls,
// lower-case names). Isolates the header writing.
import { MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = Fastify();
await app.register(tokenBucket, { store: new MemoryStore() });
const onRequest = (_request, reply, done) => {
  reply.header('ratelimit-policy', '"GET /a";q=1000000000;w=86400');
  reply.header('ratelimit', '"GET /a";r=999999999;t=1');
  done();
};
app.get(PATHS.allowed.route, { onRequest }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
