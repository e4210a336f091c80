// An ESM TypeScript app with node-redis and without ioredis: MemoryStore, and RedisStore on a
// node-redis client and cluster, as the README shows them.
import { createLimiter, MemoryStore, RedisStore, type Decision } from '@tokenbucket/core';
import { createClient, createCluster } from 'redis';

export const local = createLimiter({ store: new MemoryStore(), capacity: 10, refillPerSecond: 2 });
export const first: Promise<Decision> = local.take('key');

const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
client.on('error', (err) => console.error('redis', err));
await client.connect();
export const limiter = createLimiter({ store: new RedisStore({ client }), name: 'search', capacity: 10, refillPerSecond: 2 });

const cluster = createCluster({ rootNodes: [{ url: 'redis://10.0.0.1:6379' }, { url: 'redis://10.0.0.2:6379' }] });
cluster.on('error', (err) => console.error('redis cluster', err));
await cluster.connect();
export const clusterStore = new RedisStore({ client: cluster, prefix: 'app:' });

// @ts-expect-error: a URL is not a client
export const wrong = new RedisStore({ client: 'redis://127.0.0.1:6379' });
