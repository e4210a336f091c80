// The benchmark's entry: runs the sections asked for (HTTP apps, raw decisions, Redis cost, the
// Cluster), then writes bench/results/<mode>.{json,md,svg} and prints the markdown.
// Run through run.sh (`pnpm bench` / `pnpm bench:quick`), which starts and stops its own Redis
// and Cluster and passes them in BENCH_REDIS_URL and BENCH_CLUSTER_NODES.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { httpRounds } from './lib/http.mjs';
import { FRAMEWORKS, LIMITERS, parseOptions, SECTIONS } from './lib/options.mjs';
import { worker } from './lib/processes.mjs';
import { clusterSpecs, rawRounds, standaloneSpecs } from './lib/raw.mjs';
import { redisCosts } from './lib/redis-cost.mjs';
import { RedisMeter } from './lib/redis-meter.mjs';
import { writeResults } from './lib/results.mjs';
import { median } from './lib/summary.mjs';

const HERE = new URL('.', import.meta.url);

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

/** The targets the bench can run against: one Redis, and a Cluster when run.sh started one. */
function targetsFromEnv(env) {
  if (!env.BENCH_REDIS_URL) throw new Error('BENCH_REDIS_URL is not set: run bench/run.sh (pnpm bench), which starts its own redis-server');
  const targets = { redis: { name: 'redis', env: { BENCH_REDIS_URL: env.BENCH_REDIS_URL }, urls: [env.BENCH_REDIS_URL] } };
  if (env.BENCH_CLUSTER_NODES) {
    const nodes = env.BENCH_CLUSTER_NODES.split(',');
    targets.cluster = { name: 'cluster', env: { BENCH_CLUSTER_NODES: env.BENCH_CLUSTER_NODES }, urls: nodes.map((n) => `redis://${n}`) };
  }
  return targets;
}

export async function main(argv = process.argv.slice(2), env = process.env) {
  const { mode, only, frameworks, config } = parseOptions(argv);
  const targets = targetsFromEnv(env);
  if (only.includes('cluster') && !targets.cluster) throw new Error('BENCH_CLUSTER_NODES is not set: run bench/run.sh, which starts a Cluster');
  const started = Date.now();
  const log = (...args) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s]`, ...args);
  const loadSamples = [];
  const sampleLoad = () => loadSamples.push(os.loadavg()[0]);
  const loader = worker('workers/load.mjs');
  const meters = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, new RedisMeter(t.urls)]));
  const bench = (targetName) => ({ config, loader, meter: meters[targetName], target: targets[targetName], log, sampleLoad });

  const cpus = os.cpus();
  // Only a full run of every section and framework is written as results/full.*.
  const complete = only.length === SECTIONS.length && frameworks.length === FRAMEWORKS.length;
  const meta = {
    date: new Date().toISOString(),
    mode,
    output: mode === 'full' && !complete ? 'partial' : mode,
    only,
    frameworks,
    commit: gitCommit(),
    machine: {
      cpus: `${cpus.length} x ${cpus[0]?.model ?? 'unknown'}`,
      memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      redis: await meters.redis.version(),
      cluster: targets.cluster ? `${targets.cluster.urls.length} masters, no replicas` : undefined,
    },
    loadavgBefore: os.loadavg(),
    config,
    versions: versions(),
  };
  log(
    `mode ${mode}, sections ${only.join(',')}: ${meta.machine.cpus}, node ${meta.machine.node}, redis ${meta.machine.redis}, load ${meta.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}`,
  );

  const runs = [];
  const redisCostRows = [];
  const primes = [];
  // A section that fails is reported, and the others still run and are written.
  const failures = [];
  const section = async (name, fn) => {
    try {
      await fn();
    } catch (err) {
      failures.push(`${name}: ${err.message}`);
      log(`SECTION FAILED ${name}: ${err.stack}`);
    }
  };
  try {
    for (const framework of frameworks) {
      const limiters = LIMITERS[framework];
      if (only.includes('redis'))
        await section(`redis ${framework}`, async () => redisCostRows.push(...(await redisCosts(bench('redis'), { framework, limiters }))));
      if (only.includes('http')) await section(`http ${framework}`, () => httpRounds(bench('redis'), { framework, limiters }, runs));
    }
    if (only.includes('raw')) {
      await section('raw', () =>
        rawRounds(bench('redis'), { specs: standaloneSpecs(config), rounds: config.rawRounds, wideKeys: config.wideKeys }, runs, primes),
      );
    }
    if (only.includes('cluster')) {
      const cluster = bench('cluster');
      await section('cluster raw', () => rawRounds(cluster, { specs: clusterSpecs(config), rounds: config.rounds, wideKeys: config.clusterKeys }, runs));
      const framework = config.clusterFramework;
      await section(`cluster http ${framework}`, () =>
        httpRounds(cluster, { framework, limiters: LIMITERS[framework], paths: ['allowed'], latency: false }, runs),
      );
    }
  } finally {
    await loader.stop();
    for (const meter of Object.values(meters)) meter.disconnect();
  }

  sampleLoad();
  meta.loadavgAfter = os.loadavg();
  meta.load1DuringRuns = { min: Math.min(...loadSamples), max: Math.max(...loadSamples), median: median(loadSamples) };
  meta.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  meta.failures = failures;
  const { markdown } = writeResults({ meta, runs, redis: redisCostRows, primes });
  process.stdout.write(markdown);
  log(`wrote bench/results/${meta.output}.{json,md,svg} in ${meta.elapsedSeconds} s`);
  if (failures.length) {
    log(`${failures.length} section(s) failed: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
