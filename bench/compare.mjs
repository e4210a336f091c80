// Compares any app files under the same load, as the bench drives its apps: interleaved rounds of
// autocannon against each (its order turning each round), req/s and the server's CPU per request,
// medians over rounds, and each app against the first in the same round. For checking a baseline
// against an app of your own:
//   node bench/compare.mjs [--rounds=8] [--seconds=2] [--warmup=1] [--connections=50] [--path=/a] a.mjs b.mjs ...
// Each file is run with `node <file>`, PORT=0 and the BENCH_* variables of this environment, and
// must print `listening <port>` on stdout when ready (see apps/shared.mjs `announce`).
import { pathToFileURL } from 'node:url';
import { processCpuSeconds, startApp, worker } from './lib/processes.mjs';
import { median } from './lib/summary.mjs';

const DEFAULTS = { rounds: 8, seconds: 2, warmup: 1, connections: 50, path: '/a', keys: 16 };

function parse(argv) {
  const opts = { ...DEFAULTS, files: [] };
  for (const arg of argv) {
    const m = /^--(\w+)=(.*)$/.exec(arg);
    if (!m) opts.files.push(arg);
    else if (m[1] in DEFAULTS) opts[m[1]] = m[1] === 'path' ? m[2] : Number(m[2]);
    else throw new Error(`unknown option ${arg}; options: ${Object.keys(DEFAULTS).join(', ')}`);
  }
  if (opts.files.length < 2) throw new Error('give at least two app files to compare');
  return opts;
}

export async function compare(opts, log = (line) => console.error(line)) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')));
  const loader = worker('workers/load.mjs');
  const apps = [];
  const runs = opts.files.map(() => []);
  try {
    for (const file of opts.files) apps.push(await startApp(file, { ...env, PORT: '0' }));
    const keys = Array.from({ length: opts.keys }, (_, i) => `user-${i}`);
    for (let round = 0; round < opts.rounds; round++) {
      for (let j = 0; j < apps.length; j++) {
        const i = (j + round) % apps.length;
        const app = apps[i];
        const load = (seconds) => loader.call({ url: `http://127.0.0.1:${app.port}${opts.path}`, connections: opts.connections, keys, seconds });
        await load(opts.warmup);
        const cpu0 = processCpuSeconds(app.pid);
        const result = await load(opts.seconds);
        const cpuUs = ((processCpuSeconds(app.pid) - cpu0) * 1e6) / result.requests;
        runs[i].push({ rps: result.rps, cpuUs, statuses: result.statuses });
        log(`r${round + 1} ${opts.files[i]}: ${Math.round(result.rps)} req/s, ${cpuUs.toFixed(1)} µs server CPU/req ${JSON.stringify(result.statuses)}`);
      }
    }
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await loader.stop();
  }
  return opts.files.map((file, i) => ({
    file,
    rps: median(runs[i].map((r) => r.rps)),
    cpuUs: median(runs[i].map((r) => r.cpuUs)),
    rpsRatio: median(runs[i].map((r, k) => r.rps / runs[0][k].rps)),
    cpuRatio: median(runs[i].map((r, k) => r.cpuUs / runs[0][k].cpuUs)),
    cpuUsPerRound: runs[i].map((r) => +r.cpuUs.toFixed(1)),
  }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parse(process.argv.slice(2));
  const rows = await compare(opts);
  console.log(
    `\nMedians of ${opts.rounds} interleaved rounds of ${opts.seconds} s after ${opts.warmup} s of warm-up, ${opts.connections} connections, ${opts.keys} keys, GET ${opts.path}:\n`,
  );
  console.log('| app | req/s | server CPU µs/req | req/s ÷ first (same round) | CPU/req ÷ first (same round) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.file} | ${Math.round(r.rps)} | ${r.cpuUs.toFixed(1)} | ${r.rpsRatio.toFixed(3)} | ${r.cpuRatio.toFixed(3)} |`);
}
