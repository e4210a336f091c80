// From run records to the rows of the report: one summary function (medians over rounds, and each
// run against its baseline in the same round), and the targets read off the rows.

const FIGURES = ['rps', 'p50Ms', 'p99Ms', 'commandsPerOp', 'redisCpuUs', 'serverCpuUs'];

export const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const pick = (obj, fields) => Object.fromEntries(fields.map((f) => [f, obj[f]]));
const matches = (run, fields) => Object.entries(fields).every(([k, v]) => run[k] === v);

/**
 * Groups `runs` that differ only by round (same values of the `by` fields), in first-seen order,
 * into rows holding those fields, the number of rounds, the median of each figure and every
 * problem seen. With `baseline(run)` (the fields its baseline run has; null for a baseline run),
 * each run is also compared with its baseline run of the same round, and the row holds the
 * medians over rounds of: `ratio` (req/s over the baseline's), the server and Redis CPU per
 * request it adds, and the p50 and p99 latency it adds. `noise` marks a ratio above 1: a limiter
 * cannot make an app faster, so such a ratio is the run-to-run spread, not a result.
 */
export function summarize(runs, { by, baseline }) {
  const groups = new Map();
  for (const run of runs) {
    const id = JSON.stringify(pick(run, by));
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(run);
  }
  return [...groups.values()].map((mine) => {
    const row = { ...pick(mine[0], by), rounds: mine.length };
    for (const f of FIGURES) row[f] = median(mine.map((r) => r[f]));
    row.problems = [...new Set(mine.flatMap((r) => r.problems ?? []))];
    const wanted = baseline?.(mine[0]);
    if (wanted) {
      const pairs = mine.map((r) => [r, runs.find((b) => b.round === r.round && matches(b, wanted))]).filter(([, b]) => b);
      const over = (fn) => median(pairs.map(([r, b]) => fn(r, b)));
      row.ratios = pairs.map(([r, b]) => r.rps / b.rps);
      row.ratio = median(row.ratios);
      row.addedServerCpuUs = over((r, b) => r.serverCpuUs - b.serverCpuUs);
      row.addedRedisCpuUs = over((r, b) => r.redisCpuUs - b.redisCpuUs);
      row.addedP50Ms = over((r, b) => r.p50Ms - b.p50Ms);
      row.addedP99Ms = over((r, b) => r.p99Ms - b.p99Ms);
      row.noise = row.ratio > 1;
    }
    return row;
  });
}

/** Issue targets: ratio to no limiter per framework and path, and the factor over the best peer. */
export const TARGETS = {
  http: {
    express: { allowed: 0.95, denied: 0.9 },
    fastify: { allowed: 0.75, denied: 0.9 },
    koa: { allowed: 0.85, denied: 0.9 },
  },
  overBestPeer: 1.2,
  clusterRawOverBestPeer: 1.5,
};

const isPeer = (limiter) => limiter !== 'none' && limiter !== 'tokenbucket';

/**
 * Whether each target is met, per framework and path (ours with each auto-pipelining setting,
 * against the best peer at either setting), and on the Cluster (ours at each setting against
 * rate-limiter-flexible at its best). `noise` where a ratio it rests on is above 1.
 */
export function targets({ http, raw }) {
  const out = [];
  const standalone = http.filter((r) => r.target === 'redis' && r.connections > 1);
  for (const [framework, byPath] of Object.entries(TARGETS.http)) {
    for (const [path, target] of Object.entries(byPath)) {
      const rows = standalone.filter((r) => r.framework === framework && r.path === path);
      const peers = rows.filter((r) => isPeer(r.limiter)).sort((a, b) => b.ratio - a.ratio);
      const best = peers[0];
      for (const ours of rows.filter((r) => r.limiter === 'tokenbucket')) {
        const overPeer = best ? ours.ratio / best.ratio : NaN;
        let status = ours.ratio >= target && overPeer >= TARGETS.overBestPeer ? 'met' : 'not met';
        if (ours.noise || best?.noise) status = 'noise';
        out.push({
          kind: 'http',
          framework,
          path,
          pipelining: ours.pipelining,
          target,
          ratio: ours.ratio,
          added: { serverCpuUs: ours.addedServerCpuUs, redisCpuUs: ours.addedRedisCpuUs },
          bestPeer: best && {
            limiter: best.limiter,
            pipelining: best.pipelining,
            ratio: best.ratio,
            added: { serverCpuUs: best.addedServerCpuUs, redisCpuUs: best.addedRedisCpuUs },
          },
          overPeer,
          overPeerTarget: TARGETS.overBestPeer,
          status,
        });
      }
    }
  }
  const cluster = raw.filter((r) => r.target === 'cluster');
  const rlf = cluster.filter((r) => r.lib === 'rate-limiter-flexible').sort((a, b) => b.rps - a.rps)[0];
  for (const ours of cluster.filter((r) => r.lib === 'tokenbucket')) {
    const overPeer = rlf ? ours.rps / rlf.rps : NaN;
    out.push({
      kind: 'cluster-raw',
      pipelining: ours.pipelining,
      rps: ours.rps,
      bestPeer: rlf && { limiter: rlf.lib, pipelining: rlf.pipelining, rps: rlf.rps },
      overPeer,
      overPeerTarget: TARGETS.clusterRawOverBestPeer,
      status: overPeer >= TARGETS.clusterRawOverBestPeer ? 'met' : 'not met',
    });
  }
  return out;
}

/** Every summary of a run's records: the HTTP rows, the raw rows and the targets. */
export function analyze(runs) {
  const http = summarize(
    runs.filter((r) => r.section === 'http'),
    {
      by: ['target', 'framework', 'connections', 'path', 'limiter', 'pipelining'],
      baseline: (run) => (run.limiter === 'none' ? null : { ...pick(run, ['target', 'framework', 'connections', 'path', 'pipelining']), limiter: 'none' }),
    },
  );
  const raw = summarize(
    runs.filter((r) => r.section === 'raw'),
    { by: ['target', 'keys', 'path', 'lib', 'pipelining'] },
  );
  return { http, raw, targets: targets({ http, raw }) };
}
