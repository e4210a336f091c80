// Run by lockout-two-processes.test.ts, twice at once (two app instances): one RedisStore on a
// client of its own, driven over IPC. It takes the way the limiter does (takeNow first, then take)
// under a lockout rule, and counts the script calls this process makes (the tokenbucket:store:call
// channel), so the parent sees which answers came from memory. Uses the built package (`pnpm build`).
// Messages in: { type: 'take', id, n, cost } | { type: 'unlock', id } | { type: 'quit' }.
// Messages out: { type: 'ready' } | { type: 'done', results: [{ allowed, lockedMs, source }], calls } | { type: 'error', message }.
import { subscribe } from 'node:diagnostics_channel';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis5';
import { CHANNELS, createLimiter, RedisStore } from '../../packages/core/dist/esm/index.js';

const { topology, library, prefix, rule, policy } = JSON.parse(process.argv[2]);

function nodes() {
  return process.env.REDIS_CLUSTER_NODES.split(',').map((a) => ({ host: a.split(':')[0], port: Number(a.split(':')[1]) }));
}

async function connect() {
  if (library === 'ioredis') {
    const client = topology === 'cluster' ? new Cluster(nodes()) : new Redis(process.env.REDIS_URL);
    client.on('error', () => {});
    return { client, close: () => client.quit() };
  }
  const client =
    topology === 'cluster'
      ? createCluster({ rootNodes: nodes().map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
      : createClient({ url: process.env.REDIS_URL });
  client.on('error', () => {});
  await client.connect();
  return { client, close: () => client.close() };
}

async function main() {
  const { client, close } = await connect();
  const store = new RedisStore({ client, prefix, name: 'two-processes', timeoutMs: 5_000 });
  const { policies } = createLimiter({ store, ...policy });
  let calls = 0;
  subscribe(CHANNELS.storeCall, (message) => {
    if (message.store === 'two-processes') calls += message.takes;
  });
  await store.take('warm-up', policies, 0); // connects, loads the script
  process.on('message', async (msg) => {
    try {
      if (msg.type === 'take') {
        const before = calls;
        const results = [];
        for (let i = 0; i < msg.n; i++) {
          const r = store.takeNow(msg.id, policies, msg.cost, rule) ?? (await store.take(msg.id, policies, msg.cost, rule));
          results.push({ allowed: r.allowed, lockedMs: r.lockedMs ?? null, source: r.source });
        }
        process.send({ type: 'done', results, calls: calls - before });
      } else if (msg.type === 'unlock') {
        await store.unlock(msg.id, rule);
        process.send({ type: 'done', results: [], calls: 0 });
      } else if (msg.type === 'quit') {
        await close();
        process.exit(0);
      }
    } catch (err) {
      process.send({ type: 'error', message: String(err?.stack ?? err) });
    }
  });
  process.send({ type: 'ready' });
}

main().catch((err) => {
  process.stderr.write(`lockout child: ${String(err?.stack ?? err)}\n`);
  process.exit(1);
});
