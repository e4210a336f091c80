// RedisStore: the store contract on a real Redis, plus what only Redis has: the script, TIME,
// expiry, hashed and hash-tagged keys, NOSCRIPT recovery, ioredis options, many clients.
import { createHash } from 'node:crypto';
import { createLimiter, RedisStore, type Decision } from '@tokenbucket/core';
import { BATCH_COMMAND } from '../../packages/core/src/store/redis/script';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { runStoreSuite } from './store-suite';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('redis');
afterAll(() => pool.closeAll([prefix, `app:${prefix}`]));

runStoreSuite('RedisStore', () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  return { store: () => store };
});

runStoreSuite('RedisStore with enableAutoPipelining', () => {
  const store = new RedisStore({ client: pool.client({ enableAutoPipelining: true }), prefix });
  return { store: () => store };
});

describe('RedisStore on a real Redis', () => {
  test('one decision is one script call (EVALSHA) and nothing else', async () => {
    const client = pool.client();
    const store = new RedisStore({ client, prefix });
    const l = createLimiter({
      store,
      policies: [
        { name: 'one-call-a', capacity: 5, refillPerSecond: 1 },
        { name: 'one-call-b', capacity: 9, refillPerSecond: 1 },
      ],
    });
    await l.take('warm-up'); // loads the script (EVALSHA, NOSCRIPT, EVAL on a fresh server)
    const monitor = await pool.client().monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands the script runs show up with source "lua"; count only what the client sent.
      if (source !== 'lua' && args.some((a) => a.includes(`${prefix}one-call`))) seen.push(args);
    });
    for (let i = 0; i < 3; i++) await l.take('one-call-caller');
    await l.take('one-call-caller', { cost: 100 }); // denied
    await new Promise((r) => setTimeout(r, 100));
    monitor.disconnect();
    expect(seen.map((args) => args[0]!.toLowerCase())).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha']);
    expect(seen[0]![2]).toBe('2'); // both policies' keys in the one call
  });

  test('keys are hashed, hash-tagged per caller, and expire when the bucket would be full', async () => {
    const client = pool.client();
    const l = createLimiter({
      store: new RedisStore({ client, prefix }),
      policies: [
        { name: 'layout-burst', capacity: 10, refillPerSecond: 2 },
        { name: 'layout-daily', capacity: 1000, refillPerSecond: 1000 / 86400 },
      ],
    });
    const apiKey = 'sk_live_SECRET_raw_api_key_123';
    const d = await l.take(apiKey, { cost: 4 });
    const keys = (await pool.keys(`${prefix}layout-*`)).sort();
    expect(keys).toHaveLength(2);
    const tags = keys.map((k) => /^.*:\{([A-Za-z0-9_-]{22})\}$/.exec(k)?.[1]);
    expect(tags[0]).toBeDefined();
    expect(tags[0]).toBe(tags[1]);
    // The documented id, the same on every Node version (whichever hashing API the store uses):
    // buckets written by one version are found by another.
    expect(tags[0]).toBe(createHash('sha256').update(apiKey, 'utf8').digest('base64url').slice(0, 22));
    expect(keys[0]).toBe(`${prefix}layout-burst:{${tags[0]}}`);
    for (const key of keys) {
      expect(key).not.toContain(apiKey);
      expect(await client.get(key)).not.toContain(apiKey);
    }
    // Expiry: 4 tokens at 2/s is 2 s to full; 4 of a daily 1000 is 4 * 86.4 s.
    const ttls = await Promise.all(keys.map((k) => client.pttl(k)));
    expect(ttls[0]).toBeGreaterThan(1_900);
    expect(ttls[0]).toBeLessThanOrEqual(2_000);
    expect(ttls[1]).toBeGreaterThan(345_000);
    expect(ttls[1]).toBeLessThanOrEqual(345_600);
    expect(d.policy).toBe('layout-burst'); // fewest left
    expect(d.resetMs).toBe(2_000);
    expect(d.policies[1]!.resetMs).toBe(345_600);
  });

  test('a denied take writes nothing: the expiry is not pushed back', async () => {
    const client = pool.client();
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: 'deny-writes', capacity: 1, refillPerSecond: 0.01 });
    await l.take('deny-writes-caller');
    const [key] = await pool.keys(`${prefix}deny-writes:*`);
    const before = await client.get(key!);
    await new Promise((r) => setTimeout(r, 20));
    expect((await l.take('deny-writes-caller')).allowed).toBe(false);
    expect(await client.get(key!)).toBe(before);
    expect(await client.pttl(key!)).toBeLessThan(100_000 - 10);
  });

  test('SCRIPT FLUSH mid-run: the next take reloads the script and is correct', async () => {
    const client = pool.client();
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: 'noscript', capacity: 3, refillPerSecond: 1 / 3600 });
    expect((await l.take('noscript-caller')).remaining).toBe(2);
    await pool.client().script('FLUSH');
    expect((await l.take('noscript-caller')).remaining).toBe(1);
    await pool.client().script('FLUSH');
    const parallel = await Promise.all([l.take('noscript-caller'), l.take('noscript-caller')]);
    expect(parallel.filter((d) => d.allowed)).toHaveLength(1);
  });

  test('ioredis keyPrefix is applied to bucket keys', async () => {
    const client = pool.client({ keyPrefix: 'app:' });
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: 'kp', capacity: 3, refillPerSecond: 1 });
    await l.take('kp-caller');
    expect(await pool.keys(`app:${prefix}kp:*`)).toHaveLength(1);
    expect(await pool.keys(`${prefix}kp:*`)).toHaveLength(0);
    await l.reset('kp-caller');
    expect(await pool.keys(`app:${prefix}kp:*`)).toHaveLength(0);
  });

  test('many concurrent takes from several separate clients on one hot key admit exactly capacity', async () => {
    const capacity = 100;
    const clients = Array.from({ length: 6 }, (_, i) => pool.client({ enableAutoPipelining: i % 2 === 0 }));
    // Connected first: what is measured is the admission, not how long six connections take on a busy machine.
    await Promise.all(clients.map((c) => c.ping()));
    const limiters = clients.map((client) =>
      createLimiter({
        store: new RedisStore({ client, prefix }),
        name: 'hot',
        capacity,
        refillPerSecond: 1 / 3600, // refill during the test: about 0.001 token
      }),
    );
    const takes: Promise<Decision>[] = [];
    for (let round = 0; round < 100; round++) for (const l of limiters) takes.push(l.take('hot-caller'));
    const results = await Promise.all(takes);
    expect(results).toHaveLength(600);
    expect(results.filter((d) => d.allowed)).toHaveLength(capacity);
    const remaining = results
      .filter((d) => d.allowed)
      .map((d) => d.remaining)
      .sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: capacity }, (_, i) => i)); // each token once
  });

  test('a store fault rejects the take; it never escapes unhandled', async () => {
    const client = pool.client({ maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    await new Promise((resolve) => client.once('ready', resolve));
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: 'fault', capacity: 3, refillPerSecond: 1 });
    await l.take('fault-caller');
    client.disconnect();
    await expect(l.take('fault-caller')).rejects.toThrow();
  });

  test('invalid options name the option and the value', () => {
    expect(() => new RedisStore({ client: {} as never })).toThrow(
      /`client` must be an ioredis Redis or Cluster client, or a node-redis client from createClient or createCluster; got an object/,
    );
    expect(() => new RedisStore({ client: pool.client(), prefix: 'a{b}' })).toThrow(/`prefix`.*got "a\{b\}"/);
    expect(() => new RedisStore(undefined as never)).toThrow(/`options` must be an object/);
  });
});

describe('RedisStore time budget and circuit breaker', () => {
  test('a take the server does not answer within timeoutMs fails with STORE_TIMEOUT, on time', async () => {
    const client = pool.client();
    const store = new RedisStore({ client, prefix, timeoutMs: 100 });
    const l = createLimiter({ store, name: 'budget', capacity: 3, refillPerSecond: 1 });
    await l.take('budget-caller');
    // A client whose every command waits behind a blocking one on the same connection.
    const blocked = pool.client();
    const slowStore = new RedisStore({ client: blocked, prefix, timeoutMs: 100 });
    const slow = createLimiter({ store: slowStore, name: 'budget', capacity: 3, refillPerSecond: 1 });
    await blocked.ping();
    const blocking = blocked.blpop(`${prefix}never-pushed`, 1).catch(() => undefined);
    const start = performance.now();
    await expect(slow.take('budget-caller')).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
    expect(performance.now() - start).toBeLessThan(100 + 400);
    await blocking;
  });

  test('while the client is reconnecting nothing is sent (no offline-queue replay), and the circuit opens', async () => {
    const client = pool.client({ maxRetriesPerRequest: 20 });
    const store = new RedisStore({ client, prefix, breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const statuses: string[] = [];
    store.subscribe((e) => statuses.push(e.status));
    const l = createLimiter({ store, name: 'offline', capacity: 3, refillPerSecond: 1 / 3600 });
    await l.take('offline-caller');
    const connId = await client.client('ID');
    const reconnecting = new Promise((resolve) => client.once('reconnecting', resolve));
    await pool.client().client('KILL', 'ID', String(connId)); // the server drops the connection
    await reconnecting;
    await expect(l.take('offline-caller')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(l.take('offline-caller')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(l.take('offline-caller')).rejects.toMatchObject({ code: 'STORE_CIRCUIT_OPEN' });
    expect(statuses).toEqual(['down']);
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Only the first take ever reached Redis: 2 tokens left, nothing replayed.
    const reader = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), name: 'offline', capacity: 3, refillPerSecond: 1 / 3600 });
    expect((await reader.take('offline-caller', { cost: 0 })).remaining).toBe(2);
  });

  test('invalid time budget and breaker options name the option', () => {
    expect(() => new RedisStore({ client: pool.client(), timeoutMs: 0 })).toThrow(/`timeoutMs` must be a finite number of milliseconds > 0; got 0/);
    expect(() => new RedisStore({ client: pool.client(), breaker: { cooldownMs: NaN } })).toThrow(/`breaker.cooldownMs`.*got NaN/);
  });
});

describe('RedisStore denial cache', () => {
  async function countCalls(pattern: string, run: () => Promise<void>): Promise<number> {
    const monitor = await pool.client().monitor();
    let calls = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((a) => a.includes(pattern))) calls++;
    });
    await run();
    await new Promise((r) => setTimeout(r, 100));
    monitor.disconnect();
    return calls;
  }

  test('a denied caller hammering: one Redis call, the rest answered here with the same decision', async () => {
    const l = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), name: 'dc-hammer', capacity: 2, refillPerSecond: 1 / 3600 });
    await l.take('dc-caller', { cost: 2 });
    const decisions: Decision[] = [];
    const calls = await countCalls(`${prefix}dc-hammer`, async () => {
      for (let i = 0; i < 50; i++) decisions.push(await l.take('dc-caller'));
    });
    expect(calls).toBe(1);
    expect(decisions.every((d) => !d.allowed && d.remaining === 0 && d.limit === 2)).toBe(true);
    expect(decisions[49]!.retryAfterMs).toBeGreaterThan(3_590_000);
    expect(decisions[49]!.retryAfterMs).toBeLessThanOrEqual(decisions[0]!.retryAfterMs);
    // A cheaper take the remembered levels cannot rule out still asks Redis: cost 0 reads.
    expect((await l.take('dc-caller', { cost: 0 })).allowed).toBe(true);
  });

  test('the remembered denial ends as soon as the refill could cover the cost', async () => {
    const l = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), name: 'dc-refill', capacity: 1, refillPerSecond: 10 });
    await l.take('dc-r');
    const denied = await l.take('dc-r');
    expect(denied.allowed).toBe(false);
    await new Promise((r) => setTimeout(r, denied.retryAfterMs + 5));
    expect((await l.take('dc-r')).allowed).toBe(true);
  });

  test('reset forgets the denial; denialCache false asks Redis every time', async () => {
    const store = new RedisStore({ client: pool.client(), prefix });
    const l = createLimiter({ store, name: 'dc-reset', capacity: 1, refillPerSecond: 1 / 3600 });
    await l.take('dc-x');
    expect((await l.take('dc-x')).allowed).toBe(false);
    await l.reset('dc-x');
    expect((await l.take('dc-x')).allowed).toBe(true);

    const uncached = createLimiter({
      store: new RedisStore({ client: pool.client(), prefix, denialCache: false }),
      name: 'dc-off',
      capacity: 1,
      refillPerSecond: 1 / 3600,
    });
    await uncached.take('dc-y');
    const calls = await countCalls(`${prefix}dc-off`, async () => {
      for (let i = 0; i < 5; i++) await uncached.take('dc-y');
    });
    expect(calls).toBe(5);
    expect(() => new RedisStore({ client: pool.client(), denialCache: { maxKeys: 0 } })).toThrow(/`denialCache.maxKeys` must be an integer >= 1.*got 0/);
  });

  test('denials are kept per limiter, and the cache starts over at maxKeys', async () => {
    const store = new RedisStore({ client: pool.client(), prefix, denialCache: { maxKeys: 2 } });
    const one = createLimiter({ store, name: 'dc-max-one', capacity: 1, refillPerSecond: 1 / 3600 });
    const two = createLimiter({ store, name: 'dc-max-two', capacity: 1, refillPerSecond: 1 / 3600 });
    for (const caller of ['m-a', 'm-b']) {
      await one.take(caller);
      expect((await one.take(caller)).allowed).toBe(false); // remembered
    }
    // The same caller under another limiter is another bucket: not denied by one's memory.
    expect((await two.take('m-a')).allowed).toBe(true);
    const remembered = await countCalls(`${prefix}dc-max-one`, async () => {
      for (const caller of ['m-a', 'm-b']) expect((await one.take(caller)).allowed).toBe(false);
    });
    expect(remembered).toBe(0);
    // A third denial fills the cache past maxKeys: it starts over with only that one.
    expect((await two.take('m-a')).allowed).toBe(false);
    const afterStartOver = await countCalls(`${prefix}dc-max-`, async () => {
      expect((await two.take('m-a')).allowed).toBe(false); // remembered
      expect((await one.take('m-a')).allowed).toBe(false); // forgotten: asks Redis
      expect((await one.take('m-b')).allowed).toBe(false); // forgotten: asks Redis
    });
    expect(afterStartOver).toBe(2);
  });

  test('another process debiting the bucket cannot make a remembered denial wrong', async () => {
    // Two stores (two processes' worth of state) on one bucket: the one that remembers a denial
    // only ever denies what Redis would deny, because others can only take tokens away.
    const a = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), name: 'dc-two', capacity: 3, refillPerSecond: 1 / 3600 });
    const b = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), name: 'dc-two', capacity: 3, refillPerSecond: 1 / 3600 });
    await a.take('dc-z', { cost: 2 });
    expect((await a.take('dc-z', { cost: 2 })).allowed).toBe(false); // remembered by a: 1 left
    expect((await b.take('dc-z')).allowed).toBe(true); // b takes the last one
    expect((await a.take('dc-z', { cost: 2 })).allowed).toBe(false);
    expect((await a.take('dc-z')).allowed).toBe(false); // not ruled out locally: asks Redis, 0 left
  });
});

describe('RedisStore batching', () => {
  async function scriptCalls(pattern: string, run: () => Promise<void>): Promise<string[][]> {
    const monitor = await pool.client().monitor();
    const calls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((a) => a.includes(pattern))) calls.push(args);
    });
    await run();
    await new Promise((r) => setTimeout(r, 100));
    monitor.disconnect();
    return calls;
  }

  test('the takes of one tick go in one script call, each all-or-nothing and in order', async () => {
    const store = new RedisStore({ client: pool.client(), prefix });
    const one = createLimiter({ store, name: 'batch-one', capacity: 2, refillPerSecond: 1 / 3600 });
    const two = createLimiter({
      store,
      policies: [
        { name: 'batch-a', capacity: 5, refillPerSecond: 1 / 3600 },
        { name: 'batch-b', capacity: 1, refillPerSecond: 1 / 3600 },
      ],
    });
    let results: Decision[] = [];
    const calls = await scriptCalls(`${prefix}batch-`, async () => {
      results = await Promise.all([
        one.take('x'),
        one.take('x'),
        one.take('x'), // the third take of x in the same call sees the first two
        two.take('y'),
        two.take('y'), // denied by batch-b, so batch-a is not debited either
        one.take('z', { cost: 3 }), // above capacity
      ]);
    });
    expect(calls).toHaveLength(1);
    expect(results.map((d) => d.allowed)).toEqual([true, true, false, true, false, false]);
    expect(results.map((d) => d.remaining)).toEqual([1, 0, 0, 0, 0, 2]);
    expect(results[4]!.policies.map((p) => p.remaining)).toEqual([4, 0]);
    expect(results[5]!.retryAfterMs).toBe(Infinity);
  });

  test("batched takes are sent outside ioredis auto-pipelining, without changing the caller's options array", async () => {
    const ignored = ['ping'];
    const client = pool.client({ enableAutoPipelining: true, autoPipeliningIgnoredCommands: ignored });
    const l = createLimiter({ store: new RedisStore({ client, prefix }), name: 'ap-bypass', capacity: 5, refillPerSecond: 1 / 3600 });
    expect(client.options.autoPipeliningIgnoredCommands).toEqual(['ping', BATCH_COMMAND]);
    expect(ignored).toEqual(['ping']);
    new RedisStore({ client, prefix }); // a second store on the client adds nothing twice
    expect(client.options.autoPipeliningIgnoredCommands).toEqual(['ping', BATCH_COMMAND]);
    const decisions = await Promise.all([l.take('ap'), l.take('ap'), l.take('ap')]);
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2]);
    expect(client.autoPipelineQueueSize).toBe(0);
  });

  test('batch: false sends each take on its own', async () => {
    const l = createLimiter({ store: new RedisStore({ client: pool.client(), prefix, batch: false }), name: 'nobatch', capacity: 10, refillPerSecond: 1 });
    const calls = await scriptCalls(`${prefix}nobatch`, async () => {
      await Promise.all([l.take('a'), l.take('b'), l.take('c')]);
    });
    expect(calls).toHaveLength(3);
    expect(() => new RedisStore({ client: pool.client(), batch: 'yes' as never })).toThrow(/`batch` must be true or false; got "yes"/);
  });

  test('more takes than one call may carry are split into several calls, none lost', async () => {
    const l = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), name: 'bigbatch', capacity: 1000, refillPerSecond: 1 / 3600 });
    let results: Decision[] = [];
    const calls = await scriptCalls(`${prefix}bigbatch`, async () => {
      results = await Promise.all(Array.from({ length: 600 }, (_, i) => l.take(`caller-${i % 300}`)));
    });
    // At most 32 keys a call, in as few calls as that allows: 600 keys go in 19.
    const keysPerCall = calls.map((args) => Number(args[2]));
    expect(keysPerCall).toHaveLength(19);
    expect(keysPerCall.reduce((a, b) => a + b, 0)).toBe(600);
    expect(Math.max(...keysPerCall)).toBeLessThanOrEqual(32);
    expect(results.every((d) => d.allowed)).toBe(true);
    expect(results.filter((d) => d.remaining === 998)).toHaveLength(300); // each caller's second take
  });
});
