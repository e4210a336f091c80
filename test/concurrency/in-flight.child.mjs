// Run by in-flight.test.ts, several at once (app instances): an Express app on the built packages
// whose GET /slow and GET /hang routes hold a concurrency slot of the caller (one policy, shared
// through the RedisStore). The handlers count requests in flight themselves, independently of
// the limiter: INCR on entry and DECR before answering, on a counter in the standalone Redis at
// REDIS_URL; the highest count any handler saw is GET /stats.
// argv: JSON { topology, prefix, max, leaseMs, slowMs }. Messages out: { type: 'ready', port }.
import { createServer } from 'node:http';
import express from 'express';
import { Cluster, Redis } from 'ioredis';
import { RedisStore } from '../../packages/core/dist/esm/index.js';
import { rateLimit } from '../../packages/express/dist/esm/index.js';

const { topology, prefix, max, leaseMs, slowMs } = JSON.parse(process.argv[2]);

function nodes() {
  return process.env.REDIS_CLUSTER_NODES.split(',').map((a) => ({ host: a.split(':')[0], port: Number(a.split(':')[1]) }));
}

const client = topology === 'cluster' ? new Cluster(nodes()) : new Redis(process.env.REDIS_URL);
client.on('error', () => {});
const counter = new Redis(process.env.REDIS_URL);
counter.on('error', () => {});
const counterKey = `${prefix}in-flight`;
const store = new RedisStore({ client, prefix, name: 'in-flight', timeoutMs: 5_000 });
const limited = rateLimit({ store, concurrency: { max, leaseMs, name: 'reports' } });

let maxSeen = 0;
let served = 0;
const handler = (delayMs) => async (_req, res, next) => {
  try {
    const n = await counter.incr(counterKey);
    if (n > maxSeen) maxSeen = n;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await counter.decr(counterKey);
    served++;
    res.json({ ok: true });
  } catch (err) {
    next(err);
  }
};

const app = express();
app.get('/slow', limited, handler(slowMs));
app.get('/hang', limited, handler(600_000));
app.get('/stats', (_req, res) => res.json({ maxSeen, served, pid: process.pid }));
const server = createServer(app);
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('message', async (msg) => {
  if (msg.type !== 'quit') return;
  server.closeAllConnections();
  server.close();
  await Promise.all([client.quit(), counter.quit()]).catch(() => undefined);
  process.exit(0);
});
