// The HTTP contract, policies and tiers: several policies on one route, and per-caller policies
// from a cached lookup.
import { randomBytes } from 'node:crypto';
import { memoizePolicies, type PolicyOptions } from '@tokenbucket/core';
import { key, send, statuses } from '../client';
import { SLOW, type SuiteApps } from '../suite-apps';

export function policyCases(suite: SuiteApps): void {
  const { single } = suite;

  test('several policies: both in the headers; the binding one denies', async () => {
    const tag = randomBytes(3).toString('hex');
    const { app, path } = await single({
      policies: [
        { name: `burst-${tag}`, capacity: 3, refillPerSecond: 0.1 },
        { name: `daily-${tag}`, capacity: 4, refillPerSecond: 4 / 86400 },
      ],
    });
    const first = await send(app, path, key('k'));
    expect(first.headers['ratelimit-policy']).toBe(`"burst-${tag}";q=3;w=30, "daily-${tag}";q=4;w=86400`);
    expect(first.headers.ratelimit).toBe(`"burst-${tag}";r=2;t=10, "daily-${tag}";r=3;t=21600`);
    expect(await statuses(app, path, key('k'), 4)).toEqual([200, 200, 429, 429]);
  });

  test('per-caller tiers: policies from a (cached) lookup of the caller', async () => {
    const tag = randomBytes(3).toString('hex');
    const FREE: PolicyOptions[] = [{ name: `free-${tag}`, capacity: 1, refillPerSecond: SLOW }];
    const PRO: PolicyOptions[] = [{ name: `pro-${tag}`, capacity: 3, refillPerSecond: SLOW }];
    let lookups = 0;
    const policies = memoizePolicies(async (apiKey: string) => {
      lookups++;
      return apiKey.startsWith('pro_') ? PRO : FREE;
    });
    const { app, path } = await single({ policies });
    expect(await statuses(app, path, key('free_1'), 2)).toEqual([200, 429]);
    expect(await statuses(app, path, key('pro_1'), 4)).toEqual([200, 200, 200, 429]);
    expect((await send(app, path, key('pro_2'))).headers['ratelimit-policy']).toBe(`"pro-${tag}";q=3;w=10800`);
    expect(lookups).toBe(3); // once per caller, then cached
  });
}
