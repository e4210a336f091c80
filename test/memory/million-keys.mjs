// Memory under one million distinct callers: drives the built core (MemoryStore limiter, the HTTP
// engine by key, by IP and on its fallback path, memoizePolicies) and prints peak heap and RSS.
// Run after `pnpm build`: node --expose-gc test/memory/million-keys.mjs [callers]
import { createHttpLimiter } from '../../packages/core/dist/esm/adapter.js';
import { createLimiter, memoizePolicies, MemoryStore } from '../../packages/core/dist/esm/index.js';

/** Requests as plain objects `{ headers, ip }`: the engine reads them through this adapter. */
const plain = {
  incoming: (req) => req,
  ip: (req) => req.ip,
  headersSent: () => false,
  setHeader: () => {},
  send: () => {},
  callOnLimited: () => {},
};
const engineFor = (options) => createHttpLimiter(plain, options);

const CALLERS = Number(process.argv[2] ?? 1_000_000);
const CHECKPOINTS = [100_000, 250_000, 500_000, CALLERS].filter((n) => n <= CALLERS);
if (typeof globalThis.gc !== 'function') {
  console.error('run with: node --expose-gc test/memory/million-keys.mjs');
  process.exit(2);
}

const MB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const settle = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage();
};

/** Runs `step(i)` CALLERS times, sampling peak heap and RSS, and the heap after GC at checkpoints. */
async function phase(label, step, size) {
  const before = settle();
  let peakHeap = 0;
  let peakRss = 0;
  const retained = [];
  const started = performance.now();
  for (let i = 0; i < CALLERS; i++) {
    await step(i);
    if ((i + 1) % 10_000 === 0) {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }
    if (CHECKPOINTS.includes(i + 1)) retained.push(`${(i + 1) / 1000}k: ${MB(settle().heapUsed - before.heapUsed)}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\n${label}`);
  console.log(`  ${CALLERS} requests in ${seconds} s; store size after: ${size?.() ?? 'n/a'}`);
  console.log(`  peak heapUsed ${MB(peakHeap)} (baseline ${MB(before.heapUsed)}), peak RSS ${MB(peakRss)}`);
  console.log(`  heap retained after GC, above baseline: ${retained.join(', ')}`);
}

const SLOW = 1 / 3600; // nothing refills during the run: every bucket stays in the store
console.log(`node ${process.version}, MemoryStore default maxKeys ${new MemoryStore().maxKeys}`);

// 1. A limiter on a MemoryStore with the default options (what a limiter without a store gets).
{
  const store = new MemoryStore();
  const limiter = createLimiter({ store, name: 'plain', capacity: 10, refillPerSecond: SLOW });
  await phase(
    'createLimiter on a default MemoryStore',
    (i) => limiter.take(`caller-${i}`),
    () => store.size,
  );
  store.close();
}

// 2. The HTTP engine by API key, with its own MemoryStore (default maxKeys).
{
  const store = new MemoryStore();
  const engine = engineFor({ store, capacity: 10, refillPerSecond: SLOW });
  await phase(
    'HTTP engine, X-API-Key (headersDistinct form)',
    (i) => engine.check({ headers: { 'x-api-key': [`key-${i}`] }, ip: '203.0.113.1' }, 'GET /items/:id'),
    () => store.size,
  );
  store.close();
}

// 3. The HTTP engine's 'ip' fallback for keyless callers, IPv4 and IPv6 (grouped by /56).
{
  const store = new MemoryStore();
  const engine = engineFor({ store, capacity: 10, refillPerSecond: SLOW });
  await phase(
    "HTTP engine, no key: 'ip' (half IPv4, half IPv6 in distinct /56s)",
    (i) => {
      const ip = i % 2 === 0 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}00::1`;
      return engine.check({ headers: {}, ip }, 'GET /items/:id');
    },
    () => store.size,
  );
  store.close();
}

// 4. The store fails on every take: the engine decides on its process-wide fallback MemoryStore.
{
  const failing = { take: () => Promise.reject(new Error('store down')), reset: () => Promise.resolve() };
  const engine = engineFor({ store: failing, capacity: 10, refillPerSecond: SLOW });
  let fallback = 0;
  await phase(
    "HTTP engine, store failing: storeFailure 'fallback'",
    async (i) => {
      await engine.check({ headers: { 'x-api-key': [`key-${i}`] }, ip: '203.0.113.1' }, 'GET /items/:id');
      fallback++;
    },
    () => `(process-wide fallback store, not exported; ${fallback} fallback decisions)`,
  );
}

// 5. Per-caller tiers through memoizePolicies (default maxKeys 10000), on a MemoryStore.
{
  const store = new MemoryStore();
  const FREE = [{ name: 'free', capacity: 10, refillPerSecond: SLOW }];
  const PRO = [{ name: 'pro', capacity: 100, refillPerSecond: SLOW }];
  const policies = memoizePolicies((key) => (key.endsWith('7') ? PRO : FREE));
  const engine = engineFor({ store, policies });
  await phase(
    'HTTP engine, policies from memoizePolicies',
    (i) => engine.check({ headers: { 'x-api-key': [`key-${i}`] }, ip: '203.0.113.1' }, 'GET /items/:id'),
    () => store.size,
  );
  store.close();
}

// 6. A route name per URL (what Express 4 reports under a mount with parameters): the engine's
// route cache must not grow with it.
{
  const store = new MemoryStore();
  const engine = engineFor({ store, capacity: 10, refillPerSecond: SLOW });
  await phase(
    'HTTP engine, a distinct route name per request (one caller)',
    (i) => engine.check({ headers: { 'x-api-key': ['k'] }, ip: '203.0.113.1' }, `GET /users/${i}/posts`),
    () => store.size,
  );
  store.close();
}

const end = settle();
console.log(`\nat exit after GC: heapUsed ${MB(end.heapUsed)}, RSS ${MB(end.rss)}`);
