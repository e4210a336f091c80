'use strict';
// A process that takes a lease on one caller key and then holds it, for the test that SIGKILLs an
// instance while it holds a lease (test/concurrency/leases.test.ts). Forked with a JSON config as
// its argument: { url } or { clusterNodes }, prefix, key, policy, maxTokens. It takes twice (the
// second take is the lease: minRate 0), reports the levels Redis gave, and waits to be killed.
const { Cluster, Redis } = require('ioredis');
const { loadCore } = require('./hammer.cjs');

async function main() {
  const config = JSON.parse(process.argv[2]);
  const { createLimiter, RedisStore } = loadCore();
  const client = config.clusterNodes ? new Cluster(config.clusterNodes) : new Redis(config.url);
  // A time budget no loaded machine overruns (a new Cluster client's first takes wait for its
  // connection): the test is about the lease, not Redis's speed.
  const store = new RedisStore({
    client,
    prefix: config.prefix,
    timeoutMs: 10_000,
    leases: { minRate: 0, maxTokens: config.maxTokens, maxMs: 10_000 },
  });
  const limiter = createLimiter({ store, ...config.policy });
  const first = await limiter.take(config.key);
  const leased = await limiter.take(config.key);
  process.send({ type: 'leased', leases: store.leases.size, remaining: [first.remaining, leased.remaining] });
  setInterval(() => {}, 60_000); // holds the lease until killed
}

main().catch((err) => {
  process.send?.({ type: 'error', message: String(err?.stack ?? err) });
  process.exit(1);
});
