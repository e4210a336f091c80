// The HTTP contract, keys and IPs: X-API-Key or Bearer token, the client IP when there is no key
// (trust proxy, IPv6 by /56), missingKey, a key function, a very long key.
import { key, send, statuses } from '../client';
import { SLOW, type SuiteApps } from '../suite-apps';

export function keyCases(suite: SuiteApps): void {
  const { harness, single } = suite;

  test('the key: X-API-Key, else Bearer token; each key has its own bucket', async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW });
    expect((await send(app, path, key('alpha'))).status).toBe(200);
    expect((await send(app, path, key('alpha'))).status).toBe(429);
    expect((await send(app, path, { authorization: 'Bearer alpha' })).status).toBe(429); // same key
    expect((await send(app, path, { authorization: 'Bearer beta' })).status).toBe(200);
    expect((await send(app, path, key('gamma'))).status).toBe(200);
  });

  test('no key: limited by client IP by default', async () => {
    const { app, path } = await single({ capacity: 2, refillPerSecond: SLOW });
    expect(await statuses(app, path, {}, 3)).toEqual([200, 200, 429]);
    expect((await send(app, path, key('has-a-key'))).status).toBe(200);
  });

  test("no key with missingKey 'reject': 401 problem+json, no decision made", async () => {
    const { app, path } = await single({ capacity: 2, refillPerSecond: SLOW, missingKey: 'reject' });
    const r = await send(app, path, { authorization: 'Bearer ' });
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(r.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(r.body.detail).toBe('This endpoint needs an API key: send it in the X-API-Key header or as Authorization: Bearer <key>.');
    expect(r.headers.ratelimit).toBeUndefined();
    expect((await send(app, path, key('k'))).status).toBe(200);
  });

  test("no key with 'reject' and a key function: the 401 names no header the function does not read", async () => {
    const { app, path } = await single({
      capacity: 2,
      refillPerSecond: SLOW,
      missingKey: 'reject',
      key: (req) => harness.header(req, 'x-tenant'),
    });
    const r = await send(app, path, key('an-x-api-key-the-function-ignores'));
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'This endpoint needs an API key, and this request has none.' });
    expect((await send(app, path, { 'x-tenant': 't1' })).status).toBe(200);
  });

  test("no key with missingKey 'skip': through, unlimited, without headers", async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, missingKey: 'skip' });
    expect(await statuses(app, path, {}, 3)).toEqual([200, 200, 200]);
    expect((await send(app, path, {})).headers.ratelimit).toBeUndefined();
    expect(await statuses(app, path, key('k'), 2)).toEqual([200, 429]);
  });

  test("the client IP follows the framework's trust-proxy setting", async () => {
    const trusted = await single({ capacity: 1, refillPerSecond: SLOW }, { trustProxy: true });
    expect((await send(trusted.app, trusted.path, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
    expect((await send(trusted.app, trusted.path, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200);
    expect((await send(trusted.app, trusted.path, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
    const untrusted = await single({ capacity: 1, refillPerSecond: SLOW }, { trustProxy: false });
    expect((await send(untrusted.app, untrusted.path, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
    expect((await send(untrusted.app, untrusted.path, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(429);
  });

  test('IPv6 clients are limited by /56: one network shares a bucket, another has its own', async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW }, { trustProxy: true });
    const from = (ip: string) => send(app, path, { 'x-forwarded-for': ip });
    expect((await from('2001:db8:abcd:1200::1')).status).toBe(200);
    expect((await from('2001:db8:abcd:12ff:ffff:ffff:ffff:ffff')).status).toBe(429); // same /56
    expect((await from('2001:DB8:ABCD:1234:0:0:0:9')).status).toBe(429); // same /56, spelt otherwise
    expect((await from('2001:db8:abcd:1300::1')).status).toBe(200); // the next /56
    expect((await from('::ffff:198.51.100.4')).status).toBe(200); // IPv4-mapped: the IPv4 address
    expect((await from('198.51.100.4')).status).toBe(429);
    const perAddress = await single({ capacity: 1, refillPerSecond: SLOW, ipv6Subnet: false }, { trustProxy: true });
    expect((await send(perAddress.app, perAddress.path, { 'x-forwarded-for': '2001:db8::1' })).status).toBe(200);
    expect((await send(perAddress.app, perAddress.path, { 'x-forwarded-for': '2001:db8::2' })).status).toBe(200);
    expect((await send(perAddress.app, perAddress.path, { 'x-forwarded-for': '2001:db8:0:0::1' })).status).toBe(429);
  });

  test('a custom key function identifies the caller', async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW, key: (req) => harness.header(req, 'x-tenant') });
    expect((await send(app, path, { 'x-tenant': 't1', 'x-api-key': 'a' })).status).toBe(200);
    expect((await send(app, path, { 'x-tenant': 't1', 'x-api-key': 'b' })).status).toBe(429);
    expect((await send(app, path, { 'x-tenant': 't2' })).status).toBe(200);
  });

  test('a 6000-character API key is just a key', async () => {
    const { app, path } = await single({ capacity: 1, refillPerSecond: SLOW });
    const long = 'k'.repeat(6000);
    expect((await send(app, path, key(long))).status).toBe(200);
    expect((await send(app, path, key(long))).status).toBe(429);
    expect((await send(app, path, key(`${long}x`))).status).toBe(200);
  });
}
