// Test helpers for the real Redis server at REDIS_URL: clients, random key prefixes, cleanup.
import { randomBytes } from 'node:crypto';
import Redis, { type Cluster, type RedisOptions } from 'ioredis';

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: run the tests with `pnpm test`, which starts a Redis.');
  return url;
}

/** A unique key prefix per suite, so suites sharing one Redis never see each other's buckets. */
export function randomPrefix(label: string): string {
  return `tbtest:${label}:${randomBytes(4).toString('hex')}:`;
}

/** Opens clients and closes them all, and deletes keys under the given prefixes, on `closeAll`. */
export class RedisPool {
  private readonly clients: Redis[] = [];

  client(options: RedisOptions = {}): Redis {
    const client = new Redis(redisUrl(), { maxRetriesPerRequest: 1, ...options });
    this.clients.push(client);
    return client;
  }

  async keys(pattern: string): Promise<string[]> {
    return scanAll(this.client(), pattern);
  }

  async closeAll(deletePrefixes: string[] = []): Promise<void> {
    for (const prefix of deletePrefixes) {
      const keys = await this.keys(`${prefix}*`);
      if (keys.length > 0) await this.client().del(...keys);
    }
    // Let clients that are still connecting settle first: disconnecting one mid-connect leaves
    // its connect timer running and keeps the test process alive.
    await Promise.all(this.clients.map(settle));
    await Promise.all(this.clients.map(closeClient));
    this.clients.length = 0;
  }
}

function settle(client: Redis): Promise<void> {
  if (client.status === 'ready' || client.status === 'end') return Promise.resolve();
  return new Promise((resolve) => {
    client.once('ready', () => resolve());
    client.once('end', () => resolve());
  });
}

/**
 * Closes a client (or Cluster) for good: QUIT when ready, else disconnect; never disconnect one
 * already ended, which would keep the test process alive.
 */
export async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else if (client.status !== 'end') client.disconnect();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key of one server matching `pattern`, by SCAN (never KEYS, which blocks the server). */
export async function scanAll(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}
