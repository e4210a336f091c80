// A control, not a limiter: apps/fastify-none.mjs with an ioredis client connected to the bench's
// Redis and used by nothing, as any app that keeps a Redis connection has one. Run beside the
// no-limiter app to see what holding an outbound connection alone costs Fastify's request path.
import { Cluster, Redis } from 'ioredis';
import { connectRedis } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
// The no-limiter app itself, started once the client is connected.
await import('../apps/fastify-none.mjs');
