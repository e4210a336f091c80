// HTTP rounds: each app of one framework under autocannon, at 50 connections for throughput and
// at 1 connection for latency, interleaved round after round; one run record per measurement.
import os from 'node:os';
import { PATHS } from '../apps/shared.mjs';
import { appFile } from './options.mjs';
import { processCpuSeconds, startApp } from './processes.mjs';
import { sumValues } from './redis-meter.mjs';

const HOT_KEY = 'hot';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The list turned by `by` places, so that no limiter always runs first or last in a round. */
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

/**
 * Starts the apps of `framework` with `limiters` on `target` (ours and the peers once per
 * auto-pipelining setting, the baseline once), runs `config.rounds` rounds and stops the apps.
 * A round runs, for each path and setting, every limiter once in a rotating order (the baseline
 * among them) at `config.connections` connections; then, when `latency` is set, each path at
 * 1 connection with auto-pipelining off. Appends run records to `runs`.
 *
 * @param {object} bench `{ config, loader, meter, target: { name, env }, log, sampleLoad }`
 */
export async function httpRounds(bench, { framework, limiters, paths = Object.keys(PATHS), latency = true }, runs) {
  const { config, target, log } = bench;
  const apps = new Map();
  const appFor = (limiter, pipelining) => apps.get(limiter === 'none' ? 'none' : `${limiter}|${pipelining}`);
  try {
    for (const limiter of limiters) {
      for (const pipelining of limiter === 'none' ? ['off'] : config.pipelining) {
        const app = await startApp(appFile(framework, limiter), { ...target.env, BENCH_PIPELINING: pipelining });
        apps.set(limiter === 'none' ? 'none' : `${limiter}|${pipelining}`, app);
      }
    }
    await bench.meter.flushall();
    const keysFor = (path) => (path === 'allowed' ? Array.from({ length: config.allowedKeys }, (_, i) => `user-${i}`) : [HOT_KEY]);
    for (let round = 1; round <= config.rounds; round++) {
      for (const path of paths) {
        for (const pipelining of config.pipelining) {
          for (const limiter of rotate(limiters, round - 1)) {
            const spec = { target: target.name, round, framework, limiter, pipelining, path, connections: config.connections };
            const run = await measure(bench, appFor(limiter, pipelining), spec, keysFor(path), config.httpSeconds, config.httpWarmup);
            runs.push(run);
            log(describe(run));
          }
        }
      }
      if (!latency) continue;
      for (const path of paths) {
        for (const limiter of rotate(limiters, round - 1)) {
          const spec = { target: target.name, round, framework, limiter, pipelining: 'off', path, connections: 1 };
          const run = await measure(bench, appFor(limiter, 'off'), spec, keysFor(path), config.latencySeconds, config.latencyWarmup);
          runs.push(run);
          log(describe(run));
        }
      }
    }
  } finally {
    await Promise.all([...apps.values()].map((app) => app.stop()));
  }
}

/** A warm-up, then one measured run with the app's and Redis's CPU and Redis's commands. */
async function measure(bench, app, spec, keys, seconds, warmup) {
  const url = `http://127.0.0.1:${app.port}${PATHS[spec.path].route}`;
  const load = (opts) => bench.loader.call({ url, keys, connections: spec.connections, ...opts });
  bench.sampleLoad();
  await load({ seconds: warmup });
  await sleep(100); // the warm-up's last requests finish before Redis's counters are reset
  const failures = app.failures;
  const cpu0 = processCpuSeconds(app.pid);
  const { result, commands, redisCpuSeconds } = await bench.meter.measure(() => load({ seconds }));
  const serverCpu = processCpuSeconds(app.pid) - cpu0;
  const n = result.requests;
  const run = {
    section: 'http',
    ...spec,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    requests: n,
    statuses: result.statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    commandsPerOp: sumValues(commands) / n,
    redisCpuUs: (redisCpuSeconds * 1e6) / n,
    serverCpuUs: (serverCpu * 1e6) / n,
    storeFailures: app.failures - failures,
    load1: os.loadavg()[0],
  };
  run.problems = problems(run, app);
  return run;
}

/** What would make a run's figure meaningless: errors, or a path that did not do what it says. */
function problems(run, app) {
  const found = [];
  const n = run.requests;
  const ok = run.statuses['200'] ?? 0;
  const limited = run.statuses['429'] ?? 0;
  if (app.exited) found.push('the app exited');
  if (n === 0) found.push('no requests answered');
  if (run.errors || run.timeouts) found.push(`${run.errors} errors, ${run.timeouts} timeouts`);
  if (run.storeFailures) found.push(`${run.storeFailures} store errors (ours fell back to memory)`);
  if (run.limiter !== 'none' && run.path === 'allowed' && !(run.commandsPerOp >= 0.5)) {
    found.push(`${run.commandsPerOp.toFixed(2)} Redis commands per allowed request: the app is not on the Redis measured`);
  }
  if (run.path === 'allowed' || run.limiter === 'none') {
    if (ok !== n) found.push(`${n - ok} of ${n} not 200`);
  } else if (limited < 0.99 * n) {
    found.push(`only ${limited} of ${n} denied`);
  }
  return found;
}

function describe(run) {
  return (
    `http ${run.target} r${run.round} ${run.framework} ${run.path} ${run.connections}c pipelining ${run.pipelining} ${run.limiter}:` +
    ` ${Math.round(run.rps)} req/s p50 ${run.p50Ms.toFixed(3)} ms p99 ${run.p99Ms.toFixed(3)} ms` +
    ` server ${run.serverCpuUs.toFixed(1)} µs + Redis ${run.redisCpuUs.toFixed(1)} µs, ${run.commandsPerOp.toFixed(2)} cmds/req` +
    (run.problems.length ? ` PROBLEM ${run.problems.join('; ')}` : '')
  );
}
