// Ladder step 4: step 3 with the hook also taking a token, as our engine does, from a limiter on a
// MemoryStore (a bucket nobody empties; the caller id hashed once, as core's cache of hashes
// does), its decision built and dropped. Isolates the store's take and the Decision.
import { createLimiter, MemoryStore } from '@tokenbucket/core';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, HOST, PATHS, PORT, writeConstantFields } from '../apps/shared.mjs';

const { capacity, refillPerSecond } = PATHS.allowed;
const app = Fastify();
const store = new MemoryStore();
await app.register(tokenBucket, { store });
const limiter = createLimiter({ store, name: 'GET /a', capacity, refillPerSecond });
const callerId = 'hot-key-caller-id-0000';
const onRequest = (_request, reply, done) => {
  if (!limiter.takeById(callerId, 1).decision.allowed) throw new Error('expected an allowed take');
  writeConstantFields(reply);
  done();
};
app.get(PATHS.allowed.route, { onRequest }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
