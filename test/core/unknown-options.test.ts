// A misspelt or unknown option is an error at creation, naming it and the closest known name;
// so is a store that is not a store. Through core and through each adapter.
import Fastify, { type FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import { createLimiter, memoizePolicies, MemoryStore, RedisStore, TokenBucketError } from '@tokenbucket/core';
import { rateLimit as expressRateLimit } from '@tokenbucket/express';
import tokenBucket from '@tokenbucket/fastify';
import { rateLimit as koaRateLimit } from '@tokenbucket/koa';

const apps: FastifyInstance[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  for (const c of clients) c.disconnect();
});
/** A client that never connects: the options are refused before it is used. */
const idleClient = () => {
  const client = new Redis({ lazyConnect: true });
  clients.push(client);
  return client;
};

/** The error `create` throws: TB_ERR_INVALID_OPTION, naming `option`, with a message matching `message`. */
function creationError(create: () => unknown): TokenBucketError {
  try {
    create();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenBucketError);
    expect((err as TokenBucketError).code).toBe('TB_ERR_INVALID_OPTION');
    return err as TokenBucketError;
  }
  throw new Error('expected the creation to throw');
}
const inline = { capacity: 5, refillPerSecond: 1 };
/** How every TB_ERR_INVALID_OPTION message ends: where the code is explained. */
const SEE = ' (see docs/reference/errors.md#tb_err_invalid_option)';

describe('core', () => {
  test.each<[string, () => unknown, string, string]>([
    ['createLimiter', () => createLimiter({ ...inline, capcity: 3 } as never), 'capcity', 'did you mean `capacity`?'],
    [
      'createLimiter, a policy',
      () => createLimiter({ policies: [{ name: 'a', capacity: 1, refillPerSec: 1 }] } as never),
      'policies[0].refillPerSec',
      'did you mean `policies[0].refillPerSecond`?',
    ],
    ['RedisStore', () => new RedisStore({ client: idleClient(), prefx: 'x:' } as never), 'prefx', 'did you mean `prefix`?'],
    [
      'RedisStore breaker',
      () => new RedisStore({ client: idleClient(), breaker: { cooldown: 5 } } as never),
      'breaker.cooldown',
      'did you mean `breaker.cooldownMs`?',
    ],
    [
      'RedisStore denialCache',
      () => new RedisStore({ client: idleClient(), denialCache: { maxkeys: 5 } } as never),
      'denialCache.maxkeys',
      'did you mean `denialCache.maxKeys`?',
    ],
    ['MemoryStore', () => new MemoryStore({ maxkeys: 10 } as never), 'maxkeys', 'did you mean `maxKeys`?'],
    ['memoizePolicies', () => memoizePolicies(() => [], { ttl: 1000 } as never), 'ttl', 'did you mean `ttlMs`?'],
  ])('%s', (_label, create, option, hint) => {
    const err = creationError(create);
    expect(err.option).toBe(option);
    expect(err.message).toBe(`tokenbucket: unknown option \`${option}\`: ${hint}${SEE}`);
  });

  test('a name far from every known one lists the known names', () => {
    expect(creationError(() => createLimiter({ ...inline, banana: 1 } as never)).message).toBe(
      `tokenbucket: unknown option \`banana\`: the options are \`store\`, \`name\`, \`capacity\`, \`refillPerSecond\`, \`policies\`, \`lockout\`, \`concurrency\`.${SEE}`,
    );
  });
});

describe('adapters: unknown names, and `store` given as a Redis URL', () => {
  const typo = { ...inline, onMissingkey: 'reject' };
  const url = { ...inline, store: 'redis://127.0.0.1:6379' };

  test('Express and Koa: rateLimit(...) throws', () => {
    for (const rateLimit of [expressRateLimit, koaRateLimit] as ((o: never) => unknown)[]) {
      expect(creationError(() => rateLimit(typo as never)).message).toBe(`tokenbucket: unknown option \`onMissingkey\`: did you mean \`missingKey\`?${SEE}`);
      expect(creationError(() => rateLimit(url as never)).message).toMatch(
        /`store` must be a store: new RedisStore\(\{ client \}\) or new MemoryStore\(\); got "redis:\/\/127\.0\.0\.1:6379"/,
      );
      // onLimited is every adapter's; Fastify's `hook` is not Express's or Koa's.
      expect(() => rateLimit({ ...inline, onLimited: () => undefined } as never)).not.toThrow();
      expect(creationError(() => rateLimit({ ...inline, hook: 'preHandler' } as never)).option).toBe('hook');
    }
  });

  test("Fastify: an unknown plugin option fails the registration; the plugin's store, the first route it limits", async () => {
    const bad = Fastify();
    apps.push(bad);
    await expect(bad.register(tokenBucket, typo as never)).rejects.toThrow(`tokenbucket: unknown option \`onMissingkey\`: did you mean \`missingKey\`?${SEE}`);
    const app = Fastify();
    apps.push(app);
    await app.register(tokenBucket, { ...url, global: true } as never);
    expect(creationError(() => app.get('/x', async () => ({}))).option).toBe('store');
  });

  test('Fastify: config.rateLimit fails when the route is registered, fastify.rateLimit(...) when called', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(tokenBucket, { hook: 'preHandler' });
    let path = '';
    const route = (rateLimit: object) => () => {
      path = `/r${Math.random()}`;
      return app.get(path, { config: { rateLimit } }, async () => ({}));
    };
    expect(creationError(route({ ...inline, hok: 'preHandler' })).message).toBe(
      `tokenbucket: unknown option \`config.rateLimit.hok\`: did you mean \`config.rateLimit.hook\`? (config.rateLimit of route GET ${path})${SEE}`,
    );
    expect(creationError(route({ ...inline, global: true })).option).toBe('config.rateLimit.global');
    expect(creationError(route(url)).option).toBe('store');
    expect(creationError(() => app.rateLimit(typo as never)).option).toBe('onMissingkey');
    expect(creationError(() => app.rateLimit(url as never)).option).toBe('store');
  });
});

describe('options renamed before 1.0 name their new names', () => {
  const adapters = [expressRateLimit, koaRateLimit] as ((o: never) => unknown)[];

  test.each([
    ['onMissingKey', 'reject', 'option `onMissingKey` is now `missingKey`.'],
    ['onError', () => undefined, 'option `onError` is now `onStoreError`.'],
  ])('%s', (name, value, said) => {
    for (const rateLimit of adapters) {
      const err = creationError(() => rateLimit({ ...inline, [name]: value } as never));
      expect(err.option).toBe(name);
      expect(err.message).toBe(`tokenbucket: ${said}${SEE}`);
    }
  });

  test.each(['fallback', 'allow', 'deny'])("onStoreError: '%s' (the strategy of before) says the strategy is now `storeFailure`", (strategy) => {
    for (const rateLimit of adapters) {
      const err = creationError(() => rateLimit({ ...inline, onStoreError: strategy } as never));
      expect(err.option).toBe('onStoreError');
      expect(err.message).toBe(
        "tokenbucket: option `onStoreError` must be a function, called when the store fails; the strategy 'fallback', 'allow', 'deny' is now the option " +
          `\`storeFailure\`; got "${strategy}".${SEE}`,
      );
    }
  });

  test('the new names are taken: missingKey and storeFailure strategies, onStoreError a function', () => {
    for (const rateLimit of adapters) {
      expect(() => rateLimit({ ...inline, missingKey: 'reject', storeFailure: 'deny', onStoreError: () => undefined } as never)).not.toThrow();
      expect(creationError(() => rateLimit({ ...inline, storeFailure: 'onError' } as never)).option).toBe('storeFailure');
      expect(creationError(() => rateLimit({ ...inline, onStoreError: 1 } as never)).option).toBe('onStoreError');
    }
  });
});
