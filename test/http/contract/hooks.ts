// The HTTP contract, the user's functions: onDecision sees every decision; a key, cost or skip
// function that fails reaches the framework's error handler; a hook that fails breaks nothing.
import type { DecisionEvent } from '@tokenbucket/core';
import { key, send } from '../client';
import { SLOW, type SuiteApps } from '../suite-apps';

export function hookCases(suite: SuiteApps): void {
  const { single } = suite;

  test('hooks: onDecision sees every decision, never the raw key', async () => {
    const events: DecisionEvent[] = [];
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, onDecision: (e) => events.push(e) });
    await send(app, path, key('secret-key-123'));
    await send(app, path, key('secret-key-123'));
    await send(app, path, {});
    expect(events.map((e) => [e.route, e.decision.allowed, e.source, e.keySource])).toEqual([
      [`GET ${path}`, true, 'redis', 'key'],
      [`GET ${path}`, false, 'redis', 'key'],
      [`GET ${path}`, true, 'redis', 'ip'],
    ]);
    expect(events.map((e) => [e.policy, e.outcome, e.cost, e.remaining])).toEqual([
      [`GET ${path}`, 'allowed', 1, 0],
      [`GET ${path}`, 'denied', 1, 0],
      [`GET ${path}`, 'allowed', 1, 0],
    ]);
    expect(JSON.stringify(events)).not.toContain('secret-key-123');
    expect(events[0]!.callerId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  test('a key or cost function that throws or returns garbage reaches the framework error handler', async () => {
    const throws = await single({
      capacity: 5,
      refillPerSecond: 1,
      key: () => {
        throw new Error('key lookup failed');
      },
    });
    expect(await send(throws.app, throws.path)).toMatchObject({ status: 500, body: { handledBy: 'framework', message: 'key lookup failed' } });
    const notString = await single({ capacity: 5, refillPerSecond: 1, key: () => 42 as never });
    const r1 = await send(notString.app, notString.path);
    expect(r1).toMatchObject({ status: 500, body: { handledBy: 'framework' } });
    expect(r1.body.message).toMatch(/`key` function must return a string.*got 42/);
    const nan = await single({ capacity: 5, refillPerSecond: 1, cost: () => NaN });
    const r2 = await send(nan.app, nan.path, key('k'));
    expect(r2).toMatchObject({ status: 500, body: { handledBy: 'framework' } });
    expect(r2.body.message).toMatch(/`cost` must be a finite number >= 0; got NaN/);
    const rejects = await single({
      capacity: 5,
      refillPerSecond: 1,
      cost: async () => {
        throw new Error('cost lookup failed');
      },
    });
    expect(await send(rejects.app, rejects.path, key('k'))).toMatchObject({ status: 500, body: { message: 'cost lookup failed' } });
  });

  test('a skip function that throws reaches the framework error handler too', async () => {
    const { app, path } = await single({
      capacity: 5,
      refillPerSecond: 1,
      skip: () => {
        throw new Error('skip failed');
      },
    });
    expect(await send(app, path, key('k'))).toMatchObject({ status: 500, body: { handledBy: 'framework', message: 'skip failed' } });
  });

  test('a hook that throws or rejects never breaks the request: a warning is emitted', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const rejects = await single({
        capacity: 5,
        refillPerSecond: 1,
        onDecision: async () => {
          throw new Error('metrics backend down');
        },
      });
      const throws = await single({
        capacity: 5,
        refillPerSecond: 1,
        onDecision: () => {
          throw new Error('logger broke');
        },
      });
      expect((await send(rejects.app, rejects.path, key('k'))).status).toBe(200);
      expect((await send(throws.app, throws.path, key('k'))).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const messages = warn.mock.calls.map((call) => String(call[0]));
      expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/metrics backend down/), expect.stringMatching(/logger broke/)]));
    } finally {
      warn.mockRestore();
    }
  });
}
