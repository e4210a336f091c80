// Every policy is a member of the RateLimit and RateLimit-Policy headers and a key read in one
// atomic step: a limiter has at most 32. More is an error at creation, or, from a policies
// function, an error through the framework's error handling; never a header of many kilobytes.
import { createLimiter, RedisStore, TokenBucketError, type PolicyOptions } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import { startExpressApp } from '../support/express-app';
import { randomPrefix, RedisPool } from '../support/redis';
import { report } from '../support/report';

const policies = (n: number): PolicyOptions[] =>
  Array.from({ length: n }, (_, i) => ({ name: `tier-${i}-per-hour`, capacity: 100 + i, refillPerSecond: (100 + i) / 3600 }));

describe('at most 32 policies per limiter', () => {
  const pool = new RedisPool();
  const prefix = randomPrefix('policies');
  afterAll(() => pool.closeAll([prefix]));

  test('33 static policies throw at creation, naming the option and the bound', () => {
    const store = new RedisStore({ client: pool.client(), prefix });
    const errors: unknown[] = [];
    for (const create of [() => createLimiter({ store, policies: policies(33) }), () => rateLimit({ store, policies: policies(33) })]) {
      try {
        create();
      } catch (err) {
        errors.push(err);
      }
    }
    expect(errors).toHaveLength(2);
    for (const err of errors) {
      expect(err).toBeInstanceOf(TokenBucketError);
      expect(err).toMatchObject({ code: 'TB_ERR_INVALID_OPTION', option: 'policies' });
      expect((err as Error).message).toContain('at most 32');
    }
    // 32 are fine.
    expect(createLimiter({ store, policies: policies(32) }).policies).toHaveLength(32);
  });

  test.each([33, 1000])('a policies function returning %i: the framework answers its error (500), with no RateLimit header', async (n) => {
    const list = policies(n);
    const app = await startExpressApp({ store: new RedisStore({ client: pool.client(), prefix }), policies: () => list });
    try {
      const res = await fetch(`${app.url}/r`, { headers: { 'x-api-key': 'caller' } });
      const body = (await res.json()) as { code?: string; message?: string };
      const headerBytes = [...res.headers].reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
      report(`policies function returning ${n}: ${res.status} ${JSON.stringify(body)}; response headers ${headerBytes} bytes`);
      expect(res.status).toBe(500);
      expect(res.headers.get('ratelimit')).toBeNull();
      expect(res.headers.get('ratelimit-policy')).toBeNull();
      expect(body.code).toBe('TB_ERR_INVALID_OPTION');
      expect(body.message).toContain('at most 32');
      expect(app.errors).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  test('a policies function returning 32: decided, both headers sent, and their size', async () => {
    const list = policies(32);
    const app = await startExpressApp({ store: new RedisStore({ client: pool.client(), prefix }), policies: () => list });
    try {
      const res = await fetch(`${app.url}/r`, { headers: { 'x-api-key': 'caller-32' } });
      await res.arrayBuffer();
      const rateLimitBytes = (res.headers.get('ratelimit') ?? '').length;
      const policyBytes = (res.headers.get('ratelimit-policy') ?? '').length;
      report(`32 policies named like "${list[31]!.name}": RateLimit ${rateLimitBytes} bytes, RateLimit-Policy ${policyBytes} bytes`);
      expect(res.status).toBe(200);
      expect(rateLimitBytes).toBeGreaterThan(0);
      expect(policyBytes).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
