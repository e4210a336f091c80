// Worker: the load generator (autocannon), in a process of its own apart from the apps it drives.
import autocannon from 'autocannon';
import { serve } from '../lib/processes.mjs';

/** Latencies of one run in ms, as floats (autocannon's own histogram keeps whole ms, 2xx only). */
const latencies = new Float64Array(4_000_000);

/**
 * One run: `connections` keep-alive connections for `seconds` (or until `amount` requests), each
 * cycling through `keys` in its X-API-Key header (requests are prebuilt, so rotating keys costs
 * the generator nothing).
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
    let n = 0;
    const instance = autocannon(opts, (err, result) => {
      if (err) return reject(err);
      const statuses = {};
      for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count;
      const sorted = latencies.subarray(0, Math.min(n, latencies.length)).sort();
      const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
      resolve({
        requests: result.requests.total,
        seconds: result.duration,
        rps: result.requests.total / result.duration,
        p50Ms: pct(50),
        p99Ms: pct(99),
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
      });
    });
    instance.on('response', (_client, _statusCode, _bytes, responseTime) => {
      if (n < latencies.length) latencies[n] = responseTime;
      n++;
    });
  });
}

serve(run);
