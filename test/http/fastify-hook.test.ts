// Fastify: a limit keyed on the authenticated identity. `hook` (plugin-wide, or per route in
// config.rateLimit) moves the limit after an auth hook that sets request.user.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import request from 'supertest';
import { RedisStore } from '@tokenbucket/core';
import tokenBucket, { type LimitHook } from '@tokenbucket/fastify';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';

requireRedis();

declare module 'fastify' {
  interface FastifyRequest {
    user?: { id: string };
  }
}

const pool = new RedisPool();
const prefix = randomPrefix('fastify-hook');
const apps: FastifyInstance[] = [];
let store: RedisStore;
beforeEach(() => {
  store = new RedisStore({ client: pool.client(), prefix });
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  const keys = await pool.keys(`${prefix}*`);
  if (keys.length > 0) await pool.client().del(...keys);
});
afterAll(() => pool.closeAll([prefix]));

const SLOW = 1 / 3600;
/** Session tokens and the users they log in: two tokens of user u1 are the same caller. */
const SESSIONS: Record<string, string> = { t1: 'u1', 't1-phone': 'u1', t2: 'u2', t3: 'u3', t4: 'u4' };
/** An auth hook that sets request.user from a session token, and lets anonymous requests through. */
async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = request.headers.authorization?.replace(/^Session /, '');
  if (token === undefined) return;
  const id = SESSIONS[token];
  if (id === undefined) return void (await reply.code(403).send({ error: 'bad session' }));
  request.user = { id };
}

/** Starts an app on an ephemeral port of 127.0.0.1; the function GETs a path with a session token. */
async function start(register: (app: FastifyInstance) => Promise<void> | void) {
  const app = Fastify();
  apps.push(app);
  await register(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const get = (path: string, token?: string) => {
    const r = request(app.server).get(path);
    return token === undefined ? r : r.set('authorization', `Session ${token}`);
  };
  return Object.assign(get, { server: app.server });
}
const byUser = { key: (request: FastifyRequest) => request.user?.id, missingKey: 'reject' as const, capacity: 2, refillPerSecond: SLOW };

test("hook: 'preHandler' keys on request.user set by an auth hook: four users are four buckets", async () => {
  const get = await start(async (app) => {
    app.addHook('preHandler', authenticate);
    await app.register(tokenBucket, { store, hook: 'preHandler', ...byUser });
    app.get('/me', { config: { rateLimit: {} } }, async (request) => ({ user: request.user?.id }));
  });
  const statuses: Record<string, number[]> = {};
  for (const token of ['t1', 't2', 't3', 't4', 't1-phone', 't2', 't3', 't4', 't1', 't2', 't3', 't4']) {
    const user = SESSIONS[token] as string;
    statuses[user] = [...(statuses[user] ?? []), (await get('/me', token)).status];
  }
  // Each user's two tokens, then a 429: never a 401 for someone logged in.
  expect(statuses).toEqual({ u1: [200, 200, 429], u2: [200, 200, 429], u3: [200, 200, 429], u4: [200, 200, 429] });
  expect((await get('/me')).status).toBe(401); // anonymous: no key, missingKey 'reject'
});

test("the default hook, 'onRequest', runs before the auth hook: the same options reject the logged-in user", async () => {
  const get = await start(async (app) => {
    app.addHook('preHandler', authenticate);
    await app.register(tokenBucket, { store, ...byUser });
    app.get('/me', { config: { rateLimit: {} } }, async () => ({ ok: true }));
  });
  expect((await get('/me', 't1')).status).toBe(401);
});

test("config.rateLimit.hook moves one route after its own auth hook; the others keep the plugin's", async () => {
  const get = await start(async (app) => {
    await app.register(tokenBucket, { store, capacity: 1, refillPerSecond: SLOW });
    app.get('/open', { config: { rateLimit: {} } }, async () => ({ ok: true }));
    app.get('/mine', { preHandler: authenticate, config: { rateLimit: { ...byUser, hook: 'preHandler' } } }, async () => ({ ok: true }));
  });
  expect([(await get('/mine', 't1')).status, (await get('/mine', 't2')).status, (await get('/mine', 't1-phone')).status]).toEqual([200, 200, 200]);
  expect((await get('/mine', 't1')).status).toBe(429);
  // /open limits by API key or IP in onRequest: the session token is not a key, so one IP bucket.
  expect([(await get('/open', 't1')).status, (await get('/open', 't2')).status]).toEqual([200, 429]);
});

test.each<[LimitHook, boolean]>([
  ['onRequest', false],
  ['preParsing', false],
  ['preValidation', true],
  ['preHandler', true],
])("hook: '%s' limits the route (the body parsed: %s)", async (hook, parsed) => {
  const seen: unknown[] = [];
  const get = await start(async (app) => {
    await app.register(tokenBucket, { store, hook });
    app.post(
      '/echo',
      {
        config: {
          rateLimit: {
            capacity: 1,
            refillPerSecond: SLOW,
            key: (request) => {
              seen.push(request.body);
              return 'one caller';
            },
          },
        },
      },
      async (request) => request.body,
    );
  });
  const post = () => request(get.server).post('/echo').send({ a: 1 });
  const first = await post();
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ a: 1 });
  expect(first.headers['ratelimit-policy']).toBe('"POST /echo";q=1;w=3600');
  const denied = await post();
  expect(denied.status).toBe(429);
  expect(denied.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(seen).toEqual(parsed ? [{ a: 1 }, { a: 1 }] : [undefined, undefined]);
});

test('fastify.rateLimit() placed after an auth preHandler keys on the user too', async () => {
  const get = await start(async (app) => {
    await app.register(tokenBucket, { store });
    app.get('/x', { preHandler: [authenticate, app.rateLimit(byUser)] }, async () => ({ ok: true }));
  });
  expect([(await get('/x', 't1')).status, (await get('/x', 't2')).status, (await get('/x', 't1')).status]).toEqual([200, 200, 200]);
  expect((await get('/x', 't1-phone')).status).toBe(429);
});

test('a bad hook fails at registration, naming it; fastify.rateLimit() takes none', async () => {
  const app = Fastify();
  apps.push(app);
  await expect(app.register(tokenBucket, { hook: 'onSend' as LimitHook })).rejects.toThrow(
    /`hook` must be one of 'onRequest', 'preParsing', 'preValidation', 'preHandler'; got "onSend"/,
  );
  const other = Fastify();
  apps.push(other);
  await other.register(tokenBucket);
  expect(() => other.get('/r', { config: { rateLimit: { capacity: 1, refillPerSecond: 1, hook: 'onResponse' as LimitHook } } }, async () => ({}))).toThrow(
    /`config.rateLimit.hook` must be one of/,
  );
  expect(() => other.rateLimit({ capacity: 1, refillPerSecond: 1, hook: 'preHandler' } as never)).toThrow(/`hook` must be left out/);
});
