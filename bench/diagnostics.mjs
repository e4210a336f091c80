// What the diagnostics channels cost: raw decisions per second with no subscriber, with a no-op
// subscriber on every channel, and with @tokenbucket/prometheus's registerMetrics, in interleaved
// rounds; optionally against core as it was before the channels, built elsewhere (BASELINE_CORE).
//
//   pnpm build && node bench/diagnostics.mjs [--seconds 2] [--rounds 3] [--in-flight 100] [--keys 100000]
//                                            [--only <text in a workload's name, e.g. MemoryStore>]
//
// Baseline (core before the channels, commit 2b16b80), built outside this checkout:
//   mkdir /tmp/tb-base && git archive 2b16b80 | tar -x -C /tmp/tb-base && (cd /tmp/tb-base && pnpm install --frozen-lockfile \
//     --prefer-offline && pnpm --filter @tokenbucket/core build)
//   BASELINE_CORE=/tmp/tb-base/packages/core/dist/esm/index.js node bench/diagnostics.mjs
//
// It starts its own redis-server on a free loopback port and stops it at the end. Prints figures,
// asserts nothing.
import { spawn } from 'node:child_process';
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as core from '@tokenbucket/core';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { registerMetrics } from '../packages/prometheus/dist/esm/index.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '100' },
    keys: { type: 'string', default: '100000' },
    only: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const IN_FLIGHT = Number(args['in-flight']);
const WIDE_KEYS = Number(args.keys);

/** The code under test: which core, and who listens on the channels while it runs. */
const variants = [
  { name: 'no subscriber', core, listen: () => () => {} },
  {
    name: 'no-op subscriber',
    core,
    listen() {
      const noop = () => {};
      const names = Object.values(core.CHANNELS);
      for (const name of names) subscribe(name, noop);
      return () => {
        for (const name of names) unsubscribe(name, noop);
      };
    },
  },
  {
    name: 'registerMetrics',
    core,
    listen() {
      const metrics = registerMetrics({ register: new Registry() });
      return () => metrics.close();
    },
  },
];
if (process.env.BASELINE_CORE) {
  const baseline = await import(pathToFileURL(process.env.BASELINE_CORE).href);
  if ('CHANNELS' in baseline) console.warn('BASELINE_CORE already publishes on diagnostics channels: is it the commit before them?');
  variants.unshift({ name: 'before the channels', core: baseline, listen: () => () => {} });
}

/** Workloads: a store, a key pattern, and policies that make every decision allowed or denied. */
const SLOW = 1 / 86_400;
const workloads = [
  { name: 'RedisStore, hot key, allowed', store: 'redis', keys: 'hot', capacity: 1e9, refill: 1e9 / 86_400 },
  { name: `RedisStore, ${WIDE_KEYS} keys, allowed`, store: 'redis', keys: 'wide', capacity: 1e9, refill: 1e9 / 86_400 },
  { name: 'RedisStore, hot key, denied (denial cache)', store: 'redis', keys: 'hot', capacity: 1, refill: SLOW },
  { name: 'MemoryStore, hot key, allowed', store: 'memory', keys: 'hot', capacity: 1e9, refill: 1e9 / 86_400 },
  { name: `MemoryStore, ${WIDE_KEYS} keys, allowed`, store: 'memory', keys: 'wide', capacity: 1e9, refill: 1e9 / 86_400 },
].filter((w) => args.only === undefined || w.name.includes(args.only));

const wideKeys = Array.from({ length: WIDE_KEYS }, (_, i) => `caller-${i}-${(i * 2654435761) % 4294967296}`);
const keyAt = (keys) => (keys === 'hot' ? () => 'hot' : (i) => wideKeys[i % wideKeys.length]);

/** `IN_FLIGHT` loops awaiting one decision after another; each lets the event loop turn every 64. */
const turn = () => new Promise((resolve) => setImmediate(resolve));
async function load(take, key, seconds) {
  let next = 0;
  let done = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  async function loop() {
    let mine = 0;
    while (performance.now() < end) {
      try {
        await take(key(next++));
        done++;
      } catch {
        errors++; // not counted: a failed take can be quicker than a decision
      }
      if (++mine % 64 === 0) await turn();
    }
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  const cpu = process.cpuUsage(cpu0);
  return { rps: done / ((performance.now() - t0) / 1000), cpuUs: (cpu.user + cpu.system) / done, errors };
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tokenbucket-bench-diag-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (i > 100) throw new Error('redis-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  probe.disconnect();
  return {
    port,
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const redis = await startRedis();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    redis.stop();
    process.exit(1);
  });
}
const clients = [];
try {
  console.log(
    `diagnostics channels: ${SECONDS} s x ${ROUNDS} rounds per variant and workload, ${IN_FLIGHT} in flight; ` +
      `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  publicationCost();
  for (const [w, work] of workloads.entries()) {
    // Each variant has its own client, store and limiter (and its own keys), built once.
    const takes = variants.map((variant, v) => {
      let store;
      if (work.store === 'redis') {
        const client = new Redis(redis.port, '127.0.0.1');
        clients.push(client);
        // A budget far above any reply time, so a busy machine measures slower, not failing, takes.
        store = new variant.core.RedisStore({ client, prefix: `diag-${w}-${v}:`, timeoutMs: 5000 });
      } else {
        store = new variant.core.MemoryStore({ maxKeys: WIDE_KEYS * 2 });
        clients.push({ disconnect: () => store.close() });
      }
      const limiter = variant.core.createLimiter({ store, name: `w${w}`, capacity: work.capacity, refillPerSecond: work.refill });
      return (key) => limiter.take(key);
    });
    const key = keyAt(work.keys);
    for (const [v, variant] of variants.entries()) {
      const stop = variant.listen();
      await load(takes[v], key, Math.min(1, SECONDS)); // warm-up: JIT, script cache, buckets
      stop();
    }
    const rps = variants.map(() => []);
    const cpu = variants.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round, so no variant always runs first.
      for (let i = 0; i < variants.length; i++) {
        const v = (i + round) % variants.length;
        const stop = variants[v].listen();
        const { rps: r, cpuUs, errors } = await load(takes[v], key, SECONDS);
        stop();
        if (errors > 0) console.warn(`  ${work.name}, ${variants[v].name}: ${errors} errors`);
        rps[v].push(r);
        cpu[v].push(cpuUs);
      }
    }
    print(work, rps, cpu);
  }
  console.log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  for (const c of clients) c.disconnect();
  redis.stop();
}

/**
 * The subscribers' own work per decision, without the limiter around it: a message shaped like a
 * DecisionEvent made and published the way core does (only when someone listens), in a tight
 * loop; the best of 7 trials, which a busy machine disturbs least.
 */
function publicationCost() {
  const decision = core.CHANNELS.decision;
  const ch = channel(decision);
  const verdict = { allowed: true };
  const event = (i) => ({
    route: 'GET /items/:id',
    policy: 'catalog',
    outcome: i & 7 ? 'allowed' : 'denied',
    source: 'redis',
    cost: 1,
    remaining: i,
    callerId: 'kX9vQ2mZ7bT4wL1pR8sN3a',
    keySource: 'key',
    dryRun: false,
    decision: verdict,
  });
  const ns = () => {
    const n = 1_000_000;
    let best = Infinity;
    for (let trial = 0; trial < 7; trial++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) if (ch.hasSubscribers) ch.publish(event(i));
      best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
    }
    return best;
  };
  console.log('\nOne decision message, made and published (best of 7 x 1M, ns each):');
  for (const variant of variants.filter((v) => v.core === core)) {
    const stop = variant.listen();
    console.log(`  ${variant.name.padEnd(20)} ${ns().toFixed(1).padStart(7)}`);
    stop();
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Decisions per second (wall clock), and this process's CPU time per decision (user + system; on
 * a busy machine it moves far less than the rate does), each the median of the rounds and its
 * ratio to "no subscriber".
 */
function print(work, rps, cpu) {
  const reference = variants.findIndex((v) => v.name === 'no subscriber');
  const refRate = median(rps[reference]);
  const refCpu = median(cpu[reference]);
  console.log(`\n${work.name}`);
  console.log(
    `  ${'variant'.padEnd(20)} ${'decisions/s'.padStart(11)} ${'ratio'.padStart(6)}  ${'CPU µs/dec'.padStart(10)} ${'ratio'.padStart(6)}  rounds (decisions/s)`,
  );
  for (const [v, variant] of variants.entries()) {
    const rate = median(rps[v]);
    const us = median(cpu[v]);
    const rounds = rps[v].map((r) => `${Math.round(r / 1000)}k`).join(' ');
    console.log(
      `  ${variant.name.padEnd(20)} ${Math.round(rate).toLocaleString('en-US').padStart(11)} ${(rate / refRate).toFixed(2).padStart(6)}  ` +
        `${us.toFixed(2).padStart(10)} ${(us / refCpu).toFixed(2).padStart(6)}  ${rounds}`,
    );
  }
}
