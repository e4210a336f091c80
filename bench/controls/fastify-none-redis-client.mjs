// A control, not a limiter: apps/fastify-none.mjs with an ioredis client connected to the bench's
// Redis and used by nothing, as any app that keeps a Redis connection has one. Run beside the
// no-limiter app to see what holding an outbound connection alone costs Fastify's request path.
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { announce, BODY, connectRedis, HOST, PATHS, PORT } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
const app = Fastify();
for (const { route } of Object.values(PATHS)) {
  app.get(route, async () => BODY);
}
await app.listen({ port: PORT, host: HOST });
announce(app.server);
