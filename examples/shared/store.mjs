// Picks the examples' store: Redis at REDIS_URL (or 127.0.0.1:6379 if it answers), else memory.
import { MemoryStore, RedisStore } from '@tokenbucket/core';
import { Redis } from 'ioredis';

/**
 * Resolves to `{ store, label, close }`. Prints nothing; `label` says which store was chosen
 * and why, for the app to print.
 */
export async function connectStore() {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 1 });
  client.on('error', () => {}); // a failed first connect is reported below; later faults go to storeFailure
  try {
    await client.connect();
    await client.ping();
    return {
      store: new RedisStore({ client, prefix: 'tb-example:' }),
      label: `RedisStore on ${url}: limits are shared by every instance using it`,
      close: () => client.quit(),
    };
  } catch (err) {
    client.disconnect();
    const why = process.env.REDIS_URL ? `REDIS_URL=${url} did not answer (${err.message})` : `no Redis answered at ${url} and REDIS_URL is not set`;
    return {
      store: new MemoryStore(),
      label: `MemoryStore (${why}): limits hold within this process only`,
      close: async () => {},
    };
  }
}

/** The policies the three example apps give their routes. */
export const limits = {
  /** GET /search: its own bucket, a burst of 5, then one request a second. */
  search: { capacity: 5, refillPerSecond: 1 },
  /** GET /items and GET /items/:id: one shared quota named "catalog". */
  catalog: { name: 'catalog', capacity: 20, refillPerSecond: 5 },
  /** POST /reports: expensive, so two policies at once, a small burst and a daily cap. */
  reports: {
    policies: [
      { name: 'reports-burst', capacity: 2, refillPerSecond: 0.2 },
      { name: 'reports-daily', capacity: 50, refillPerSecond: 50 / 86400 },
    ],
  },
};

/** The port to listen on: PORT, else 3000 (0 picks a free one). */
export const port = Number(process.env.PORT ?? 3000);
