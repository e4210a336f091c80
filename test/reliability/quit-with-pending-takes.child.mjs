// Run by quit-with-pending-takes.test.ts in a process of its own (Jest's sandbox hides
// 'unhandledRejection' from listeners, and a crash must be seen as one): 100 takes made in one
// turn of the event loop, held for the end of the turn (batched), and in that same turn the app
// closes the client. Prints one JSON line per run. Uses the built package (`pnpm build`).
// node quit-with-pending-takes.child.mjs <quit|disconnect> <redis|cluster> <runs>
import { randomBytes } from 'node:crypto';
import Redis, { Cluster } from 'ioredis';
import { createLimiter, RedisStore } from '../../packages/core/dist/esm/index.js';

const [mode, topology, runs] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 5)];
const TAKES = 100;
const WARM_UP = 30;

const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason?.message ?? reason)));

function connect() {
  if (topology === 'cluster') {
    const nodes = process.env.REDIS_CLUSTER_NODES.split(',').map((a) => ({ host: a.split(':')[0], port: Number(a.split(':')[1]) }));
    return new Cluster(nodes);
  }
  return new Redis(process.env.REDIS_URL);
}

/** Keys under `prefix`, on every master. */
async function countKeys(prefix) {
  const admin = connect();
  try {
    if (topology === 'cluster') await new Promise((r) => admin.once('ready', r));
    const nodes = topology === 'cluster' ? admin.nodes('master') : [admin];
    let count = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        count += keys.length;
        if (keys.length > 0) await Promise.all(keys.map((k) => node.unlink(k)));
        cursor = next;
      } while (cursor !== '0');
    }
    return count;
  } finally {
    admin.disconnect();
  }
}

for (let run = 1; run <= runs; run++) {
  const prefix = `tbtest:quit:${randomBytes(4).toString('hex')}:`;
  const client = connect();
  client.on('error', () => {});
  await new Promise((resolve) => client.once('ready', resolve));
  // A time budget no loaded machine overruns: what is tested is the close, not how fast Redis answers.
  const limiter = createLimiter({ store: new RedisStore({ client, prefix, timeoutMs: 10_000 }), capacity: 10, refillPerSecond: 1 });
  // Takes for callers on every master first, so each has run the script (a server that has not
  // answers NOSCRIPT, and ioredis's EVAL would come after QUIT) and the client knows the slots:
  // the case is the close, not the start.
  await Promise.all(Array.from({ length: WARM_UP }, (_, i) => limiter.take(`warm-up-${i}`)));
  const takes = Array.from({ length: TAKES }, (_, i) => limiter.take(`caller-${i}`));
  let closed;
  if (mode === 'quit') {
    closed = client.quit();
  } else {
    client.disconnect();
    closed = Promise.resolve('disconnect() returns nothing');
  }
  const settled = await Promise.allSettled(takes);
  const closedAs = await closed.then(
    (value) => `resolved ${value}`,
    (err) => `rejected ${err?.message ?? err}`,
  );
  const errors = {};
  for (const s of settled) {
    if (s.status === 'rejected') {
      const key = `${s.reason?.code ?? s.reason?.name}: ${s.reason?.message}`;
      errors[key] = (errors[key] ?? 0) + 1;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(
    JSON.stringify({
      run,
      allowed: settled.filter((s) => s.status === 'fulfilled' && s.value.allowed).length,
      rejected: settled.filter((s) => s.status === 'rejected').length,
      errors,
      closed: closedAs,
      // Buckets Redis holds: the warm-up's and one per take it ran.
      keysInRedis: await countKeys(prefix),
      unhandled: unhandled.splice(0),
    }),
  );
}
