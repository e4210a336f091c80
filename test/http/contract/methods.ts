// The HTTP contract, methods other than GET and POST: HEAD is a GET without the body, so it shares
// the GET route's bucket and carries its headers (a 429 too, without a body); OPTIONS (a CORS
// preflight) is not the route's method: it spends none of the route's tokens and never fails.
import { key, send } from '../client';
import type { SuiteApps } from '../suite-apps';

export function methodCases(suite: SuiteApps): void {
  const { single } = suite;

  test("HEAD shares the GET route's bucket and headers; a limited HEAD is a 429 with Retry-After and no body", async () => {
    const { app, path } = await single({ capacity: 2, refillPerSecond: 0.1 });
    const head = await send(app, path, key('k'), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['ratelimit-policy']).toBe(`"GET ${path}";q=2;w=20`);
    expect(head.headers.ratelimit).toBe(`"GET ${path}";r=1;t=10`);
    expect((await send(app, path, key('k'))).headers.ratelimit).toBe(`"GET ${path}";r=0;t=20`);
    const limited = await send(app, path, key('k'), 'HEAD');
    expect(limited.status).toBe(429);
    expect(limited.body).toBe('');
    expect(limited.headers['retry-after']).toBe('10');
    expect(limited.headers['ratelimit-policy']).toBe(`"GET ${path}";q=2;w=20`);
    expect((await send(app, path, key('k'))).status).toBe(429);
    // Another caller's HEAD is its own bucket.
    expect((await send(app, path, key('other'), 'HEAD')).status).toBe(200);
  });

  test("OPTIONS on a limited GET route's path spends none of its tokens and never fails", async () => {
    const { app, path } = await single({ capacity: 2, refillPerSecond: 0.1 });
    const preflight = { ...key('k'), origin: 'https://example.test', 'access-control-request-method': 'GET' };
    for (let i = 0; i < 3; i++) {
      const options = await send(app, path, preflight, 'OPTIONS');
      expect(options.status).toBeLessThan(500);
      expect(options.headers.ratelimit).toBeUndefined();
    }
    // Both tokens are still there.
    expect((await send(app, path, key('k'))).headers.ratelimit).toBe(`"GET ${path}";r=1;t=10`);
  });
}
