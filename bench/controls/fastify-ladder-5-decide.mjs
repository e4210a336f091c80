// Ladder step 5: step 3 with the hook running our whole decision (`createHttpLimiter(...).handle`,
// the engine our plugin runs, on a MemoryStore) through an adapter that is ours but writes no
// header; the hook then writes the two constants. Isolates the engine beyond the take (the key,
// the route's claim, the request's state, the headers computed).
import { MemoryStore } from '@tokenbucket/core';
import { createHttpLimiter, routeId } from '@tokenbucket/core/adapter';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';
import { announce, BODY, fastifyAdapter, HOST, PATHS, PORT, writeConstantFields } from '../apps/shared.mjs';

const { route, capacity, refillPerSecond } = PATHS.allowed;
const app = Fastify();
const store = new MemoryStore();
await app.register(tokenBucket, { store });
// Our adapter, writing no header.
const silent = { ...fastifyAdapter, setHeader: () => {} };
const limiter = createHttpLimiter(silent, { store, capacity, refillPerSecond });
const id = routeId('GET', route);
const onRequest = (request, reply, done) => {
  if (limiter.handle(request, reply, id) !== true) throw new Error('expected an answer at once');
  writeConstantFields(reply);
  done();
};
app.get(route, { onRequest }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
