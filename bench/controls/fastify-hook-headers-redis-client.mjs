// A control, not a limiter: controls/fastify-hook-headers.mjs (an onRequest hook writing the two
// RateLimit fields as constants) with an ioredis client connected and idle beside it.
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { announce, BODY, connectRedis, constantFieldsHook, HOST, PATHS, PORT } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
const app = Fastify();
app.get(PATHS.allowed.route, { onRequest: constantFieldsHook }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
