// A store that cannot work as configured says so once, as a coded TokenBucketWarning naming the
// cause and the fix, and again only when the cause changes; the store error channel carries the
// Redis error's own code; the store's health reads down while no take can write.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import Redis from 'ioredis';
import { createClient as createClient5 } from 'redis5';
import { CHANNELS, createLimiter, RedisStore, type RedisStoreOptions, type StoreCallError } from '@tokenbucket/core';
import { subscribeMetrics } from '@tokenbucket/core/metrics';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix, sleep } from '../support/redis';
import { report } from '../support/report';

describe('a store that cannot work as configured', () => {
  let server: RedisProcess;
  let admin: Redis;
  const warnings: { code: unknown; message: string }[] = [];
  const storeErrors: StoreCallError[] = [];
  const storeFailure = (m: unknown) => void storeErrors.push(m as StoreCallError);
  const clients: { disconnect(): void }[] = [];
  let emitWarning: jest.SpyInstance;

  beforeAll(async () => {
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, options?: unknown) => {
      const o = options as { type?: string; code?: unknown } | undefined;
      if (o?.type === 'TokenBucketWarning') warnings.push({ code: o.code, message: String(warning) });
    });
    subscribe(CHANNELS.storeError, storeFailure);
    server = await RedisProcess.start();
    admin = new Redis(server.url);
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    admin?.disconnect();
    await server?.stop();
    unsubscribe(CHANNELS.storeError, storeFailure);
    emitWarning?.mockRestore();
  });

  beforeEach(() => {
    warnings.length = 0;
    storeErrors.length = 0;
  });

  /** A limiter on `client`, and `n` takes of distinct new callers, spaced past the budget. */
  async function takes(client: Redis, n: number, store: Partial<RedisStoreOptions> = {}): Promise<string[]> {
    const limiter = createLimiter({ store: new RedisStore({ client, checkMemoryPolicy: false, timeoutMs: 50, ...store }), capacity: 5, refillPerSecond: 1 });
    const outcomes: string[] = [];
    for (let i = 0; i < n; i++) {
      outcomes.push(await limiter.take(`caller-${Math.random()}`).then((d) => (d.allowed ? 'allowed' : 'denied'), codeOf));
      await sleep(60);
    }
    return outcomes;
  }

  /** A TokenBucketError's code, or the Redis error's own (the first word of its message). */
  function codeOf(err: { code?: unknown; message?: string }): string {
    return typeof err.code === 'string' ? err.code : String(/^[A-Z]+/.exec(err.message ?? '')?.[0]);
  }

  /** A client logged in as `name`, once connected (a store refuses takes while its client connects). */
  async function user(name: string): Promise<Redis> {
    const client = new Redis(server.url, { username: name, password: 'secret' });
    client.on('error', () => {});
    clients.push(client);
    await client.ping();
    return client;
  }

  test("ACL: keys outside the user's pattern, then fixed, then TIME taken away: one warning per cause, each naming it and the ACL rule", async () => {
    await admin.acl('SETUSER', 'app-only', 'on', '>secret', '~app:*', '+@all');
    const client = await user('app-only');
    expect(await takes(client, 3)).toEqual(['NOPERM', 'TB_ERR_STORE_CIRCUIT_OPEN', 'TB_ERR_STORE_CIRCUIT_OPEN']);
    expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_NOPERM']);
    expect(warnings[0]!.message).toMatch(/ACL SETUSER <user> ~tb:\* \+evalsha \+eval \+del \+get \+set \+time/);
    expect(storeErrors.map((e) => e.code)).toEqual(['NOPERM']);

    // Fixed: the next probe writes, and nothing more is said.
    await admin.acl('SETUSER', 'app-only', 'resetkeys', '~*');
    const limiter = createLimiter({ store: new RedisStore({ client, checkMemoryPolicy: false, timeoutMs: 50 }), capacity: 5, refillPerSecond: 1 });
    expect((await limiter.take('fixed')).allowed).toBe(true);
    // Another cause: TIME taken away. Said again, naming TIME.
    await admin.acl('SETUSER', 'app-only', '-time');
    storeErrors.length = 0;
    // The script's redis.call('TIME') fails: Redis wraps the NOPERM in a script error, ERR.
    expect((await takes(client, 2))[0]).toBe('ERR');
    expect(storeErrors.map((e) => e.code)).toEqual(['NOPERM']);
    expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_NOPERM', 'TB_WARN_REDIS_NOPERM']);
    expect(warnings[1]!.message).toMatch(/NOPERM: the TIME command/);
    report(`the TIME error: ${String((storeErrors[0]?.error as Error | undefined)?.message)}`);
    report(`ACL warnings:\n  ${warnings.map((w) => `${String(w.code)}: ${w.message}`).join('\n  ')}`);
  });

  test('ACL: a user without EVALSHA', async () => {
    await admin.acl('SETUSER', 'no-evalsha', 'on', '>secret', '~*', '+@all', '-evalsha');
    // ioredis sends the script's first run on a connection with EVAL, and EVALSHA after.
    expect(await takes(await user('no-evalsha'), 3)).toContain('NOPERM');
    expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_NOPERM']);
    expect(warnings[0]!.message).toMatch(/the EVALSHA command/);
  });

  test('wrong password: the client never gets ready, and a fresh connection tells why (WRONGPASS)', async () => {
    const client = new Redis(server.url, { username: 'app-only', password: 'not-the-secret' });
    client.on('error', () => {});
    clients.push(client);
    const outcomes = await takes(client, 4);
    await sleep(1500);
    expect(new Set(outcomes)).not.toContain('allowed');
    expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_AUTH']);
    expect(warnings[0]!.message).toMatch(/refused the client's credentials \(WRONGPASS\)/);
  });

  test('a node-redis client never connected: said once, naming connect()', async () => {
    const client = createClient5({ url: server.url });
    const outcomes = await takes(client as unknown as Redis, 3);
    expect(outcomes[0]).toBe('TB_ERR_STORE_UNAVAILABLE');
    expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_NOT_CONNECTED']);
    expect(warnings[0]!.message).toMatch(/await client.connect\(\)/);
  });

  test('a store pointed at a read-only replica: READONLY, store_up 0 although denials still succeed', async () => {
    const replica = await RedisProcess.start({ args: ['--replicaof', '127.0.0.1', String(server.port)] });
    const metrics = subscribeMetrics(100, { storeCall() {} });
    try {
      const prefix = randomPrefix('replica');
      // A caller drained on the master: on the replica its takes are denials, which write nothing.
      const master = createLimiter({ store: new RedisStore({ client: admin, prefix, checkMemoryPolicy: false }), capacity: 5, refillPerSecond: 1 / 3600 });
      for (let i = 0; i < 5; i++) await master.take('drained');
      const client = new Redis(replica.url);
      clients.push(client);
      expect(await admin.call('WAIT', '1', '10000')).toBe(1); // the replica has the drained bucket
      // A short cool-down: probes go through, and those that are denials succeed without writing.
      const store = new RedisStore({ client, prefix, name: 'replica', checkMemoryPolicy: false, timeoutMs: 50, breaker: { cooldownMs: 100 } });
      const limiter = createLimiter({ store, capacity: 5, refillPerSecond: 1 / 3600 });
      const statuses: string[] = [];
      store.subscribe((e) => statuses.push(e.status));
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        for (const key of ['drained', `fresh-${i}`]) {
          outcomes.push(await limiter.take(key).then((d) => (d.allowed ? 'allowed' : 'denied'), codeOf));
        }
        await sleep(60);
      }
      const up: number[] = [];
      metrics.states.report((value, name) => name === 'replica' && void up.push(value));
      report(
        `read-only replica: outcomes ${JSON.stringify(outcomes)}; status ${JSON.stringify(statuses)}; store_up ${JSON.stringify(up)}; warnings ${JSON.stringify(warnings.map((w) => w.code))}`,
      );
      expect(outcomes.slice(0, 2)).toEqual(['denied', 'READONLY']);
      expect(outcomes).not.toContain('allowed');
      // Probes that were denials, answered by Redis, which did not close the circuit.
      expect(outcomes.slice(2)).toContain('denied');
      expect(outcomes.slice(2)).toContain('TB_ERR_STORE_CIRCUIT_OPEN');
      expect(statuses).toEqual(['down']);
      expect(up).toEqual([0]);
      expect(warnings.map((w) => w.code)).toEqual(['TB_WARN_REDIS_READONLY']);
      expect(new Set(storeErrors.map((e) => e.code))).toEqual(new Set(['READONLY']));
    } finally {
      metrics.close();
      await replica.stop();
    }
  });
});
