// What the HTTP engine's request path costs, without a framework or a network: requests per
// second through `createHttpLimiter(...).handle` on a MemoryStore, for one limiter allowed, one
// denied, and two limiters stacked on a request, in interleaved rounds; optionally against
// another build of core (BASELINE_CORE), e.g. core before stacked limiters decided as one.
//
//   pnpm build && node bench/engine.mjs [--seconds 1] [--rounds 5]
//
// Baseline, built outside this checkout:
//   mkdir /tmp/tb-base && git archive <commit> | tar -x -C /tmp/tb-base && (cd /tmp/tb-base && pnpm install --frozen-lockfile \
//     --prefer-offline && pnpm --filter @tokenbucket/core build)
//   BASELINE_CORE=/tmp/tb-base/packages/core/dist/esm/index.js node bench/engine.mjs
//
// Prints figures, asserts nothing.
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as main from '@tokenbucket/core';
import * as adapterEntry from '@tokenbucket/core/adapter';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, rounds: { type: 'string', default: '5' } } });
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);

/** A core build's names: the adapter plumbing is on `/adapter` since the entry points split, on the main entry before. */
async function load(mainEntry) {
  const loaded = await import(pathToFileURL(mainEntry).href);
  if (loaded.createHttpLimiter !== undefined) return loaded;
  return { ...loaded, ...(await import(pathToFileURL(mainEntry.replace(/index\.js$/, 'adapter.js')).href)) };
}

const cores = [{ name: 'this core', core: { ...main, ...adapterEntry } }];
if (process.env.BASELINE_CORE) cores.push({ name: 'baseline', core: await load(process.env.BASELINE_CORE) });

/** The adapter contract over plain objects: what every framework adapter does, minus the framework. */
const adapter = {
  incoming: (req) => req,
  ip: () => '127.0.0.1',
  headersSent: () => false,
  setHeader: (res, name, value) => {
    res.headers[name] = value;
  },
  send: (res, status) => {
    res.status = status;
  },
  callOnLimited: () => undefined,
};

const SLOW = 1 / 3600;
/** Each workload: limiters built from one core, and the keys its requests carry. */
const workloads = [
  { name: 'one limiter, allowed', limits: [{ capacity: 1e9, refillPerSecond: 1e6 }] },
  { name: 'one limiter, denied', limits: [{ capacity: 1, refillPerSecond: SLOW }] },
  {
    name: 'two stacked, allowed',
    limits: [
      { name: 'group', capacity: 1e9, refillPerSecond: 1e6 },
      { name: 'route', capacity: 1e9, refillPerSecond: 1e6 },
    ],
  },
];

function run(c, workload) {
  const store = new c.MemoryStore();
  const limiters = workload.limits.map((limit) => c.createHttpLimiter(adapter, { store, ...limit }));
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const req = { headers: { 'x-api-key': 'k' }, rawHeaders: ['x-api-key', 'k'] };
      const res = { headers: {} };
      for (const limiter of limiters) if (limiter.handle(req, res, 'GET /x') !== true) break;
    }
    n += 1000;
  }
  store.close();
  return n / SECONDS;
}

console.log(`node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}; ${ROUNDS} rounds of ${SECONDS} s each`);
for (const workload of workloads) {
  const results = new Map(cores.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? cores : [...cores].reverse();
    for (const c of order) results.get(c.name).push(run(c.core, workload));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const line = cores.map((c) => `${c.name} ${Math.round(median(results.get(c.name)) / 1000)}k/s`).join(', ');
  let ratio = '';
  if (cores.length === 2) {
    const ratios = results.get('this core').map((x, i) => x / results.get('baseline')[i]);
    ratio = `; this/baseline median ${median(ratios).toFixed(2)} (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;
  }
  console.log(`${workload.name}: ${line}${ratio}`);
}
