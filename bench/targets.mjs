// The HTTP targets of the hot-key work, measured so that a small shared machine can be trusted:
// the server under test pinned to a core of its own (taskset), the load generator and Redis on
// the other; server CPU per request (/proc/<pid>/stat), Redis CPU and commands per request (INFO
// cpu and commandstats, reset with CONFIG RESETSTAT before each run) beside req/s; an A/A
// control (the baseline app against a second process of itself) in every scenario; every ratio
// as its median over interleaved rounds with the spread (min-max) across them, each run in a new
// process of its app (one process's cost can sit apart from another's of the same file for its
// whole life: see bench/README.md, "The Fastify allowed path, bisected"). Optionally the same
// apps on another build of the packages (`--baseline-dir`), for before/after in one run.
//
//   bash bench/targets.sh [--baseline=<commit>] [--rounds=5] [--seconds=2] [--warmup=1] [--only=fastify-allowed,...] [--processes=fresh|kept]
//   bash bench/targets.sh --only=fastify-ladder     # the Fastify allowed path taken apart, step by step
//
// targets.sh builds the packages (and the baseline commit's, once, in a folder of its own),
// starts a throwaway redis-server and runs this with BENCH_REDIS_URL. Prints figures (markdown
// on stdout, progress on stderr) and writes bench/results/targets.{json,md}; asserts nothing.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { processCpuSeconds, startApp, worker } from './lib/processes.mjs';
import { RedisMeter, sumValues } from './lib/redis-meter.mjs';
import { median } from './lib/summary.mjs';

const DEFAULTS = { rounds: 5, seconds: 2, warmup: 1, connections: 50, only: '', processes: 'fresh', 'baseline-dir': '', 'baseline-label': 'baseline' };
const TEXT = new Set(['only', 'processes', 'baseline-dir', 'baseline-label']);

function parse(argv) {
  const opts = { ...DEFAULTS };
  for (const arg of argv) {
    const m = /^--([\w-]+)=(.*)$/.exec(arg);
    if (!m || !(m[1] in DEFAULTS))
      throw new Error(
        `unknown argument ${arg}; options: ${Object.keys(DEFAULTS)
          .map((k) => `--${k}=`)
          .join(' ')}`,
      );
    opts[m[1]] = TEXT.has(m[1]) ? m[2] : Number(m[2]);
  }
  if (opts.processes !== 'fresh' && opts.processes !== 'kept') throw new Error(`--processes=${opts.processes}: fresh or kept`);
  return opts;
}

const APPS = new URL('./apps/', import.meta.url);
const LEASES = { BENCH_LEASES: 'on' };

/**
 * A ladder scenario of `framework`'s allowed path: its no-limiter app, the `steps` ([label, file
 * in controls/]), then ours (apps/<framework>-tokenbucket.mjs) with each of `ours`' env.
 */
function ladder(framework, steps, ours) {
  return {
    name: `${framework}-ladder`,
    optional: true,
    ladder: true,
    path: '/a',
    status: 200,
    baseline: `${framework}-none.mjs`,
    controls: steps.map(([label, file]) => ({ label, file: new URL(`./controls/${file}`, import.meta.url) })),
    ours: ours.map((o) => ({ ...o, file: `${framework}-tokenbucket.mjs` })),
  };
}

/**
 * The scenarios: one API key hammering one route (a hot key), against the framework's minimal
 * no-limiter server with the same route and body (allowed), or a no-limiter server writing the
 * same 429 status, headers and problem body (denied). `ours` are our app's variants; each also
 * runs on the baseline build when one is given. `target` is the issue's floor for the ratio,
 * `commands` its ceiling for Redis commands per request.
 */
const SCENARIOS = [
  {
    name: 'fastify-allowed',
    path: '/a',
    status: 200,
    baseline: 'fastify-none.mjs',
    controls: [
      ['no limiter, a hook writing the two headers (control)', 'fastify-hook-headers.mjs'],
      ['no limiter, a Redis client connected, idle (control)', 'fastify-none-redis-client.mjs'],
      ['no limiter, the headers hook and a Redis client (control)', 'fastify-hook-headers-redis-client.mjs'],
    ].map(([label, file]) => ({ label, file: new URL(`./controls/${file}`, import.meta.url) })),
    ours: [
      { label: 'ours, leases on', file: 'fastify-tokenbucket.mjs', env: LEASES, target: 0.9, commands: 0.05 },
      { label: 'ours, leases off', file: 'fastify-tokenbucket.mjs', env: {} },
    ],
  },
  {
    name: 'express-allowed',
    path: '/a',
    status: 200,
    baseline: 'express-none.mjs',
    ours: [{ label: 'ours, leases on', file: 'express-tokenbucket.mjs', env: LEASES, target: 0.9 }],
  },
  {
    name: 'koa-allowed',
    path: '/a',
    status: 200,
    baseline: 'koa-none.mjs',
    ours: [{ label: 'ours, leases on', file: 'koa-tokenbucket.mjs', env: LEASES, target: 0.9 }],
  },
  {
    name: 'fastify-denied',
    path: '/d',
    status: 429,
    baseline: 'fastify-none-429.mjs',
    ours: [{ label: 'ours', file: 'fastify-tokenbucket.mjs', env: {}, target: 0.9 }],
  },
  // Not targets: the allowed path taken apart, one piece added per step (the files' header
  // comments say what each isolates), run only when named in --only. The report adds each step's
  // CPU over the step before it, per round.
  ladder(
    'fastify',
    [
      ['1. plugin registered, route not limited', 'fastify-ladder-1-plugin.mjs'],
      ['2. + a route hook calling done()', 'fastify-ladder-2-hook.mjs'],
      ['3. + the hook writing our two fields as constants', 'fastify-ladder-3-headers.mjs'],
      ['4. + a MemoryStore take (limiter.takeById)', 'fastify-ladder-4-take.mjs'],
      ['5. + our whole decision (handle), headers not written', 'fastify-ladder-5-decide.mjs'],
      ['6. ours on a MemoryStore (computed headers written)', 'fastify-ladder-6-ours-memory.mjs'],
      ['7. + an ioredis client connected, idle', 'fastify-ladder-7-ioredis-idle.mjs'],
    ],
    [
      { label: '8. ours, RedisStore, leases on', env: LEASES },
      { label: '9. as 8, leases of up to 10,000 tokens', env: { BENCH_LEASES: '{"maxTokens":10000}' } },
    ],
  ),
  ladder(
    'koa',
    [
      ['1. + a route middleware calling next()', 'koa-ladder-1-middleware.mjs'],
      ['2. + the middleware writing our two fields as constants', 'koa-ladder-2-headers.mjs'],
      ['3. ours on a MemoryStore', 'koa-ladder-3-ours-memory.mjs'],
    ],
    [{ label: '4. ours, RedisStore, leases on', env: LEASES }],
  ),
  ladder(
    'express',
    [
      ['1. + a route middleware calling next()', 'express-noop-middleware.mjs'],
      ['2. + the middleware writing our two fields as constants', 'express-ladder-2-headers.mjs'],
      ['3. ours on a MemoryStore', 'express-ladder-3-ours-memory.mjs'],
    ],
    [{ label: '4. ours, RedisStore, leases on', env: LEASES }],
  ),
  { name: 'express-denied', path: '/d', status: 429, baseline: 'express-none-429.mjs', ours: [{ label: 'ours', file: 'express-tokenbucket.mjs', env: {} }] },
  { name: 'koa-denied', path: '/d', status: 429, baseline: 'koa-none-429.mjs', ours: [{ label: 'ours', file: 'koa-tokenbucket.mjs', env: {} }] },
];

/** Where each part runs: the server under test alone on the first core, everything else on the rest. */
function placement() {
  const n = cpus().length;
  let taskset = false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    taskset = true;
  } catch {
    // util-linux's taskset is missing: nothing is pinned, and the report says so.
  }
  if (!taskset || n < 2) return { pinned: false, why: taskset ? `${n} core: nothing to pin apart` : 'taskset not found (util-linux)' };
  return { pinned: true, server: '0', rest: n === 2 ? '1' : `1-${n - 1}` };
}

const pin = (where, cpuList, pid) => where.pinned && execFileSync('taskset', ['-a', '-cp', cpuList, String(pid)], { stdio: 'ignore' });

/** The apps of the baseline build: this checkout's app files, copied beside the baseline's packages so that they import those. */
function baselineApps(dir) {
  const to = `${dir}/bench/apps-now/`;
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(APPS)) if (f.endsWith('.mjs')) cpSync(new URL(f, APPS), `${to}${f}`);
  return new URL(`file://${to}`);
}

/** The app processes of one scenario, in the order of the first round. */
function appsOf(scenario, baseDir, baseLabel) {
  const list = [
    { label: 'no limiter', file: new URL(scenario.baseline, APPS), env: {}, role: 'baseline' },
    { label: 'no limiter, again (A/A control)', file: new URL(scenario.baseline, APPS), env: {}, role: 'control' },
  ];
  for (const c of scenario.controls ?? []) list.push({ ...c, env: c.env ?? {}, role: 'control' });
  for (const o of scenario.ours) list.push({ ...o, label: `${o.label} (this checkout)`, file: new URL(o.file, APPS), role: 'ours' });
  if (baseDir) for (const o of scenario.ours) list.push({ ...o, label: `${o.label} (${baseLabel})`, file: new URL(o.file, baseDir), role: 'before' });
  return list;
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const spread = (xs, d = 2) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? `${fmt(median(s), d)} [${fmt(s[0], d)}–${fmt(s[s.length - 1], d)}]` : '-';
};

async function runScenario(scenario, opts, ctx) {
  const { where, meter, loader, log } = ctx;
  const apps = appsOf(scenario, ctx.baseApps, opts['baseline-label']);
  const started = apps.map(() => undefined);
  const runs = apps.map(() => []);
  const env = { BENCH_REDIS_URL: process.env.BENCH_REDIS_URL, PORT: '0' };
  const start = async (i) => {
    const proc = await startApp(apps[i].file, { ...env, ...apps[i].env });
    pin(where, where.server, proc.pid);
    started[i] = proc;
    return proc;
  };
  try {
    // Kept processes (--processes=kept) start once and serve every round; fresh ones (the default)
    // start for each run and stop after it, so that each round also samples a new process.
    if (opts.processes === 'kept') for (let i = 0; i < apps.length; i++) await start(i);
    for (let round = 0; round < opts.rounds; round++) {
      for (let j = 0; j < apps.length; j++) {
        const i = (j + round) % apps.length;
        const proc = opts.processes === 'kept' ? started[i] : await start(i);
        await meter.flushall();
        const load = (seconds) =>
          loader.call({ url: `http://127.0.0.1:${proc.port}${scenario.path}`, connections: opts.connections, keys: ['hot-key'], seconds });
        await load(opts.warmup);
        const cpu0 = processCpuSeconds(proc.pid);
        const { result, commands, redisCpuSeconds } = await meter.measure(() => load(opts.seconds));
        const serverSeconds = processCpuSeconds(proc.pid) - cpu0;
        const n = result.requests;
        const other = n - (result.statuses[scenario.status] ?? 0);
        const run = {
          round: round + 1,
          rps: result.rps,
          serverUs: (serverSeconds * 1e6) / n,
          redisUs: (redisCpuSeconds * 1e6) / n,
          commandsPerRequest: sumValues(commands) / n,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          commands,
          statuses: result.statuses,
          problems: [
            ...(other > 0 ? [`${other} responses not ${scenario.status}`] : []),
            ...(result.errors || result.timeouts ? [`${result.errors} errors, ${result.timeouts} time-outs`] : []),
            ...(proc.failures ? [`${proc.failures} store failures`] : []),
            ...(proc.exited ? ['the app exited'] : []),
          ],
          load1: loadavg()[0],
        };
        runs[i].push(run);
        if (opts.processes !== 'kept') {
          await proc.stop();
          started[i] = undefined;
        }
        log(
          `${scenario.name} r${round + 1} ${apps[i].label}: ${Math.round(run.rps)} req/s, server ${fmt(run.serverUs, 1)} µs/req, Redis ${fmt(run.redisUs, 1)} µs/req, ${fmt(run.commandsPerRequest, 3)} commands/req, p99 ${fmt(run.p99Ms, 2)} ms${run.problems.length ? ` ⚠ ${run.problems.join('; ')}` : ''}`,
        );
      }
    }
  } finally {
    await Promise.all(started.filter((p) => p !== undefined).map((p) => p.stop()));
  }
  const base = runs[0];
  return apps.map((app, i) => {
    const mine = runs[i];
    const ratios = mine.map((r, k) => r.rps / base[k].rps);
    // The server has a core of its own: saturated, it serves 1 / (CPU per request) a second, so
    // this is the ratio req/s would show if the load generator never held it back.
    const cpuRatios = mine.map((r, k) => base[k].serverUs / r.serverUs);
    return {
      scenario: scenario.name,
      label: app.label,
      role: app.role,
      target: app.target,
      commandsTarget: app.commands,
      rounds: mine.length,
      rps: median(mine.map((r) => r.rps)),
      ratios,
      ratio: median(ratios),
      cpuRatios,
      cpuRatio: median(cpuRatios),
      serverUs: mine.map((r) => r.serverUs),
      serverAddedUs: mine.map((r, k) => r.serverUs - base[k].serverUs),
      redisUs: mine.map((r) => r.redisUs),
      commandsPerRequest: mine.map((r) => r.commandsPerRequest),
      p99Ms: mine.map((r) => r.p99Ms),
      problems: [...new Set(mine.flatMap((r) => r.problems))],
      runs: mine,
    };
  });
}

function report(rows, meta) {
  const out = [];
  out.push(`# Hot-key targets (bench/targets.mjs)\n`);
  out.push(`${meta.node}, ${meta.cpus} cores (${meta.cpuModel}), redis-server ${meta.redis}; ${meta.when}`);
  out.push(
    meta.where.pinned
      ? `Server under test pinned to CPU ${meta.where.server}; the load generator, Redis and this process to CPU ${meta.where.rest} (taskset).`
      : `Nothing pinned: ${meta.where.why}.`,
  );
  out.push(
    `${meta.opts.rounds} interleaved rounds per scenario (order turning each round), ${meta.opts.warmup} s warm-up + ${meta.opts.seconds} s measured per run, ${meta.opts.connections} connections, one API key; ${meta.opts.processes === 'kept' ? 'each app one process for every round (--processes=kept)' : 'each run in a new process of its app'}.`,
  );
  out.push(`Load average (1 min) before ${meta.loadBefore}, after ${meta.loadAfter}, during the runs ${meta.loadDuring}. Took ${meta.minutes} min.\n`);
  out.push(
    'Ratios are against the no-limiter app of the same round, median [min–max] over rounds: of req/s, and of server CPU per request (no-limiter µs/req ÷ this µs/req: what req/s would read with the server saturated on its own core, which the load generator sharing the other core cannot always do). CPU and commands are per request, median [min–max]. The targets are read off the CPU ratio.\n',
  );
  out.push(
    '| scenario | app | req/s | req/s ratio | CPU ratio | target | server CPU µs/req | server µs added | Redis CPU µs/req | Redis commands/req | p99 latency, ms |',
  );
  out.push('|---|---|---:|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const target = [
      r.target ? `>= ${r.target.toFixed(2)}${r.cpuRatio >= r.target ? ' ✓' : ' ✗'}` : '',
      r.commandsTarget ? `cmds <= ${r.commandsTarget}${median(r.commandsPerRequest) <= r.commandsTarget ? ' ✓' : ' ✗'}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push(
      `| ${r.scenario} | ${r.label}${r.problems.length ? ' ⚠' : ''} | ${Math.round(r.rps)} | ${r.role === 'baseline' ? '1' : spread(r.ratios)} | ${r.role === 'baseline' ? '1' : spread(r.cpuRatios)} | ${target || '-'} | ${spread(r.serverUs, 1)} | ${r.role === 'baseline' ? '-' : spread(r.serverAddedUs, 1)} | ${spread(r.redisUs, 1)} | ${spread(r.commandsPerRequest, 3)} | ${spread(r.p99Ms, 1)} |`,
    );
  }
  for (const name of meta.ladders) out.push(ladderTable(rows.filter((r) => r.scenario === name)));
  const problems = rows.filter((r) => r.problems.length);
  if (problems.length) {
    out.push('\n⚠ Problems:');
    for (const r of problems) out.push(`- ${r.scenario}, ${r.label}: ${r.problems.join('; ')}`);
  }
  out.push(
    "\nThe A/A control is the no-limiter app in a second process: its ratio and spread are what the machine alone does to a ratio in this run. A ratio within the control's spread of 1 is not a measured cost.",
  );
  return out.join('\n');
}

/**
 * A ladder scenario's steps in order (the no-limiter app first, the A/A control left out and shown
 * apart): each step's server CPU per request over the step before it, paired within each round
 * (both ran in the same round), median [min–max], and over the no-limiter app.
 */
function ladderTable(rows) {
  const steps = rows.filter((r) => r.role !== 'control' || !r.label.startsWith('no limiter, again'));
  const control = rows.find((r) => r.label.startsWith('no limiter, again'));
  const out = [`\n### ${rows[0].scenario}: each step over the step before it\n`];
  out.push('| step | server CPU µs/req | µs/req added over the previous step | µs/req added over no limiter | CPU ratio |');
  out.push('|---|---|---|---|---|');
  steps.forEach((r, i) => {
    const previous = i === 0 ? undefined : steps[i - 1];
    const overPrevious =
      previous === undefined
        ? '-'
        : spread(
            r.serverUs.map((us, k) => us - previous.serverUs[k]),
            1,
          );
    out.push(
      `| ${r.label} | ${spread(r.serverUs, 1)} | ${overPrevious} | ${i === 0 ? '-' : spread(r.serverAddedUs, 1)} | ${i === 0 ? '1' : spread(r.cpuRatios)} |`,
    );
  });
  if (control)
    out.push(
      `| (A/A control: the no-limiter app again) | ${spread(control.serverUs, 1)} | - | ${spread(control.serverAddedUs, 1)} | ${spread(control.cpuRatios)} |`,
    );
  return out.join('\n');
}

async function main() {
  const opts = parse(process.argv.slice(2));
  if (!process.env.BENCH_REDIS_URL) throw new Error('set BENCH_REDIS_URL (bench/targets.sh starts a Redis and does)');
  const wanted = opts.only ? new Set(opts.only.split(',')) : undefined;
  const scenarios = SCENARIOS.filter((s) => (wanted ? wanted.has(s.name) : !s.optional));
  if (wanted && scenarios.length !== wanted.size) throw new Error(`--only: scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const baseDir = opts['baseline-dir'];
  if (baseDir && !existsSync(`${baseDir}/packages/core/dist`)) throw new Error(`--baseline-dir=${baseDir}: no built packages there`);
  const where = placement();
  const log = (line) => process.stderr.write(`${line}\n`);
  const meter = new RedisMeter([process.env.BENCH_REDIS_URL]);
  const redisPid = Number(/process_id:(\d+)/.exec(await meter.nodes[0].info('server'))[1]);
  pin(where, where.rest, redisPid);
  pin(where, where.rest, process.pid);
  const loader = worker('workers/load.mjs');
  pin(where, where.rest, loader.pid);
  const ctx = { where, meter, loader, log, baseApps: baseDir ? baselineApps(baseDir) : undefined };
  const appRuns = scenarios.reduce((n, s) => n + 2 + (s.controls?.length ?? 0) + s.ours.length * (baseDir ? 2 : 1), 0) * opts.rounds;
  log(
    `${appRuns} runs of ${opts.warmup + opts.seconds} s: about ${Math.ceil((appRuns * (opts.warmup + opts.seconds + (opts.processes === 'kept' ? 0.4 : 1.2))) / 60)} min`,
  );
  const t0 = Date.now();
  const loadBefore = loadavg()[0].toFixed(2);
  const rows = [];
  try {
    for (const s of scenarios) rows.push(...(await runScenario(s, opts, ctx)));
  } finally {
    await loader.stop();
    meter.disconnect();
  }
  const loads = rows.flatMap((r) => r.runs.map((x) => x.load1));
  const meta = {
    node: `node ${process.version}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    redis: execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).replace(/.*v=(\S+).*/s, '$1'),
    when: new Date().toISOString(),
    where,
    opts,
    loadBefore,
    loadAfter: loadavg()[0].toFixed(2),
    loadDuring: `${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)}`,
    minutes: ((Date.now() - t0) / 60_000).toFixed(1),
    ladders: scenarios.filter((s) => s.ladder).map((s) => s.name),
  };
  const md = report(rows, meta);
  console.log(md);
  const results = new URL('./results/', import.meta.url);
  mkdirSync(results, { recursive: true });
  const name = wanted ? 'targets-partial' : 'targets';
  writeFileSync(new URL(`${name}.json`, results), `${JSON.stringify({ meta, rows }, null, 1)}\n`);
  writeFileSync(new URL(`${name}.md`, results), `${md}\n`);
  log(`written: bench/results/${name}.{json,md}`);
}

await main();
