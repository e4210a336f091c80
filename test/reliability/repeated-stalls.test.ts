// Redis stalls for 250 ms (DEBUG SLEEP 0.25) under steady load from three instances, ten times,
// 1.5 s apart. One stall is one failure, not one per call in flight: the circuit stays closed.
// A caller already drained in Redis stays drained in the fallback (it starts from what Redis last
// said, not from a fresh bucket), so its admissions stay within the README's bound.
import { drainedBound, drive, useFleet } from '../support/fleet';
import { sleep } from '../support/redis';
import { report } from '../support/report';

const INSTANCES = 3;
const CAPACITY = 10;
const RATE = 2;
const STALLS = 10;
const STALL_S = 0.25;
const APART_MS = 1500;

describe('repeated short stalls under load, three instances', () => {
  const own = useFleet({ name: 'stalls', instances: INSTANCES, capacity: CAPACITY, refillPerSecond: RATE });

  test(`${STALLS} stalls of ${STALL_S * 1000} ms: the circuit stays closed, and a drained caller stays within the bound`, async () => {
    const { admin, fleet } = own;
    const [first] = fleet.instances;
    for (let i = 0; i < CAPACITY; i++) await first!.handle('drained');
    const drainedId = fleet.decisions.at(-1)!.event.callerId;
    const from = performance.now();
    let stalls = 0;
    const staller = (async () => {
      for (let i = 0; i < STALLS; i++) {
        await sleep(APART_MS - STALL_S * 1000);
        await admin.call('DEBUG', 'SLEEP', String(STALL_S));
        stalls++;
      }
      await sleep(500);
    })();
    let done = false;
    void staller.then(() => {
      done = true;
    });
    const requests = await drive(fleet, { drained: 'drained', perTick: 5, drainedPerTick: 2, tickMs: 10, until: () => done });
    const to = performance.now();

    const drained = drainedBound(fleet.decisions, drainedId, { from, to, refillPerSecond: RATE, instances: INSTANCES, budgetMs: 200 });
    const bySource = new Map<string, number>();
    for (const d of fleet.decisions) if (d.at >= from) bySource.set(d.event.source, (bySource.get(d.event.source) ?? 0) + 1);
    const statuses = fleet.instances.map((i) => i.statuses.map((s) => s.status));
    const onStoreErrors = fleet.instances.map((i) => i.errors.length);
    const oldBound = RATE * ((to - from) / 1000) + 1 + INSTANCES * STALLS * (CAPACITY + RATE * STALL_S);
    report(
      `repeated stalls: ${stalls} stalls of ${STALL_S * 1000} ms over ${Math.round(to - from)} ms, ${INSTANCES} instances, ${requests} background requests; ` +
        `decisions by source ${JSON.stringify(Object.fromEntries(bySource))}; onStoreError per instance ${JSON.stringify(onStoreErrors)}; status changes ${JSON.stringify(statuses)}; ` +
        `drained caller admitted ${drained.admitted} against a bound of ${drained.bound.toFixed(1)} (${drained.episodes} fallback episodes, ${drained.fallbackAllowed} admitted by the fallback; ` +
        `a fresh fallback bucket per stall would allow up to ${oldBound.toFixed(1)})`,
    );

    expect(stalls).toBe(STALLS);
    // The stalls were felt: calls timed out and their takes went to the fallback.
    expect(bySource.get('fallback') ?? 0).toBeGreaterThan(0);
    // One stall is one failure: no instance's circuit opened.
    expect(statuses).toEqual(Array.from({ length: INSTANCES }, () => []));
    expect(drained.admitted).toBeLessThanOrEqual(drained.bound);
  }, 60_000);
});
