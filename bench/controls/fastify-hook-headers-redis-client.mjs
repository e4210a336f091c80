// A control, not a limiter: controls/fastify-hook-headers.mjs (an onRequest hook writing the two
// RateLimit fields as constants) with an ioredis client connected and idle beside it.
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { announce, BODY, connectRedis, HOST, PATHS, PORT } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
const app = Fastify();
const onRequest = (_request, reply, done) => {
  reply.header('RateLimit-Policy', '"GET /a";q=1000000000;w=86400');
  reply.header('RateLimit', '"GET /a";r=999999999;t=1');
  done();
};
app.get(PATHS.allowed.route, { onRequest }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
