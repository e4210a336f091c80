// The HTTP contract, concurrency: at most N requests of a caller in flight, a slot held from
// admission until the response is sent, the connection closes or the handler fails, given back
// when a later limiter denies; all or nothing with token policies; what a denied client sees.
import { createLimiter, RedisStore } from '@tokenbucket/core';
import Redis from 'ioredis';
import { freePort } from '../../support/net';
import { eventually, fresh, key, openRequest, send } from '../client';
import type { LimitOptions } from '../harness';
import { SLOW, type SuiteApps } from '../suite-apps';

export function concurrencyCases(suite: SuiteApps): void {
  const limit = (options: LimitOptions): LimitOptions => ({ store: suite.store, ...options });
  /** Slots of caller `k` held under the policy `name` (max `max`), read through a limiter of the same name. */
  const held =
    (name: string, max: number, k = 'k') =>
    async (): Promise<number> => {
      const d = await createLimiter({ store: suite.store, concurrency: { max, name } }).get(k);
      return max - d.policies[0]!.remaining;
    };

  describe('concurrency', () => {
    test('at most N in flight: the rest 429 with the policy, qu="concurrent-requests", Retry-After: 1; capacity back as they finish', async () => {
      const path = `/${fresh('slow')}`;
      const app = await suite.start({ routes: [{ method: 'GET', path, delayMs: 400, limit: limit({ concurrency: 2 }) }] });
      const name = `GET ${path}#concurrency`;
      const first = [send(app, path, key('k')), send(app, path, key('k'))];
      expect(await eventually(held(name, 2), 2)).toBe(2);
      const denied = await send(app, path, key('k'));
      expect(denied.status).toBe(429);
      expect(denied.headers['ratelimit-policy']).toBe(`"${name}";q=2;qu="concurrent-requests"`);
      expect(denied.headers.ratelimit).toBe(`"${name}";r=0;t=1`);
      expect(denied.headers['retry-after']).toBe('1');
      expect(denied.body).toMatchObject({ status: 429, title: 'Too Many Requests', policy: name, limit: 2, retryAfter: 1 });
      expect(denied.body.detail).toMatch(/concurrent requests/);
      const admitted = await Promise.all(first);
      expect(admitted.map((r) => r.status)).toEqual([200, 200]);
      expect(admitted.map((r) => r.headers.ratelimit).sort()).toEqual([`"${name}";r=0;t=1`, `"${name}";r=1;t=0`]);
      expect(await eventually(held(name, 2), 0)).toBe(0);
      const after = await send(app, path, key('k'));
      expect(after.status).toBe(200);
      expect(after.headers.ratelimit).toBe(`"${name}";r=1;t=0`);
      // Another caller has slots of its own.
      expect((await send(app, path, key('other'))).status).toBe(200);
    });

    test('a slot is released when the connection closes before the response', async () => {
      const path = `/${fresh('abort')}`;
      const name = fresh('c');
      const app = await suite.start({ routes: [{ method: 'GET', path, delayMs: 1500, limit: limit({ concurrency: { max: 1, name } }) }] });
      const request = openRequest(app, path, key('k'));
      // Held once the request reaches the limiter, long before the handler answers.
      expect(await eventually(held(name, 1), 1)).toBe(1);
      request.drop();
      expect(await eventually(held(name, 1), 0)).toBe(0);
      expect((await send(app, path, key('k'))).status).toBe(200);
    });

    test('a slot is released when the handler answers an error', async () => {
      const path = `/${fresh('fail')}`;
      const name = fresh('c');
      const app = await suite.start({ routes: [{ method: 'GET', path, status: 500, limit: limit({ concurrency: { max: 1, name } }) }] });
      expect((await send(app, path, key('k'))).status).toBe(500);
      expect(await eventually(held(name, 1), 0)).toBe(0);
      expect((await send(app, path, key('k'))).status).toBe(500);
    });

    test('beside a token policy: a request denied for lack of a slot spends no token', async () => {
      const path = `/${fresh('both')}`;
      const [tokens, slots] = [fresh('t'), fresh('c')];
      const app = await suite.start({
        routes: [
          { method: 'GET', path, delayMs: 400, limit: limit({ name: tokens, capacity: 5, refillPerSecond: SLOW, concurrency: { max: 1, name: slots } }) },
        ],
      });
      const first = send(app, path, key('k'));
      expect(await eventually(held(slots, 1), 1)).toBe(1);
      const denied = await send(app, path, key('k'));
      expect(denied.status).toBe(429);
      expect(denied.body.policy).toBe(slots);
      expect(denied.headers['ratelimit-policy']).toBe(`"${tokens}";q=5;w=18000, "${slots}";q=1;qu="concurrent-requests"`);
      // Retry-After is 1 (a slot's wait): the token bucket's t (3600 s to full) is capped at it.
      expect(denied.headers['retry-after']).toBe('1');
      expect(denied.headers.ratelimit).toBe(`"${tokens}";r=4;t=1, "${slots}";r=0;t=1`);
      expect((await first).status).toBe(200);
      const bucket = createLimiter({ store: suite.store, name: tokens, capacity: 5, refillPerSecond: SLOW });
      expect(await eventually(async () => (await bucket.get('k')).remaining, 4)).toBe(4);
    });

    test('beside a token policy: a request its rate denies takes no slot', async () => {
      const path = `/${fresh('rate')}`;
      const [tokens, slots] = [fresh('t'), fresh('c')];
      const app = await suite.start({
        routes: [
          { method: 'GET', path, delayMs: 300, limit: limit({ name: tokens, capacity: 1, refillPerSecond: SLOW, concurrency: { max: 5, name: slots } }) },
        ],
      });
      const first = send(app, path, key('k'));
      expect(await eventually(held(slots, 5), 1)).toBe(1);
      const denied = await send(app, path, key('k'));
      expect(denied.status).toBe(429);
      expect(denied.body.policy).toBe(tokens);
      expect(denied.headers['retry-after']).toBe('3600');
      expect(await held(slots, 5)()).toBe(1);
      expect((await first).status).toBe(200);
      expect(await eventually(held(slots, 5), 0)).toBe(0);
    });

    test('stacked: a slot taken by the group limiter is given back when the route limiter denies', async () => {
      const base = `/${fresh('v')}`;
      const slots = fresh('c');
      const app = await suite.start({
        groups: [{ prefix: base, limit: limit({ concurrency: { max: 1, name: slots } }) }],
        routes: [{ method: 'GET', path: `${base}/search`, limit: limit({ capacity: 1, refillPerSecond: SLOW }) }],
      });
      expect((await send(app, `${base}/search`, key('k'))).status).toBe(200);
      const denied = await send(app, `${base}/search`, key('k'));
      expect(denied.status).toBe(429);
      expect(denied.body.policy).toBe(`GET ${base}/search`);
      expect(denied.headers['ratelimit-policy']).toBe(`"${slots}";q=1;qu="concurrent-requests", "GET ${base}/search";q=1;w=3600`);
      expect(await eventually(held(slots, 1), 0)).toBe(0);
    });

    test('onDecision sees a denial for lack of a slot as its own kind', async () => {
      const path = `/${fresh('kind')}`;
      const kinds: string[] = [];
      const app = await suite.start({
        routes: [{ method: 'GET', path, delayMs: 300, limit: limit({ concurrency: 1, onDecision: (e) => kinds.push(`${e.outcome} ${e.kind}`) }) }],
      });
      const first = send(app, path, key('k'));
      expect(await eventually(held(`GET ${path}#concurrency`, 1), 1)).toBe(1);
      expect((await send(app, path, key('k'))).status).toBe(429);
      await first;
      expect(kinds).toEqual(['allowed concurrency', 'denied concurrency']);
    });

    test("the store down, 'fallback': slots held in this process, with the same meaning", async () => {
      const broken = new Redis({
        host: '127.0.0.1',
        port: await freePort(),
        lazyConnect: true,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      broken.on('error', () => {});
      try {
        const path = `/${fresh('down')}`;
        const sources: string[] = [];
        const app = await suite.start({
          routes: [
            {
              method: 'GET',
              path,
              delayMs: 900, // past the store budget (200 ms) the first request waits for the lazy client before falling back
              limit: { store: new RedisStore({ client: broken, prefix: suite.prefix }), concurrency: 1, onDecision: (e) => sources.push(e.source) },
            },
          ],
        });
        const first = send(app, path, key('k'));
        await new Promise((resolve) => setTimeout(resolve, 450));
        const denied = await send(app, path, key('k'));
        expect(denied.status).toBe(429);
        expect(denied.headers['retry-after']).toBe('1');
        expect((await first).status).toBe(200);
        expect((await send(app, path, key('k'))).status).toBe(200);
        expect(sources).toEqual(['fallback', 'fallback', 'fallback']);
      } finally {
        broken.disconnect();
      }
    });

    test('bad concurrency options throw at creation, naming the option and the value', async () => {
      await expect(suite.start({ routes: [{ method: 'GET', path: '/x', limit: limit({ concurrency: 0 }) }] })).rejects.toThrow(
        /`concurrency` must be .*; got 0/,
      );
      await expect(suite.start({ routes: [{ method: 'GET', path: '/x', limit: limit({ concurrency: { max: 2, leaseMs: 10 } }) }] })).rejects.toThrow(
        /`concurrency.leaseMs` must be .*; got 10/,
      );
    });
  });
}
