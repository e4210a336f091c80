// What a concurrency limit costs a route: requests per second through Express with
// `concurrency` on a RedisStore, against the same route unlimited and the same route with a
// token bucket, at 20 connections of one caller, under autocannon, in interleaved rounds. The
// limit is high enough (1000) that nothing is denied: the figure is the cost of holding a slot
// (one script call to take it, one to give it back). A last row runs the route with the limit
// binding (max 5 at 20 connections): most requests are then 429s.
//
//   pnpm build && node bench/concurrency.mjs [--seconds 3] [--rounds 3] [--delay 0]
//
// `--delay` is what the handler waits, in ms (0: the limiter's cost is all there is). Starts its
// own redis-server on a free port (needs redis-server on PATH). Prints figures, asserts nothing.
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    delay: { type: 'string', default: '0' },
    serve: { type: 'string' },
  },
});

if (args.serve !== undefined) {
  // The app, in a process of its own: GET /<route> on the Redis at args.serve.
  const [{ default: express }, { Redis }, { RedisStore }, { rateLimit }] = await Promise.all([
    import('express'),
    import('ioredis'),
    import('@tokenbucket/core'),
    import('@tokenbucket/express'),
  ]);
  const client = new Redis(Number(args.serve), '127.0.0.1');
  const store = new RedisStore({ client, prefix: 'bench:' });
  const delay = Number(args.delay);
  const handler = (_req, res) => (delay > 0 ? setTimeout(() => res.end('ok'), delay) : res.end('ok'));
  const app = express();
  app.get('/unlimited', handler);
  app.get('/rate', rateLimit({ store, capacity: 1e9, refillPerSecond: 1e6 }), handler);
  app.get('/concurrency', rateLimit({ store, concurrency: 1000 }), handler);
  app.get('/rate-and-concurrency', rateLimit({ store, capacity: 1e9, refillPerSecond: 1e6, concurrency: 1000 }), handler);
  app.get('/concurrency-binding', rateLimit({ store, concurrency: 5 }), handler);
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else {
  const { startThrowawayRedis } = await import('../test/support/throwaway-redis.mjs');
  const redis = await startThrowawayRedis('bench-concurrency');
  const app = fork(fileURLToPath(import.meta.url), ['--serve', String(redis.port), '--delay', args.delay], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await new Promise((resolve) => app.once('message', resolve));
    const routes = ['unlimited', 'rate', 'concurrency', 'rate-and-concurrency', 'concurrency-binding'];
    const results = new Map(routes.map((r) => [r, []]));
    const measure = (route, seconds) =>
      autocannon({ url: `http://127.0.0.1:${port}/${route}`, connections: 20, duration: seconds, headers: { 'x-api-key': 'bench-caller' } });
    for (const route of routes) await measure(route, 1); // warm-up
    for (let round = 0; round < Number(args.rounds); round++) {
      for (let i = 0; i < routes.length; i++) {
        const route = routes[(i + round) % routes.length];
        const r = await measure(route, Number(args.seconds));
        results.get(route).push({ rps: r.requests.total / Number(args.seconds), ok: r['2xx'], limited: r.non2xx, p99: r.latency.p99 });
        process.stderr.write(`round ${round + 1} ${route}: ${Math.round(r.requests.total / Number(args.seconds))} req/s\n`);
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const base = median(results.get('unlimited').map((x) => x.rps));
    console.log(`\nExpress, RedisStore on one local redis-server, 20 connections of one caller, handler delay ${args.delay} ms,`);
    console.log(
      `${args.rounds} rounds of ${args.seconds} s (medians); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    console.log('| route | req/s | vs unlimited | 429s of all | p99 ms |');
    console.log('|---|---|---|---|---|');
    for (const route of routes) {
      const rs = results.get(route);
      const rps = median(rs.map((x) => x.rps));
      const ok = rs.reduce((s, x) => s + x.ok, 0);
      const limited = rs.reduce((s, x) => s + x.limited, 0);
      console.log(
        `| ${route} | ${Math.round(rps)} | ${(rps / base).toFixed(2)} | ${((100 * limited) / (ok + limited)).toFixed(1)}% | ${median(rs.map((x) => x.p99))} |`,
      );
    }
  } finally {
    app.kill();
    await redis.stop();
  }
}
