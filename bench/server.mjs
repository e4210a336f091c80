// Child process: one benchmarked app (framework, limiter, auto-pipelining) on 127.0.0.1, driven over IPC.
import Redis from 'ioredis';
import { buildApp, counters } from './apps.mjs';

const [framework, limiter, pipelining] = process.argv.slice(2);
const redis = limiter === 'none' ? undefined : new Redis(process.env.BENCH_REDIS_URL, { enableAutoPipelining: pipelining === 'on', lazyConnect: false });
if (redis) await new Promise((resolve, reject) => (redis.status === 'ready' ? resolve() : redis.once('ready', resolve).once('error', reject)));
const app = await buildApp(framework, limiter, redis);
const port = await app.listen();

process.on('message', async (msg) => {
  if (msg.type === 'counters') process.send({ type: 'counters', id: msg.id, counters: { ...counters } });
  if (msg.type === 'close') await shutdown();
});
process.on('disconnect', () => void shutdown());
let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await app.close().catch(() => {});
  redis?.disconnect();
  process.exit(0);
}
process.send({ type: 'ready', port });
