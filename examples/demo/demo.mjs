// The demo: starts the metrics example (the Express example with /metrics), sends it bursts from two
// API keys and prints, for each request, the status, the RateLimit headers and Retry-After; then
// the counters it scrapes from /metrics.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('../metrics/server.mjs', import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomBytes(3).toString('hex'); // fresh callers each run, even on a shared Redis
const keys = { alice: `demo-alice-${run}`, bob: `demo-bob-${run}` };

/** Starts the example on a free port and resolves to its base URL once it listens. */
function startApp() {
  const child = spawn(process.execPath, [server], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const store = /^Store: (.*)$/m.exec(out);
      const url = /listening on (http:\/\/\S+)/.exec(out);
      if (store && url) resolve({ child, url: url[1], store: store[1] });
    });
    child.once('exit', (code) => reject(new Error(`the example app exited (${code}) before listening:\n${out}`)));
  });
}

const { child, url, store } = await startApp();
const started = performance.now();
console.log(`Started examples/metrics/server.mjs at ${url}`);
console.log(`Store: ${store}\n`);
console.log('GET /search allows a burst of 5 per API key, then 1 request a second.\n');

async function request(who, method, path) {
  const res = await fetch(url + path, { method, headers: who ? { 'x-api-key': keys[who] } : {} });
  await res.arrayBuffer();
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(4);
  const show = (name) => res.headers.get(name) ?? '-';
  console.log(
    `${t}s  ${(who ?? '(none)').padEnd(6)} ${method} ${path.padEnd(10)} ${res.status}  ` +
      `RateLimit: ${show('ratelimit').padEnd(28)} Retry-After: ${show('retry-after')}`,
  );
  return res;
}

try {
  console.log('alice sends 7 requests at once, bob sends 2:');
  const burst = await Promise.all([
    ...Array.from({ length: 7 }, () => request('alice', 'GET', '/search')),
    request('bob', 'GET', '/search'),
    request('bob', 'GET', '/search'),
  ]);
  const wait = Math.max(...burst.map((r) => Number(r.headers.get('retry-after') ?? 0)));

  console.log(`\nalice waits the ${wait} s that Retry-After asked for, then tries again:`);
  await sleep(wait * 1000);
  await request('alice', 'GET', '/search');
  await request('alice', 'GET', '/search');

  console.log('\nThree seconds later the bucket has refilled by three tokens:');
  await sleep(3000);
  await request('alice', 'GET', '/search');

  console.log('\n/items and /items/:id share one quota named "catalog"; /health is not limited:');
  await request('bob', 'GET', '/items');
  await request('bob', 'GET', '/items/42');
  await request(undefined, 'GET', '/health');

  console.log('\nPOST /reports checks two policies at once (a burst of 2 and 50 a day):');
  for (let i = 0; i < 3; i++) await request('bob', 'POST', '/reports');
  console.log(
    `\nPolicy header on that route, from one more POST (alice's, allowed: counted below): ${(await fetch(`${url}/reports`, { method: 'POST', headers: { 'x-api-key': keys.alice } })).headers.get('ratelimit-policy')}`,
  );

  console.log(`\nWhat Prometheus would scrape from ${url}/metrics (the counters; no label holds an API key):`);
  const scraped = await (await fetch(`${url}/metrics`)).text();
  for (const line of scraped.split('\n')) {
    if (/^tokenbucket_(decisions_total|store_errors_total|store_up|store_call_duration_seconds_count)\b/.test(line)) console.log(`  ${line}`);
  }
} finally {
  child.kill('SIGTERM');
}
