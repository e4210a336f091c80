// A connection that dies silently (packets dropped, no reset) while Redis stays healthy: the
// client believes it is up and the kernel may take a quarter of an hour to give up on it. The
// store finds it (no reply for 5 budgets while a fresh connection answers PING), drops it, and
// the client reconnects: Redis decides again within a few seconds, with the clients' defaults as
// the README shows them. A Redis that is merely busy (DEBUG SLEEP) is left alone.
import Redis6 from 'ioredis6';
import Redis from 'ioredis';
import { createClient as createClient4 } from 'redis4';
import { createClient as createClient5 } from 'redis5';
import { createLimiter, RedisStore, type RedisStoreOptions } from '@tokenbucket/core';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix, sleep } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { report } from '../support/report';

const WATCH_MS = 10_000;
/** The issue's ask: replaced "within a few seconds". */
const RECOVERED_WITHIN_MS = 6000;

interface Opened {
  client: RedisStoreOptions['client'];
  /** The client's own events, as the app would see them. */
  events: string[];
  close(): Promise<void>;
}

const CLIENTS: [string, (url: string) => Promise<Opened>][] = [
  [
    'ioredis 5 (defaults)',
    async (url) => {
      const client = new Redis(url);
      const events: string[] = [];
      for (const e of ['close', 'reconnecting', 'ready', 'error']) client.on(e, () => events.push(e));
      return { client, events, close: async () => client.disconnect() };
    },
  ],
  [
    'ioredis 5 with socketTimeout: 1000',
    async (url) => {
      const client = new Redis(url, { socketTimeout: 1000 });
      const events: string[] = [];
      for (const e of ['close', 'reconnecting', 'ready', 'error']) client.on(e, () => events.push(e));
      return { client, events, close: async () => client.disconnect() };
    },
  ],
  [
    'ioredis 6 (defaults)',
    async (url) => {
      const client = new Redis6(url);
      const events: string[] = [];
      for (const e of ['close', 'reconnecting', 'ready', 'error']) client.on(e, () => events.push(e));
      return { client: client as unknown as RedisStoreOptions['client'], events, close: async () => client.disconnect() };
    },
  ],
  [
    'node-redis 4 (defaults)',
    async (url) => {
      const client = createClient4({ url });
      const events: string[] = [];
      for (const e of ['end', 'ready', 'error']) client.on(e, () => events.push(e));
      await client.connect();
      return { client: client as unknown as RedisStoreOptions['client'], events, close: async () => void (await client.disconnect().catch(() => {})) };
    },
  ],
  [
    'node-redis 5 (defaults)',
    async (url) => {
      const client = createClient5({ url });
      const events: string[] = [];
      for (const e of ['end', 'ready', 'error']) client.on(e, () => events.push(e));
      await client.connect();
      return { client: client as unknown as RedisStoreOptions['client'], events, close: async () => void client.destroy() };
    },
  ],
];

describe('silent connection loss', () => {
  let server: RedisProcess;
  const warnings: { code: unknown; message: string }[] = [];
  let emitWarning: jest.SpyInstance;

  beforeAll(async () => {
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, options?: unknown) => {
      const o = options as { type?: string; code?: unknown } | undefined;
      if (o?.type === 'TokenBucketWarning') warnings.push({ code: o.code, message: String(warning) });
    });
    server = await RedisProcess.start();
  });

  afterAll(async () => {
    await server?.stop();
    emitWarning?.mockRestore();
  });

  test.each(CLIENTS)(
    '%s: Redis decides again within a few seconds of the connection going silent',
    async (name, open) => {
      warnings.length = 0;
      const proxy = await TcpProxy.start(server.url);
      const opened = await open(proxy.url);
      try {
        const store = new RedisStore({ client: opened.client, prefix: randomPrefix('silent'), checkMemoryPolicy: false });
        const limiter = createLimiter({ store, capacity: 1_000_000, refillPerSecond: 1000 });
        expect((await limiter.take('warm-up')).allowed).toBe(true);
        expect(proxy.silence()).toBeGreaterThan(0);
        const silencedAt = performance.now();
        let recoveredAt: number | undefined;
        let failed = 0;
        while (recoveredAt === undefined && performance.now() - silencedAt < WATCH_MS) {
          try {
            await limiter.take(`caller-${failed % 10}`);
            recoveredAt = performance.now();
          } catch {
            failed++;
            await sleep(50);
          }
        }
        const recoveredMs = recoveredAt === undefined ? undefined : Math.round(recoveredAt - silencedAt);
        report(
          `silent connection loss, ${name}: first Redis decision ${recoveredMs === undefined ? `none in ${WATCH_MS} ms` : `${recoveredMs} ms`} after the connection went silent; ` +
            `${failed} takes failed before; the client's events ${JSON.stringify(opened.events)}; warnings ${JSON.stringify(warnings.map((w) => w.code))}`,
        );
        expect(recoveredMs).toBeLessThan(RECOVERED_WITHIN_MS);
        if (name.includes('socketTimeout')) {
          // The client found out by itself, before the store's check.
          expect(opened.events).toContain('reconnecting');
          expect(recoveredMs).toBeLessThan(3000);
          return;
        }
        expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_DEAD_CONNECTION']);
        expect(warnings[0]!.message).toMatch(/answered nothing for \d+ ms while a new connection to it answered at once/);
      } finally {
        await opened.close();
        await proxy.stop();
      }
    },
    30_000,
  );

  test('a Redis that is busy (DEBUG SLEEP 3) is not a dead connection: nothing is replaced', async () => {
    warnings.length = 0;
    const opened = await CLIENTS[0]![1](server.url);
    const admin = new Redis(server.url);
    try {
      const store = new RedisStore({ client: opened.client, prefix: randomPrefix('busy'), checkMemoryPolicy: false });
      const limiter = createLimiter({ store, capacity: 1_000_000, refillPerSecond: 1000 });
      await limiter.take('warm-up');
      const sleeping = admin.call('DEBUG', 'SLEEP', '3');
      const until = performance.now() + 3500;
      let failed = 0;
      while (performance.now() < until) {
        await limiter.take('busy-caller').catch(() => failed++);
        await sleep(50);
      }
      await sleeping;
      expect((await limiter.take('after')).allowed).toBe(true);
      report(`busy Redis (DEBUG SLEEP 3): ${failed} takes failed; the client's events ${JSON.stringify(opened.events)}; warnings ${JSON.stringify(warnings)}`);
      expect(failed).toBeGreaterThan(0);
      expect(opened.events.filter((e) => e !== 'ready')).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      admin.disconnect();
      await opened.close();
    }
  }, 30_000);
});
