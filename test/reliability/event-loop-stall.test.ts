// An app that blocks its event loop (a large JSON.stringify, a sync crypto call) while takes are
// in flight to a healthy Redis: the replies wait in the socket, and none of them is a time-out.
// An unhandled rejection anywhere fails the test (Jest reports it).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import Redis from 'ioredis';
import {
  CHANNELS,
  createLimiter,
  RedisStore,
  type Decision,
  type DecisionEvent,
  type StoreCall,
  type StoreFailureEvent,
  type StoreStatusChange,
} from '@tokenbucket/core';
import { runLoad, startExpressApp, type ExpressApp } from '../support/express-app';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix, sleep } from '../support/redis';
import { report } from '../support/report';

const BUDGET_MS = 200; // the store's default timeoutMs
const BLOCK_MS = 400;
const BLOCKS = 8;

describe('event-loop stall on a healthy Redis', () => {
  let server: RedisProcess;
  let client: Redis;
  let app: ExpressApp;
  const decisions: DecisionEvent[] = [];
  const errors: StoreFailureEvent[] = [];
  const status: StoreStatusChange[] = [];
  const storeErrors: unknown[] = [];
  const calls: StoreCall[] = [];
  /** Takes sent just before each block, so that one is surely in flight during it, and when each was answered. */
  const inFlight: Promise<Decision>[] = [];
  const answeredAt: number[] = [];
  /** When each block ended. */
  const blockEnds: number[] = [];
  const storeFailure = (message: unknown) => storeErrors.push(message);
  const onCall = (message: unknown) => calls.push(message as StoreCall);

  beforeAll(async () => {
    subscribe(CHANNELS.storeError, storeFailure);
    subscribe(CHANNELS.storeCall, onCall);
    server = await RedisProcess.start();
    client = new Redis(server.url);
    const store = new RedisStore({ client, prefix: randomPrefix('stall'), timeoutMs: BUDGET_MS });
    const direct = createLimiter({ store, name: 'direct', capacity: 1_000_000, refillPerSecond: 1000 });
    app = await startExpressApp(
      {
        store,
        capacity: 1_000_000,
        refillPerSecond: 1000,
        onDecision: (e) => void decisions.push(e),
        onStoreError: (e) => void errors.push(e),
        onStoreStatus: (e) => void status.push(e),
      },
      () => {
        const i = inFlight.length;
        inFlight.push(
          direct.take(`in-flight-${i}`).finally(() => {
            answeredAt[i] = performance.now();
          }),
        );
      },
      () => void blockEnds.push(performance.now()),
    );
  });

  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    await server?.stop();
    unsubscribe(CHANNELS.storeError, storeFailure);
    unsubscribe(CHANNELS.storeCall, onCall);
  });

  test(`${BLOCKS} handlers blocking the loop ${BLOCK_MS} ms under load: no onStoreError, no breaker failure, every decision by Redis`, async () => {
    let blocked = 0;
    const blocker = (async () => {
      for (let i = 0; i < BLOCKS; i++) {
        await sleep(150);
        const res = await fetch(`${app.url}/r?block=${BLOCK_MS}`, { headers: { 'x-api-key': 'blocker' } });
        await res.arrayBuffer();
        if (res.status === 200) blocked++;
      }
    })();
    const keys = Array.from({ length: 200 }, (_, i) => `caller-${i}`);
    const load = await runLoad({ url: app.url, keys, concurrency: 16, durationMs: 60_000, stop: () => blocked >= BLOCKS });
    await blocker;

    const direct = await Promise.allSettled(inFlight);
    const directAllowed = direct.filter((r) => r.status === 'fulfilled' && r.value.allowed).length;
    const bySource = new Map<string, number>();
    for (const d of decisions) bySource.set(d.source, (bySource.get(d.source) ?? 0) + 1);
    const late = calls.filter((c) => c.ok && c.durationMs > BUDGET_MS);
    report(
      `event-loop stall: ${blocked} blocks of ${BLOCK_MS} ms, ${load.requests} requests, decisions by source ${JSON.stringify(Object.fromEntries(bySource))}, ` +
        `onStoreError ${errors.length}, store errors ${storeErrors.length}, status changes ${status.length}, ` +
        `calls answered after more than ${BUDGET_MS} ms ${late.length} (longest ${Math.round(Math.max(0, ...late.map((c) => c.durationMs)))} ms); ` +
        `takes in flight during a block allowed ${directAllowed} of ${direct.length}`,
    );

    expect(blocked).toBe(BLOCKS);
    expect(load.failures).toEqual([]);
    expect([...load.statuses.keys()]).toEqual([200]);
    // A take was in flight during each block, its reply held past the budget by the stall: none is a time-out.
    expect(direct.map((r) => (r.status === 'fulfilled' ? r.value.allowed : String(r.reason)))).toEqual(Array(BLOCKS).fill(true));
    // Each of those takes was answered only after its block had ended: it was in flight all along.
    expect(answeredAt.map((at, i) => at >= blockEnds[i]!)).toEqual(Array(BLOCKS).fill(true));
    // So at least one store call per block (the one carrying that take) was answered past the budget.
    expect(late.length).toBeGreaterThanOrEqual(BLOCKS);
    expect(errors).toEqual([]);
    expect(storeErrors).toEqual([]);
    expect(status).toEqual([]);
    expect(decisions.length).toBe(load.requests + BLOCKS);
    expect(Object.fromEntries(bySource)).toEqual({ redis: decisions.length });
  }, 90_000);
});
