// An ESM TypeScript app with no Redis client installed at all: MemoryStore only.
import { createLimiter, MemoryStore, RedisStore, type Decision, type RedisStoreOptions } from '@tokenbucket/core';

const store = new MemoryStore({ maxKeys: 10_000 });
export const limiter = createLimiter({ store, capacity: 10, refillPerSecond: 2 });
export const decision: Promise<Decision> = limiter.take('key', { cost: 2 });
export const redisStore: typeof RedisStore = RedisStore;
// @ts-expect-error: a URL is not a client
export const wrong: RedisStoreOptions = { client: 'redis://127.0.0.1:6379' };
