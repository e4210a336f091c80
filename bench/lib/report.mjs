// The markdown report of one run: what was measured, on what machine, the targets, and the tables.

export const FRAMEWORK = { express: 'Express', fastify: 'Fastify', koa: 'Koa' };
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const fix = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const signed = (x, d = 1) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(d)}` : '-');
const micros = (ms) => (Number.isFinite(ms) ? Math.round(ms * 1000) : NaN);
const warn = (row) => (row?.problems?.length ? ' ⚠' : '');

/** A limiter's name with the versions measured. */
export function label(limiter, versions) {
  const v = (n) => `${n} ${versions?.[n] ?? ''}`.trim();
  switch (limiter) {
    case 'none':
      return 'no limiter';
    case 'tokenbucket':
      return '**tokenbucket** (ours)';
    case 'express-rate-limit':
      return `${v('express-rate-limit')} + ${v('rate-limit-redis')}`;
    case 'rate-limiter-flexible+block':
      return 'rate-limiter-flexible, inMemoryBlockOnConsumed';
    default:
      return v(limiter);
  }
}

/** A ratio as the report shows it: above 1 it is the spread between runs, never a result. */
export function ratioText(ratio, noise) {
  if (!Number.isFinite(ratio)) return '-';
  return noise ? `noise (${fix(ratio)})` : fix(ratio);
}

function breakdown(commands) {
  return (
    Object.entries(commands)
      .filter(([, n]) => n >= 0.005)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${fix(n)}`)
      .join(', ') || 'none'
  );
}

const ORDER = ['none', 'express-rate-limit', '@fastify/rate-limit', 'koa-ratelimit', 'rate-limiter-flexible', 'rate-limiter-flexible+block', 'tokenbucket'];
const byLimiter = (a, b) => ORDER.indexOf(a.limiter ?? a.lib) - ORDER.indexOf(b.limiter ?? b.lib);

/** The HTTP table of one framework on one target at `connections` connections. */
function httpTable(rows, versions) {
  const out = [
    '| path | auto-pipelining | limiter | req/s | ratio to no limiter | server CPU µs/req (added) | Redis CPU µs/req added | Redis commands/req | p50 ms (added µs) | p99 ms (added µs) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const path of ['allowed', 'denied']) {
    for (const pipelining of ['off', 'on']) {
      const group = rows.filter((r) => r.path === path && r.pipelining === pipelining).sort(byLimiter);
      for (const r of group) {
        const base = r.limiter === 'none';
        out.push(
          `| ${path} | ${pipelining} | ${label(r.limiter, versions)} | ${int(r.rps)}${warn(r)} | ${base ? 'baseline' : ratioText(r.ratio, r.noise)} |` +
            ` ${fix(r.serverCpuUs, 1)}${base ? '' : ` (${signed(r.addedServerCpuUs)})`} | ${base ? '-' : signed(r.addedRedisCpuUs)} |` +
            ` ${base ? '-' : fix(r.commandsPerOp)} | ${fix(r.p50Ms)}${base ? '' : ` (${signed(micros(r.addedP50Ms), 0)})`} |` +
            ` ${fix(r.p99Ms)}${base ? '' : ` (${signed(micros(r.addedP99Ms), 0)})`} |`,
        );
      }
    }
  }
  return out;
}

function targetRows(targets, versions) {
  const out = [
    '| where | target | ours (CPU it adds per request: server + Redis) | best peer in this run (CPU it adds) | ours ÷ best peer (target) | met |',
    '|---|---|---:|---|---:|---|',
  ];
  const adds = (a) => (a ? ` (adds ${fix(a.serverCpuUs, 1)} + ${fix(a.redisCpuUs, 1)} µs)` : '');
  for (const t of targets) {
    const peer = t.bestPeer ? `${label(t.bestPeer.limiter, versions)}, pipelining ${t.bestPeer.pipelining}: ` : '';
    if (t.kind === 'http') {
      out.push(
        `| ${FRAMEWORK[t.framework]} ${t.path}, auto-pipelining ${t.pipelining} | ratio ≥ ${fix(t.target)} | ${ratioText(t.ratio, t.ratio > 1)}${adds(t.added)} |` +
          ` ${t.bestPeer ? peer + ratioText(t.bestPeer.ratio, t.bestPeer.ratio > 1) + adds(t.bestPeer.added) : '-'} | ${fix(t.overPeer)} (≥ ${fix(t.overPeerTarget, 1)}) | ${t.status} |`,
      );
    } else {
      out.push(
        `| Cluster, raw decisions/s, auto-pipelining ${t.pipelining} | ≥ ${fix(t.overPeerTarget, 1)}x the peer at its best | ${int(t.rps)}/s |` +
          ` ${t.bestPeer ? `${peer}${int(t.bestPeer.rps)}/s` : '-'} | ${fix(t.overPeer)} (≥ ${fix(t.overPeerTarget, 1)}) | ${t.status} |`,
      );
    }
  }
  return out;
}

function rawTable(rows, versions, bestPeerRps) {
  const out = [
    `| keys | path | limiter | auto-pipelining | decisions/s |${bestPeerRps ? ' ÷ peer at its best |' : ''} p50 ms | p99 ms | Redis commands / decision | Redis CPU µs / decision | Node CPU µs / decision |`,
    `|---|---|---|---|---:|${bestPeerRps ? '---:|' : ''}---:|---:|---:|---:|---:|`,
  ];
  for (const r of rows) {
    out.push(
      `| ${r.keys} | ${r.path} | ${label(r.lib, versions)} | ${r.pipelining} | ${int(r.rps)}${warn(r)} |${bestPeerRps ? ` ${fix(r.rps / bestPeerRps)} |` : ''}` +
        ` ${fix(r.p50Ms)} | ${fix(r.p99Ms)} | ${fix(r.commandsPerOp)} | ${fix(r.redisCpuUs, 1)} | ${fix(r.serverCpuUs, 1)} |`,
    );
  }
  return out;
}

export function markdown({ meta, summary, redis, primes = [] }) {
  const { http, raw, targets } = summary;
  const c = meta.config;
  const lines = [];
  const push = (...l) => lines.push(...l);
  const loads = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
  push(
    `# tokenbucket benchmark: ${meta.output === 'partial' ? 'partial run (full mode, some sections or frameworks)' : `${meta.mode} run`}`,
    '',
    `${meta.date.slice(0, 16).replace('T', ' ')} UTC, commit ${meta.commit}; ${meta.machine.cpus}, ${meta.machine.memoryGiB} GiB, ${meta.machine.os};` +
      ` Node ${meta.machine.node}, Redis ${meta.machine.redis} on loopback${meta.machine.cluster ? ` (and a Cluster of ${meta.machine.cluster})` : ''}.`,
    `Load average (1/5/15 min) before ${loads(meta.loadavgBefore)}, after ${loads(meta.loadavgAfter)};` +
      ` 1-min load during the runs ${fix(meta.load1DuringRuns.min)} to ${fix(meta.load1DuringRuns.max)}. Took ${meta.elapsedSeconds} s.` +
      ` Sections: ${meta.only.join(', ')}; frameworks: ${meta.frameworks.join(', ')}.`,
    '',
    'How to read every table: [bench/README.md](../README.md). A ratio above 1.00 is shown as `noise (...)`: a limiter',
    'cannot make an app faster, so it is the spread between runs, not a result.',
    '',
  );
  const problems = [];
  const collect = (what, rows) => {
    for (const r of rows) if (r.problems.length) problems.push(`${what(r)}: ${r.problems.join('; ')}`);
  };
  if (targets.length) push('## Targets', '', ...targetRows(targets, meta.versions), '');

  const standalone = http.filter((r) => r.target === 'redis');
  if (standalone.length) {
    push(
      '## HTTP on one Redis',
      '',
      `Medians of ${c.rounds} interleaved round(s); each run ${c.httpSeconds} s after ${c.httpWarmup} s of warm-up, autocannon in its own process,` +
        ` ${c.connections} connections. Allowed: ${c.allowedKeys} rotating keys, a limit nobody reaches. Denied: one key far over 10 a minute.` +
        " Ratio: req/s over the no-limiter app's in the same round. \"Added\": the limiter's figure minus the no-limiter app's in the same round.",
      '',
    );
    for (const framework of Object.keys(FRAMEWORK)) {
      const rows = standalone.filter((r) => r.framework === framework && r.connections > 1);
      if (!rows.length) continue;
      push(`### ${FRAMEWORK[framework]} ${(meta.versions[framework] ?? '').split('.')[0]}`, '', ...httpTable(rows, meta.versions), '');
    }
    const single = standalone.filter((r) => r.connections === 1);
    if (single.length) {
      push(
        '### Latency at 1 connection (auto-pipelining off)',
        '',
        `One connection, one request at a time, ${c.latencySeconds} s after ${c.latencyWarmup} s of warm-up; medians of ${c.rounds} round(s).`,
        '',
        '| framework | path | limiter | req/s | p50 µs | p99 µs | p50 added µs | p99 added µs |',
        '|---|---|---|---:|---:|---:|---:|---:|',
      );
      for (const framework of Object.keys(FRAMEWORK)) {
        for (const path of ['allowed', 'denied']) {
          for (const r of single.filter((x) => x.framework === framework && x.path === path).sort(byLimiter)) {
            const base = r.limiter === 'none';
            push(
              `| ${FRAMEWORK[framework]} | ${path} | ${label(r.limiter, meta.versions)} | ${int(r.rps)}${warn(r)} | ${int(micros(r.p50Ms))} | ${int(micros(r.p99Ms))} |` +
                ` ${base ? '-' : signed(micros(r.addedP50Ms), 0)} | ${base ? '-' : signed(micros(r.addedP99Ms), 0)} |`,
            );
          }
        }
      }
      push('');
    }
    collect((r) => `HTTP ${r.framework} ${r.limiter} ${r.path} pipelining ${r.pipelining}, ${r.connections} connection(s)`, standalone);
  }

  const clusterRaw = raw.filter((r) => r.target === 'cluster');
  const clusterHttp = http.filter((r) => r.target === 'cluster');
  if (clusterRaw.length || clusterHttp.length) {
    push('## Redis Cluster (3 masters)', '');
    if (clusterRaw.length) {
      const best = Math.max(...clusterRaw.filter((r) => r.lib !== 'tokenbucket').map((r) => r.rps));
      push(
        '### Raw decisions',
        '',
        `${c.inFlight} decisions in flight over ${int(c.clusterKeys)} keys, allowed; medians of ${clusterRaw[0].rounds} interleaved round(s) of ${c.rawSeconds} s,` +
          ` after a warm-up of every configuration. "÷ peer at its best": decisions/s over rate-limiter-flexible's at its faster auto-pipelining setting.`,
        '',
        ...rawTable(clusterRaw.sort(byLimiter), meta.versions, Number.isFinite(best) ? best : undefined),
        '',
      );
      collect((r) => `raw cluster ${r.lib} pipelining ${r.pipelining}`, clusterRaw);
    }
    if (clusterHttp.length) {
      const framework = clusterHttp[0].framework;
      push(
        `### ${FRAMEWORK[framework]} on the Cluster`,
        '',
        `As the HTTP tables above, every app's Redis client an ioredis \`Cluster\`.`,
        '',
        ...httpTable(clusterHttp, meta.versions),
        '',
      );
      collect((r) => `HTTP cluster ${r.framework} ${r.limiter} ${r.path} pipelining ${r.pipelining}`, clusterHttp);
    }
  }

  const standaloneRaw = raw.filter((r) => r.target === 'redis');
  if (standaloneRaw.length) {
    push(
      '## Raw decisions in one process on one Redis (no HTTP)',
      '',
      `Medians of ${standaloneRaw[0].rounds} interleaved round(s) of ${c.rawSeconds} s after ${c.rawWarmup} s of warm-up; ${c.inFlight} decisions in flight.` +
        ` Hot: one key. Wide: ${int(c.wideKeys)} keys in turn. Denied: hot is over 10 a minute, wide keys have spent their 1 an hour.`,
      '',
      ...rawTable(standaloneRaw, meta.versions),
      '',
    );
    if (primes.length) {
      push(
        `Before the denied-wide runs, each configuration spends the one token of each of the ${int(c.wideKeys)} keys (one decision per key, ${c.inFlight} in flight):`,
        '',
        '| limiter | auto-pipelining | seconds | decisions/s |',
        '|---|---|---:|---:|',
        ...primes.map((p) => `| ${label(p.lib, meta.versions)} | ${p.pipelining} | ${fix(p.seconds, 1)} | ${int(p.wideKeys / p.seconds)} |`),
        '',
      );
    }
    collect((r) => `raw ${r.keys} ${r.path} ${r.lib} pipelining ${r.pipelining}`, standaloneRaw);
  }

  if (redis.length) {
    push(
      '## Redis cost per decision and per bucket (through each HTTP app, auto-pipelining off)',
      '',
      `Commands per decision from \`INFO commandstats\` over ${c.statsRequests} requests after \`CONFIG RESETSTAT\`;` +
        ' commands a script runs are counted too. Memory: `MEMORY USAGE` of every key one fresh caller leaves on the denied route' +
        ' (10 a minute) after 1 request and after 11 (over the limit); TTL after 1 request.',
      '',
      '| framework | limiter | commands / allowed decision | commands / denied decision | keys | bytes after 1 | bytes after 11 | TTL after 1 |',
      '|---|---|---|---|---:|---:|---:|---:|',
    );
    for (const r of redis) {
      const ttl = r.memoryAfter1.pttlMs.map((t) => (t >= 0 ? `${fix(t / 1000, 1)} s` : String(t))).join(', ');
      push(
        `| ${FRAMEWORK[r.framework]} | ${label(r.limiter, meta.versions)} | ${fix(r.allowed.commandsPerDecision)} (${breakdown(r.allowed.commands)}) |` +
          ` ${fix(r.denied.commandsPerDecision)} (${breakdown(r.denied.commands)}) | ${r.memoryAfter1.keys} | ${r.memoryAfter1.bytes} | ${r.memoryAfter11.bytes} | ${ttl} |`,
      );
    }
    push('');
  }
  for (const failure of meta.failures ?? []) problems.unshift(`section failed, its figures are missing: ${failure}`);
  if (problems.length) push('## Problems (figures marked ⚠ are not to be trusted)', '', ...problems.map((p) => `- ${p}`), '');
  return lines.join('\n');
}
