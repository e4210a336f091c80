// Child process: the load generator (autocannon), kept apart from the servers it drives, over IPC.
import autocannon from 'autocannon';

/**
 * One run: `connections` keep-alive connections for `seconds`, each cycling through `keys` in its
 * X-API-Key header (requests are prebuilt, so rotating keys costs the generator nothing).
 */
function run({ url, connections, seconds, keys, amount }) {
  return new Promise((resolve, reject) => {
    const opts = {
      url,
      connections,
      requests: keys.map((key) => ({ method: 'GET', headers: { 'x-api-key': key } })),
    };
    // autocannon stops at a sample tick (1 s by default): tick often so a run lasts what it says.
    if (amount) Object.assign(opts, { amount, sampleInt: 50 });
    else Object.assign(opts, { duration: seconds, sampleInt: 100 });
    autocannon(opts, (err, result) => {
      if (err) return reject(err);
      const statuses = {};
      for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count;
      resolve({
        requests: result.requests.total,
        seconds: result.duration,
        rps: result.requests.total / result.duration,
        latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
      });
    });
  });
}

process.on('message', async (msg) => {
  try {
    process.send({ id: msg.id, result: await run(msg) });
  } catch (err) {
    process.send({ id: msg.id, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));
