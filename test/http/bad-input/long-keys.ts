// Bad input, odd but well-formed keys, through supertest: an empty X-API-Key beside a Bearer
// token, an 8000-character key (only its hash reaches Redis), and headers past Node's limit.
import { randomBytes } from 'node:crypto';
import { SLOW, type SuiteApps } from '../suite-apps';
import { remaining } from './raw';
import { route } from './routes';

export function longKeyCases(suite: SuiteApps): void {
  test('an empty X-API-Key falls through to a Bearer token', async () => {
    const { get } = await route(suite, { capacity: 2, refillPerSecond: SLOW });
    expect(remaining(await get({ 'x-api-key': '', authorization: 'Bearer alpha' }))).toBe(1);
    expect(remaining(await get({ 'x-api-key': 'alpha' }))).toBe(0);
    expect(remaining(await get())).toBe(1); // the IP bucket is another
  });

  test('an 8000-character key works, and only its hash reaches Redis', async () => {
    const { get } = await route(suite, { capacity: 1, refillPerSecond: SLOW });
    const long = `${randomBytes(8).toString('hex')}${'k'.repeat(7984)}`;
    expect((await get({ 'x-api-key': long })).status).toBe(200);
    expect((await get({ authorization: `Bearer ${long}` })).status).toBe(429);
    expect((await get({ 'x-api-key': long.slice(0, -1) })).status).toBe(200);
    const keys = await suite.pool.keys(`${suite.prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).toMatch(/:\{(ip\.)?[A-Za-z0-9_-]{22}\}$/);
      expect(k).not.toContain(long.slice(0, 16));
    }
  });

  test('headers past the server limit (a 20000-character key): 431 from Node, before the limiter', async () => {
    const { get } = await route(suite, { capacity: 2, refillPerSecond: SLOW });
    const r = await get({ 'x-api-key': 'k'.repeat(20_000) });
    expect(r.status).toBe(431);
    expect(r.headers.ratelimit).toBeUndefined();
    expect(remaining(await get())).toBe(1); // nothing was taken from the IP bucket either
  });
}
