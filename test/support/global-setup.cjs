// Fails the whole run, loudly, when the Redis the tests need is not there: tests never skip.
const Redis = require('ioredis');

module.exports = async function globalSetup() {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set. The tests run against a real Redis server: run them with `pnpm test` ' +
        '(scripts/test.sh starts one), or set REDIS_URL=redis://127.0.0.1:<port>.',
    );
  }
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`REDIS_URL=${url} does not answer PING (${err.message}); the tests need a real Redis server.`);
  } finally {
    client.disconnect();
  }
};
