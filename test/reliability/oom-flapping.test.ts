// Redis reaches maxmemory under noeviction (the policy the README recommends) while three
// instances take under load, with the default storeFailure 'fallback'. Allowed takes fail (OOM)
// while denials, which write nothing, still succeed: the circuit must not flap on them, store_up
// must read 0 while no take can be allowed, the warning says OOM once per store, and a caller
// drained in Redis stays drained in the fallback.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS, type StoreCallError } from '@tokenbucket/core';
import { subscribeMetrics } from '@tokenbucket/core/metrics';
import { drainedBound, drive, useFleet } from '../support/fleet';
import { sleep } from '../support/redis';
import { report } from '../support/report';

const INSTANCES = 3;
const CAPACITY = 10;
const RATE = 2;
const OOM_MS = 6000;

describe('maxmemory reached under noeviction, three instances', () => {
  const own = useFleet({ name: 'oom', instances: INSTANCES, capacity: CAPACITY, refillPerSecond: RATE, args: ['--maxmemory-policy', 'noeviction'] });
  const warnings: { code: unknown; message: string }[] = [];
  const storeErrors: StoreCallError[] = [];
  const storeFailure = (m: unknown) => void storeErrors.push(m as StoreCallError);
  let emitWarning: jest.SpyInstance;

  beforeAll(async () => {
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, options?: unknown) => {
      const o = options as { type?: string; code?: unknown } | undefined;
      if (o?.type === 'TokenBucketWarning') warnings.push({ code: o.code, message: String(warning) });
    });
    subscribe(CHANNELS.storeError, storeFailure);
  });

  afterAll(async () => {
    unsubscribe(CHANNELS.storeError, storeFailure);
    emitWarning?.mockRestore();
  });

  test(`${OOM_MS} ms out of memory: one 'down', one 'up', store_up 0 meanwhile, one OOM warning per store, the drained caller within the bound`, async () => {
    const { admin, fleet } = own;
    const metrics = subscribeMetrics(100, { storeCall() {} });
    try {
      const [first] = fleet.instances;
      for (let i = 0; i < CAPACITY; i++) await first!.handle('drained');
      const drainedId = fleet.decisions.at(-1)!.event.callerId;
      await drive(fleet, {
        drained: 'drained',
        perTick: 2,
        drainedPerTick: 1,
        tickMs: 10,
        until: (
          (end) => () =>
            performance.now() > end
        )(performance.now() + 500),
      });
      const from = performance.now();
      // Well below what Redis uses: no write fits until the limit is lifted (expiring buckets free
      // too little to get under it).
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      const oomAt = performance.now();
      let upWhileOom: number[] = [];
      let freedAt = Infinity;
      const phases = (async () => {
        await sleep(OOM_MS - 1000);
        upWhileOom = [];
        metrics.states.report((up) => upWhileOom.push(up));
        await sleep(1000);
        await admin.config('SET', 'maxmemory', '0');
        freedAt = performance.now();
        await sleep(3000);
      })();
      let done = false;
      void phases.then(() => {
        done = true;
      });
      await drive(fleet, { drained: 'drained', perTick: 2, drainedPerTick: 2, tickMs: 10, until: () => done });
      const to = performance.now();
      const upAfter: number[] = [];
      metrics.states.report((up) => upAfter.push(up));

      const statuses = fleet.instances.map((i) => i.statuses.map((s) => s.status));
      const onStoreErrors = fleet.instances.map((i) => i.errors.length);
      const codes = new Map<string, number>();
      for (const e of storeErrors) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      const drained = drainedBound(fleet.decisions, drainedId, { from, to, refillPerSecond: RATE, instances: INSTANCES, budgetMs: 200 });
      const bySource = new Map<string, number>();
      for (const d of fleet.decisions) if (d.at >= oomAt && d.at < freedAt) bySource.set(d.event.source, (bySource.get(d.event.source) ?? 0) + 1);
      report(
        `OOM for ${Math.round(freedAt - oomAt)} ms, ${INSTANCES} instances: status changes ${JSON.stringify(statuses)}; onStoreError per instance ${JSON.stringify(onStoreErrors)}; ` +
          `store error codes ${JSON.stringify(Object.fromEntries(codes))}; decisions during OOM by source ${JSON.stringify(Object.fromEntries(bySource))}; ` +
          `store_up during OOM ${JSON.stringify(upWhileOom)}, after ${JSON.stringify(upAfter)}; warnings ${JSON.stringify(warnings.map((w) => w.code))}; ` +
          `drained caller admitted ${drained.admitted} against a bound of ${drained.bound.toFixed(1)} (${drained.fallbackAllowed} by the fallback in ${drained.episodes} episodes)`,
      );

      expect(statuses).toEqual(Array.from({ length: INSTANCES }, () => ['down', 'up']));
      expect(upWhileOom).toEqual([0]);
      expect(upAfter).toEqual([1]);
      expect([...codes.keys()]).toEqual(['OOM']);
      expect(warnings.map((w) => w.code)).toEqual(Array(INSTANCES).fill('TB_WARN_REDIS_OOM'));
      expect(warnings[0]!.message).toMatch(/out of memory .*maxmemory.*noeviction/);
      expect(Math.max(...onStoreErrors)).toBeLessThan(50);
      expect(drained.admitted).toBeLessThanOrEqual(drained.bound);
    } finally {
      metrics.close();
    }
  }, 60_000);
});
