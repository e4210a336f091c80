// Fails the whole run, loudly, when the Redis servers the tests need are not there: tests never
// skip. They need a standalone Redis (REDIS_URL) and a Redis Cluster of three masters
// (REDIS_CLUSTER_NODES); scripts/test.sh starts both unless they are given.
const Redis = require('ioredis');

async function withClient(url, what, fn) {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw new Error(`${what} at ${url} failed: ${String(err.message).replace(/\.$/, "")}. The tests need a real Redis server there.`);
  } finally {
    client.disconnect();
  }
}

async function checkStandalone() {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set. The tests run against a real Redis server: run them with `pnpm test` ' +
        '(scripts/test.sh starts one), or set REDIS_URL=redis://127.0.0.1:<port>.',
    );
  }
  await withClient(url, 'PING to REDIS_URL', (c) => c.ping());
}

async function checkCluster() {
  const nodes = process.env.REDIS_CLUSTER_NODES;
  const help =
    'The tests run the store suite on a real Redis Cluster of three masters: run them with `pnpm test` ' +
    '(scripts/test.sh starts one), or `source scripts/lib.sh && start_redis_cluster`, or set ' +
    'REDIS_CLUSTER_NODES=127.0.0.1:<port>,127.0.0.1:<port>,127.0.0.1:<port>.';
  if (!nodes) throw new Error(`REDIS_CLUSTER_NODES is not set. ${help}`);
  const addrs = nodes.split(',').map((s) => s.trim()).filter(Boolean);
  if (addrs.length === 0 || addrs.some((a) => !/^[^:]+:\d+$/.test(a))) {
    throw new Error(`REDIS_CLUSTER_NODES=${nodes} is not a list of host:port. ${help}`);
  }
  for (const addr of addrs) {
    const info = await withClient(`redis://${addr}`, 'CLUSTER INFO on REDIS_CLUSTER_NODES node', (c) => c.cluster('INFO'));
    const field = (name) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
    if (field('cluster_state') !== 'ok' || field('cluster_slots_ok') !== '16384' || Number(field('cluster_size')) < 3) {
      throw new Error(
        `Redis Cluster node ${addr} is not a healthy cluster of at least three masters: cluster_state=${field('cluster_state')}, ` +
          `cluster_slots_ok=${field('cluster_slots_ok')}, cluster_size=${field('cluster_size')}. ${help}`,
      );
    }
  }
}

module.exports = async function globalSetup() {
  await checkStandalone();
  await checkCluster();
};
