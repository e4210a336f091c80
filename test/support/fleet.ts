// Several instances of an app (each its own ioredis client, RedisStore and HTTP limiter) on one
// Redis, a bounded load of requests through them, and the over-admission bound of a drained caller.
import Redis from 'ioredis';
import { type DecisionEvent, RedisStore, type RedisStoreOptions, type StoreFailureEvent, type StoreStatusChange } from '@tokenbucket/core';
import { routeId } from '@tokenbucket/core/adapter';
import { newResponse, plainLimiter } from './plain-adapter';
import { randomPrefix, sleep } from './redis';
import { RedisProcess } from './redis-process';

/** A decision one instance made, and when (performance.now()). */
export interface SeenDecision {
  readonly at: number;
  readonly instance: number;
  readonly event: DecisionEvent;
}

export interface Instance {
  readonly client: Redis;
  readonly store: RedisStore;
  readonly handle: (key: string) => Promise<boolean>;
  readonly statuses: StoreStatusChange[];
  readonly errors: StoreFailureEvent[];
}

export interface Fleet {
  readonly instances: Instance[];
  readonly decisions: SeenDecision[];
  close(): void;
}

export interface FleetOptions {
  url: string;
  prefix: string;
  instances: number;
  capacity: number;
  refillPerSecond: number;
  /** More RedisStore options (e.g. `denialCache: false`, so that every take of a denied caller reaches Redis). */
  store?: Partial<RedisStoreOptions>;
}

const ROUTE = routeId('GET', '/r');

/** What `useFleet` starts for a test file: a redis-server of its own, an admin client on it, and the fleet. */
export interface FleetOnOwnRedis {
  server: RedisProcess;
  admin: Redis;
  fleet: Fleet;
}

/**
 * Starts, before the file's tests, a redis-server of its own (with `args`), an admin client and a
 * fleet on it whose every take of a denied caller reaches Redis (`denialCache: false`: the worst
 * case for a drained caller); stops them after. Read the fields inside tests, not at load time.
 */
export function useFleet(o: { name: string; instances: number; capacity: number; refillPerSecond: number; args?: string[] }): FleetOnOwnRedis {
  const own = {} as FleetOnOwnRedis;
  beforeAll(async () => {
    own.server = await RedisProcess.start(o.args === undefined ? {} : { args: o.args });
    own.admin = new Redis(own.server.url);
    own.fleet = startFleet({
      url: own.server.url,
      prefix: randomPrefix(o.name),
      instances: o.instances,
      capacity: o.capacity,
      refillPerSecond: o.refillPerSecond,
      store: { denialCache: false },
    });
  });
  afterAll(async () => {
    own.fleet?.close();
    own.admin?.disconnect();
    await own.server?.stop();
  });
  return own;
}

/** `instances` apps on `url`, each with the store's and the limiter's defaults (storeFailure 'fallback'). */
export function startFleet(o: FleetOptions): Fleet {
  const decisions: SeenDecision[] = [];
  const instances: Instance[] = [];
  for (let i = 0; i < o.instances; i++) {
    const client = new Redis(o.url);
    client.on('error', () => {});
    const store = new RedisStore({ client, prefix: o.prefix, checkMemoryPolicy: false, ...o.store });
    const statuses: StoreStatusChange[] = [];
    const errors: StoreFailureEvent[] = [];
    const limiter = plainLimiter({
      store,
      name: 'api',
      capacity: o.capacity,
      refillPerSecond: o.refillPerSecond,
      onDecision: (event) => void decisions.push({ at: performance.now(), instance: i, event }),
      onStoreError: (event) => void errors.push(event),
      onStoreStatus: (event) => void statuses.push(event),
    });
    const handle = async (key: string): Promise<boolean> => limiter.handle({ headers: { 'x-api-key': key } }, newResponse(), ROUTE);
    instances.push({ client, store, handle, statuses, errors });
  }
  return {
    instances,
    decisions,
    close() {
      for (const i of instances) i.client.disconnect();
    },
  };
}

/**
 * Every `tickMs` until `until()` is true, on every instance: `perTick` requests of background
 * callers (one new caller each time: each allowed take writes a key) and `drainedPerTick` of the
 * caller `drained`. Returns when the last request is answered.
 */
export async function drive(
  fleet: Fleet,
  o: { drained: string; perTick: number; drainedPerTick: number; tickMs: number; until: () => boolean },
): Promise<number> {
  let sent = 0;
  const pending = new Set<Promise<unknown>>();
  while (!o.until()) {
    for (const instance of fleet.instances) {
      for (let k = 0; k < o.perTick; k++) track(pending, instance.handle(`background-${sent++}`));
      for (let k = 0; k < o.drainedPerTick; k++) track(pending, instance.handle(o.drained));
    }
    await sleep(o.tickMs);
  }
  await Promise.all(pending);
  return sent;
}

function track(pending: Set<Promise<unknown>>, p: Promise<unknown>): void {
  const settled = p.catch(() => undefined).finally(() => pending.delete(settled));
  pending.add(settled);
}

/**
 * The most a caller drained in Redis may be admitted from `from` to `to` (ms), per the README:
 * what Redis admits alone (under one token left at the start, plus the refill), plus, for each
 * instance and each of its fallback episodes, the level the fallback started from (the level
 * Redis last reported, under one token for a drained caller, plus the refill since that take was
 * sent, at most `budgetMs` before its decision) and the refill until the episode's last decision.
 */
export function drainedBound(
  decisions: readonly SeenDecision[],
  callerId: string,
  o: { from: number; to: number; refillPerSecond: number; instances: number; budgetMs: number },
) {
  const r = o.refillPerSecond / 1000;
  let bound = 1 + r * (o.to - o.from);
  let episodes = 0;
  let fallbackAllowed = 0;
  for (let i = 0; i < o.instances; i++) {
    const mine = decisions.filter((d) => d.instance === i && d.event.callerId === callerId && d.at >= o.from && d.at <= o.to);
    // The instance's last reading from Redis before `from`, when older than `budgetMs` before it
    // (its takes can run late under load): the fallback's refill counts from that reading.
    let readBefore = -Infinity;
    for (const d of decisions) {
      if (d.instance === i && d.event.callerId === callerId && d.at < o.from && d.event.source === 'redis') readBefore = Math.max(readBefore, d.at);
    }
    let lastRedis = Number.isFinite(readBefore) ? Math.min(o.from - o.budgetMs, readBefore - o.budgetMs) : o.from - o.budgetMs;
    let episodeEnd: number | undefined;
    const close = () => {
      if (episodeEnd === undefined) return;
      bound += 1 + r * (episodeEnd - lastRedis + o.budgetMs);
      episodes++;
      episodeEnd = undefined;
    };
    for (const d of mine) {
      if (d.event.source === 'fallback') {
        episodeEnd = d.at;
        if (d.event.outcome === 'allowed') fallbackAllowed++;
      } else {
        close();
        if (d.event.source === 'redis') lastRedis = d.at;
      }
    }
    close();
  }
  const admitted = decisions.filter((d) => d.event.callerId === callerId && d.at >= o.from && d.at <= o.to && d.event.outcome === 'allowed').length;
  return { admitted, bound, episodes, fallbackAllowed };
}
