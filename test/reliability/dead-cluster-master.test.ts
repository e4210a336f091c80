// One master of a Redis Cluster dies (SIGKILL; `cluster-require-full-coverage no`, so the other
// masters keep serving their slots) under a live app: only the callers whose slots it served go
// to storeFailure; the others are still decided by Redis. It comes back, and so do they.
// An unhandled rejection anywhere fails the test (Jest reports it).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Cluster } from 'ioredis';
import { CHANNELS, RedisStore, type DecisionEvent, type StoreCallError, type StoreStatusChange } from '@tokenbucket/core';
import { ClusterProcesses } from '../support/cluster-process';
import { runLoad, startExpressApp } from '../support/express-app';
import { randomPrefix } from '../support/redis';
import { masterOfSlot, slotOfCaller } from '../support/slot';
import { report } from '../support/report';
import { captureTokenBucketWarnings } from '../support/warnings';

interface Seen {
  at: number;
  event: DecisionEvent;
}

describe('a dead Cluster master', () => {
  let cluster: ClusterProcesses;

  beforeAll(async () => {
    cluster = await ClusterProcesses.start(3);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  test.each([
    ['batched takes (the default)', true, 0],
    ['batch: false', false, 1],
  ])(
    '%s: callers on healthy masters stay on Redis; the dead one is reported down, then up',
    async (_label, batch, victimIndex) => {
      const slots = await cluster.slots();
      const victim = [...slots.keys()].sort()[victimIndex]!;
      const client = new Cluster(cluster.seeds);
      client.on('error', () => {}); // the app's own logging would go here
      await new Promise((resolve) => client.once('ready', resolve));
      const decisions: Seen[] = [];
      const status: StoreStatusChange[] = [];
      const storeErrors: StoreCallError[] = [];
      const onCallError = (m: unknown) => void storeErrors.push(m as StoreCallError);
      subscribe(CHANNELS.storeError, onCallError);
      // The connection to the dead master may be found dead (a warning naming it): taken here, not printed.
      const { warnings, restore } = captureTokenBucketWarnings();
      const store = new RedisStore({ client, prefix: randomPrefix('deadmaster'), batch });
      const app = await startExpressApp({
        store,
        capacity: 1_000_000,
        refillPerSecond: 1000,
        onDecision: (event) => void decisions.push({ at: performance.now(), event }),
        onStoreStatus: (e) => void status.push(e),
      });
      try {
        const keys = Array.from({ length: 300 }, (_, i) => `caller-${i}`);
        await runLoad({ url: app.url, keys, concurrency: 16, durationMs: 1000 });
        expect(decisions.length).toBeGreaterThan(0);
        expect(decisions.every((d) => d.event.source === 'redis')).toBe(true);

        await cluster.node(victim).kill();
        const killedAt = performance.now();
        await runLoad({ url: app.url, keys, concurrency: 16, durationMs: 4000 });
        await cluster.node(victim).restart();
        const restartedAt = performance.now();
        const up = () => status.some((e) => e.status === 'up' && e.node === victim);
        await runLoad({ url: app.url, keys, concurrency: 16, durationMs: 20_000, stop: up });
        const upAt = performance.now();
        await runLoad({ url: app.url, keys, concurrency: 16, durationMs: 500 });

        const onVictim = (d: Seen) => masterOfSlot(slots, slotOfCaller(d.event.callerId)) === victim;
        const whileDead = decisions.filter((d) => d.at > killedAt && d.at < restartedAt);
        const healthy = whileDead.filter((d) => !onVictim(d));
        const dead = whileDead.filter(onVictim);
        const healthyByRedis = healthy.filter((d) => d.event.source === 'redis').length;
        const deadByFallback = dead.filter((d) => d.event.source === 'fallback').length;
        const afterUp = decisions.filter((d) => d.at > upAt && onVictim(d));
        report(
          `dead master ${victim} (${batch ? 'batched' : 'batch: false'}), ${Math.round(restartedAt - killedAt)} ms down: ` +
            `callers on healthy masters decided by Redis ${healthyByRedis} of ${healthy.length} ` +
            `(${((100 * healthyByRedis) / Math.max(1, healthy.length)).toFixed(1)}%); callers on the dead master by the fallback ` +
            `${deadByFallback} of ${dead.length}; back up ${Math.round(upAt - restartedAt)} ms after the restart; ` +
            `status ${JSON.stringify(status.map((e) => `${e.status} ${e.node}`))}; store errors by node ` +
            `${JSON.stringify(Object.fromEntries(countBy(storeErrors.map((m) => String(m.node)))))}; warnings ${JSON.stringify(warnings.map((w) => w.code))}`,
        );

        expect(healthy.length).toBeGreaterThan(100);
        expect(healthyByRedis / healthy.length).toBeGreaterThanOrEqual(0.95);
        expect(dead.length).toBeGreaterThan(30);
        // Every caller on the dead master was answered by storeFailure ('fallback'), never by a stale Redis.
        expect(deadByFallback).toBe(dead.length);
        // Reported once down and once up, both naming the dead master; no other master went down.
        expect(status.map((e) => [e.status, e.node])).toEqual([
          ['down', victim],
          ['up', victim],
        ]);
        expect(storeErrors.length).toBeGreaterThan(0);
        expect(storeErrors.every((m) => m.node === victim)).toBe(true);
        // After it came back, its callers are decided by Redis again.
        expect(afterUp.length).toBeGreaterThan(0);
        expect(afterUp.every((d) => d.event.source === 'redis')).toBe(true);
        expect(app.errors).toEqual([]);
        // A warning, if any, is about the dead master's connection: none about a healthy one.
        expect(warnings.filter((w) => !w.message.includes(victim))).toEqual([]);
      } finally {
        restore();
        unsubscribe(CHANNELS.storeError, onCallError);
        await app.close();
        client.disconnect();
        if (!cluster.node(victim).running) await cluster.node(victim).restart();
        await cluster.waitUntilOk();
      }
    },
    90_000,
  );
});

function countBy(values: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}
