// Redis faults under a live app, the same on every adapter: a killed server (SIGKILL) and its
// return, a server that answers slowly, and SCRIPT FLUSH mid-run. All assertions live here.
// Requests go through supertest on one keep-alive agent, so a burst of requests reuses a few
// connections to the one listening server.
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Redis from 'ioredis';
import { RedisStore, type DecisionEvent, type StoreStatusChange } from '@tokenbucket/core';
import { RedisProcess } from '../support/redis-process';
import { send } from './client';
import type { AdapterHarness, RunningApp } from './harness';
import { startApp } from './running-app';

/** The store's time budget in these tests, and the margin allowed on top on a busy machine. */
const BUDGET_MS = 150;
const MARGIN_MS = 250;

interface Timed {
  status: number;
  ms: number;
  retryAfter: string | undefined;
  ratelimit: string | undefined;
}

async function timedGet(app: RunningApp, agent: Agent, path: string, key: string): Promise<Timed> {
  const start = performance.now();
  const res = await send(app, path, { 'x-api-key': key }, 'GET', agent);
  return { status: res.status, ms: performance.now() - start, retryAfter: res.headers['retry-after'], ratelimit: res.headers.ratelimit };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` and gives, beside its result, the longest this process's event loop was held up
 * meanwhile (ms): on a loaded machine the app and the test share a starved process, and an answer
 * is late by that much whatever the store does. It is added to the margin of a budget check.
 */
async function withLoopDelay<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    const result = await fn();
    return [result, delay.max / 1e6];
  } finally {
    delay.disable();
  }
}

export function runFaultContract(harness: AdapterHarness): void {
  describe(`Redis faults: ${harness.name}`, () => {
    let server: RedisProcess;
    let client: Redis;
    let admin: Redis;
    let app: RunningApp;
    const agent = new Agent({ keepAlive: true });
    const prefix = `tbfault:${harness.name}:${randomBytes(3).toString('hex')}:`;
    const status: StoreStatusChange['status'][] = [];
    const sources: DecisionEvent['source'][] = [];
    const callerIds: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);

    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      server = await RedisProcess.start();
      // A client the way many apps create one: offline queue on, many retries per command.
      client = new Redis(server.url, { maxRetriesPerRequest: 20 });
      client.on('error', () => {}); // the app's own logging would go here
      admin = new Redis(server.url, { maxRetriesPerRequest: 20 });
      admin.on('error', () => {});
      const store = new RedisStore({ client, prefix, timeoutMs: BUDGET_MS, breaker: { failureThreshold: 3, cooldownMs: 300 } });
      const hooks = { onStoreStatus: (e: StoreStatusChange) => void status.push(e.status) };
      const common = { store, refillPerSecond: 1 / 3600, ...hooks };
      app = await startApp(harness, {
        routes: [
          {
            method: 'GET',
            path: '/fallback',
            limit: {
              ...common,
              capacity: 1000,
              onDecision: (e: DecisionEvent) => {
                sources.push(e.source);
                callerIds.push(e.callerId);
              },
            },
          },
          { method: 'GET', path: '/tight', limit: { ...common, capacity: 3 } },
          { method: 'GET', path: '/allow', limit: { ...common, capacity: 1000, storeFailure: 'allow' } },
          { method: 'GET', path: '/deny', limit: { ...common, capacity: 1000, storeFailure: 'deny' } },
        ],
      });
    });

    afterAll(async () => {
      await app?.close();
      agent.destroy();
      client?.disconnect();
      admin?.disconnect();
      await server?.stop();
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
    });

    test('SIGKILL: every answer within the budget, no 5xx but the 503 of deny; back on Redis by itself', async () => {
      // On Redis before the kill (a first request can miss the 150 ms budget on a loaded machine
      // while the new connection warms up: then the next ones are asked).
      for (let n = 0; n < 20 && sources.at(-1) !== 'redis'; n++) {
        if (n > 0) await sleep(100);
        expect((await timedGet(app, agent, '/fallback', `before-${n}`)).status).toBe(200);
      }
      expect(sources.at(-1)).toBe('redis');
      status.length = 0;

      await server.kill();
      const during: Record<string, Timed[]> = { fallback: [], tight: [], allow: [], deny: [] };
      const [, stalled] = await withLoopDelay(async () => {
        const until = performance.now() + 1500;
        let i = 0;
        while (performance.now() < until) {
          i++;
          during.fallback!.push(await timedGet(app, agent, '/fallback', `down-${i}`));
          during.tight!.push(await timedGet(app, agent, '/tight', 'one-caller'));
          during.allow!.push(await timedGet(app, agent, '/allow', `down-${i}`));
          during.deny!.push(await timedGet(app, agent, '/deny', `down-${i}`));
        }
      });
      const all = Object.values(during).flat();
      expect(Math.max(...all.map((t) => t.ms))).toBeLessThan(BUDGET_MS + MARGIN_MS + stalled);
      expect(during.fallback!.every((t) => t.status === 200)).toBe(true);
      expect(during.allow!.every((t) => t.status === 200 && t.ratelimit === undefined)).toBe(true);
      expect(during.deny!.every((t) => t.status === 503 && t.retryAfter === '1')).toBe(true);
      // The fallback still limits: the tight route's caller gets its 3, then 429s.
      expect(during.tight!.slice(0, 4).map((t) => t.status)).toEqual([200, 200, 200, 429]);
      expect(during.tight!.every((t) => t.status === 200 || t.status === 429)).toBe(true);
      expect(status).toEqual(['down']); // once, not once per request

      await server.restart();
      const back = performance.now();
      let recovered = false;
      for (let n = 0; n < 100 && !recovered; n++) {
        const caller = `after-${n}`;
        sources.length = 0;
        callerIds.length = 0;
        expect((await timedGet(app, agent, '/fallback', caller)).status).toBe(200);
        // Recovered for real: this new caller's own bucket is in the restarted (empty) server.
        // (Commands ioredis queued during the outage and replays now would write other keys.)
        recovered = sources[0] === 'redis' && (await admin.exists(`${prefix}GET /fallback:{${callerIds[0]}}`)) === 1;
        if (!recovered) await sleep(100);
      }
      expect(recovered).toBe(true);
      expect(performance.now() - back).toBeLessThan(10_000);
      expect(status).toEqual(['down', 'up']);
      expect(unhandled).toEqual([]);
    });

    test('a server that answers slowly (DEBUG SLEEP): answers within the budget, then back', async () => {
      status.length = 0;
      const sleeping = admin.call('DEBUG', 'SLEEP', '1.5').catch(() => undefined); // blocks the server
      await sleep(50);
      const answers: Timed[] = [];
      const [, stalled] = await withLoopDelay(async () => {
        const until = performance.now() + 1200;
        let i = 0;
        while (performance.now() < until) answers.push(await timedGet(app, agent, '/fallback', `slow-${i++}`));
      });
      expect(answers.every((t) => t.status === 200)).toBe(true);
      expect(Math.max(...answers.map((t) => t.ms))).toBeLessThan(BUDGET_MS + MARGIN_MS + stalled);
      await sleeping;
      let up = false;
      for (let n = 0; n < 50 && !up; n++) {
        await timedGet(app, agent, '/fallback', `after-slow-${n}`);
        up = status.includes('up');
        if (!up) await sleep(100);
      }
      expect(status).toEqual(['down', 'up']);
      expect(unhandled).toEqual([]);
    });

    test('SCRIPT FLUSH mid-run: no error, and the count stays exact', async () => {
      sources.length = 0;
      const statuses: number[] = [];
      for (let n = 0; n < 6; n++) {
        if (n % 2 === 0) await admin.script('FLUSH');
        statuses.push((await timedGet(app, agent, '/tight', 'flush-caller')).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
      expect(unhandled).toEqual([]);
    });
  });
}
