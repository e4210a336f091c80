// Worker: raw decisions per second in one process (no HTTP), ours vs rate-limiter-flexible, on
// the Redis or the Cluster its environment names (see apps/shared.mjs `connectRedis`).
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { connectRedis } from '../apps/shared.mjs';
import { serve } from '../lib/processes.mjs';

/**
 * Limits per path; for keys spread wide, a denied key is one that spent its only token. Our
 * allowed buckets refill at a billion a day (`ourSeconds`), so a hot bucket stays live in Redis
 * as the peers' counters do (see PATHS in apps/shared.mjs).
 */
const LIMITS = {
  allowed: { hot: { points: 1e9, seconds: 60, ourSeconds: 86_400 }, wide: { points: 1e9, seconds: 60, ourSeconds: 86_400 } },
  denied: { hot: { points: 10, seconds: 60 }, wide: { points: 1, seconds: 3600 } },
};

/** One client per auto-pipelining setting, shared by every decider with that setting. */
const clients = {};

/** A decision function `(key) => Promise<boolean allowed>` per configuration, kept across runs. */
const deciders = new Map();
function decider({ lib, pipelining, keys, path }) {
  const id = `${lib}|${pipelining}|${keys}|${path}`;
  let d = deciders.get(id);
  if (d) return d;
  const { points, seconds, ourSeconds = seconds } = LIMITS[path][keys];
  const redis = clients[pipelining];
  if (lib === 'tokenbucket') {
    const limiter = createLimiter({
      store: new RedisStore({ client: redis, prefix: `raw-tb-${path}-${keys}:` }),
      capacity: points,
      refillPerSecond: points / ourSeconds,
    });
    d = { fn: (key) => limiter.take(key).then((decision) => decision.allowed), fresh: true };
  } else {
    const block = lib === 'rate-limiter-flexible+block';
    const rl = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `raw-${block ? 'rlfb' : 'rlf'}-${path}-${keys}`,
      points,
      duration: seconds,
      ...(block ? { inMemoryBlockOnConsumed: points } : {}),
    });
    const denied = (rej) => {
      if (rej instanceof Error) throw rej;
      return false;
    };
    d = { fn: (key) => rl.consume(key).then(() => true, denied), fresh: true };
  }
  deciders.set(id, d);
  return d;
}

let wideKeys = [];
const keyAt = (keys) => (keys === 'hot' ? () => 'hot' : (i) => wideKeys[i % wideKeys.length]);

/**
 * `inFlight` loops, each awaiting one decision after another, until `seconds` pass or `total` are
 * done. Each loop lets the event loop turn every YIELD_EVERY decisions, as a server does between
 * requests: decisions answered from memory (cached denials, ours and the peer's) settle without
 * I/O, and loops that never yield would starve the loops waiting for Redis's replies until those
 * time out.
 */
const YIELD_EVERY = 64;
const turn = () => new Promise((resolve) => setImmediate(resolve));
const latencies = new Float64Array(8_000_000);
async function load(fn, key, { seconds, total, inFlight }) {
  let next = 0;
  let n = 0;
  let allowed = 0;
  let errors = 0;
  const end = seconds ? performance.now() + seconds * 1000 : Infinity;
  async function loop() {
    let mine = 0;
    while (performance.now() < end && (total === undefined || next < total)) {
      const k = key(next++);
      const t = performance.now();
      try {
        if (await fn(k)) allowed++;
      } catch {
        errors++;
      }
      if (n < latencies.length) latencies[n] = performance.now() - t;
      n++;
      if (++mine % YIELD_EVERY === 0) await turn();
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = latencies.subarray(0, Math.min(n, latencies.length)).sort();
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { decisions: n, seconds: elapsed, rps: n / elapsed, allowed, denied: n - allowed - errors, errors, p50Ms: pct(50), p99Ms: pct(99) };
}

serve(async (msg) => {
  if (msg.type === 'init') {
    wideKeys = Array.from({ length: msg.wideKeys }, (_, i) => `caller-${i}-${(i * 2654435761) % 4294967296}`);
    clients.off = await connectRedis({ Redis, Cluster }, 'off');
    clients.on = await connectRedis({ Redis, Cluster }, 'on');
    return null;
  }
  const d = decider(msg.spec);
  const key = keyAt(msg.spec.keys);
  let primeSeconds;
  if (msg.type === 'warmup') {
    // A fresh denied-wide decider first spends every key's only token (and fills a block cache).
    if (d.fresh && msg.spec.path === 'denied' && msg.spec.keys === 'wide') {
      primeSeconds = (await load(d.fn, key, { total: wideKeys.length, inFlight: msg.inFlight })).seconds;
    }
    d.fresh = false;
  }
  return { ...(await load(d.fn, key, { seconds: msg.seconds, inFlight: msg.inFlight })), primeSeconds };
});
