// The HTTP contract, one request is one decision: limiters stacked on a request (a group and a
// route, several on one route) debit nothing when any of them denies and show every policy met;
// the caller an adapter limits is the caller `limiter.take(key)` names; tokens given back by the
// response's status; a caller locked out after repeated denials.
import { createLimiter, type Store } from '@tokenbucket/core';
import { eventually, fresh, key, openRequest, send, statuses } from '../client';
import type { LimitOptions, RouteSpec } from '../harness';
import { SLOW, type SuiteApps } from '../suite-apps';

export function requestCases(suite: SuiteApps): void {
  const { start } = suite;
  const store = (): Store => suite.store;
  const limit = (options: LimitOptions): LimitOptions => ({ store: store(), ...options });

  describe('stacked limiters decide as one', () => {
    /** A shared quota on /api and a tighter limit on /api/search, as the README's recipe mounts them. */
    async function groupAndRoute(groupCapacity = 10, routeCapacity = 2) {
      const api = fresh('api');
      const base = `/${fresh('v')}`;
      const app = await start({
        groups: [{ prefix: base, limit: limit({ name: api, capacity: groupCapacity, refillPerSecond: SLOW }) }],
        routes: [
          { method: 'GET', path: `${base}/search`, limit: limit({ capacity: routeCapacity, refillPerSecond: SLOW }) },
          { method: 'GET', path: `${base}/other` },
        ],
      });
      return { app, api, base, route: `GET ${base}/search` };
    }

    test("a request the route denies spends none of the group's quota", async () => {
      const { app, api, base } = await groupAndRoute();
      expect(await statuses(app, `${base}/search`, key('k'), 5)).toEqual([200, 200, 429, 429, 429]);
      const other = await send(app, `${base}/other`, key('k'));
      expect(other.status).toBe(200);
      // 10 - 2 admitted - this one: the three denials took nothing.
      expect(other.headers.ratelimit).toBe(`"${api}";r=7;t=10800`);
    });

    test('every policy met is in one RateLimit and one RateLimit-Policy field, in the order met', async () => {
      const { app, api, base, route } = await groupAndRoute();
      const r = await send(app, `${base}/search`, key('k'));
      expect(r.status).toBe(200);
      expect(r.headers['ratelimit-policy']).toBe(`"${api}";q=10;w=36000, "${route}";q=2;w=7200`);
      expect(r.headers.ratelimit).toBe(`"${api}";r=9;t=3600, "${route}";r=1;t=3600`);
    });

    test("a 429 shows the group's quota as it is after the refund, the route's wait, and names the route's policy", async () => {
      const { app, api, base, route } = await groupAndRoute(10, 1);
      expect((await send(app, `${base}/search`, key('k'))).status).toBe(200);
      const r = await send(app, `${base}/search`, key('k'));
      expect(r.status).toBe(429);
      expect(r.headers.ratelimit).toBe(`"${api}";r=9;t=3600, "${route}";r=0;t=3600`);
      expect(r.headers['ratelimit-policy']).toBe(`"${api}";q=10;w=36000, "${route}";q=1;w=3600`);
      expect(r.headers['retry-after']).toBe('3600');
      expect(r.body.policy).toBe(route);
    });

    test('when the group denies, the route limiter is never reached and the group names itself', async () => {
      const { app, api, base } = await groupAndRoute(2, 5);
      expect(await statuses(app, `${base}/search`, key('k'), 2)).toEqual([200, 200]);
      const r = await send(app, `${base}/search`, key('k'));
      expect(r.status).toBe(429);
      expect(r.body.policy).toBe(api);
      expect(r.headers['ratelimit-policy']).toBe(`"${api}";q=2;w=7200`);
    });

    test('several limiters on one route: a denial by the second gives the first its token back', async () => {
      const [a, b] = [fresh('a'), fresh('b')];
      const path = `/${fresh('r')}`;
      const app = await start({
        routes: [
          {
            method: 'GET',
            path,
            limit: [limit({ name: a, capacity: 5, refillPerSecond: SLOW }), limit({ name: b, capacity: 1, refillPerSecond: SLOW })],
          },
        ],
      });
      expect(await statuses(app, path, key('k'), 4)).toEqual([200, 429, 429, 429]);
      const state = await createLimiter({ store: store(), name: a, capacity: 5, refillPerSecond: SLOW }).get('k');
      expect(state.remaining).toBe(4);
      const r = await send(app, path, key('k'));
      expect(r.headers.ratelimit).toBe(`"${a}";r=4;t=3600, "${b}";r=0;t=3600`);
    });

    test('two limiters with one policy name show it once', async () => {
      const shared = fresh('shared');
      const path = `/${fresh('r')}`;
      const app = await start({
        routes: [
          {
            method: 'GET',
            path,
            limit: [limit({ name: shared, capacity: 9, refillPerSecond: SLOW }), limit({ name: shared, capacity: 9, refillPerSecond: SLOW })],
          },
        ],
      });
      const r = await send(app, path, key('k'));
      expect(r.headers['ratelimit-policy']).toBe(`"${shared}";q=9;w=32400`);
      expect(r.headers.ratelimit).toBe(`"${shared}";r=7;t=7200`);
    });
  });

  describe('one caller identity: the admin methods reach HTTP callers', () => {
    async function limited(options: LimitOptions = {}, extra: { trustProxy?: boolean } = {}) {
      const name = fresh('ident');
      const path = `/${fresh('r')}`;
      const app = await start({ routes: [{ method: 'GET', path, limit: limit({ name, capacity: 2, refillPerSecond: SLOW, ...options }) }], ...extra });
      const admin = createLimiter({ store: store(), name, capacity: 2, refillPerSecond: SLOW });
      return { app, path, admin };
    }

    test('reset(key) unblocks a caller limited by its X-API-Key', async () => {
      const { app, path, admin } = await limited();
      expect(await statuses(app, path, key('key-R'), 3)).toEqual([200, 200, 429]);
      await admin.reset('key-R');
      expect((await send(app, path, key('key-R'))).status).toBe(200);
    });

    test('take(key) spends the bucket of the caller whose `key` function returns that key', async () => {
      const { app, path, admin } = await limited({ key: (req) => suite.harness.header(req, 'x-user') });
      await admin.take('user-7', { cost: 2 });
      expect((await send(app, path, { 'x-user': 'user-7' })).status).toBe(429);
      expect((await send(app, path, { 'x-user': 'user-8' })).status).toBe(200);
    });

    test('get(key) reads a caller without debiting it', async () => {
      const { app, path, admin } = await limited();
      await send(app, path, { authorization: 'Bearer tok-1' });
      const state = await admin.get('tok-1');
      expect(state).toMatchObject({ allowed: true, remaining: 1, limit: 2 });
      expect((await admin.get('tok-1')).remaining).toBe(1);
    });

    test('penalty(key) and reward(key) move what an HTTP caller has', async () => {
      const { app, path, admin } = await limited();
      expect((await admin.penalty('key-P', 2)).remaining).toBe(0);
      expect((await send(app, path, key('key-P'))).status).toBe(429);
      expect((await admin.reward('key-P')).remaining).toBe(1);
      expect((await send(app, path, key('key-P'))).status).toBe(200);
    });

    test('a caller limited by IP is reached as { ip }', async () => {
      const { app, path, admin } = await limited({}, { trustProxy: true });
      const from = { 'x-forwarded-for': '203.0.113.7' };
      expect(await statuses(app, path, from, 3)).toEqual([200, 200, 429]);
      await admin.reset({ ip: '203.0.113.7' });
      expect((await send(app, path, from)).status).toBe(200);
      // An API key that spells the address is another caller.
      await admin.penalty('203.0.113.7', 2);
      expect((await send(app, path, from)).status).toBe(200);
    });

    test('an IPv6 caller is reached through its /56 network, as the route groups it', async () => {
      const { app, path, admin } = await limited({}, { trustProxy: true });
      await admin.penalty({ ip: '2001:db8:0:1f::1' }, 2);
      expect((await send(app, path, { 'x-forwarded-for': '2001:db8:0:2a::9' })).status).toBe(429);
    });
  });

  describe('counting by the outcome', () => {
    async function route(options: LimitOptions, spec: Partial<RouteSpec> = {}) {
      const name = fresh('outcome');
      const path = `/${fresh('r')}`;
      const app = await start({ routes: [{ method: 'GET', path, limit: limit({ name, capacity: 2, refillPerSecond: SLOW, ...options }), ...spec }] });
      const admin = createLimiter({ store: store(), name, capacity: 2, refillPerSecond: SLOW });
      const remaining = async () => (await admin.get('k')).remaining;
      return { app, path, remaining };
    }

    test('skipSuccessfulRequests: a 2xx gives its token back, so only failures count', async () => {
      const ok = await route({ skipSuccessfulRequests: true });
      for (let i = 0; i < 4; i++) {
        expect((await send(ok.app, ok.path, key('k'))).status).toBe(200);
        expect(await eventually(ok.remaining, 2)).toBe(2);
      }
      const failing = await route({ skipSuccessfulRequests: true }, { status: 401 });
      expect(await statuses(failing.app, failing.path, key('k'), 3)).toEqual([401, 401, 429]);
    });

    test('skipFailedRequests: a 4xx or 5xx gives its token back; a 2xx counts', async () => {
      const failing = await route({ skipFailedRequests: true }, { status: 500 });
      for (let i = 0; i < 3; i++) {
        expect((await send(failing.app, failing.path, key('k'))).status).toBe(500);
        expect(await eventually(failing.remaining, 2)).toBe(2);
      }
      const ok = await route({ skipFailedRequests: true });
      expect(await statuses(ok.app, ok.path, key('k'), 3)).toEqual([200, 200, 429]);
    });

    test('skipFailedRequests: a connection closed before the response gives its token back', async () => {
      const slow = await route({ skipFailedRequests: true }, { delayMs: 2000 });
      const request = openRequest(slow.app, slow.path, key('k'));
      // Taken when the request reaches the limiter, long before the handler answers.
      expect(await eventually(slow.remaining, 1)).toBe(1);
      request.drop();
      expect(await eventually(slow.remaining, 2)).toBe(2);
    });

    test('skipResponse decides from the request and the status', async () => {
      const seen: (number | undefined)[] = [];
      const notFound = await route(
        {
          skipResponse: (_req, status) => {
            seen.push(status);
            return status === 404;
          },
        },
        { status: 404 },
      );
      expect((await send(notFound.app, notFound.path, key('k'))).status).toBe(404);
      expect(await eventually(notFound.remaining, 2)).toBe(2);
      expect(seen).toEqual([404]);
    });

    test('the login recipe: only failed logins count, by account and by IP', async () => {
      const [byAccount, byIp] = [fresh('login-account'), fresh('login-ip')];
      const path = `/${fresh('login')}`;
      const account = (req: unknown) => suite.harness.header(req, 'x-account');
      const app = await start({
        trustProxy: true,
        routes: [
          {
            method: 'POST',
            path,
            status: 401, // every attempt here fails
            limit: [
              limit({ name: byIp, capacity: 5, refillPerSecond: SLOW, key: () => undefined, skipSuccessfulRequests: true }),
              limit({ name: byAccount, capacity: 3, refillPerSecond: SLOW, key: account, skipSuccessfulRequests: true }),
            ],
          },
        ],
      });
      const attempt = async (who: string, ip: string) => (await send(app, path, { 'x-account': who, 'x-forwarded-for': ip }, 'POST')).status;
      // One account from many addresses: the account's limit.
      const seen = [];
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) seen.push(await attempt('alice', ip));
      expect(seen).toEqual([401, 401, 401, 429]);
      // Many accounts from one address: the address's limit (the denial above took nothing from 198.51.100.4).
      const fromOne = [];
      for (const who of ['b1', 'b2', 'b3', 'b4', 'b5']) fromOne.push(await attempt(who, '198.51.100.9'));
      expect(fromOne).toEqual([401, 401, 401, 401, 401]);
      expect(await attempt('b6', '198.51.100.9')).toBe(429);
    });
  });

  describe('lock-out after repeated denials', () => {
    async function locking(lockout: LimitOptions['lockout']) {
      const name = fresh('lock');
      const path = `/${fresh('r')}`;
      const app = await start({ routes: [{ method: 'GET', path, limit: limit({ name, capacity: 1, refillPerSecond: SLOW, lockout }) }] });
      const admin = createLimiter({ store: store(), name, capacity: 1, refillPerSecond: SLOW, lockout: { after: 1, windowSeconds: 1, durationSeconds: 1 } });
      return { app, path, admin };
    }

    test('after N denials the caller is denied outright, with Retry-After the time left, even with tokens back', async () => {
      const { app, path, admin } = await locking({ after: 2, windowSeconds: 60, durationSeconds: 30 });
      expect(await statuses(app, path, key('abuser'), 3)).toEqual([200, 429, 429]);
      await admin.reward('abuser');
      const r = await send(app, path, key('abuser'));
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(25);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(30);
      expect(r.body.detail).toMatch(/^Locked out of rate limit/);
      expect((await send(app, path, key('someone-else'))).status).toBe(200);
    });

    test('status 403 when configured; reset(key) lifts the lock', async () => {
      const { app, path, admin } = await locking({ after: 1, windowSeconds: 60, durationSeconds: 30, status: 403 });
      expect(await statuses(app, path, key('abuser'), 3)).toEqual([200, 403, 403]);
      await admin.reset('abuser');
      expect((await send(app, path, key('abuser'))).status).toBe(200);
    });

    test('the lock ends after its duration', async () => {
      const { app, path, admin } = await locking({ after: 1, windowSeconds: 60, durationSeconds: 1 });
      expect(await statuses(app, path, key('abuser'), 2)).toEqual([200, 429]);
      await admin.reward('abuser');
      expect((await send(app, path, key('abuser'))).status).toBe(429);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await send(app, path, key('abuser'))).status).toBe(200);
    });
  });
}
