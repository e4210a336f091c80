// Sentinel failover under a live app: 1 master, 1 replica, 3 sentinels, all real processes. A
// forced failover (SENTINEL FAILOVER), and separately a master killed with SIGKILL: how long until
// the new master runs takes, and what was admitted against the bound.
//
// The client is the README's Sentinel example: ioredis with `failoverDetector: true`, and a
// reconnect when the client ends while the app is not closing it. Without the detector ioredis
// stays on the demoted master until the sentinels reconfigure it (about 10 s), and the takes it
// runs there are lost: TB_SENTINEL_CLIENT_OPTIONS='{}' runs this file with ioredis's defaults, and
// the forced failover fails. With the detector, ioredis 5.11 can end the client for good when the
// sentinels' +switch-master arrives while it is asking a sentinel for the master (after a crash,
// while it reconnects): without the reconnect, the limiter would then stay on its fallback.
// An unhandled rejection anywhere fails the test (Jest reports it).
import Redis, { type RedisOptions } from 'ioredis';
import { RedisStore, type DecisionEvent } from '@tokenbucket/core';
import { runLoad, startExpressApp, type ExpressApp } from '../support/express-app';
import { randomPrefix, sleep } from '../support/redis';
import { SENTINEL_MASTER_NAME, SentinelGroup } from '../support/sentinel-process';
import { report as writeReport } from '../support/report';

const CLIENT_OPTIONS: RedisOptions = JSON.parse(process.env.TB_SENTINEL_CLIENT_OPTIONS ?? '{"failoverDetector":true}');
const CAPACITY = 10;
const RATE = 1;
/** Ten callers, each asking far more often than its bucket refills. */
const KEYS = Array.from({ length: 10 }, (_, i) => `caller-${i}`);

/** Takes a server has run (EVALSHA and EVAL calls in INFO commandstats). */
async function takesRun(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const cmd of ['evalsha', 'eval']) total += Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return total;
}

interface Outcome {
  /** Ms from the fault to the replica's promotion, and to the first take it ran. */
  promotedMs: number;
  recoveredMs: number | undefined;
  /** Takes the old master ran after the promotion: their writes are lost. */
  lostTakes: number;
  admitted: number;
  /** Capacity + rate x elapsed, summed over the callers. */
  bound: number;
  /**
   * What a fault may add on top: while the client is away from the new master (from the fault to
   * its first take there), each caller can get one more bucket, plus the refill of that time
   * (counted by the fallback, or by the demoted master, and again by the new master's bucket),
   * plus a token for a write the replica had not received yet (replication is asynchronous).
   */
  allowance: number;
  sources: Record<string, number>;
  statuses: Record<number, number>;
  failures: unknown[];
  /** Decisions made once the new master ran takes and the store's circuit (if it opened) closed, by source. */
  sourcesAfter: Record<string, number>;
  /** The client's events and the store's status changes, ms after the fault. */
  events: string[];
}

/**
 * The client as the README writes it: ioredis with `failoverDetector: true` (or the options in
 * TB_SENTINEL_CLIENT_OPTIONS), reconnected when it ends while the app is not closing it.
 */
function sentinelClient(group: SentinelGroup): { client: Redis; close(): void } {
  const client = new Redis({ sentinels: group.sentinelAddresses, name: SENTINEL_MASTER_NAME, ...CLIENT_OPTIONS });
  let closing = false;
  client.on('end', () => {
    if (!closing) client.connect().catch(() => {});
  });
  return {
    client,
    close() {
      closing = true;
      client.disconnect();
    },
  };
}

describe('Sentinel failover under load', () => {
  let group: SentinelGroup | undefined;
  let sentinel: ReturnType<typeof sentinelClient> | undefined;
  let app: ExpressApp | undefined;

  afterEach(async () => {
    await app?.close();
    sentinel?.close();
    await group?.stop();
    app = sentinel = group = undefined;
  });

  async function scenario(fault: 'failover' | 'kill'): Promise<Outcome> {
    group = await SentinelGroup.start();
    const decisions: { at: number; event: DecisionEvent }[] = [];
    sentinel = sentinelClient(group);
    const client = sentinel.client;
    client.on('error', () => {}); // the app's own logging would go here
    const events: [number, string][] = [];
    for (const name of ['ready', 'close', 'end']) client.on(name, () => void events.push([performance.now(), name]));
    app = await startExpressApp({
      onStoreStatus: (e) => void events.push([performance.now(), `store ${e.status}`]),
      store: new RedisStore({ client, prefix: randomPrefix('sentinel') }),
      capacity: CAPACITY,
      refillPerSecond: RATE,
      onDecision: (event) => void decisions.push({ at: performance.now(), event }),
    });
    await new Promise((resolve) => client.once('ready', resolve));
    const oldMaster = group.server(await group.masterAddress());
    const newMaster = group.servers.find((s) => s !== oldMaster)!;
    const watchNew = new Redis(newMaster.port, '127.0.0.1');
    const watchOld = new Redis(oldMaster.port, '127.0.0.1');
    watchOld.on('error', () => {}); // killed in the SIGKILL case, and never asked anything there
    try {
      let done = false;
      const started = performance.now();
      const load = runLoad({ url: app.url, keys: KEYS, concurrency: 8, durationMs: 40_000, stop: () => done });
      await sleep(1000);
      const faultAt = performance.now();
      if (fault === 'failover') await group.failover();
      else await oldMaster.kill();
      let promotedAt: number | undefined;
      let recoveredAt: number | undefined;
      let oldTakesAtPromotion = 0;
      while (performance.now() - faultAt < 20_000 && recoveredAt === undefined) {
        if (promotedAt === undefined && /^role:master/m.test(await watchNew.info('replication'))) {
          promotedAt = performance.now();
          if (fault === 'failover') oldTakesAtPromotion = await takesRun(watchOld);
        }
        if (promotedAt !== undefined && (await takesRun(watchNew)) > 0) recoveredAt = performance.now();
        await sleep(10);
      }
      await sleep(1500);
      const upAt = Math.max(0, ...events.filter(([, name]) => name === 'store up').map(([at]) => at));
      done = true;
      const result = await load;
      const elapsed = (performance.now() - started) / 1000;
      const count = (list: typeof decisions) => {
        const out: Record<string, number> = {};
        for (const d of list) out[d.event.source] = (out[d.event.source] ?? 0) + 1;
        return out;
      };
      return {
        promotedMs: promotedAt === undefined ? NaN : promotedAt - faultAt,
        recoveredMs: recoveredAt === undefined ? undefined : recoveredAt - faultAt,
        lostTakes: fault === 'failover' ? (await takesRun(watchOld)) - oldTakesAtPromotion : 0,
        admitted: decisions.filter((d) => d.event.decision.allowed).length,
        bound: KEYS.length * (CAPACITY + RATE * elapsed),
        allowance: KEYS.length * (CAPACITY + 1 + (RATE * ((recoveredAt ?? performance.now()) - faultAt)) / 1000),
        sources: count(decisions),
        statuses: Object.fromEntries(result.statuses),
        failures: result.failures,
        sourcesAfter: count(decisions.filter((d) => recoveredAt !== undefined && d.at > Math.max(recoveredAt, upAt) + 100)),
        events: events.filter(([at]) => at >= faultAt).map(([at, name]) => `${name} ${Math.round(at - faultAt)}`),
      };
    } finally {
      watchNew.disconnect();
      watchOld.disconnect();
    }
  }

  function report(fault: string, o: Outcome): void {
    writeReport(
      `Sentinel ${fault}, client ${JSON.stringify(CLIENT_OPTIONS)}: replica promoted ${Math.round(o.promotedMs)} ms after the fault, ` +
        `first take on the new master ${o.recoveredMs === undefined ? 'never (20 s)' : `${Math.round(o.recoveredMs)} ms`} after it; ` +
        `${o.lostTakes} takes run by the demoted master after the promotion (lost); admitted ${o.admitted} against a bound of ` +
        `${Math.round(o.bound)} (+${Math.max(0, o.admitted - Math.round(o.bound))}, allowed +${Math.round(o.allowance)}); ` +
        `decisions by source ${JSON.stringify(o.sources)}; HTTP statuses ${JSON.stringify(o.statuses)}; after the fault (ms): ${o.events.join(', ')}`,
    );
  }

  test('SENTINEL FAILOVER: the client follows the new master within a few seconds; what it took on the old one is bounded', async () => {
    const o = await scenario('failover');
    report('FAILOVER', o);
    expect(o.failures).toEqual([]);
    expect(Object.keys(o.statuses).filter((s) => s !== '200' && s !== '429')).toEqual([]);
    // ioredis's defaults take about 10 s here (the sentinels' reconfiguration of the old master).
    expect(o.recoveredMs).toBeLessThan(5000);
    expect(Object.keys(o.sourcesAfter).length).toBeGreaterThan(0);
    // The writes the old master took after the promotion are lost: each caller can get back what it took there.
    expect(o.admitted).toBeLessThanOrEqual(o.bound + o.allowance);
    expect(Object.keys(o.sourcesAfter).filter((s) => s !== 'redis' && s !== 'denial-cache')).toEqual([]);
  }, 90_000);

  test('SIGKILL of the master: the fallback answers until the replica is promoted, then Redis again', async () => {
    const o = await scenario('kill');
    report('SIGKILL', o);
    expect(o.failures).toEqual([]);
    expect(Object.keys(o.statuses).filter((s) => s !== '200' && s !== '429')).toEqual([]);
    expect(o.sources.fallback).toBeGreaterThan(0);
    expect(o.recoveredMs).toBeDefined();
    expect(Object.keys(o.sourcesAfter).length).toBeGreaterThan(0);
    // The fallback starts each caller with a full local bucket.
    expect(o.admitted).toBeLessThanOrEqual(o.bound + o.allowance);
    expect(Object.keys(o.sourcesAfter).filter((s) => s !== 'redis' && s !== 'denial-cache')).toEqual([]);
  }, 90_000);
});
