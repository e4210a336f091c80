// What a RedisStore answers from memory (a remembered denial, a known lock-out) never outlives a
// refund, reward, reset or unlock: made through the same store, at once, under any limiter with
// the same policy names; made through another instance (another store on the same Redis and
// prefix), within a second.
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { randomPrefix, RedisPool, requireRedis, sleep } from '../support/redis';

requireRedis();

const pool = new RedisPool();
const prefix = randomPrefix('trust');
afterAll(() => pool.closeAll([prefix]));

const policy = { name: 'trust', capacity: 1, refillPerSecond: 1 / 3600 };

test('a denial remembered by one limiter is forgotten when another limiter of the same store rewards the caller', async () => {
  const store = new RedisStore({ client: pool.client(), prefix });
  const route = createLimiter({ store, ...policy });
  const admin = createLimiter({ store, ...policy });
  await route.take('same-store');
  expect((await route.take('same-store')).allowed).toBe(false);
  await admin.reward('same-store');
  expect((await route.take('same-store')).allowed).toBe(true);
});

test('a denial remembered by one instance is trusted for at most a second after another instance resets the caller', async () => {
  const here = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), ...policy, name: 'trust-2' });
  const elsewhere = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), ...policy, name: 'trust-2' });
  await here.take('two-stores');
  expect((await here.take('two-stores')).allowed).toBe(false); // remembered here
  await elsewhere.reset('two-stores');
  await sleep(1050);
  expect((await here.take('two-stores')).allowed).toBe(true);
});

test('a lock-out known by one instance is asked again within a second after another instance lifts it', async () => {
  const lockout = { after: 1, windowSeconds: 60, durationSeconds: 600 };
  const here = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), ...policy, name: 'trust-3', lockout });
  const elsewhere = createLimiter({ store: new RedisStore({ client: pool.client(), prefix }), ...policy, name: 'trust-3', lockout });
  await here.take('locked');
  expect((await here.take('locked')).lockedMs).toBeGreaterThan(599_000);
  expect((await here.take('locked')).lockedMs).toBeGreaterThan(0); // from memory
  await elsewhere.reset('locked');
  await sleep(1050);
  expect((await here.take('locked')).allowed).toBe(true);
});
