// Token leases (RedisStore's `leases`), measured: raw decisions/s on one hot key in one process
// with and without leases, Redis commands per allowed take (INFO commandstats), and a global quota
// (one key for every caller) taken by 4 processes on one Redis: decisions/s, admitted against the
// bucket's bound, and the share of the bound admitted when demand exceeds it. Starts its own
// redis-server on a free loopback port. Prints figures; asserts nothing.
//
//   pnpm build && node bench/leases.mjs [--seconds=3] [--quota-seconds=10] [--rounds=2]
import { fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { Redis } from 'ioredis';
import { startThrowawayRedis } from '../test/support/throwaway-redis.mjs';

const FILE = fileURLToPath(import.meta.url);
const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const IN_FLIGHT = 64;
/** A quota no run reaches: every take is allowed (capacity x its 1 µs interval stays within the script's range). */
const UNREACHABLE = { name: 'global', capacity: 10_000_000, refillPerSecond: 1_000_000 };

/** Keeps IN_FLIGHT takes of `key` running until `ms` have passed; counts what they decided. */
async function hammer(limiter, key, ms) {
  const out = { decisions: 0, allowed: 0, denied: 0, errors: 0 };
  const deadline = performance.now() + ms;
  const slot = async () => {
    while (performance.now() < deadline) {
      try {
        const d = await limiter.take(key);
        out.decisions++;
        if (d.allowed) out.allowed++;
        else out.denied++;
      } catch {
        out.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, slot));
  return out;
}

/** Redis's clock, in seconds. */
async function redisTime(client) {
  const [s, us] = await client.time();
  return Number(s) + Number(us) / 1e6;
}

/** Resets INFO commandstats, runs fn, and returns its result with the limiter commands Redis ran meanwhile. */
async function withCommands(admin, fn) {
  await admin.config('RESETSTAT');
  const result = await fn();
  const info = await admin.info('commandstats');
  let commands = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (/^(evalsha|eval|fcall)/.test(m[1])) commands += Number(m[2]);
  return { ...result, commands };
}

// ---- worker side: one process of the global quota ----

async function worker() {
  const config = await new Promise((resolve) => process.once('message', (m) => resolve(m.config)));
  const client = new Redis(config.port, '127.0.0.1');
  const store = new RedisStore({ client, prefix: config.prefix, leases: config.leases, timeoutMs: 10_000 });
  const limiter = createLimiter({ store, ...config.policy });
  await limiter.get('warm-up'); // connects and loads the script
  await new Promise((resolve) => {
    process.once('message', resolve);
    process.send({ type: 'ready' });
  });
  const start = await redisTime(client);
  const out = await hammer(limiter, config.key, config.ms);
  const end = await redisTime(client);
  await client.quit(); // gives unspent leased tokens back
  process.send({ type: 'result', ...out, start, end }, () => process.exit(0));
}

/** The global quota across `processes` workers; resolves with their sums and the run's span on Redis's clock. */
async function globalQuota({ port, admin, processes, policy, leases, ms, prefix }) {
  return withCommands(admin, async () => {
    const children = Array.from({ length: processes }, () => fork(FILE, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const results = [];
    await new Promise((resolve, reject) => {
      let ready = 0;
      for (const child of children) {
        child.on('message', (m) => {
          if (m.type === 'ready' && ++ready === processes) for (const c of children) c.send({ type: 'go' });
          else if (m.type === 'result' && results.push(m) === processes) resolve();
        });
        child.on('exit', (code) => code !== 0 && reject(new Error(`a quota worker exited with ${code}`)));
        child.send({ type: 'config', config: { port, prefix, key: 'every-caller', policy, leases, ms } });
      }
    });
    const sum = (f) => results.reduce((n, r) => n + r[f], 0);
    const elapsedS = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start));
    return {
      decisions: sum('decisions'),
      allowed: sum('allowed'),
      denied: sum('denied'),
      errors: sum('errors'),
      elapsedS,
      bound: policy.capacity + policy.refillPerSecond * elapsedS,
    };
  });
}

async function main() {
  const seconds = arg('seconds', 3);
  const quotaSeconds = arg('quota-seconds', 10);
  const rounds = arg('rounds', 2);
  const redis = await startThrowawayRedis('bench-leases');
  const { port, admin } = redis;
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))[1];
  const modes = [
    ['per-request takes', false],
    ['leases on (defaults)', true],
  ];
  const line = (s) => process.stdout.write(`${s}\n`);
  line(`# Leases: one run, ${new Date().toISOString()}`);
  line('');
  line(
    `node ${process.version}, redis-server ${version}, ${availableParallelism()} cores, load average before: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  line('');
  try {
    // 1. One hot key in one process.
    line(`## One hot key, one process, ${IN_FLIGHT} takes in flight, ${seconds} s per run, ${rounds} rounds (order alternating)`);
    line('');
    line('| mode | round | decisions/s | Redis commands per allowed take |');
    line('|---|---|---|---|');
    const hot = new Map(modes.map(([name]) => [name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const [name, leases] of round % 2 ? modes : [...modes].reverse()) {
        const client = new Redis(port, '127.0.0.1');
        const store = new RedisStore({ client, prefix: `hot${round}${leases}:`, leases });
        const limiter = createLimiter({ store, ...UNREACHABLE });
        await limiter.get('warm-up');
        const r = await withCommands(admin, () => hammer(limiter, 'hot-key', seconds * 1000));
        await client.quit();
        const rate = r.decisions / seconds;
        hot.get(name).push({ rate, perAllowed: r.commands / r.allowed });
        line(`| ${name} | ${round} | ${Math.round(rate).toLocaleString('en')} | ${(r.commands / r.allowed).toFixed(4)} |`);
      }
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const [offRate, onRate] = modes.map(([name]) => med(hot.get(name).map((x) => x.rate)));
    line('');
    line(
      `Median: ${Math.round(onRate).toLocaleString('en')} vs ${Math.round(offRate).toLocaleString('en')} decisions/s: **${(onRate / offRate).toFixed(1)}x** with leases.`,
    );
    line('');

    // 2. A global quota across 4 processes.
    line(`## A global quota (one key for every caller), 4 processes x ${IN_FLIGHT} takes in flight, one Redis`);
    line('');
    const scenarios = [
      ['demand below the quota', UNREACHABLE, seconds],
      ['demand above the quota (2,000/s, capacity 2,000)', { name: 'global', capacity: 2000, refillPerSecond: 2000 }, quotaSeconds],
    ];
    line(
      '| scenario | mode | seconds | decisions/s | allowed | bound (capacity + rate x elapsed) | admitted / bound | Redis commands per allowed take | errors |',
    );
    line('|---|---|---|---|---|---|---|---|---|');
    const quota = {};
    for (const [scenario, policy, s] of scenarios) {
      for (const [name, leases] of modes) {
        const r = await globalQuota({ port, admin, processes: 4, policy, leases, ms: s * 1000, prefix: `q${Math.random().toString(36).slice(2, 8)}:` });
        quota[`${scenario}/${name}`] = r;
        const unreachable = policy === UNREACHABLE;
        line(
          `| ${scenario} | ${name} | ${r.elapsedS.toFixed(2)} | ${Math.round(r.decisions / r.elapsedS).toLocaleString('en')} | ${r.allowed.toLocaleString('en')} | ` +
            `${unreachable ? 'not reached' : r.bound.toFixed(0)} | ${unreachable ? '-' : `${((100 * r.allowed) / r.bound).toFixed(2)}%`} | ${(r.commands / Math.max(1, r.allowed)).toFixed(4)} | ${r.errors} |`,
        );
      }
    }
    const below = (name) => quota[`${scenarios[0][0]}/${name}`];
    line('');
    line(
      `Below the quota: **${(below(modes[1][0]).decisions / below(modes[1][0]).elapsedS / (below(modes[0][0]).decisions / below(modes[0][0]).elapsedS)).toFixed(1)}x** ` +
        'the decisions/s of per-request takes with leases on.',
    );
    line('');
    line(
      `Load average after: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await redis.stop();
  }
}

if (process.argv[2] === '--worker') {
  worker().catch((err) => {
    process.stderr.write(`quota worker: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
