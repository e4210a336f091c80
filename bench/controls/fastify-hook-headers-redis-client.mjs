// A control, not a limiter: controls/fastify-hook-headers.mjs (an onRequest hook writing the two
// RateLimit fields as constants) with an ioredis client connected and idle beside it.
import { Cluster, Redis } from 'ioredis';
import { connectRedis } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
// The headers-hook app itself, started once the client is connected.
await import('./fastify-hook-headers.mjs');
