// Bad input, requests without a usable key: every one of them is treated exactly like sending
// none. Sent on the raw socket, since several give a header twice on two lines.
import { SLOW, type SuiteApps } from '../suite-apps';
import { remaining, type HeaderLine } from './raw';
import { rawRoute } from './routes';

/** Every way of sending no usable key. */
const KEYLESS: [string, HeaderLine[]][] = [
  ['no key header at all', []],
  ['an empty X-API-Key', ['X-API-Key:']],
  ['an X-API-Key of blanks', ['X-API-Key:    ']],
  ['X-API-Key given twice', ['X-API-Key: alpha', 'X-API-Key: beta']],
  ['X-API-Key given twice with one value', ['X-API-Key: alpha', 'X-API-Key: alpha']],
  ['X-API-Key given twice, one line empty', ['X-API-Key:', 'X-API-Key: alpha']],
  ['X-API-Key given twice beside a good Bearer token', ['X-API-Key: alpha', 'X-API-Key: beta', 'Authorization: Bearer gamma']],
  ['Authorization: Bearer with no token', ['Authorization: Bearer']],
  ['Authorization: Bearer and blanks', ['Authorization: Bearer   ']],
  ['Authorization: Bearer with two tokens', ['Authorization: Bearer a b']],
  ['Authorization: Basic', ['Authorization: Basic dXNlcjpwYXNz']],
  ['Authorization given twice', ['Authorization: Bearer alpha', 'Authorization: Bearer beta']],
];

export function keylessCases(suite: SuiteApps): void {
  test("every keyless request is limited by client IP, all in the one IP bucket ('ip', the default)", async () => {
    const { get } = await rawRoute(suite, { capacity: KEYLESS.length, refillPerSecond: SLOW });
    const start = Date.now();
    const seen = [];
    for (const [label, lines] of KEYLESS) {
      const r = await get(...lines);
      seen.push([label, r.status, remaining(r)]);
    }
    expect(seen).toEqual(KEYLESS.map(([label], i) => [label, 200, KEYLESS.length - 1 - i]));
    const over = await get('X-API-Key: alpha', 'X-API-Key: beta');
    // A token takes an hour: less what refilled since the bucket was made (a second on a slow run).
    const refilledS = (Date.now() - start) / 1000;
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(Math.floor(3600 - refilledS));
    // The keys that were named are untouched: each still has its own full bucket.
    for (const k of ['alpha', 'beta', 'gamma']) expect(remaining(await get(`X-API-Key: ${k}`))).toBe(KEYLESS.length - 1);
    // "alpha, beta" on one line is one (odd) key of its own, not either of the two.
    expect(remaining(await get('X-API-Key: alpha, beta'))).toBe(KEYLESS.length - 1);
  });

  test("every keyless request answers 401 under missingKey 'reject', with no bucket touched", async () => {
    const { get } = await rawRoute(suite, { capacity: 1, refillPerSecond: SLOW, missingKey: 'reject' });
    for (const [label, lines] of KEYLESS) {
      const r = await get(...lines);
      expect([label, r.status, r.headers['www-authenticate'], r.headers.ratelimit]).toEqual([label, 401, 'Bearer', undefined]);
      expect(r.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
    expect((await get('Authorization: Bearer alpha')).status).toBe(200);
    expect((await get('X-API-Key: alpha')).status).toBe(429); // the same key either way
  });
}
