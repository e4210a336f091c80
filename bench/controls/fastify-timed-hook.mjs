// Not a benchmarked app: the Fastify allowed path timed from inside the server. An onRequest hook
// runs `MODE`'s work and adds up its own time with performance.now(), and a PerformanceObserver
// adds up garbage collection; once a second it prints, on stderr, the hook's µs per request, the
// collections' µs per request and the requests counted. What a CPU ratio cannot separate: the
// decision's own synchronous cost, the collections it adds, and the rest (everything else the
// process spends per request). MODE:
//   constants  the hook writes our two fields as constants (the floor of any limiter writing them)
//   memory     ours (createHttpLimiter(...).handle, the Fastify adapter's writing) on a MemoryStore
//   idle       as memory, with an ioredis client connected beside it, idle
//   leases     ours on a RedisStore with leases on (the defaults)
//   big        as leases, with leases of up to 100,000 tokens living up to 1 s
// Run it pinned, then load it (bench/README.md, "Koa and Express taken apart"):
//   BENCH_REDIS_URL=redis://127.0.0.1:6379 MODE=leases PORT=4575 node bench/controls/fastify-timed-hook.mjs &
//   taskset -acp 0 <pid>; bench/node_modules/.bin/autocannon -c 50 -d 4 -H x-api-key=hot-key http://127.0.0.1:4575/a
import { MemoryStore, RedisStore } from '@tokenbucket/core';
import { createHttpLimiter, routeId } from '@tokenbucket/core/adapter';
import Fastify from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { PerformanceObserver } from 'node:perf_hooks';
import { announce, BODY, connectRedis, fastifyAdapter, HOST, PATHS, PORT, writeConstantFields } from '../apps/shared.mjs';

const { route, capacity, refillPerSecond } = PATHS.allowed;
const mode = process.env.MODE ?? 'constants';
const MODES = ['constants', 'memory', 'idle', 'leases', 'big'];
if (!MODES.includes(mode)) throw new Error(`MODE=${mode}: one of ${MODES.join(', ')}`);

async function storeOf() {
  if (mode === 'constants') return undefined;
  if (mode === 'memory') return new MemoryStore();
  const client = await connectRedis({ Redis, Cluster });
  if (mode === 'idle') return new MemoryStore();
  return new RedisStore({ client, leases: mode === 'big' ? { maxTokens: 100_000, maxMs: 1000 } : true });
}
const store = await storeOf();
const limiter = store && createHttpLimiter(fastifyAdapter, { store, capacity, refillPerSecond });
const id = routeId('GET', route);

let hookMs = 0;
let gcMs = 0;
let requests = 0;
let waited = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

const onRequest = (request, reply, done) => {
  const start = performance.now();
  let go = true;
  if (limiter === undefined) writeConstantFields(reply);
  else go = limiter.handle(request, reply, id);
  hookMs += performance.now() - start;
  requests++;
  if (go === true) done();
  else if (go !== false) {
    waited++;
    go.then((pass) => pass && done(), done);
  }
};

setInterval(() => {
  if (requests === 0) return;
  const us = (ms) => ((1000 * ms) / requests).toFixed(3);
  process.stderr.write(`${mode}: hook ${us(hookMs)} µs/req, gc ${us(gcMs)} µs/req, ${requests} requests, ${waited} waited for the store\n`);
  hookMs = 0;
  gcMs = 0;
  requests = 0;
  waited = 0;
}, 1000).unref();

const app = Fastify();
app.get(route, { onRequest }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
