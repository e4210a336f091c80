// Test helpers for the real Redis server at REDIS_URL: the check a suite that needs one starts
// with, clients, random key prefixes, cleanup.
import { randomBytes } from 'node:crypto';
import Redis, { type Cluster, type RedisOptions } from 'ioredis';

const NO_REDIS_URL =
  'REDIS_URL is not set. The tests run against a real Redis server: run them with `pnpm test` ' +
  '(scripts/test.sh starts one), or set REDIS_URL=redis://127.0.0.1:<port>.';

/** Set when requireRedis() found no server at REDIS_URL: every later client gets the same error. */
let unreachable: Error | undefined;

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error(NO_REDIS_URL);
  if (unreachable !== undefined) throw unreachable;
  return url;
}

/**
 * Call at the top of a suite that needs the standalone Redis (or of a `describe`, for its tests
 * alone). Before the first test it checks that REDIS_URL is set and answers PING; when not, every
 * test of the suite fails with how to get one. Tests never skip; suites that need no Redis do not
 * call this and run without one.
 */
export function requireRedis(): void {
  beforeAll(async () => {
    try {
      await withClient(redisUrl(), 'PING to REDIS_URL', (client) => client.ping());
    } catch (err) {
      // The suite's other hooks still run: they must fail at once too, not open clients that
      // retry a dead address until every hook times out.
      unreachable ??= err as Error;
      throw err;
    }
  });
}

/** Runs `fn` on a client to `url` that does not retry; a failure names `what` and the address. */
export async function withClient<T>(url: string, what: string, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined; // the socket's error (ECONNREFUSED...), clearer than "Connection is closed"
  client.on('error', (err: Error) => {
    cause ??= err;
  });
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    const message = String((cause ?? (err as Error)).message).replace(/\.$/, '');
    throw new Error(`${what} at ${url} failed: ${message}. The tests need a real Redis server there.`);
  } finally {
    client.disconnect();
  }
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
    // A pool that never opened a client wrote nothing (and with no server there, must not try).
    if (this.clients.length === 0) return;
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
