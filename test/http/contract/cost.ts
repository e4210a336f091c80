// The HTTP contract, what a route may change about a take: cost (fixed, computed, above the
// capacity), skip, dryRun, onLimited.
import type { DecisionEvent } from '@tokenbucket/core';
import { key, send, statuses } from '../client';
import { SLOW, type SuiteApps } from '../suite-apps';

export function costCases(suite: SuiteApps): void {
  const { harness, single } = suite;

  test('cost: a number, or a function of the request', async () => {
    const fixed = await single({ capacity: 10, refillPerSecond: SLOW, cost: 4 });
    expect((await send(fixed.app, fixed.path, key('k'))).headers.ratelimit).toMatch(/;r=6;/);
    const byHeader = await single({
      capacity: 10,
      refillPerSecond: SLOW,
      cost: (req) => Number(harness.header(req, 'x-batch') ?? 1),
    });
    expect((await send(byHeader.app, byHeader.path, { ...key('k'), 'x-batch': '7' })).headers.ratelimit).toMatch(/;r=3;/);
    const denied = await send(byHeader.app, byHeader.path, { ...key('k'), 'x-batch': '4' });
    expect(denied.status).toBe(429);
    expect(denied.headers.ratelimit).toMatch(/;r=3;/); // nothing debited
  });

  test('a static cost above the capacity fails when the app is built', async () => {
    await expect(single({ capacity: 5, refillPerSecond: 1, cost: 6 })).rejects.toThrow(/`cost` must be at most the smallest capacity \(5\).*got 6/);
  });

  test('a computed cost above the capacity: 413, no Retry-After, never a 5xx', async () => {
    const { app, path } = await single({ capacity: 5, refillPerSecond: 1, cost: (req) => Number(harness.header(req, 'x-batch')) });
    const r = await send(app, path, { ...key('k'), 'x-batch': '6' });
    expect(r.status).toBe(413);
    expect(r.headers['retry-after']).toBeUndefined();
    expect(r.body).toMatchObject({ status: 413, limit: 5 });
    expect(r.body).not.toHaveProperty('retryAfter');
    expect((await send(app, path, { ...key('k'), 'x-batch': '5' })).status).toBe(200);
  });

  test('skip(req) lets a request through without limiting it', async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, skip: (req) => harness.header(req, 'x-internal') === 'yes' });
    expect(await statuses(app, path, { ...key('k'), 'x-internal': 'yes' }, 3)).toEqual([200, 200, 200]);
    expect(await statuses(app, path, key('k'), 2)).toEqual([200, 429]);
  });

  test('dryRun: headers and hooks, never a block', async () => {
    const events: DecisionEvent[] = [];
    const { app, path } = await single({ capacity: 2, refillPerSecond: SLOW, dryRun: true, onDecision: (e) => events.push(e) });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await send(app, path, key('k')));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(replies[3]!.headers.ratelimit).toBe(`"GET ${path}";r=0;t=7200`);
    expect(replies[3]!.headers['retry-after']).toBeUndefined();
    expect(events.map((e) => [e.decision.allowed, e.dryRun])).toEqual([
      [true, true],
      [true, true],
      [false, true],
      [false, true],
    ]);
  });

  test('onLimited replaces the 429 response; headers are already set', async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, onLimited: harness.onLimited(418) });
    await send(app, path, key('k'));
    const r = await send(app, path, key('k'));
    expect(r.status).toBe(418);
    expect(r.body).toEqual({ custom: true, policy: `GET ${path}` });
    expect(r.headers['retry-after']).toBe('3600');
  });
}
