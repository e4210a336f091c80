// Redis restarts and loads its data (about 5 s here: key-load-delay, and connections served every
// KB of the load, as with a large RDB) while an app takes: ioredis sits in
// status `connect` meanwhile, a command sent then would wait in its offline queue and run once
// Redis is ready, debiting tokens for requests answered long before. The store sends nothing
// before the client is ready: after the load, the caller's bucket holds everything but the one
// take made after it.
import { type ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { createLimiter, type Decision, RedisStore } from '@tokenbucket/core';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix, sleep } from '../support/redis';
import { report } from '../support/report';

const CAPACITY = 100;
const KEYS = 20_000;
const LOAD_DELAY_MICROS = 250;

describe('Redis restarting with a dataset to load', () => {
  let server: RedisProcess;
  let loading: ChildProcess | undefined;

  beforeAll(async () => {
    server = await RedisProcess.start();
  });

  afterAll(async () => {
    loading?.kill('SIGKILL');
    await server?.stop();
  });

  test('takes made while Redis loads fail at once and never run later', async () => {
    const setup = new Redis(server.url);
    await setup.call('DEBUG', 'POPULATE', String(KEYS), 'filler', '10');
    await setup.save();
    setup.disconnect();

    const client = new Redis(server.url); // the README's client: defaults (offline queue on, retries forever)
    client.on('error', () => {});
    const statuses = new Set<string>();
    const store = new RedisStore({ client, prefix: randomPrefix('loading'), checkMemoryPolicy: false });
    const limiter = createLimiter({ store, capacity: CAPACITY, refillPerSecond: 1 / 3600 });
    expect((await limiter.take('warm-up')).allowed).toBe(true);

    await server.kill();
    // Until the client notices the loss, a take is sent on the dead socket, and ioredis resends
    // what was in flight after the reconnect (autoResendUnfulfilledCommands): the README's caveat
    // about a take sent before a failure. What this test is about starts once the client knows.
    while ((client.status as string) === 'ready') await sleep(5);
    loading = spawn(
      'redis-server',
      [
        ...['--port', String(server.port), '--bind', '127.0.0.1', '--dir', server.dir, '--save', '', '--appendonly', 'no'],
        ...['--enable-debug-command', 'yes', '--key-load-delay', String(LOAD_DELAY_MICROS), '--loading-process-events-interval-bytes', '1024'],
      ],
      { stdio: 'ignore' },
    );
    // Watch Redis load, on a connection of its own that does not wait for it.
    const watcher = new Redis(server.port, '127.0.0.1', { enableReadyCheck: false, retryStrategy: () => 20, maxRetriesPerRequest: null });
    watcher.on('error', () => {});
    let sawLoading = false;
    let failed = 0;
    let answered = 0;
    const codes = new Map<string, number>();
    const started = performance.now();
    while (performance.now() - started < 20_000) {
      statuses.add(client.status);
      const info = await Promise.race([watcher.info('persistence').catch(() => ''), sleep(200).then(() => '')]);
      if (/loading:1/.test(info)) sawLoading = true;
      if (sawLoading && /loading:0/.test(info) && client.status === 'ready') break;
      try {
        // A take waiting for ready when the load ends is sent then, within its budget, and answered.
        if ((await limiter.take('during-load')).allowed) answered++;
      } catch (err) {
        failed++;
        const code = String((err as { code?: unknown }).code);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      await sleep(20);
    }
    const readyAfter = Math.round(performance.now() - started);
    await sleep(500); // anything the client had queued would have run by now
    // The first take Redis answers (the circuit may still be open for its cool-down).
    let after: Decision | undefined;
    for (let i = 0; after === undefined && i < 60; i++) after = await limiter.take('during-load').catch(() => sleep(50).then(() => undefined));
    if (after === undefined) throw new Error('Redis never answered after the load');
    report(
      `restart with ${KEYS} keys to load: the client went through ${JSON.stringify([...statuses])}, ready after ${readyAfter} ms; ` +
        `${failed} takes failed meanwhile ${JSON.stringify(Object.fromEntries(codes))}, ${answered} answered by Redis as it became ready; the first take after: allowed ${after.allowed}, remaining ${after.remaining} of ${CAPACITY}`,
    );
    watcher.disconnect();
    client.disconnect();

    expect(sawLoading).toBe(true);
    expect(statuses.has('connect')).toBe(true);
    expect(failed).toBeGreaterThan(10);
    // Only the takes Redis answered in time reached it: none of the failed ones ran later.
    expect(answered).toBeLessThanOrEqual(2);
    expect(after.allowed).toBe(true);
    expect(after.remaining).toBe(CAPACITY - 1 - answered);
  }, 60_000);
});
