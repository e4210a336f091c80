// An ESM TypeScript app with ioredis: RedisStore on an ioredis Redis and Cluster, as the README
// shows them.
import { Cluster, Redis } from 'ioredis';
import { createLimiter, RedisStore } from '@tokenbucket/core';

export const limiter = createLimiter({
  store: new RedisStore({ client: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') }),
  name: 'search',
  capacity: 10,
  refillPerSecond: 2,
});
export const clusterStore = new RedisStore({ client: new Cluster([{ host: '10.0.0.1', port: 6379 }]), prefix: 'app:' });

// @ts-expect-error: a URL is not a client
export const wrong = new RedisStore({ client: 'redis://127.0.0.1:6379' });
