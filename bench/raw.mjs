// Child process: raw decisions per second in one process, ours vs rate-limiter-flexible, over IPC.
import { createLimiter, RedisStore } from '@tokenbucket/core';
import Redis from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

/**
 * Limits per path; for keys spread wide, a denied key is one that spent its only token. Our
 * allowed buckets refill at a billion a day (`ourSeconds`), so a hot bucket stays live in Redis
 * as the peers' counters do (see PATHS in apps.mjs).
 */
const LIMITS = {
  allowed: { hot: { points: 1e9, seconds: 60, ourSeconds: 86_400 }, wide: { points: 1e9, seconds: 60, ourSeconds: 86_400 } },
  denied: { hot: { points: 10, seconds: 60 }, wide: { points: 1, seconds: 3600 } },
};

const clients = {};
function client(pipelining) {
  clients[pipelining] ??= new Redis(process.env.BENCH_REDIS_URL, { enableAutoPipelining: pipelining === 'on' });
  return clients[pipelining];
}

/** A decision function `(key) => Promise<boolean allowed>`, one per configuration, kept across runs. */
const deciders = new Map();
function decider({ lib, pipelining, keys, path }) {
  const id = `${lib}|${pipelining}|${keys}|${path}`;
  let d = deciders.get(id);
  if (d) return d;
  const { points, seconds, ourSeconds = seconds } = LIMITS[path][keys];
  const redis = client(pipelining);
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
function keyAt(keys) {
  if (keys === 'hot') return () => 'hot';
  return (i) => wideKeys[i % wideKeys.length];
}

/**
 * `inFlight` loops, each awaiting one decision after another, until `seconds` pass or `total` are
 * done. Each loop lets the event loop turn every YIELD_EVERY decisions, as a server does between
 * requests: decisions answered from memory (cached denials, ours and the peer's) settle without
 * I/O, and loops that never yield would starve the loops waiting for Redis's replies until those
 * time out.
 */
const YIELD_EVERY = 64;
const turn = () => new Promise((resolve) => setImmediate(resolve));
async function load(fn, key, { seconds, total, inFlight, record }) {
  let next = 0;
  let n = 0;
  let allowed = 0;
  let errors = 0;
  const lat = record ? new Float64Array(8_000_000) : null;
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
      if (lat && n < lat.length) lat[n] = performance.now() - t;
      n++;
      if (++mine % YIELD_EVERY === 0) await turn();
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const out = { decisions: n, seconds: elapsed, rps: n / elapsed, allowed, denied: n - allowed - errors, errors };
  if (lat) {
    const sorted = lat.slice(0, Math.min(n, lat.length)).sort();
    const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    out.latencyMs = { p50: pct(50), p99: pct(99) };
  }
  return out;
}

process.on('message', async (msg) => {
  try {
    let result;
    if (msg.type === 'init') {
      wideKeys = Array.from({ length: msg.wideKeys }, (_, i) => `caller-${i}-${(i * 2654435761) % 4294967296}`);
      await Promise.all([client('off').ping(), client('on').ping()]);
    } else if (msg.type === 'warmup') {
      const d = decider(msg.spec);
      const key = keyAt(msg.spec.keys);
      // A fresh denied-wide decider first spends every key's only token (and fills a block cache).
      if (d.fresh && msg.spec.path === 'denied' && msg.spec.keys === 'wide') {
        await load(d.fn, key, { total: wideKeys.length, inFlight: msg.inFlight });
      }
      d.fresh = false;
      result = await load(d.fn, key, { seconds: msg.seconds, inFlight: msg.inFlight });
    } else if (msg.type === 'measure') {
      result = await load(decider(msg.spec).fn, keyAt(msg.spec.keys), { seconds: msg.seconds, inFlight: msg.inFlight, record: true });
    } else if (msg.type === 'close') {
      for (const c of Object.values(clients)) c.disconnect();
      process.exit(0);
    }
    process.send({ id: msg.id, result });
  } catch (err) {
    process.send({ id: msg.id, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));
