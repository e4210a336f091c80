// Raw decision rounds (no HTTP) in a worker process: ours vs rate-limiter-flexible on one Redis
// or on the Cluster, interleaved round after round; one run record per measurement.
import os from 'node:os';
import { processCpuSeconds, worker } from './processes.mjs';
import { perOp, sumValues } from './redis-meter.mjs';

/** The configurations of the raw section on one Redis: hot and wide keys, allowed and denied. */
export function standaloneSpecs(config) {
  const specs = [];
  for (const keys of ['hot', 'wide']) {
    for (const path of ['allowed', 'denied']) {
      for (const pipelining of config.pipelining) {
        specs.push({ lib: 'tokenbucket', pipelining, keys, path }, { lib: 'rate-limiter-flexible', pipelining, keys, path });
        // The in-memory block only acts on denials, and answers them without Redis, so it runs
        // with one setting: on the allowed path it is the plain peer, and auto-pipelining
        // changes nothing for it (while filling its block with every wide key takes minutes).
        if (path === 'denied' && pipelining === config.pipelining[0]) specs.push({ lib: 'rate-limiter-flexible+block', pipelining, keys, path });
      }
    }
  }
  return specs;
}

/** The configurations of the raw section on the Cluster: allowed decisions over many keys. */
export function clusterSpecs(config) {
  return config.pipelining.flatMap((pipelining) => ['tokenbucket', 'rate-limiter-flexible'].map((lib) => ({ lib, pipelining, keys: 'wide', path: 'allowed' })));
}

/**
 * Starts a raw worker on `bench.target`, warms every spec up once, then runs `rounds` rounds of
 * every spec in a rotating order, each a warm-up and a measured run. Appends run records to `runs`,
 * and to `primes` how long each denied-wide spec took to spend every key's token first.
 */
export async function rawRounds(bench, { specs, rounds, wideKeys }, runs, primes = []) {
  const { config, target, log } = bench;
  const raw = worker('workers/raw.mjs', target.env);
  try {
    await raw.call({ type: 'init', wideKeys });
    await bench.meter.flushall();
    for (const spec of specs) {
      // The first warm-up of a denied-wide spec first denies every key once, which can take
      // minutes (see bench/README.md, raw decisions): it gets its own time limit.
      const warm = await raw.call({ type: 'warmup', spec, seconds: config.rawWarmup, inFlight: config.inFlight }, 900_000);
      if (warm.primeSeconds !== undefined) primes.push({ ...spec, wideKeys, seconds: warm.primeSeconds });
      log(
        `raw ${target.name} warm-up ${spec.keys} ${spec.path} pipelining ${spec.pipelining} ${spec.lib}: ${Math.round(warm.rps)}/s, ${warm.errors} errors` +
          (warm.primeSeconds === undefined ? '' : `, after spending every key's token in ${warm.primeSeconds.toFixed(1)} s`),
      );
    }
    for (let round = 1; round <= rounds; round++) {
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[(i + round - 1) % specs.length];
        bench.sampleLoad();
        await raw.call({ type: 'warmup', spec, seconds: config.rawWarmup, inFlight: config.inFlight });
        const cpu0 = processCpuSeconds(raw.pid);
        const { result, commands, redisCpuSeconds } = await bench.meter.measure(() =>
          raw.call({ type: 'measure', spec, seconds: config.rawSeconds, inFlight: config.inFlight }),
        );
        const cpu = processCpuSeconds(raw.pid) - cpu0;
        const n = result.decisions;
        const run = {
          section: 'raw',
          target: target.name,
          round,
          ...spec,
          wideKeys,
          rps: result.rps,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          decisions: n,
          allowed: result.allowed,
          denied: result.denied,
          errors: result.errors,
          commandsPerOp: sumValues(commands) / n,
          commands: perOp(commands, n),
          redisCpuUs: (redisCpuSeconds * 1e6) / n,
          serverCpuUs: (cpu * 1e6) / n,
          load1: os.loadavg()[0],
        };
        run.problems = [];
        if (run.errors) run.problems.push(`${run.errors} errors`);
        if (spec.path === 'allowed' && !(run.commandsPerOp >= 0.5))
          run.problems.push(`${run.commandsPerOp.toFixed(2)} Redis commands per decision: not on the Redis measured`);
        if (spec.path === 'allowed' && run.allowed !== n) run.problems.push(`${n - run.allowed} denied on the allowed path`);
        if (spec.path === 'denied' && run.denied < 0.99 * n) run.problems.push(`only ${run.denied} of ${n} denied`);
        runs.push(run);
        log(
          `raw ${run.target} r${round} ${spec.keys} ${spec.path} pipelining ${spec.pipelining} ${spec.lib}: ${Math.round(run.rps)}/s` +
            ` p50 ${run.p50Ms.toFixed(2)} ms p99 ${run.p99Ms.toFixed(2)} ms ${run.commandsPerOp.toFixed(2)} cmds` +
            (run.problems.length ? ` PROBLEM ${run.problems.join('; ')}` : ''),
        );
      }
    }
  } finally {
    await raw.stop();
  }
}
