// global-quota.test.ts: one quota for every caller, stacked with a quota per caller, on leases.
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { RedisStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';

const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
// Leases make the shared key cheap: each instance spends batches of tokens taken in one call.
const store = new RedisStore({ client, prefix: `global-${process.pid}-${Date.now()}:`, leases: true });
const sources: string[] = [];
const onDecision = (event: { source: string }) => void sources.push(event.source);

const app = express();
// The whole API: 250 requests, whoever sends them (the key is the same for every caller)...
app.use(rateLimit({ store, name: 'everyone', capacity: 250, refillPerSecond: 1 / 3600, key: () => 'everyone', onDecision }));
// ...and 100 per API key; a request this one denies gives its "everyone" token back.
app.use(rateLimit({ store, name: 'per-caller', capacity: 100, refillPerSecond: 1 / 3600 }));
app.get('/api', (_req, res) => res.json({ ok: true }));

afterAll(async () => {
  await store.clear();
  await client.quit();
});

/** `n` requests with API key `key`, 25 at a time; the statuses and the policy named by each 429. */
async function send(key: string, n: number): Promise<{ ok: number; denied: Record<string, number> }> {
  const out = { ok: 0, denied: {} as Record<string, number> };
  for (let i = 0; i < n; i += 25) {
    const batch = Array.from({ length: Math.min(25, n - i) }, () => request(app).get('/api').set('X-API-Key', key));
    for (const res of await Promise.all(batch)) {
      if (res.status === 200) out.ok++;
      else out.denied[res.body.policy] = (out.denied[res.body.policy] ?? 0) + 1;
    }
  }
  return out;
}

test('every caller shares "everyone"; a per-caller 429 does not spend it; never more than 250 in all', async () => {
  // alice: 100 admitted, 50 denied by her own quota (their "everyone" tokens given back).
  expect(await send('alice', 150)).toEqual({ ok: 100, denied: { 'per-caller': 50 } });
  expect(await send('bob', 100)).toEqual({ ok: 100, denied: {} });
  // carol gets what is left of "everyone": 50.
  expect(await send('carol', 100)).toEqual({ ok: 50, denied: { everyone: 50 } });
  expect(sources).toContain('lease'); // the shared key was answered from leases
});
