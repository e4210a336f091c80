// What only Fastify has: global mode, `config.rateLimit: false`, `fastify.rateLimit(opts)`,
// plugin defaults merged under route options.
import Fastify, { type FastifyInstance } from 'fastify';
import request from 'supertest';
import { RedisStore } from '@tokenbucket/core';
import tokenBucket, { tokenBucket as named } from '@tokenbucket/fastify';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('fastify-plugin');
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(() => pool.closeAll([prefix]));

/** An app listening on an ephemeral port of 127.0.0.1, for `request(app.server)`. */
async function build(register: (app: FastifyInstance) => Promise<void> | void) {
  const app = Fastify();
  apps.push(app);
  await register(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}
const hit = async (app: FastifyInstance, url: string, key = 'k', method: 'GET' | 'HEAD' = 'GET') => {
  const r = await request(app.server)[method === 'GET' ? 'get' : 'head'](url).set('x-api-key', key);
  return {
    status: r.status,
    ratelimit: r.headers.ratelimit,
    policy: r.headers['ratelimit-policy'],
    legacyLimit: r.headers['x-ratelimit-limit'],
  };
};

test('the default export and the named export are the same plugin', () => {
  expect(named).toBe(tokenBucket);
});

test('global: every route is limited with the plugin defaults; config.rateLimit false opts out', async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const app = await build(async (a) => {
    await a.register(tokenBucket, { store, global: true, capacity: 2, refillPerSecond: 1 / 3600 });
    a.get('/g1', async () => ({ ok: true }));
    a.get('/g2', async () => ({ ok: true }));
    a.get('/health', { config: { rateLimit: false } }, async () => ({ ok: true }));
  });
  expect((await Promise.all([1, 2, 3].map(() => hit(app, '/g1')))).map((r) => r.status).sort()).toEqual([200, 200, 429]);
  expect((await hit(app, '/g2')).policy).toBe('"GET /g2";q=2;w=7200');
  const health = await hit(app, '/health');
  expect(health.status).toBe(200);
  expect(health.ratelimit).toBeUndefined();
});

test('not global (the default): only routes with config.rateLimit are limited; route options override defaults', async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const app = await build(async (a) => {
    await a.register(tokenBucket, { store, legacyHeaders: true, capacity: 50, refillPerSecond: 1 });
    a.get('/plain', async () => ({ ok: true }));
    a.get('/limited', { config: { rateLimit: { capacity: 1, refillPerSecond: 1 / 3600 } } }, async () => ({ ok: true }));
  });
  expect((await hit(app, '/plain')).ratelimit).toBeUndefined();
  const first = await hit(app, '/limited');
  expect(first.policy).toBe('"GET /limited";q=1;w=3600');
  expect(first.legacyLimit).toBe('1'); // legacyHeaders from the plugin defaults
  expect((await hit(app, '/limited')).status).toBe(429);
});

test("HEAD shares the GET route's bucket", async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const app = await build(async (a) => {
    await a.register(tokenBucket, { store });
    a.get('/both', { config: { rateLimit: { capacity: 2, refillPerSecond: 1 / 3600 } } }, async () => ({ ok: true }));
  });
  expect((await hit(app, '/both', 'k', 'HEAD')).status).toBe(200);
  expect((await hit(app, '/both')).ratelimit).toBe('"GET /both";r=0;t=7200');
});

test('a route with several methods has a bucket per method, as in the other adapters', async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const app = await build(async (a) => {
    await a.register(tokenBucket, { store });
    a.route({ method: ['GET', 'POST'], url: '/m', config: { rateLimit: { capacity: 1, refillPerSecond: 1 / 3600 } }, handler: async () => ({ ok: true }) });
  });
  expect((await hit(app, '/m')).policy).toBe('"GET /m";q=1;w=3600');
  const post = await request(app.server).post('/m').set('x-api-key', 'k');
  expect(post.status).toBe(200);
  expect(post.headers['ratelimit-policy']).toBe('"POST /m";q=1;w=3600');
  expect((await hit(app, '/m')).status).toBe(429);
});

test('an app-wide hook names requests that match no route "(no route)", never by their URL', async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const app = await build(async (a) => {
    await a.register(tokenBucket, { store });
    a.addHook('onRequest', a.rateLimit({ capacity: 2, refillPerSecond: 1 / 3600 }));
  });
  expect((await hit(app, '/nope?a=1')).policy).toBe('"GET (no route)";q=2;w=7200');
  expect((await hit(app, '/nope?a=2')).status).toBe(404);
  expect((await hit(app, '/other')).status).toBe(429);
});

test('fastify.rateLimit(opts) gives an onRequest hook for any route', async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const app = await build(async (a) => {
    await a.register(tokenBucket, { store });
    a.get('/x/:id', { onRequest: a.rateLimit({ capacity: 1, refillPerSecond: 1 / 3600 }) }, async () => ({ ok: true }));
  });
  expect((await hit(app, '/x/1')).policy).toBe('"GET /x/:id";q=1;w=3600');
  expect((await hit(app, '/x/2')).status).toBe(429);
});

test('bad route options fail at registration, naming the option and the route', async () => {
  const app = Fastify();
  apps.push(app);
  await app.register(tokenBucket);
  expect(() => app.get('/bad/:id', { config: { rateLimit: { capacity: -1, refillPerSecond: 1 } } }, async () => ({}))).toThrow(
    /`capacity` must be an integer >= 1.*got -1\. \(config\.rateLimit of route GET \/bad\/:id\) \(see docs\/reference\/errors\.md#tb_err_invalid_option\)$/,
  );
  expect(() => app.post('/bad2', { config: { rateLimit: 'yes' as never } }, async () => ({}))).toThrow(
    /`config.rateLimit` must be an options object.*\(config\.rateLimit of route POST \/bad2\) \(see docs\/reference\/errors\.md#tb_err_invalid_option\)$/,
  );
  expect(() => app.route({ method: ['PUT', 'PATCH'], url: '/bad3', config: { rateLimit: { hook: 'onSend' as never } }, handler: async () => ({}) })).toThrow(
    expect.objectContaining({
      code: 'TB_ERR_INVALID_OPTION',
      option: 'config.rateLimit.hook',
      message: expect.stringMatching(/\(config\.rateLimit of route PUT, PATCH \/bad3\) \(see docs\/reference\/errors\.md#tb_err_invalid_option\)$/),
    }),
  );
});

describe('a route registered before the plugin (the onRoute hook never sees it): a coded warning naming it', () => {
  const warnings = () => {
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const calls = () =>
      spy.mock.calls.filter(([, o]) => (o as { code?: string } | undefined)?.code === 'TB_WARN_FASTIFY_ROUTE_BEFORE_PLUGIN').map(([m]) => String(m));
    return { calls, restore: () => spy.mockRestore() };
  };
  const limit = { capacity: 1, refillPerSecond: 1 / 3600 };

  test('declared before `await app.register(...)`: named, with the fix; and indeed not limited', async () => {
    const store = new RedisStore({ client: pool.client(), prefix });
    const w = warnings();
    try {
      const app = await build(async (a) => {
        a.get('/early', { config: { rateLimit: limit } }, async () => ({ ok: true }));
        a.get('/plain', async () => ({ ok: true })); // not meant to be limited: not named
        await a.register(tokenBucket, { store });
        a.get('/late', { config: { rateLimit: limit } }, async () => ({ ok: true }));
      });
      expect(w.calls()).toHaveLength(1);
      expect(w.calls()[0]).toMatch(/^tokenbucket: GET \/early was registered before @tokenbucket\/fastify, so it is not rate limited/);
      expect(w.calls()[0]).toMatch(/Register the plugin first: `await app\.register\(tokenBucket, \.\.\.\)` before declaring routes/);
      expect(w.calls()[0]).not.toMatch(/plain|late|HEAD/);
      expect([(await hit(app, '/early')).status, (await hit(app, '/early')).status]).toEqual([200, 200]);
      expect([(await hit(app, '/late')).status, (await hit(app, '/late')).status]).toEqual([200, 429]);
    } finally {
      w.restore();
    }
  });

  test('in a plugin registered before it, and after a register that was not awaited: each named once', async () => {
    const store = new RedisStore({ client: pool.client(), prefix });
    const w = warnings();
    try {
      await build(async (a) => {
        a.register(async (child) => {
          child.post('/child', { config: { rateLimit: limit } }, async () => ({ ok: true }));
        });
        a.register(tokenBucket, { store }); // not awaited: the next line runs before the plugin is set up
        a.put('/not-awaited', { config: { rateLimit: limit } }, async () => ({ ok: true }));
      });
      expect(w.calls()).toEqual([
        expect.stringMatching(/^tokenbucket: PUT \/not-awaited, POST \/child were registered before @tokenbucket\/fastify, so they are not rate limited/),
      ]);
    } finally {
      w.restore();
    }
  });

  test('global: every earlier route but those with config.rateLimit false; none when the plugin comes first', async () => {
    const store = new RedisStore({ client: pool.client(), prefix });
    const w = warnings();
    try {
      await build(async (a) => {
        a.get('/health', { config: { rateLimit: false } }, async () => ({ ok: true }));
        a.get('/items', async () => ({ ok: true }));
        await a.register(tokenBucket, { store, global: true, ...limit });
      });
      expect(w.calls()).toEqual([expect.stringMatching(/^tokenbucket: GET \/items was registered before/)]);
      await build(async (a) => {
        await a.register(tokenBucket, { store, global: true, ...limit });
        a.get('/items', async () => ({ ok: true }));
      });
      expect(w.calls()).toHaveLength(1);
    } finally {
      w.restore();
    }
  });
});
