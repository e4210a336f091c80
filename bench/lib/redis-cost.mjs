// Redis cost per decision and per bucket, through each limited HTTP app on one Redis: commands per
// allowed and per denied decision, and the memory one caller's bucket takes.
import { PATHS } from '../apps/shared.mjs';
import { appFile } from './options.mjs';
import { startApp } from './processes.mjs';
import { perOp, sumValues } from './redis-meter.mjs';

/** One row per limiter of `framework` (auto-pipelining off); the baseline has no Redis cost. */
export async function redisCosts(bench, { framework, limiters }) {
  const { config, meter, loader, log } = bench;
  const rows = [];
  for (const limiter of limiters) {
    if (limiter === 'none') continue;
    const app = await startApp(appFile(framework, limiter), { ...bench.target.env, BENCH_PIPELINING: 'off' });
    try {
      const load = (path, keys, amount) =>
        loader.call({ url: `http://127.0.0.1:${app.port}${PATHS[path].route}`, keys, amount, connections: Math.min(10, amount) });
      const row = { framework, limiter };
      // Memory: one fresh caller on the denied route (10 a minute), then until its limit is reached.
      await meter.flushall();
      await load('denied', ['mem-probe'], 1);
      row.memoryAfter1 = await bucketMemory(meter);
      await load('denied', ['mem-probe'], 10);
      row.memoryAfter11 = await bucketMemory(meter);
      // Commands per allowed decision: callers from the rotating set on the allowed route.
      const keys = Array.from({ length: config.allowedKeys }, (_, i) => `user-${i}`);
      row.allowed = costRow(await meter.measure(() => load('allowed', keys, config.statsRequests)));
      // Commands per denied decision: a hot key already over its limit.
      await load('denied', ['stats-hot'], 20);
      row.denied = costRow(await meter.measure(() => load('denied', ['stats-hot'], config.statsRequests)));
      log(
        `redis cost ${framework} ${limiter}: ${row.allowed.commandsPerDecision.toFixed(2)} cmds/allowed,` +
          ` ${row.denied.commandsPerDecision.toFixed(2)} cmds/denied, ${row.memoryAfter1.bytes} B after 1`,
      );
      rows.push(row);
    } finally {
      await app.stop();
    }
  }
  return rows;
}

/** Every key's MEMORY USAGE and PTTL. */
async function bucketMemory(meter) {
  const keys = await meter.keys();
  let bytes = 0;
  const pttlMs = [];
  for (const { node, key } of keys) {
    bytes += (await node.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0;
    pttlMs.push(await node.pttl(key));
  }
  return { keys: keys.length, names: keys.map((k) => k.key), bytes, pttlMs };
}

function costRow({ result, commands, redisCpuSeconds }) {
  const n = result.requests;
  return {
    decisions: n,
    statuses: result.statuses,
    commandsPerDecision: sumValues(commands) / n,
    commands: perOp(commands, n),
    redisCpuUsPerDecision: (redisCpuSeconds * 1e6) / n,
  };
}
