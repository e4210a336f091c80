'use strict';
// Multi-process load on ONE caller key, for the concurrency property test and the naive-vs-atomic
// script. Plain Node (no jest transform): the parent side is `runHammer(options)`; the same file, forked
// with `--worker`, is the worker. Each worker has its own client (a Redis or a Cluster; ioredis, or
// node-redis by `target.library`) and keeps `inFlight` takes running at once until its time or its
// count is up.
//
// Designs:
// - 'atomic': our limiter, createLimiter({ store: new RedisStore({ client }) }) from the built
//   packages/core (dist), one Lua script per take on Redis's clock.
// - 'naive': GET the bucket, refill and debit in JS on the app's clock, SET it back: no
//   atomicity, the way a first snippet would do it.
//
// With `refundShare` > 0 (atomic design), a share of the admitted takes is given back by the
// store's `adjust` after a random pause (`refundDelayMs`), as the engine refunds a request whose
// response says "do not count": refunds interleave with the takes of every worker.
//
// Elapsed time is measured on Redis's clock: each worker reads TIME (on the node that holds the
// key) right before its first take and right after its last; the run spans the earliest start
// to the latest end, so `capacity + refillPerSecond * elapsed` is an upper bound on what any
// correct limiter may admit.
const { fork } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const CORE_DIST = path.join(__dirname, '..', '..', 'packages', 'core', 'dist', 'cjs');

/** The built @tokenbucket/core, its main entry and its `/store` subpath; throws a clear error when it has not been built. */
function loadCore() {
  const entries = ['index.js', 'store.js'].map((file) => path.join(CORE_DIST, file));
  for (const entry of entries) {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build the packages first (\`pnpm build\`; \`pnpm test\` does it).`);
  }
  return Object.assign({}, ...entries.map((entry) => require(entry)));
}

/**
 * A client of `target.library` (`ioredis` by default; node-redis as `redis4`, `redis5` or `redis6`,
 * the aliased installs), connected: `{ client, call(args, key), close() }`, where `client` is what
 * RedisStore takes and `call` sends one command (on a Cluster, routed by `key`).
 */
async function openClient(target) {
  const library = target.library ?? 'ioredis';
  if (!target.clusterNodes && !target.url) throw new Error(`target must be { url } or { clusterNodes }; got ${JSON.stringify(target)}`);
  if (library === 'ioredis') {
    const { Cluster, Redis } = require('ioredis');
    const client = target.clusterNodes
      ? new Cluster(target.clusterNodes, { redisOptions: { maxRetriesPerRequest: 1 } })
      : new Redis(target.url, { maxRetriesPerRequest: 1 });
    return {
      client,
      call: ([command, ...args]) => client.call(command, ...args),
      close: () => client.quit().catch(() => client.disconnect()),
    };
  }
  if (!/^redis[456]$/.test(library)) throw new Error(`target.library must be ioredis, redis4, redis5 or redis6; got ${JSON.stringify(library)}`);
  const { createClient, createCluster } = require(library);
  const cluster = Boolean(target.clusterNodes);
  const client = cluster
    ? createCluster({ rootNodes: target.clusterNodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
    : createClient({ url: target.url });
  client.on('error', () => {}); // node-redis throws an 'error' event that has no listener
  await client.connect();
  return {
    client,
    call: (args, key) => (cluster ? client.sendCommand(key, false, args.map(String)) : client.sendCommand(args.map(String))),
    close: () => (typeof client.close === 'function' ? client.close() : client.quit()),
  };
}

/** The Redis key the design keeps the bucket under. */
function bucketKeyFor(config) {
  const core = loadCore();
  if (config.design === 'atomic') return core.bucketKey(config.prefix, config.policy.name, core.hashCallerKey(config.key));
  return `${config.prefix}naive:${config.policy.name}:{${core.hashCallerKey(config.key)}}`;
}

/** Redis's clock, in microseconds, read on the node that holds `key`. */
async function redisTimeUs(conn, key) {
  const [s, us] = await conn.call(['EVAL', "return redis.call('TIME')", 1, key], key);
  return Number(s) * 1e6 + Number(us);
}

/**
 * Runs the load and resolves to { design, processes, takes, admitted, denied, errors, firstError,
 * elapsedS, bound, capacity, refillPerSecond }.
 */
async function runHammer(options) {
  const config = {
    design: 'atomic',
    processes: 4,
    inFlight: 50,
    durationMs: 2500,
    pauseMs: [0, 0],
    maxTakesPerProcess: 5000,
    timeoutMs: 20000,
    cleanup: true,
    refundShare: 0,
    refundDelayMs: [0, 0],
    ...options,
  };
  for (const name of ['target', 'prefix', 'key', 'policy']) {
    if (!config[name]) throw new Error(`runHammer: \`${name}\` is required`);
  }
  loadCore(); // fail here, loudly, before forking workers that would fail one by one
  const key = bucketKeyFor(config);
  const children = [];
  const results = [];
  let timer;
  try {
    await new Promise((resolve, reject) => {
      let ready = 0;
      let settled = false;
      const fail = (err) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
      };
      timer = setTimeout(() => fail(new Error(`hammer: no result within ${config.timeoutMs} ms`)), config.timeoutMs);
      for (let i = 0; i < config.processes; i++) {
        const child = fork(__filename, ['--worker'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        child.on('message', (msg) => {
          if (msg.type === 'ready' && ++ready === config.processes) {
            for (const c of children) c.send({ type: 'go' });
          } else if (msg.type === 'result') {
            results.push(msg);
            if (results.length === config.processes && !settled) {
              settled = true;
              resolve();
            }
          } else if (msg.type === 'error') {
            fail(new Error(`hammer worker ${i}: ${msg.message}`));
          }
        });
        child.on('error', fail);
        child.on('close', (code, signal) => {
          if (!results.some((r) => r.index === i)) fail(new Error(`hammer worker ${i} exited (code ${code}, signal ${signal}) before its result`));
        });
        child.send({ type: 'config', config: { ...config, index: i } });
      }
    });
  } finally {
    clearTimeout(timer);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (config.cleanup) {
    const conn = await openClient(config.target);
    try {
      await conn.call(['DEL', key], key);
    } finally {
      await conn.close();
    }
  }
  const sum = (field) => results.reduce((n, r) => n + r[field], 0);
  const elapsedS = (Math.max(...results.map((r) => r.endUs)) - Math.min(...results.map((r) => r.startUs))) / 1e6;
  const { capacity, refillPerSecond } = config.policy;
  return {
    design: config.design,
    processes: config.processes,
    takes: sum('takes'),
    admitted: sum('admitted'),
    refunded: sum('refunded'),
    denied: sum('denied'),
    fromLease: sum('fromLease'),
    errors: sum('errors'),
    firstError: results.find((r) => r.firstError)?.firstError,
    elapsedS,
    capacity,
    refillPerSecond,
    bound: capacity + refillPerSecond * elapsedS,
  };
}

// ---- worker side ----

function naiveTaker(conn, key, policy) {
  return async function naiveTake() {
    const raw = await conn.call(['GET', key], key);
    const now = Date.now() / 1000;
    let tokens = policy.capacity;
    if (raw) {
      const state = JSON.parse(raw);
      tokens = Math.min(policy.capacity, state.tokens + (now - state.ts) * policy.refillPerSecond);
    }
    if (tokens < 1) return false;
    await conn.call(['SET', key, JSON.stringify({ tokens: tokens - 1, ts: now })], key);
    return true;
  };
}

async function worker() {
  const config = await new Promise((resolve) => process.once('message', (msg) => resolve(msg.config)));
  const conn = await openClient(config.target);
  const key = bucketKeyFor(config);
  let take;
  let refund;
  if (config.design === 'atomic') {
    const { createLimiter, hashCallerKey, RedisStore } = loadCore();
    // Several processes saturate this machine's two cores on purpose, so Redis can take longer
    // than the default time budget; what is measured here is admission, not latency.
    const store = new RedisStore({ client: conn.client, prefix: config.prefix, timeoutMs: 10_000, leases: config.leases });
    const limiter = createLimiter({ store, ...config.policy });
    await limiter.take(config.key, { cost: 0 }); // connects and loads the script; cost 0 writes nothing
    take = async () => (await limiter.take(config.key)).allowed;
    const callerId = hashCallerKey(config.key);
    refund = async () => {
      const result = await store.adjust(callerId, limiter.policies, 1);
      if (!result.allowed) throw new Error(`adjust answered ${JSON.stringify(result)}`);
    };
  } else if (config.design === 'naive') {
    await conn.call(['GET', key], key); // connects
    take = naiveTaker(conn, key, config.policy);
  } else {
    throw new Error(`unknown design ${JSON.stringify(config.design)}`);
  }
  await redisTimeUs(conn, key);
  await new Promise((resolve) => {
    process.once('message', resolve); // go
    process.send({ type: 'ready' });
  });

  const out = { type: 'result', index: config.index, takes: 0, admitted: 0, refunded: 0, denied: 0, fromLease: 0, errors: 0, firstError: undefined };
  if (config.leases) {
    require('node:diagnostics_channel').subscribe('tokenbucket:decision', (event) => {
      if (event.source === 'lease') out.fromLease++;
    });
  }
  const [pauseMin, pauseMax] = config.pauseMs;
  const [refundMin, refundMax] = config.refundDelayMs;
  const refunds = [];
  const startUs = await redisTimeUs(conn, key);
  const deadline = Date.now() + config.durationMs;
  const slot = async () => {
    while (Date.now() < deadline && out.takes < config.maxTakesPerProcess) {
      out.takes++;
      try {
        if (await take()) {
          out.admitted++;
          if (refund !== undefined && Math.random() < config.refundShare) {
            // Given back later, while this slot goes on taking; counted once the store has applied it.
            const delay = refundMin + Math.random() * (refundMax - refundMin);
            refunds.push(
              new Promise((r) => setTimeout(r, delay)).then(refund).then(
                () => void out.refunded++,
                (err) => {
                  out.errors++;
                  out.firstError ??= String(err?.stack ? err.stack : err);
                },
              ),
            );
          }
        } else {
          out.denied++;
        }
      } catch (err) {
        out.errors++;
        out.firstError ??= String(err?.stack ? err.stack : err);
      }
      // Pause, but never past the deadline: time spent idle after the last take would stretch
      // the measured elapsed time (and the bound) with no takes in it.
      const pause = Math.min(pauseMin + Math.random() * (pauseMax - pauseMin), deadline - Date.now());
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
  };
  await Promise.all(Array.from({ length: config.inFlight }, slot));
  await Promise.all(refunds);
  const endUs = await redisTimeUs(conn, key);
  await conn.close();
  process.send({ ...out, startUs, endUs }, () => process.exit(0));
}

if (require.main === module && process.argv[2] === '--worker') {
  worker().catch((err) => {
    const message = String(err?.stack ? err.stack : err);
    process.stderr.write(`hammer worker: ${message}\n`);
    if (process.send) process.send({ type: 'error', message }, () => process.exit(1));
    else process.exit(1);
  });
}

module.exports = { runHammer, loadCore, CORE_DIST };
