// The Hono app of the Bun and Deno smoke runs (test/runtimes/hono-runtimes.test.ts): the BUILT
// @tokenbucket/hono on the runtime's own server, with a RedisStore on the client named by CLIENT
// (`ioredis` or `node-redis`) at REDIS_URL under PREFIX. Prints one JSON line when it listens:
// the runtime and its version, the port.
import { RedisStore } from '../../packages/core/dist/esm/index.js';
import { rateLimit } from '../../packages/hono/dist/esm/index.js';
import { Hono } from 'hono';

const env = (name) => (typeof Deno !== 'undefined' ? Deno.env.get(name) : process.env[name]);
const url = env('REDIS_URL');
const which = env('CLIENT');

let client;
if (which === 'ioredis') {
  const { default: Redis } = await import('ioredis');
  client = new Redis(url);
} else if (which === 'node-redis') {
  const { createClient } = await import('redis6');
  client = createClient({ url });
  await client.connect();
} else {
  throw new Error(`CLIENT must be ioredis or node-redis; got ${which}`);
}
// A time budget no loaded machine overruns: the tests count answers, not Redis's speed.
const store = new RedisStore({ client, prefix: env('PREFIX'), timeoutMs: 5_000 });

const app = new Hono();
app.use('/api/*', rateLimit({ store, capacity: 5, refillPerSecond: 1 / 3600 }));
app.get('/api/items/:id', rateLimit({ store, capacity: 2, refillPerSecond: 1 / 3600 }), (c) => c.json({ id: c.req.param('id') }));
app.get('/open', rateLimit({ store, capacity: 1, refillPerSecond: 1 / 3600 }), (c) => c.json({ ok: true }));
// A failed response gives its token back: the runtime's end of the response, seen by the adapter.
app.get('/fails', rateLimit({ store, capacity: 1, refillPerSecond: 1 / 3600, skipFailedRequests: true }), (c) => c.json({ ok: false }, 500));

const ready = (runtime, port) => console.log(JSON.stringify({ runtime, port, client: which }));
if (typeof Bun !== 'undefined') {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
  ready(`bun ${Bun.version}`, server.port);
} else if (typeof Deno !== 'undefined') {
  Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => ready(`deno ${Deno.version.deno}`, port) }, app.fetch);
} else {
  throw new Error('run this app on Bun or Deno');
}
