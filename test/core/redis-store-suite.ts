// RedisStore on a real standalone Redis, through one client library: the store contract, plus
// what only Redis has (the script, TIME, expiry, hashed and hash-tagged keys, NOSCRIPT recovery,
// the time budget, the breaker, the denial cache, batching). Every supported client runs it; what
// the suite sees of Redis it reads with a client of its own (test/support/redis).
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS, createLimiter, RedisStore, type Decision, type StoreCall } from '@tokenbucket/core';
import type { LockoutRule } from '@tokenbucket/core/store';
import { parseRedisStoreOptions } from '../../packages/core/src/store/redis/options';
import { ClientPool, type ClientKind } from '../support/clients';
import { randomPrefix, RedisPool, redisUrl, requireRedis, sleep } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { runStoreSuite } from './store-suite';

/**
 * Every store of these suites but those of the time-budget tests (which give their own
 * `timeoutMs`): what they test is not the time budget, and a loaded machine can stall a reply past
 * the default 200 ms (seen at 6 jest workers: a node-redis 5 take timed out).
 */
const UNHURRIED = { timeoutMs: 5_000 };

/**
 * A MONITOR connection on the shared Redis. Other test files use that Redis at the same time (jest
 * runs files in parallel), so MONITOR lines may arrive in the packet that carries its OK, before
 * ioredis has switched the connection to monitoring, or after `disconnect()`: ioredis reports each
 * as an error event. ioredis's own `monitor()` adds its listener only until the first of them, so
 * the second failed the test as an unhandled error; this connection has a listener from the start.
 */
async function monitorOf(): Promise<Redis> {
  const monitor = new Redis(redisUrl(), { monitor: true, lazyConnect: true });
  monitor.on('error', () => {});
  const monitoring = new Promise((resolve) => monitor.once('monitoring', resolve));
  await monitor.connect();
  await monitoring;
  return monitor;
}

/**
 * What the clients send that names `pattern`, seen through MONITOR while `run` runs (commands a
 * script runs, source "lua", are left out). A script call the client sends again as EVAL after
 * NOSCRIPT is the same call, counted once as its EVALSHA: another file's SCRIPT FLUSH on the
 * shared server can cause such a retry at any moment.
 */
async function clientCalls(pattern: string, run: () => Promise<void>): Promise<string[][]> {
  const monitor = await monitorOf();
  const calls: string[][] = [];
  /** Each EVALSHA's arguments after the SHA, as many times as sent and not yet retried. */
  const unretried = new Map<string, number>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua' || !args.some((a) => a.includes(pattern))) return;
    const command = args[0]!.toLowerCase();
    const rest = JSON.stringify(args.slice(2));
    if (command === 'eval' && (unretried.get(rest) ?? 0) > 0) {
      unretried.set(rest, unretried.get(rest)! - 1);
      return;
    }
    if (command === 'evalsha') unretried.set(rest, (unretried.get(rest) ?? 0) + 1);
    calls.push(args);
  });
  await run();
  await sleep(100);
  monitor.disconnect();
  return calls;
}

export function runRedisStoreSuite(kind: ClientKind): void {
  describe(`RedisStore through ${kind.name}, standalone Redis`, () => {
    requireRedis();

    const clients = new ClientPool(kind);
    /** The test's own view of Redis: reads keys, MONITOR, SCRIPT FLUSH, CLIENT KILL. */
    const pool = new RedisPool();
    const prefix = randomPrefix(`redis-${kind.id}`);
    afterAll(async () => {
      await clients.closeAll();
      await pool.closeAll([prefix]);
    });
    const client = async (options?: Parameters<ClientPool['standalone']>[0]) => (await clients.standalone(options)).client;

    for (const variant of kind.variants) {
      // The contract of a store, not of its time budget (that is below): no time-out on a loaded machine, as on the Cluster.
      runStoreSuite(`RedisStore (${kind.name}, ${variant.label})`, async () => {
        const store = new RedisStore({ client: await client(variant.options), prefix, ...UNHURRIED });
        return { store: () => store };
      });
    }

    describe('the script, keys and expiry', () => {
      test('one decision is one script call (EVALSHA) and nothing else', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({
          store,
          policies: [
            { name: 'one-call-a', capacity: 5, refillPerSecond: 1 },
            { name: 'one-call-b', capacity: 9, refillPerSecond: 1 },
          ],
        });
        await l.take('warm-up'); // loads the script (EVALSHA, NOSCRIPT, EVAL on a fresh server)
        const seen = await clientCalls(`${prefix}one-call`, async () => {
          for (let i = 0; i < 3; i++) await l.take('one-call-caller');
          await l.take('one-call-caller', { cost: 100 }); // denied
        });
        expect(seen.map((args) => args[0]!.toLowerCase())).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha']);
        expect(seen[0]![2]).toBe('2'); // both policies' keys in the one call
      });

      test('keys are hashed, hash-tagged per caller, and expire when the bucket would be full', async () => {
        const l = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          policies: [
            { name: 'layout-burst', capacity: 10, refillPerSecond: 2 },
            { name: 'layout-daily', capacity: 1000, refillPerSecond: 1000 / 86400 },
          ],
        });
        const reader = pool.client();
        const apiKey = 'sk_live_SECRET_raw_api_key_123';
        const start = Date.now();
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
          expect(await reader.get(key)).not.toContain(apiKey);
        }
        // Expiry: 4 tokens at 2/s is 2 s to full; 4 of a daily 1000 is 4 * 86.4 s.
        const ttls = await Promise.all(keys.map((k) => reader.pttl(k)));
        const elapsed = Date.now() - start; // since before the take: the most the keys can have aged
        expect(ttls[0]).toBeGreaterThanOrEqual(2_000 - elapsed - 1);
        expect(ttls[0]).toBeLessThanOrEqual(2_000);
        expect(ttls[1]).toBeGreaterThanOrEqual(345_600 - elapsed - 1);
        expect(ttls[1]).toBeLessThanOrEqual(345_600);
        expect(d.policy).toBe('layout-burst'); // fewest left
        expect(d.resetMs).toBe(2_000);
        expect(d.policies[1]!.resetMs).toBe(345_600);
      });

      test('a denied take writes nothing: the expiry is not pushed back', async () => {
        const reader = pool.client();
        const l = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          name: 'deny-writes',
          capacity: 1,
          refillPerSecond: 0.01,
        });
        await l.take('deny-writes-caller');
        const [key] = await pool.keys(`${prefix}deny-writes:*`);
        const before = await reader.get(key!);
        await sleep(20);
        expect((await l.take('deny-writes-caller')).allowed).toBe(false);
        expect(await reader.get(key!)).toBe(before);
        expect(await reader.pttl(key!)).toBeLessThan(100_000 - 10);
      });

      test('SCRIPT FLUSH mid-run: the next take reloads the script and is correct', async () => {
        const l = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          name: 'noscript',
          capacity: 3,
          refillPerSecond: 1 / 3600,
        });
        expect((await l.take('noscript-caller')).remaining).toBe(2);
        await pool.client().script('FLUSH');
        expect((await l.take('noscript-caller')).remaining).toBe(1);
        await pool.client().script('FLUSH');
        const parallel = await Promise.all([l.take('noscript-caller'), l.take('noscript-caller')]);
        expect(parallel.filter((d) => d.allowed)).toHaveLength(1);
      });

      test('many concurrent takes from several separate clients on one hot key admit exactly capacity', async () => {
        const capacity = 100;
        const limiters = await Promise.all(
          Array.from({ length: 6 }, async (_, i) =>
            createLimiter({
              store: new RedisStore({ client: await client({ autoPipelining: i % 2 === 0 }), prefix, ...UNHURRIED }),
              name: 'hot',
              capacity,
              refillPerSecond: 1 / 3600, // refill during the test: about 0.001 token
            }),
          ),
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
        const faulty = await clients.standalone({ noRetry: true });
        const l = createLimiter({ store: new RedisStore({ client: faulty.client, prefix }), name: 'fault', capacity: 3, refillPerSecond: 1 });
        await l.take('fault-caller');
        faulty.drop();
        await expect(l.take('fault-caller')).rejects.toThrow();
      });

      test('takes held for the end of the turn when the client is closed are sent first, and answered', async () => {
        const closing = await clients.standalone();
        const l = createLimiter({ store: new RedisStore({ client: closing.client, prefix }), name: 'quit', capacity: 2, refillPerSecond: 1 / 3600 });
        const takes = [l.take('quit-caller'), l.take('quit-caller'), l.take('quit-caller')];
        await closing.quit();
        expect((await Promise.all(takes)).map((d) => d.allowed)).toEqual([true, true, false]);
      });

      test('a store on a client closed at once warns of no maxmemory-policy it could not read', async () => {
        // The check reads the policy when the client is ready; a read cut short by quit() says
        // nothing about the policy (the next 'ready' would read it again).
        const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
        try {
          const closing = await clients.standalone();
          new RedisStore({ client: closing.client, prefix });
          await closing.quit();
          await sleep(100);
          expect(warn.mock.calls.map(([message]) => String(message))).toEqual([]);
        } finally {
          warn.mockRestore();
        }
      });

      test("the maxmemory-policy check reads the server's policy", async () => {
        const { connection } = parseRedisStoreOptions({ client: await client(), checkMemoryPolicy: false });
        const report = await connection.memoryPolicies();
        expect(report.map((r) => r.policy)).toEqual(['noeviction']);
      });

      test('invalid options name the option and the value', async () => {
        expect(() => new RedisStore({ client: {} as never })).toThrow(
          /`client` must be an ioredis Redis or Cluster client, or a node-redis client from createClient or createCluster; got an object/,
        );
        const c = await client();
        expect(() => new RedisStore({ client: c, prefix: 'a{b}' })).toThrow(/`prefix`.*got "a\{b\}"/);
        expect(() => new RedisStore(undefined as never)).toThrow(/`options` must be an object/);
      });
    });

    describe('time budget and circuit breaker', () => {
      test('a take the server does not answer within timeoutMs fails with TB_ERR_STORE_TIMEOUT, on time', async () => {
        const store = new RedisStore({ client: await client(), prefix, timeoutMs: 100 });
        const l = createLimiter({ store, name: 'budget', capacity: 3, refillPerSecond: 1 });
        await l.take('budget-caller');
        // A client whose every command waits behind a blocking one on the same connection.
        const blocked = await clients.standalone();
        const slowStore = new RedisStore({ client: blocked.client, prefix, timeoutMs: 100 });
        const slow = createLimiter({ store: slowStore, name: 'budget', capacity: 3, refillPerSecond: 1 });
        await blocked.send(['PING']);
        const blocking = blocked.send(['BLPOP', `${prefix}never-pushed`, 1]).catch(() => undefined);
        const start = performance.now();
        await expect(slow.take('budget-caller')).rejects.toMatchObject({ code: 'TB_ERR_STORE_TIMEOUT' });
        expect(performance.now() - start).toBeLessThan(100 + 400);
        await blocking;
      });

      test('while the client is reconnecting nothing is sent (no offline-queue replay), and the circuit opens', async () => {
        // The client reaches Redis through a relay the test cuts: reconnection attempts are refused
        // until it is restored, however fast the client retries.
        const proxy = await TcpProxy.start(redisUrl());
        try {
          // ioredis: its offline queue on, and many retries per command.
          const flaky = await clients.standalone({ url: proxy.url, reconnectDelayMs: 50, ioredis: { maxRetriesPerRequest: 20 } });
          // The breaker counts failures in time (one per 250 ms budget here), not per call; a budget
          // long enough that two takes in a row fall in one on a busy machine.
          const store = new RedisStore({ client: flaky.client, prefix, timeoutMs: 250, breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
          const statuses: string[] = [];
          store.subscribe((e) => statuses.push(e.status));
          const l = createLimiter({ store, name: 'offline', capacity: 3, refillPerSecond: 1 / 3600 });
          await l.take('offline-caller');
          const reconnecting = flaky.next('reconnecting');
          await proxy.cut(); // the connection drops
          await reconnecting;
          const unavailable = { code: 'TB_ERR_STORE_UNAVAILABLE', message: expect.stringContaining('status "reconnecting"') };
          await expect(l.take('offline-caller')).rejects.toMatchObject(unavailable);
          expect(statuses).toEqual([]); // one failure: below the threshold
          // Every take is refused as unavailable (never queued for the reconnection, which would end
          // in a timeout) until a failure in a second time budget opens the circuit (how failures
          // are counted in time: test/core/breaker.test.ts).
          const codes: string[] = [];
          for (let i = 0; i < 40 && !codes.includes('TB_ERR_STORE_CIRCUIT_OPEN'); i++) {
            await sleep(50);
            codes.push(
              await l.take('offline-caller').then(
                () => 'allowed',
                (err: { code: string }) => err.code,
              ),
            );
          }
          expect(codes.at(-1)).toBe('TB_ERR_STORE_CIRCUIT_OPEN');
          expect(codes.slice(0, -1).every((code) => code === 'TB_ERR_STORE_UNAVAILABLE')).toBe(true);
          expect(statuses).toEqual(['down']);
          const ready = flaky.next('ready');
          await proxy.restore();
          await ready;
          await sleep(50);
          // Only the first take ever reached Redis: 2 tokens left, nothing replayed.
          const reader = createLimiter({
            store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
            name: 'offline',
            capacity: 3,
            refillPerSecond: 1 / 3600,
          });
          expect((await reader.take('offline-caller', { cost: 0 })).remaining).toBe(2);
        } finally {
          await proxy.stop();
        }
      });

      test('invalid time budget and breaker options name the option', async () => {
        const c = await client();
        expect(() => new RedisStore({ client: c, timeoutMs: 0 })).toThrow(/`timeoutMs` must be a finite number of milliseconds > 0; got 0/);
        expect(() => new RedisStore({ client: c, breaker: { cooldownMs: NaN } })).toThrow(/`breaker.cooldownMs`.*got NaN/);
      });
    });

    describe('denial cache', () => {
      const countCalls = async (pattern: string, run: () => Promise<void>): Promise<number> => (await clientCalls(pattern, run)).length;

      test('a denied caller hammering: one Redis call, the rest answered here with the same decision', async () => {
        const l = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          name: 'dc-hammer',
          capacity: 2,
          refillPerSecond: 1 / 3600,
        });
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

      test('takeNow answers a remembered denial at once, and nothing else', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'dc-now', capacity: 2, refillPerSecond: 1 / 3600 });
        const id = 'dc-now-caller-id';
        // Nothing remembered: the take must go to Redis.
        expect(store.takeNow(id, l.policies, 1)).toBeUndefined();
        expect((await store.take(id, l.policies, 2)).allowed).toBe(true);
        expect(store.takeNow(id, l.policies, 1)).toBeUndefined();
        const denied = await store.take(id, l.policies, 1);
        expect(denied).toMatchObject({ allowed: false, source: 'redis' });
        // Remembered now: the same verdict, from memory, without a promise.
        const now = store.takeNow(id, l.policies, 1);
        expect(now).toMatchObject({ allowed: false, source: 'denial-cache' });
        expect(now!.levels[0]).toBeLessThan(1);
        // A take the remembered levels cannot rule out (cost 0) still goes to Redis.
        expect(store.takeNow(id, l.policies, 0)).toBeUndefined();
        // take is the Redis take: the limiter asks takeNow first, so take does not ask the cache again.
        expect(await store.take(id, l.policies, 1)).toMatchObject({ allowed: false, source: 'redis' });
      });

      test('a remembered denial moves with time: its wait shrinks and its remaining grows as the bucket refills', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'dc-moving', capacity: 8, refillPerSecond: 4 });
        await l.take('dc-m', { cost: 8 }); // empty: 2 s to hold 8 again
        const first = await l.take('dc-m', { cost: 8 });
        expect(first).toMatchObject({ allowed: false, remaining: 0 });
        expect(first.retryAfterMs).toBeGreaterThan(1_500);
        // Within the second a remembered denial is trusted (MEMORY_TRUST_MS): 2.2 tokens back.
        await sleep(550);
        const later: Decision[] = [];
        const calls = await countCalls(`${prefix}dc-moving`, async () => {
          later.push(await l.take('dc-m', { cost: 8 }));
        });
        expect(calls).toBe(0); // answered from memory ...
        // ... with the bucket's level now, not the first denial's: at least 0.55 s of refill since then.
        expect(later[0]!.allowed).toBe(false);
        expect(later[0]!.remaining).toBeGreaterThanOrEqual(2);
        expect(later[0]!.retryAfterMs).toBeLessThanOrEqual(first.retryAfterMs - 549);
        expect(later[0]!.retryAfterMs).toBeGreaterThan(0);
        expect(later[0]!.resetMs).toBeLessThanOrEqual(first.resetMs - 549);
      });

      test('the remembered denial ends as soon as the refill could cover the cost', async () => {
        const l = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          name: 'dc-refill',
          capacity: 1,
          refillPerSecond: 10,
        });
        await l.take('dc-r');
        const denied = await l.take('dc-r');
        expect(denied.allowed).toBe(false);
        await sleep(denied.retryAfterMs + 5);
        expect((await l.take('dc-r')).allowed).toBe(true);
      });

      test('reset forgets the denial; denialCache false asks Redis every time', async () => {
        const c = await client();
        const store = new RedisStore({ ...UNHURRIED, client: c, prefix });
        const l = createLimiter({ store, name: 'dc-reset', capacity: 1, refillPerSecond: 1 / 3600 });
        await l.take('dc-x');
        expect((await l.take('dc-x')).allowed).toBe(false);
        await l.reset('dc-x');
        expect((await l.take('dc-x')).allowed).toBe(true);

        const uncached = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: c, prefix, denialCache: false }),
          name: 'dc-off',
          capacity: 1,
          refillPerSecond: 1 / 3600,
        });
        await uncached.take('dc-y');
        const calls = await countCalls(`${prefix}dc-off`, async () => {
          for (let i = 0; i < 5; i++) await uncached.take('dc-y');
        });
        expect(calls).toBe(5);
        expect(() => new RedisStore({ client: c, denialCache: { maxKeys: 0 } })).toThrow(/`denialCache.maxKeys` must be an integer >= 1.*got 0/);
      });

      test('denials are kept per limiter, and the cache starts over at maxKeys', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix, denialCache: { maxKeys: 2 } });
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
        const a = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          name: 'dc-two',
          capacity: 3,
          refillPerSecond: 1 / 3600,
        });
        const b = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: await client(), prefix }),
          name: 'dc-two',
          capacity: 3,
          refillPerSecond: 1 / 3600,
        });
        await a.take('dc-z', { cost: 2 });
        expect((await a.take('dc-z', { cost: 2 })).allowed).toBe(false); // remembered by a: 1 left
        expect((await b.take('dc-z')).allowed).toBe(true); // b takes the last one
        expect((await a.take('dc-z', { cost: 2 })).allowed).toBe(false);
        expect((await a.take('dc-z')).allowed).toBe(false); // not ruled out locally: asks Redis, 0 left
      });
    });

    describe('adjust, lock-out and clear in Redis', () => {
      /** Script calls this process makes through `store` while `run` runs (the store:call channel). */
      async function storeCalls(store: RedisStore, run: () => Promise<void>): Promise<number> {
        let calls = 0;
        const listener = (message: unknown) => {
          if ((message as StoreCall).store === store.name) calls += (message as StoreCall).takes;
        };
        subscribe(CHANNELS.storeCall, listener);
        try {
          await run();
        } finally {
          unsubscribe(CHANNELS.storeCall, listener);
        }
        return calls;
      }
      const rule = (name: string, after: number, windowMs: number, durationMs: number): LockoutRule => ({ name, after, windowMs, durationMs });

      test('a refund to full deletes the key; a penalty writes PX until the bucket is full again', async () => {
        const reader = pool.client();
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'adjust-px', capacity: 10, refillPerSecond: 2 });
        const id = 'adjust-px-caller';
        const key = `${prefix}adjust-px:{${id}}`;
        const start = Date.now();
        await store.take(id, l.policies, 4);
        // The bucket refills from the take on: each TTL is read at most `since()` after it.
        const since = (): number => Date.now() - start + 1;
        expect(await reader.pttl(key)).toBeGreaterThanOrEqual(2_000 - since());
        await store.adjust(id, l.policies, -2); // 6 missing at the take: 3 s to full from then
        expect(await reader.pttl(key)).toBeGreaterThanOrEqual(3_000 - since());
        expect(await reader.pttl(key)).toBeLessThanOrEqual(3_000);
        await store.adjust(id, l.policies, 6);
        expect(await reader.exists(key)).toBe(0);
        await store.adjust(id, l.policies, 1); // a full bucket stays no key
        expect(await reader.exists(key)).toBe(0);
      });

      test('a refund is exact: it gives back what the take took, to the microsecond', async () => {
        const reader = pool.client();
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'adjust-exact', capacity: 10, refillPerSecond: 1 / 3600 });
        const id = 'adjust-exact-caller';
        const key = `${prefix}adjust-exact:{${id}}`;
        await store.take(id, l.policies, 3);
        const before = Number(await reader.get(key));
        await store.take(id, l.policies, 0.7);
        await store.adjust(id, l.policies, 0.7);
        expect(Number(await reader.get(key))).toBe(before);
      });

      test('lock and denials keys: <prefix>"lock":<rule>:{<id>}, the caller\'s hash tag, expiring with the lock and the window', async () => {
        const reader = pool.client();
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'lock-keys', capacity: 1, refillPerSecond: 1 / 3600 });
        const r = rule('lock-keys|rule', 2, 30_000, 5_000);
        const id = 'lock-keys-caller';
        await store.take(id, l.policies, 1, r);
        const start = Date.now();
        await store.take(id, l.policies, 1, r);
        // Each TTL below is read at most `since()` after the key was written.
        const since = (): number => Date.now() - start + 1;
        expect((await reader.lrange(`${prefix}"denials":lock-keys|rule:{${id}}`, 0, -1)).map(Number)).toHaveLength(1);
        expect(await reader.pttl(`${prefix}"denials":lock-keys|rule:{${id}}`)).toBeGreaterThanOrEqual(30_000 - since());
        const lockStart = Date.now();
        const locked = await store.take(id, l.policies, 1, r);
        expect(locked.lockedMs).toBeGreaterThanOrEqual(5_000 - (Date.now() - lockStart) - 1);
        expect((await pool.keys(`${prefix}"*`)).filter((k) => k.includes(id))).toEqual([`${prefix}"lock":lock-keys|rule:{${id}}`]);
        expect(await reader.pttl(`${prefix}"lock":lock-keys|rule:{${id}}`)).toBeGreaterThanOrEqual(5_000 - (Date.now() - lockStart) - 1);
        expect(await reader.pttl(`${prefix}"lock":lock-keys|rule:{${id}}`)).toBeLessThanOrEqual(5_000);
        // The bucket is untouched by the denials and the lock.
        expect(await reader.pttl(`${prefix}lock-keys:{${id}}`)).toBeGreaterThan(3_590_000);
        await store.unlock(id, r);
        expect((await pool.keys(`${prefix}"*`)).filter((k) => k.includes(id))).toEqual([]);
      });

      test('a lock is answered from memory until it ends: no call to Redis, source lockout, the time left counting down', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'lock-memory', capacity: 1, refillPerSecond: 1 / 3600 });
        const r = rule('lock-memory', 2, 60_000, 1500);
        const id = 'lock-memory-caller';
        const take = async (cost = 1) => store.takeNow(id, l.policies, cost, r) ?? store.take(id, l.policies, cost, r);
        // Until locked, each denial goes to Redis to be counted (the denial cache is not used).
        const before = await storeCalls(store, async () => {
          expect((await take()).allowed).toBe(true);
          expect((await take()).lockedMs).toBeUndefined();
          expect(store.takeNow(id, l.policies, 1, r)).toBeUndefined();
          expect((await take()).lockedMs).toBeGreaterThan(1000);
        });
        expect(before).toBe(3);
        const answers: { source?: string; lockedMs?: number }[] = [];
        const during = await storeCalls(store, async () => {
          for (let i = 0; i < 50; i++) answers.push((await take(0))!);
          await sleep(100);
          answers.push((await take(0))!);
        });
        expect(during).toBe(0);
        expect(answers.every((a) => a.source === 'lockout' && a.lockedMs! > 0)).toBe(true);
        expect(answers[50]!.lockedMs).toBeLessThanOrEqual(answers[0]!.lockedMs! - 90);
        await sleep(answers[50]!.lockedMs! + 10);
        expect(store.takeNow(id, l.policies, 0, r)).toBeUndefined(); // ended here: Redis decides again
        // This process dates the lock's end from before it asked, so Redis may still hold the lock
        // for as long as that call took: then it answers the time left, which is short.
        let after = await take(0);
        if (!after.allowed) {
          expect(after.source).toBe('redis');
          expect(after.lockedMs).toBeLessThan(300);
          await sleep(after.lockedMs! + 5);
          after = await take(0);
        }
        expect(after).toMatchObject({ allowed: true, source: 'redis' });
      });

      test('denialCache: false remembers no lock either: every locked take asks Redis, which still denies it', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix, denialCache: false });
        const l = createLimiter({ store, name: 'lock-nocache', capacity: 1, refillPerSecond: 1 / 3600 });
        const r = rule('lock-nocache', 1, 60_000, 60_000);
        await store.take('lnc', l.policies, 2, r);
        expect(store.takeNow('lnc', l.policies, 1, r)).toBeUndefined();
        expect(await store.take('lnc', l.policies, 0, r)).toMatchObject({ allowed: false, source: 'redis' });
        await store.unlock('lnc', r);
      });

      test('unlock through one store lifts the lock in Redis; another store that remembers it keeps it until it ends', async () => {
        const a = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const b = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store: a, name: 'lock-two', capacity: 1, refillPerSecond: 1 / 3600 });
        const r = rule('lock-two', 1, 60_000, 500);
        await a.take('lt', l.policies, 2, r);
        expect((await b.take('lt', l.policies, 0, r)).lockedMs).toBeGreaterThan(0);
        expect(b.takeNow('lt', l.policies, 0, r)?.source).toBe('lockout');
        await a.unlock('lt', r);
        expect(a.takeNow('lt', l.policies, 0, r)).toBeUndefined();
        expect(await a.take('lt', l.policies, 0, r)).toMatchObject({ allowed: true });
        expect(b.takeNow('lt', l.policies, 0, r)?.source).toBe('lockout');
      });

      test('adjusts, takes and lockout takes of one turn go in one script call', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'lock-batch', capacity: 2, refillPerSecond: 1 / 3600 });
        const r = rule('lock-batch', 1, 60_000, 60_000);
        await store.take('lb', l.policies, 2);
        const calls = await storeCalls(store, async () => {
          const [denied, refund, allowed, locked, plain] = await Promise.all([
            store.take('lb', l.policies, 1, r), // denied: locks
            store.adjust('lb', l.policies, 1),
            store.take('lb', l.policies, 1), // the refund's token
            store.take('lb', l.policies, 0, r), // locked
            store.take('lb-other', l.policies, 1, r),
          ]);
          expect(denied.lockedMs).toBeGreaterThan(59_000);
          expect(refund.levels[0]).toBeCloseTo(1, 3);
          expect(allowed.allowed).toBe(true);
          expect(locked).toMatchObject({ allowed: false });
          expect(locked.lockedMs).toBeGreaterThan(59_000);
          expect(plain).toMatchObject({ allowed: true });
        });
        expect(calls).toBe(5); // the takes the calls carried
        await store.unlock('lb', r);
      });

      test('above 1000 tokens/s the TAT is kept to the nanosecond: no rounding to whole microseconds per take', async () => {
        const reader = pool.client();
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const l = createLimiter({ store, name: 'ns-rate', capacity: 1_000_000, refillPerSecond: 300_000 }); // 3334 ns a token
        const key = `${prefix}ns-rate:{ns-caller}`;
        await store.take('ns-caller', l.policies, 900_000.5); // ceil(900000.5 x 3334 ns) = 3000601667 ns: 3 s to full
        expect(await reader.get(key)).toMatch(/^\d+\.667$/);
        expect(await reader.pttl(key)).toBeGreaterThan(2_000);
        expect(await reader.pttl(key)).toBeLessThanOrEqual(3_001);
        await store.take('ns-caller', l.policies, 1); // + 3334 ns: whole microseconds of time passed meanwhile
        expect(await reader.get(key)).toMatch(/^\d+\.001$/);
        // 30 takes of one token move the TAT by 100.02 us, not by 30 x 4 us = 120 us.
        const before = await reader.get(key);
        const results = await Promise.all(Array.from({ length: 30 }, () => store.take('ns-caller', l.policies, 1)));
        expect(results.every((r) => r.allowed)).toBe(true);
        const after = await reader.get(key);
        const nanos = (v: string | null) => BigInt(v!.split('.')[0]!) * 1000n + BigInt(v!.split('.')[1] ?? 0);
        // The TAT moved by exactly 30 x 3334 ns (time passing does not move it).
        expect(nanos(after) - nanos(before)).toBe(BigInt(30 * 3334));
      });

      test('a key of another type (WRONGTYPE) fails its own take alone: the others of the batch are decided, the circuit stays closed', async () => {
        const reader = pool.client();
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const statuses: string[] = [];
        store.subscribe((e) => statuses.push(e.status));
        const errors: string[] = [];
        const listener = (message: unknown) => void errors.push((message as { code: string }).code);
        subscribe(CHANNELS.storeError, listener);
        const l = createLimiter({ store, name: 'wrongtype', capacity: 100, refillPerSecond: 1 / 3600 });
        const r = rule('wrongtype', 1, 60_000, 60_000);
        await reader.lpush(`${prefix}wrongtype:{wt-bucket}`, 'not a bucket');
        await reader.set(`${prefix}"lock":wrongtype:{wt-lock}`, 'not a lock end'); // read as no lock
        await reader.set(`${prefix}"denials":wrongtype:{wt-denials}`, 'not a list');
        try {
          for (let round = 0; round < 5; round++) {
            const settled = await Promise.allSettled([
              store.take('wt-bucket', l.policies, 1),
              store.adjust('wt-bucket', l.policies, 1),
              ...Array.from({ length: 10 }, (_, i) => store.take(`wt-good-${i}`, l.policies, 1)),
              store.take('wt-lock', l.policies, 1, r),
              store.take('wt-denials', l.policies, 1, r), // allowed: nothing to count
              store.take('wt-denials', l.policies, 500, r), // denied: the count fails
            ]);
            const [bucket, adjust, ...rest] = settled;
            const wrongtype = { code: 'TB_ERR_STORE_WRONGTYPE', message: expect.stringContaining(`"${prefix}wrongtype:{wt-bucket}"`) };
            expect(bucket).toMatchObject({ status: 'rejected', reason: wrongtype });
            expect(adjust).toMatchObject({ status: 'rejected', reason: wrongtype });
            const [lock, allowed, denied] = rest.splice(10);
            expect(rest.every((s) => s.status === 'fulfilled' && s.value.allowed)).toBe(true);
            expect(lock).toMatchObject({ status: 'fulfilled', value: { allowed: true } });
            expect(allowed).toMatchObject({ status: 'fulfilled', value: { allowed: true } });
            expect(denied).toMatchObject({
              status: 'rejected',
              reason: { code: 'TB_ERR_STORE_WRONGTYPE', message: expect.stringContaining(`"${prefix}\\"denials\\":wrongtype:{wt-denials}"`) },
            });
          }
          // Sent on its own (batch: false), the same.
          const single = new RedisStore({ ...UNHURRIED, client: await client(), prefix, batch: false });
          await expect(single.take('wt-bucket', l.policies, 1)).rejects.toMatchObject({ code: 'TB_ERR_STORE_WRONGTYPE' });
          expect((await single.take('wt-good-0', l.policies, 1)).allowed).toBe(true);
        } finally {
          unsubscribe(CHANNELS.storeError, listener);
        }
        expect(statuses).toEqual([]);
        expect(errors).toEqual(Array.from({ length: 16 }, () => 'TB_ERR_STORE_WRONGTYPE'));
        expect(await reader.type(`${prefix}wrongtype:{wt-bucket}`)).toBe('list'); // nothing written over it
        expect((await store.take('wt-good-0', l.policies, 0)).levels[0]).toBeCloseTo(94, 3);
      });

      test('clear deletes exactly the keys under the prefix, whatever glob characters it holds', async () => {
        const c = await client();
        const tricky = `${prefix}glob*[x]?\\:`;
        const near = `${prefix}glob-x-:`; // what the prefix would match, read as a pattern
        const store = new RedisStore({ ...UNHURRIED, client: c, prefix: tricky });
        const neighbour = new RedisStore({ ...UNHURRIED, client: c, prefix: near });
        const l = createLimiter({
          store,
          policies: [
            { name: 'a', capacity: 2, refillPerSecond: 1 / 3600 },
            { name: 'b', capacity: 2, refillPerSecond: 1 / 3600 },
          ],
        });
        const r = rule('clear', 1, 60_000, 60_000);
        for (const id of ['c1', 'c2', 'c3']) await store.take(id, l.policies, 1);
        await store.take('c1', l.policies, 5, r); // a lock
        await store.take('c2', l.policies, 5, rule('clear-2', 2, 60_000, 60_000)); // a denial counted
        await neighbour.take('c1', l.policies, 1);
        expect(await store.clear()).toBe(8);
        expect(await store.clear()).toBe(0);
        expect(store.takeNow('c1', l.policies, 0, r)).toBeUndefined();
        expect((await store.take('c1', l.policies, 0, r)).levels).toEqual([2, 2]);
        expect((await neighbour.take('c1', l.policies, 0)).levels.map(Math.floor)).toEqual([1, 1]);
        expect(await neighbour.clear()).toBe(2);
      });
    });

    describe('batching', () => {
      test('the takes of one tick go in one script call, each all-or-nothing and in order', async () => {
        const store = new RedisStore({ ...UNHURRIED, client: await client(), prefix });
        const one = createLimiter({ store, name: 'batch-one', capacity: 2, refillPerSecond: 1 / 3600 });
        const two = createLimiter({
          store,
          policies: [
            { name: 'batch-a', capacity: 5, refillPerSecond: 1 / 3600 },
            { name: 'batch-b', capacity: 1, refillPerSecond: 1 / 3600 },
          ],
        });
        let results: Decision[] = [];
        const calls = await clientCalls(`${prefix}batch-`, async () => {
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

      test('batch: false sends each take on its own', async () => {
        const c = await client();
        const l = createLimiter({
          store: new RedisStore({ ...UNHURRIED, client: c, prefix, batch: false }),
          name: 'nobatch',
          capacity: 10,
          refillPerSecond: 1,
        });
        const calls = await clientCalls(`${prefix}nobatch`, async () => {
          await Promise.all([l.take('a'), l.take('b'), l.take('c')]);
        });
        expect(calls).toHaveLength(3);
        expect(() => new RedisStore({ client: c, batch: 'yes' as never })).toThrow(/`batch` must be true or false; got "yes"/);
      });

      test('more takes than one call may carry are split into several calls, none lost', async () => {
        const l = createLimiter({
          store: new RedisStore({ client: await client(), prefix, ...UNHURRIED }),
          name: 'bigbatch',
          capacity: 1000,
          refillPerSecond: 1 / 3600,
        });
        let results: Decision[] = [];
        const calls = await clientCalls(`${prefix}bigbatch`, async () => {
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
  });
}
