// A CommonJS TypeScript app with node-redis and without ioredis.
import core = require('@tokenbucket/core');
import redis = require('redis');

export const local = core.createLimiter({ store: new core.MemoryStore(), capacity: 1, refillPerSecond: 1 });
export const store = new core.RedisStore({ client: redis.createClient() });
export const clusterStore = new core.RedisStore({ client: redis.createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }) });
// @ts-expect-error: RedisStore has no `url` option
export const wrong = new core.RedisStore({ url: 'redis://127.0.0.1:6379' });
