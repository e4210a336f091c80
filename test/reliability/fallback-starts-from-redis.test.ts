// The fallback never hands out a fresh bucket: a caller Redis had drained stays drained while
// Redis stalls (DEBUG SLEEP), stall after stall, and a caller never seen starts full, as the
// README says. One instance, so the figures are that instance's alone.
import { drainedBound, useFleet } from '../support/fleet';
import { sleep } from '../support/redis';
import { report } from '../support/report';

const CAPACITY = 20;
const RATE = 1;
const STALLS = 3;

describe('the fallback continues from what Redis last said', () => {
  const own = useFleet({ name: 'seeded', instances: 1, capacity: CAPACITY, refillPerSecond: RATE });

  test(`${STALLS} stalls of 1 s: a drained caller gets only the refill, a new caller its full bucket`, async () => {
    const { admin, fleet } = own;
    const [app] = fleet.instances;
    for (let i = 0; i < CAPACITY; i++) await app!.handle('drained');
    const drainedId = fleet.decisions.at(-1)!.event.callerId;
    const from = performance.now();
    const newcomers: number[] = [];
    for (let s = 0; s < STALLS; s++) {
      const stall = admin.call('DEBUG', 'SLEEP', '1');
      await sleep(250); // past the budget: the takes now fail, and go to the fallback
      const newcomer = `newcomer-${s}`;
      // Of its first CAPACITY requests, how many were admitted (the later ones meet the refill,
      // which a slow machine makes larger).
      let admittedNew = 0;
      for (let i = 0; i < 30; i++) {
        const [drained, fresh] = await Promise.all([app!.handle('drained'), app!.handle(newcomer)]);
        void drained;
        if (fresh && i < CAPACITY) admittedNew++;
        await sleep(15);
      }
      newcomers.push(admittedNew);
      await stall;
      for (let i = 0; i < 20; i++) {
        await app!.handle('drained');
        await sleep(50);
      }
    }
    const to = performance.now();
    const drained = drainedBound(fleet.decisions, drainedId, { from, to, refillPerSecond: RATE, instances: 1, budgetMs: 200 });
    const fallbackDecisions = fleet.decisions.filter((d) => d.at >= from && d.event.callerId === drainedId && d.event.source === 'fallback').length;
    report(
      `fallback after ${STALLS} stalls of 1 s: drained caller admitted ${drained.admitted} (${drained.fallbackAllowed} of ${fallbackDecisions} by the fallback, in ${drained.episodes} episodes) ` +
        `against a bound of ${drained.bound.toFixed(1)} (${((to - from) / 1000).toFixed(1)} s at ${RATE}/s, capacity ${CAPACITY}); new callers' first ${CAPACITY} requests admitted during each stall ${JSON.stringify(newcomers)} (capacity ${CAPACITY})`,
    );
    expect(fallbackDecisions).toBeGreaterThan(STALLS * 10);
    expect(drained.admitted).toBeLessThanOrEqual(drained.bound);
    // Each stall's fallback admitted at most the refill since Redis's last answer, and a little more.
    expect(drained.fallbackAllowed).toBeLessThanOrEqual(STALLS * (RATE * 1.5 + 1));
    // A caller never seen starts full, as the README says: its first CAPACITY requests all pass.
    expect(newcomers).toEqual(Array(STALLS).fill(CAPACITY));
  }, 60_000);
});
