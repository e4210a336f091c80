// The markdown report of one run: what was measured, on what machine, and the tables.

const FRAMEWORK = { express: 'Express', fastify: 'Fastify', koa: 'Koa' };
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const fix = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

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
    default:
      return v(limiter);
  }
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

export function markdown({ meta, http, raw, redis }) {
  const lines = [];
  const push = (...l) => lines.push(...l);
  const load = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
  push(
    `# tokenbucket benchmark: ${meta.mode} run`,
    '',
    `${meta.date.slice(0, 16).replace('T', ' ')} UTC, commit ${meta.commit}; ${meta.machine.cpus}, ${meta.machine.memoryGiB} GiB, ${meta.machine.os};` +
      ` Node ${meta.machine.node}, Redis ${meta.machine.redis} on loopback.`,
    `Load average (1/5/15 min) before ${load(meta.loadavgBefore)}, after ${load(meta.loadavgAfter)};` +
      ` 1-min load during the runs ${fix(meta.load1DuringRuns.min)} to ${fix(meta.load1DuringRuns.max)}. Took ${meta.elapsedSeconds} s.`,
    '',
  );
  const problems = [];
  if (http.summary.length) {
    const c = meta.config;
    push(
      '## HTTP: requests/s, and (in brackets) the ratio to the same app without a limiter in the same round',
      '',
      `Median of ${c.rounds} round(s); each run ${c.httpSeconds} s after ${c.httpWarmup} s of warm-up, autocannon in its own process,` +
        ` ${c.connections} connections. Allowed: ${c.allowedKeys} rotating keys, a limit nobody reaches. Denied: one key far over 10 a minute.`,
      '',
      '| framework | limiter | allowed, pipelining off | allowed, on | denied, off | denied, on |',
      '|---|---|---:|---:|---:|---:|',
    );
    const groups = new Map();
    for (const row of http.summary) {
      const id = `${row.framework}|${row.limiter}`;
      if (!groups.has(id)) groups.set(id, { framework: row.framework, limiter: row.limiter, cells: {} });
      groups.get(id).cells[`${row.path}|${row.pipelining}`] = row;
      if (row.problems.length)
        problems.push(`HTTP ${row.framework} ${row.limiter} ${row.path} pipelining ${row.pipelining}: ${[...new Set(row.problems)].join('; ')}`);
    }
    let last = '';
    for (const g of groups.values()) {
      const cell = (key) => {
        const row = g.cells[key];
        if (!row) return '-';
        const flag = row.problems.length ? ' ⚠' : '';
        return g.limiter === 'none' ? `${int(row.rps)}${flag}` : `${int(row.rps)} (${fix(row.ratio)})${flag}`;
      };
      const fw = g.framework === last ? '' : `${FRAMEWORK[g.framework]} ${(meta.versions[g.framework] ?? '').split('.')[0]}`;
      last = g.framework;
      push(`| ${fw} | ${label(g.limiter, meta.versions)} | ${cell('allowed|off')} | ${cell('allowed|on')} | ${cell('denied|off')} | ${cell('denied|on')} |`);
    }
    push('', 'Redis commands per request in these runs (a script call counts with the commands it runs):', '');
    push('| framework | limiter | allowed, off | allowed, on | denied, off | denied, on |', '|---|---|---:|---:|---:|---:|');
    for (const g of groups.values()) {
      if (g.limiter === 'none') continue;
      const cell = (key) => fix(g.cells[key]?.redisCommandsPerRequest);
      push(
        `| ${FRAMEWORK[g.framework]} | ${label(g.limiter, meta.versions)} | ${cell('allowed|off')} | ${cell('allowed|on')} | ${cell('denied|off')} | ${cell('denied|on')} |`,
      );
    }
    push(
      '',
      'CPU per request in µs, pipelining off: the app server process (all its threads) + Redis. On this machine the server,',
      'Redis and autocannon share the cores, so what a limiter adds here is what it takes from the no-limiter throughput:',
      '',
    );
    push('| framework | limiter | allowed | denied |', '|---|---|---:|---:|');
    for (const g of groups.values()) {
      const cell = (key) => {
        const row = g.cells[key];
        if (!row || !Number.isFinite(row.serverCpuUsPerRequest)) return '-';
        return `${fix(row.serverCpuUsPerRequest, 1)} + ${fix(row.redisCpuUsPerRequest, 1)}`;
      };
      push(`| ${FRAMEWORK[g.framework]} | ${label(g.limiter, meta.versions)} | ${cell('allowed|off')} | ${cell('denied|off')} |`);
    }
    push('');
  }
  if (raw.summary.length) {
    const c = meta.config;
    push(
      '## Raw decisions in one process (no HTTP)',
      '',
      `Median of ${c.rawRounds} round(s) of ${c.rawSeconds} s after ${c.rawWarmup} s of warm-up; ${c.inFlight} decisions in flight.` +
        ` Hot: one key. Wide: ${int(c.wideKeys)} keys in turn. Denied: hot is over 10 a minute, wide keys have spent their 1 an hour.`,
      '',
      '| keys | path | limiter | pipelining | decisions/s | p50 ms | p99 ms | Redis commands / decision | Redis CPU µs / decision |',
      '|---|---|---|---|---:|---:|---:|---:|---:|',
    );
    for (const r of raw.summary) {
      if (r.problems.length) problems.push(`raw ${r.keys} ${r.path} ${r.lib} pipelining ${r.pipelining}: ${[...new Set(r.problems)].join('; ')}`);
      const lib = r.lib === 'rate-limiter-flexible+block' ? 'rate-limiter-flexible, inMemoryBlockOnConsumed' : label(r.lib, meta.versions);
      push(
        `| ${r.keys} | ${r.path} | ${lib} | ${r.pipelining} | ${int(r.rps)}${r.problems.length ? ' ⚠' : ''} | ${fix(r.p50Ms)} | ${fix(r.p99Ms)} |` +
          ` ${fix(r.redisCommandsPerDecision)} | ${fix(r.redisCpuUsPerDecision, 1)} |`,
      );
    }
    push('');
  }
  if (redis.length) {
    push(
      '## Redis cost per decision and per bucket (through each HTTP app, auto-pipelining off)',
      '',
      `Commands per decision from \`INFO commandstats\` over ${meta.config.statsRequests} requests after \`CONFIG RESETSTAT\`;` +
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
  if (problems.length) push('## Problems (figures marked ⚠ are not to be trusted)', '', ...problems.map((p) => `- ${p}`), '');
  return lines.join('\n');
}
