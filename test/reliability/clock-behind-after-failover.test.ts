// After a failover to a master whose clock is behind the old one's, a bucket can hold a TAT far
// in the new master's future (here 600 s ahead of its TIME, written directly). The store caps it at
// one full refill ahead: Retry-After stays honest, and the caller is admitted again within one refill.
import type Redis from 'ioredis';
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { bucketKey, hashCallerKey } from '@tokenbucket/core/store';
import { startExpressApp } from '../support/express-app';
import { randomPrefix, RedisPool, sleep } from '../support/redis';
import { report } from '../support/report';

const AHEAD_SECONDS = 600;
/** 2 tokens at 1 a second: one full refill takes 2 s. */
const POLICY = { name: 'p', capacity: 2, refillPerSecond: 1 };
const FULL_REFILL_MS = (POLICY.capacity / POLICY.refillPerSecond) * 1000;

/** Writes the caller's bucket as a server whose clock ran `AHEAD_SECONDS` ahead of this one's would have. */
async function writeBucketFromTheFuture(admin: Redis, key: string): Promise<void> {
  const [seconds, micros] = await admin.time();
  const tat = Number(seconds) * 1e6 + Number(micros) + AHEAD_SECONDS * 1e6;
  await admin.set(key, String(tat), 'PX', (AHEAD_SECONDS + 60) * 1000);
}

describe('a bucket stored 600 s ahead of the server clock (failover to a master whose clock is behind)', () => {
  const pool = new RedisPool();
  const prefix = randomPrefix('clockbehind');
  let admin: Redis;

  beforeAll(() => {
    admin = pool.client();
  });

  afterAll(async () => {
    await pool.closeAll([prefix]);
  });

  test('take: denied with a wait of at most one full refill; after that wait, allowed', async () => {
    const limiter = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), ...POLICY });
    const key = bucketKey(prefix, POLICY.name, hashCallerKey('caller'));
    await writeBucketFromTheFuture(admin, key);

    const denied = await limiter.take('caller');
    const ttlAfter = await admin.pttl(key);
    const waitedFrom = performance.now();
    let allowedAfterMs: number | undefined;
    let deniedAgain = 0;
    await sleep(denied.retryAfterMs);
    while (allowedAfterMs === undefined && performance.now() - waitedFrom < 5000) {
      if ((await limiter.take('caller')).allowed) allowedAfterMs = performance.now() - waitedFrom;
      else {
        deniedAgain++;
        await sleep(50);
      }
    }
    report(
      `bucket ${AHEAD_SECONDS} s ahead: denied with retryAfterMs ${denied.retryAfterMs} (one full refill: ${FULL_REFILL_MS} ms), ` +
        `bucket TTL after the denial ${ttlAfter} ms; allowed ${allowedAfterMs === undefined ? 'not within 5 s' : `${Math.round(allowedAfterMs)} ms`} later, after ${deniedAgain} more denials`,
    );

    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(FULL_REFILL_MS);
    // The cap was written back: the bucket now expires within one refill, not in ten minutes.
    expect(ttlAfter).toBeGreaterThan(0);
    expect(ttlAfter).toBeLessThanOrEqual(FULL_REFILL_MS);
    // Retry-After is honest: once it has passed, the next take is allowed.
    expect(deniedAgain).toBe(0);
    expect(allowedAfterMs).toBeDefined();
  });

  test('HTTP: Retry-After is at most one full refill, and a request after it passes', async () => {
    const app = await startExpressApp({ store: new RedisStore({ client: pool.client(), prefix }), ...POLICY });
    try {
      await writeBucketFromTheFuture(admin, bucketKey(prefix, POLICY.name, hashCallerKey('http-caller')));
      const get = () => fetch(`${app.url}/r`, { headers: { 'x-api-key': 'http-caller' } });
      const first = await get();
      const retryAfter = Number(first.headers.get('retry-after'));
      await sleep(retryAfter * 1000);
      const second = await get();
      report(`HTTP, bucket ${AHEAD_SECONDS} s ahead: ${first.status} with Retry-After: ${retryAfter}; after waiting it: ${second.status}`);
      expect(first.status).toBe(429);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(FULL_REFILL_MS / 1000);
      expect(second.status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
