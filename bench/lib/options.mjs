// The bench's command line and its two modes: quick (checks the harness) and full (the figures).

export const SECTIONS = ['redis', 'http', 'raw', 'cluster'];
export const FRAMEWORKS = ['express', 'fastify', 'koa'];

/** Which limiters run on which framework, the baseline first; ours last. */
export const LIMITERS = {
  express: ['none', 'express-rate-limit', 'rate-limiter-flexible', 'tokenbucket'],
  fastify: ['none', '@fastify/rate-limit', 'rate-limiter-flexible', 'tokenbucket'],
  koa: ['none', 'koa-ratelimit', 'tokenbucket'],
};

/** The app file, apps/<framework>-<limiter>.mjs (`@fastify/rate-limit`: `fastify-rate-limit`). */
export const appFile = (framework, limiter) => new URL(`../apps/${framework}-${limiter.replace('@', '').replace('/', '-')}.mjs`, import.meta.url);

const MODES = {
  // One short round of everything: checks the harness and the apps, not the figures.
  quick: {
    rounds: 1,
    httpSeconds: 0.5,
    httpWarmup: 0.2,
    latencySeconds: 0.3,
    latencyWarmup: 0.1,
    rawRounds: 1,
    rawSeconds: 0.3,
    rawWarmup: 0.1,
    wideKeys: 10_000,
    statsRequests: 300,
  },
  // The figures: HTTP and Cluster rounds `rounds`, raw rounds on one Redis `rawRounds`.
  full: {
    rounds: 4,
    httpSeconds: 2,
    httpWarmup: 0.5,
    latencySeconds: 0.75,
    latencyWarmup: 0.25,
    rawRounds: 3,
    rawSeconds: 1.5,
    rawWarmup: 0.3,
    wideKeys: 100_000,
    statsRequests: 2000,
  },
};

/** Figures both modes share. */
const COMMON = {
  connections: 50,
  allowedKeys: 16,
  inFlight: 100,
  pipelining: ['off', 'on'],
  clusterKeys: 10_000,
  clusterFramework: 'fastify',
};

function listOption(argv, name, all) {
  const given = argv.find((a) => a.startsWith(`--${name}=`));
  if (!given) return all;
  const list = given
    .slice(name.length + 3)
    .split(',')
    .filter(Boolean);
  const unknown = list.filter((x) => !all.includes(x));
  if (unknown.length) throw new Error(`--${name}: unknown ${unknown.join(', ')} (one or more of ${all.join(', ')})`);
  return list;
}

/** `--quick`, `--only=<sections>`, `--frameworks=<names>`; throws on anything else. */
export function parseOptions(args) {
  // A literal `--` arrives when options are passed through `pnpm bench -- ...`.
  const argv = args.filter((a) => a !== '--');
  const known = /^--(quick|only=.*|frameworks=.*)$/;
  const bad = argv.filter((a) => !known.test(a));
  if (bad.length) throw new Error(`unknown option(s) ${bad.join(' ')}; use --quick, --only=${SECTIONS.join(',')}, --frameworks=${FRAMEWORKS.join(',')}`);
  const mode = argv.includes('--quick') ? 'quick' : 'full';
  return {
    mode,
    only: listOption(argv, 'only', SECTIONS),
    frameworks: listOption(argv, 'frameworks', FRAMEWORKS),
    config: { mode, ...MODES[mode], ...COMMON },
  };
}
