// What every benchmarked app shares, using nothing but Node: its routes and body, the limits,
// the caller key, the Redis client's settings, the line that tells the bench its port, and what the
// controls write or run in place of ours (constant fields, the Fastify adapter's reading and writing).

/** The body every app answers on every route. */
export const BODY = { ok: true, items: [1, 2, 3] };

/**
 * The two routes every app serves. `/a` (allowed): a limit nobody reaches, so every request is a
 * full allowed decision. `/d` (denied): 10 a minute, hammered by one key, so nearly every request
 * is denied. Window-based peers count `max` per 60 s window. Our allowed bucket refills at a
 * billion a day, slower than the keys take, so it stays in Redis like the peers' counters do
 * (at a billion a minute it would be full, and expire, a millisecond after each take, and the
 * script would read a missing key: cheaper than the live bucket real callers have).
 */
export const PATHS = {
  allowed: { route: '/a', capacity: 1e9, refillPerSecond: 1e9 / 86_400, max: 1e9, windowMs: 60_000 },
  denied: { route: '/d', capacity: 10, refillPerSecond: 10 / 60, max: 10, windowMs: 60_000 },
};

/** The caller key every limiter is told to use (ours reads X-API-Key by default). */
export const apiKey = (headers) => headers['x-api-key'];

/**
 * Our RedisStore's `leases` option when BENCH_LEASES is `on` (token leases: a hot key is answered
 * from a batch of tokens taken in one call), or the `leases` options as JSON (`{"maxTokens":10000}`),
 * else nothing (the store's default, off).
 */
export const leaseOption =
  process.env.BENCH_LEASES === 'on' ? { leases: true } : process.env.BENCH_LEASES?.startsWith('{') ? { leases: JSON.parse(process.env.BENCH_LEASES) } : {};

/** Where to listen: loopback only, on the port the bench gives (0: any free port). */
export const HOST = '127.0.0.1';
export const PORT = Number(process.env.PORT ?? 0);

/** Tells the bench (reading stdout) the port the app listens on. */
export function announce(server) {
  process.stdout.write(`listening ${server.address().port}\n`);
}

/**
 * The name of the store-error callback in the core this app runs on: `onStoreError` since the
 * entry points split (when `@tokenbucket/core/adapter` appeared), `onError` before (a baseline
 * build of bench/targets.sh runs these apps on an older core).
 */
function storeErrorCallback() {
  try {
    import.meta.resolve('@tokenbucket/core/adapter');
    return 'onStoreError';
  } catch {
    return 'onError';
  }
}

/**
 * Our limiter's error and status hooks: a store failure would make ours look faster than it is
 * (the fallback answers from memory), so each one is reported to the bench as a line on stdout.
 * They run only when something fails.
 */
export const storeEvents = {
  [storeErrorCallback()]: () => process.stdout.write('store-error\n'),
  onStoreStatus: (event) => {
    if (event.status === 'down') process.stdout.write('store-down\n');
  },
};

/**
 * The app's Redis client, ready: a Cluster when BENCH_CLUSTER_NODES lists its nodes
 * (`host:port,...`), otherwise one Redis at BENCH_REDIS_URL; ioredis auto-pipelining on when
 * BENCH_PIPELINING (or `pipelining`) is `on`. Takes the ioredis classes so this file loads
 * nothing itself.
 */
export async function connectRedis({ Redis, Cluster }, pipelining = process.env.BENCH_PIPELINING) {
  const enableAutoPipelining = pipelining === 'on';
  const nodes = process.env.BENCH_CLUSTER_NODES;
  const url = process.env.BENCH_REDIS_URL;
  if (!nodes && !url) throw new Error('set BENCH_REDIS_URL or BENCH_CLUSTER_NODES (bench/run.sh does)');
  const client = nodes
    ? new Cluster(
        nodes.split(',').map((node) => ({ host: node.split(':')[0], port: Number(node.split(':')[1]) })),
        { enableAutoPipelining },
      )
    : new Redis(url, { enableAutoPipelining });
  if (client.status !== 'ready') {
    await new Promise((resolve, reject) => client.once('ready', resolve).once('error', reject));
  }
  return client;
}

/**
 * What our limiter answers on `/d` once a caller is over its limit, as constants: the baseline of
 * the denied rows (`*-none-429.mjs` answer it without a limiter), so that a denial is measured
 * against a server writing the same status, headers and body, not against a 200.
 */
export const DENIAL = {
  status: 429,
  headers: {
    'RateLimit-Policy': '"GET /d";q=10;w=60',
    RateLimit: '"GET /d";r=0;t=6',
    'Retry-After': '6',
  },
  contentType: 'application/problem+json; charset=utf-8',
  body: '{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"Rate limit \\"GET /d\\" exceeded. Retry in 6 seconds.","policy":"GET /d","limit":10,"retryAfter":6}',
};

/**
 * Writes, as constants, the two fields ours writes on an allowed request of `PATHS.allowed` (its
 * `RateLimit-Policy` and a `RateLimit` of the same length), as the Fastify adapter writes them:
 * two `reply.header` calls, lower-case names. The controls use it to cost the header writing
 * apart from our decision.
 */
export function writeConstantFields(reply) {
  reply.header('ratelimit-policy', '"GET /a";q=1000000000;w=86400');
  reply.header('ratelimit', '"GET /a";r=999999999;t=1');
}

/** A Fastify `onRequest` hook that does only that. */
export const constantFieldsHook = (_request, reply, done) => {
  writeConstantFields(reply);
  done();
};

/**
 * The Fastify adapter's reading and writing, as @tokenbucket/fastify's (which it does not export):
 * for controls that run `createHttpLimiter(...).handle` themselves, to cost our decision apart
 * from the plugin (controls/fastify-ladder-5-decide.mjs, controls/fastify-timed-hook.mjs).
 */
const LOWER_CASE = new Map(['RateLimit-Policy', 'RateLimit', 'Retry-After'].map((name) => [name, name.toLowerCase()]));
export const fastifyAdapter = {
  incoming: (request) => request.raw,
  ip: (request) => request.ip,
  app: (request) => request.server,
  headersSent: (reply) => reply.sent,
  setHeader: (reply, name, value) => void reply.header(LOWER_CASE.get(name) ?? name, value),
  send: (reply, status, contentType, body) => void reply.code(status).type(contentType).send(body),
  callOnLimited: (onLimited, request, reply, decision) => onLimited(request, reply, decision),
};
