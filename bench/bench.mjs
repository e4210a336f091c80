// The benchmark: HTTP apps with and without limiters, raw decisions, Redis cost; prints a table.
// Run through run.sh (`pnpm bench` / `pnpm bench:quick`), which starts and stops its own Redis.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import Redis from 'ioredis';
import { LIMITERS, PATHS } from './apps.mjs';
import { chartSvg } from './chart.mjs';
import { markdown } from './report.mjs';

const HERE = new URL('.', import.meta.url);
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = (argv.find((a) => a.startsWith('--only='))?.slice(7) ?? 'redis,http,raw').split(',');
const frameworks = (argv.find((a) => a.startsWith('--frameworks='))?.slice(13) ?? 'express,fastify,koa').split(',');
const redisUrl = process.env.BENCH_REDIS_URL;
if (!redisUrl) throw new Error('BENCH_REDIS_URL is not set: run bench/run.sh (pnpm bench), which starts its own redis-server');

/** Quick mode checks the harness in under 2 minutes; the full mode gives the figures (under 15). */
const CONFIG = quick
  ? { mode: 'quick', rounds: 1, httpSeconds: 0.75, httpWarmup: 0.25, rawRounds: 1, rawSeconds: 0.4, rawWarmup: 0.2, wideKeys: 10_000, statsRequests: 300 }
  : { mode: 'full', rounds: 4, httpSeconds: 2, httpWarmup: 0.5, rawRounds: 3, rawSeconds: 1.5, rawWarmup: 0.3, wideKeys: 100_000, statsRequests: 2000 };
Object.assign(CONFIG, { connections: 50, inFlight: 100, allowedKeys: 16, pipelining: ['off', 'on'] });
const ALLOWED_KEYS = Array.from({ length: CONFIG.allowedKeys }, (_, i) => `user-${i}`);
const HOT_KEY = 'hot';

const admin = new Redis(redisUrl);
const started = Date.now();
const log = (...args) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s]`, ...args);
const loadSamples = [];
const sampleLoad = () => loadSamples.push(os.loadavg()[0]);

// ---- child processes over IPC ------------------------------------------------------------------

/** A forked child answering `{ id, ... }` messages with `{ id, result | error }`. */
function child(file, args = []) {
  const proc = fork(new URL(file, HERE), args, { env: { ...process.env, BENCH_REDIS_URL: redisUrl }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map();
  const ready = new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${file} ${args.join(' ')} exited with ${code}`)));
    proc.on('message', (msg) => {
      if (msg.type === 'ready') return resolve(msg);
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      msg.error ? p.reject(new Error(msg.error)) : p.resolve(msg.result ?? msg.counters);
    });
  });
  ready.catch(() => {});
  return {
    proc,
    ready,
    call(msg, timeoutMs = 120_000) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file}: no answer to ${msg.type} in ${timeoutMs} ms`)), timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ ...msg, id });
      });
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.send({ type: 'close' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The load generator: its own process, apart from the servers. */
const loader = child('./load.mjs');
const load = (port, route, keys, opts) =>
  loader.call({
    type: 'load',
    url: `http://127.0.0.1:${port}${route}`,
    connections: opts.amount ? Math.min(10, opts.amount) : CONFIG.connections,
    keys,
    ...opts,
  });

async function startServer(framework, limiter, pipelining) {
  const server = child('./server.mjs', [framework, limiter, pipelining]);
  const timer = setTimeout(() => server.proc.kill('SIGKILL'), 30_000);
  const { port } = await server.ready;
  clearTimeout(timer);
  return { ...server, port, framework, limiter, pipelining };
}

// ---- Redis accounting --------------------------------------------------------------------------

/** Commands the bench itself sends (or ioredis on connect); never counted against a limiter. */
const ADMIN_COMMANDS = /^(info|config|memory|scan|flushall|ping|client|hello|select|dbsize|command|pttl\|admin)/;

async function commandStats() {
  const text = await admin.info('commandstats');
  const calls = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!ADMIN_COMMANDS.test(m[1])) calls[m[1]] = Number(m[2]);
  }
  return calls;
}

async function redisCpuSeconds() {
  const text = await admin.info('cpu');
  const get = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)[1]);
  return get('used_cpu_user') + get('used_cpu_sys');
}

/**
 * CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat,
 * whose times are in USER_HZ ticks (100 a second on Linux); undefined where there is no /proc.
 */
function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Resets the counters, runs `fn`, and returns Redis's commands and CPU for it. */
async function accounted(fn) {
  await admin.config('RESETSTAT');
  const cpu0 = await redisCpuSeconds();
  const result = await fn();
  const cpu = (await redisCpuSeconds()) - cpu0;
  return { result, commands: await commandStats(), redisCpuSeconds: cpu };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (obj) => Object.values(obj).reduce((a, b) => a + b, 0);
const per = (commands, n) => Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, v / n]));

// ---- Redis cost per decision and per bucket (through the real HTTP apps) ------------------------

async function redisCosts(servers) {
  const out = [];
  for (const server of servers) {
    if (server.limiter === 'none' || server.pipelining !== 'off') continue;
    const row = { framework: server.framework, limiter: server.limiter };
    // Memory: one fresh caller on the denied route (10 a minute), then until its limit is reached.
    await admin.flushall();
    const probe = async (amount) => load(server.port, PATHS.denied.route, ['mem-probe'], { amount });
    const bucketMemory = async () => {
      const keys = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      let bytes = 0;
      const ttls = [];
      for (const key of keys) {
        bytes += (await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0;
        ttls.push(await admin.pttl(key));
      }
      return { keys: keys.length, names: keys, bytes, pttlMs: ttls };
    };
    await probe(1);
    row.memoryAfter1 = await bucketMemory();
    await probe(10);
    row.memoryAfter11 = await bucketMemory();
    // Commands per allowed decision: callers from the rotating set on the allowed route.
    const allowed = await accounted(() => load(server.port, PATHS.allowed.route, ALLOWED_KEYS, { amount: CONFIG.statsRequests }));
    row.allowed = costRow(allowed);
    // Commands per denied decision: a hot key already over its limit.
    await load(server.port, PATHS.denied.route, ['stats-hot'], { amount: 20 });
    const denied = await accounted(() => load(server.port, PATHS.denied.route, ['stats-hot'], { amount: CONFIG.statsRequests }));
    row.denied = costRow(denied);
    log(
      `redis cost ${row.framework} ${row.limiter}: ${row.allowed.commandsPerDecision.toFixed(2)} cmds/allowed, ${row.denied.commandsPerDecision.toFixed(2)} cmds/denied, ${row.memoryAfter1.bytes} B after 1`,
    );
    out.push(row);
  }
  return out;
}

function costRow({ result, commands, redisCpuSeconds }) {
  const n = result.requests;
  return {
    decisions: n,
    statuses: result.statuses,
    commandsPerDecision: sum(commands) / n,
    commands: per(commands, n),
    redisCpuUsPerDecision: (redisCpuSeconds * 1e6) / n,
  };
}

// ---- HTTP rounds ------------------------------------------------------------------------------

async function httpBench(framework, servers, runs) {
  const byKey = (limiter, pipelining) => servers.find((s) => s.limiter === limiter && (limiter === 'none' || s.pipelining === pipelining));
  for (let round = 1; round <= CONFIG.rounds; round++) {
    for (const path of Object.keys(PATHS)) {
      for (const pipelining of CONFIG.pipelining) {
        for (const limiter of LIMITERS[framework]) {
          const server = byKey(limiter, pipelining);
          const keys = path === 'allowed' ? ALLOWED_KEYS : [HOT_KEY];
          const route = PATHS[path].route;
          sampleLoad();
          await load(server.port, route, keys, { seconds: CONFIG.httpWarmup });
          await sleep(100); // let the warm-up's last requests finish before Redis's counters are reset
          const before = limiter === 'tokenbucket' ? await server.call({ type: 'counters' }) : null;
          const serverCpu0 = processCpuSeconds(server.proc.pid);
          const { result, commands, redisCpuSeconds } = await accounted(() => load(server.port, route, keys, { seconds: CONFIG.httpSeconds }));
          const serverCpu = processCpuSeconds(server.proc.pid) - serverCpu0;
          const after = limiter === 'tokenbucket' ? await server.call({ type: 'counters' }) : null;
          const run = {
            round,
            framework,
            limiter,
            pipelining,
            path,
            rps: result.rps,
            latencyMs: result.latencyMs,
            requests: result.requests,
            statuses: result.statuses,
            errors: result.errors,
            timeouts: result.timeouts,
            redisCommandsPerRequest: sum(commands) / result.requests,
            redisCpuUsPerRequest: (redisCpuSeconds * 1e6) / result.requests,
            serverCpuUsPerRequest: (serverCpu * 1e6) / result.requests,
            load1: os.loadavg()[0],
          };
          if (after) run.storeErrors = after.storeErrors - before.storeErrors + (after.storeDown - before.storeDown);
          run.problems = httpProblems(run);
          runs.push(run);
          log(
            `http r${round} ${framework} ${path} pipelining ${pipelining} ${limiter}: ${Math.round(run.rps)} req/s` +
              ` ${JSON.stringify(run.statuses)} ${run.redisCommandsPerRequest.toFixed(2)} cmds/req${run.problems.length ? ` PROBLEM ${run.problems.join('; ')}` : ''}`,
          );
        }
      }
    }
  }
}

/** What would make a run's figure meaningless: errors, or a path that did not do what it says. */
function httpProblems(run) {
  const problems = [];
  const n = run.requests;
  const ok = run.statuses['200'] ?? 0;
  const limited = run.statuses['429'] ?? 0;
  if (run.errors || run.timeouts) problems.push(`${run.errors} errors, ${run.timeouts} timeouts`);
  if (run.storeErrors) problems.push(`${run.storeErrors} store errors (ours fell back to memory)`);
  if (run.path === 'allowed' || run.limiter === 'none') {
    if (ok !== n) problems.push(`${n - ok} of ${n} not 200`);
  } else if (limited < 0.99 * n) {
    problems.push(`only ${limited} of ${n} denied`);
  }
  return problems;
}

// ---- raw decisions ----------------------------------------------------------------------------

const RAW_LIBS = ['tokenbucket', 'rate-limiter-flexible', 'rate-limiter-flexible+block'];

async function rawBench(runs) {
  const raw = child('./raw.mjs');
  await raw.call({ type: 'init', wideKeys: CONFIG.wideKeys });
  for (let round = 1; round <= CONFIG.rawRounds; round++) {
    for (const keys of ['hot', 'wide']) {
      for (const path of Object.keys(PATHS)) {
        for (const pipelining of CONFIG.pipelining) {
          for (const lib of RAW_LIBS) {
            const spec = { lib, pipelining, keys, path };
            sampleLoad();
            await raw.call({ type: 'warmup', spec, seconds: CONFIG.rawWarmup, inFlight: CONFIG.inFlight });
            const { result, commands, redisCpuSeconds } = await accounted(() =>
              raw.call({ type: 'measure', spec, seconds: CONFIG.rawSeconds, inFlight: CONFIG.inFlight }),
            );
            const n = result.decisions;
            const run = {
              round,
              ...spec,
              rps: result.rps,
              latencyMs: result.latencyMs,
              decisions: n,
              allowed: result.allowed,
              denied: result.denied,
              errors: result.errors,
              redisCommandsPerDecision: sum(commands) / n,
              redisCommands: per(commands, n),
              redisCpuUsPerDecision: (redisCpuSeconds * 1e6) / n,
              load1: os.loadavg()[0],
            };
            run.problems = [];
            if (run.errors) run.problems.push(`${run.errors} errors`);
            if (path === 'allowed' && run.allowed !== n) run.problems.push(`${n - run.allowed} denied on the allowed path`);
            if (path === 'denied' && run.denied < 0.99 * n) run.problems.push(`only ${run.denied} of ${n} denied`);
            runs.push(run);
            log(
              `raw r${round} ${keys} ${path} pipelining ${pipelining} ${lib}: ${Math.round(run.rps)}/s p50 ${run.latencyMs.p50.toFixed(2)} ms` +
                ` p99 ${run.latencyMs.p99.toFixed(2)} ms ${run.redisCommandsPerDecision.toFixed(2)} cmds${run.problems.length ? ` PROBLEM ${run.problems.join('; ')}` : ''}`,
            );
          }
        }
      }
    }
  }
  await raw.stop();
}

// ---- summaries --------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function summarizeHttp(runs) {
  const rows = [];
  for (const framework of frameworks) {
    for (const limiter of LIMITERS[framework]) {
      for (const path of Object.keys(PATHS)) {
        for (const pipelining of CONFIG.pipelining) {
          const mine = runs.filter((r) => r.framework === framework && r.limiter === limiter && r.path === path && r.pipelining === pipelining);
          if (mine.length === 0) continue;
          const ratios = mine.map((r) => {
            const base = runs.find(
              (b) => b.framework === framework && b.limiter === 'none' && b.round === r.round && b.path === path && b.pipelining === pipelining,
            );
            return r.rps / base.rps;
          });
          rows.push({
            framework,
            limiter,
            path,
            pipelining,
            rounds: mine.length,
            rps: median(mine.map((r) => r.rps)),
            ratio: median(ratios),
            ratios,
            p99Ms: median(mine.map((r) => r.latencyMs.p99)),
            redisCommandsPerRequest: median(mine.map((r) => r.redisCommandsPerRequest)),
            redisCpuUsPerRequest: median(mine.map((r) => r.redisCpuUsPerRequest)),
            serverCpuUsPerRequest: median(mine.map((r) => r.serverCpuUsPerRequest)),
            problems: mine.flatMap((r) => r.problems),
          });
        }
      }
    }
  }
  return rows;
}

function summarizeRaw(runs) {
  const rows = [];
  for (const keys of ['hot', 'wide']) {
    for (const path of Object.keys(PATHS)) {
      for (const lib of RAW_LIBS) {
        for (const pipelining of CONFIG.pipelining) {
          const mine = runs.filter((r) => r.lib === lib && r.pipelining === pipelining && r.keys === keys && r.path === path);
          if (mine.length === 0) continue;
          rows.push({
            lib,
            pipelining,
            keys,
            path,
            rounds: mine.length,
            rps: median(mine.map((r) => r.rps)),
            p50Ms: median(mine.map((r) => r.latencyMs.p50)),
            p99Ms: median(mine.map((r) => r.latencyMs.p99)),
            redisCommandsPerDecision: median(mine.map((r) => r.redisCommandsPerDecision)),
            redisCpuUsPerDecision: median(mine.map((r) => r.redisCpuUsPerDecision)),
            problems: mine.flatMap((r) => r.problems),
          });
        }
      }
    }
  }
  return rows;
}

// ---- main -------------------------------------------------------------------------------------

function versions() {
  const pkg = (name) => JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, HERE), 'utf8')).version;
  const names = [
    'express',
    'fastify',
    'koa',
    '@koa/router',
    'ioredis',
    'autocannon',
    'express-rate-limit',
    'rate-limit-redis',
    'rate-limiter-flexible',
    '@fastify/rate-limit',
    'koa-ratelimit',
  ];
  return Object.fromEntries(names.map((n) => [n, pkg(n)]));
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '../packages', '.'], { cwd: HERE, encoding: 'utf8' }).trim();
    return dirty ? `${head} (uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

async function main() {
  const server = await admin.info('server');
  const cpus = os.cpus();
  const meta = {
    date: new Date().toISOString(),
    mode: CONFIG.mode,
    commit: gitCommit(),
    machine: {
      cpus: `${cpus.length} x ${cpus[0]?.model ?? 'unknown'}`,
      memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      redis: /redis_version:(\S+)/.exec(server)[1],
    },
    loadavgBefore: os.loadavg(),
    config: CONFIG,
    versions: versions(),
  };
  log(
    `mode ${CONFIG.mode}: ${meta.machine.cpus}, node ${meta.machine.node}, redis ${meta.machine.redis}, load ${meta.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}`,
  );

  const httpRuns = [];
  const redisRows = [];
  const rawRuns = [];
  if (only.includes('http') || only.includes('redis')) {
    for (const framework of frameworks) {
      const servers = [];
      try {
        for (const limiter of LIMITERS[framework]) {
          for (const pipelining of limiter === 'none' ? ['off'] : CONFIG.pipelining) {
            servers.push(await startServer(framework, limiter, pipelining));
          }
        }
        if (only.includes('redis')) redisRows.push(...(await redisCosts(servers)));
        if (only.includes('http')) {
          await admin.flushall();
          await httpBench(framework, servers, httpRuns);
        }
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
  }
  if (only.includes('raw')) {
    await admin.flushall();
    await rawBench(rawRuns);
  }

  sampleLoad();
  meta.loadavgAfter = os.loadavg();
  meta.load1DuringRuns = { min: Math.min(...loadSamples), max: Math.max(...loadSamples), median: median(loadSamples) };
  meta.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  const results = {
    meta,
    http: { summary: summarizeHttp(httpRuns), runs: httpRuns },
    raw: { summary: summarizeRaw(rawRuns), runs: rawRuns },
    redis: redisRows,
  };
  const md = markdown(results);
  const dir = new URL('results/', HERE);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${CONFIG.mode}.json`, dir), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL(`${CONFIG.mode}.md`, dir), md);
  writeFileSync(new URL(`${CONFIG.mode}.svg`, dir), chartSvg(results));
  process.stdout.write(md);
  log(`wrote bench/results/${CONFIG.mode}.{json,md,svg} in ${meta.elapsedSeconds} s`);
}

try {
  await main();
} finally {
  await loader.stop().catch(() => {});
  admin.disconnect();
}
