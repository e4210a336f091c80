// The HTTP contract when the store fails (a real client to a port where nothing listens):
// storeFailure 'fallback', 'allow' and 'deny', and dryRun, which never blocks.
import Redis from 'ioredis';
import { RedisStore, type DecisionEvent, type StoreFailureEvent } from '@tokenbucket/core';
import { freePort } from '../../support/net';
import { key, send, statuses } from '../client';
import { SLOW, type SuiteApps } from '../suite-apps';

/** A client to a port where nothing listens: every command fails at once. */
const clientToNowhere = (port: number): Redis => {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  return client;
};

export function storeFailureCases(suite: SuiteApps): void {
  const { prefix, single } = suite;

  describe('when the store fails', () => {
    let broken: Redis;
    let brokenStore: RedisStore;
    beforeAll(async () => {
      broken = clientToNowhere(await freePort());
      brokenStore = new RedisStore({ client: broken, prefix });
    });
    afterAll(() => {
      if (broken.status !== 'end') broken.disconnect();
    });

    test("'fallback' (default): limits locally with the same policies, and reports the error", async () => {
      const errors: StoreFailureEvent[] = [];
      const decisions: DecisionEvent[] = [];
      const { app, path } = await single({
        store: brokenStore,
        capacity: 2,
        refillPerSecond: SLOW,
        onStoreError: (e) => errors.push(e),
        onDecision: (e) => decisions.push(e),
      });
      expect(await statuses(app, path, key('k'), 3)).toEqual([200, 200, 429]);
      expect(errors).toHaveLength(3);
      expect(errors[0]).toMatchObject({ route: `GET ${path}`, action: 'fallback' });
      expect(decisions.map((d) => d.source)).toEqual(['fallback', 'fallback', 'fallback']);
    });

    test("'allow': requests go through without headers", async () => {
      const { app, path } = await single({ store: brokenStore, capacity: 1, refillPerSecond: SLOW, storeFailure: 'allow' });
      const replies = [await send(app, path, key('k')), await send(app, path, key('k'))];
      expect(replies.map((r) => r.status)).toEqual([200, 200]);
      expect(replies[1]!.headers.ratelimit).toBeUndefined();
    });

    test("'deny': 503 with Retry-After and a problem body", async () => {
      const { app, path } = await single({ store: brokenStore, capacity: 1, refillPerSecond: SLOW, storeFailure: 'deny' });
      const r = await send(app, path, key('k'));
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    });
  });

  test('dryRun never blocks, not even when the store fails under storeFailure deny', async () => {
    const down = clientToNowhere(await freePort());
    try {
      const { app, path } = await single({
        store: new RedisStore({ client: down, prefix }),
        capacity: 1,
        refillPerSecond: SLOW,
        storeFailure: 'deny',
        dryRun: true,
      });
      expect((await send(app, path, key('k'))).status).toBe(200);
    } finally {
      if (down.status !== 'end') down.disconnect();
    }
  });
}
