// Bad input, garbage from the user's functions: a `key` or `cost` function that returns the wrong
// thing is a clear error through the framework, never a pass; a huge finite cost is a 413.
import { SLOW, type SuiteApps } from '../suite-apps';
import { remaining } from './raw';
import { route } from './routes';

export function functionCases(suite: SuiteApps): void {
  const { harness } = suite;

  test('a key function that returns garbage: a clear error through the framework, never a pass', async () => {
    const KEYS: Record<string, unknown> = { object: { id: 1 }, number: 42, zero: 0, boolean: true, array: ['k'], nan: NaN };
    const { get } = await route(suite, {
      capacity: 2,
      refillPerSecond: SLOW,
      key: (req) => {
        const which = harness.header(req, 'x-case')!;
        return (which === 'good' ? 'k' : which === 'none' ? null : KEYS[which]) as string;
      },
    });
    const expected: Record<string, string> = { object: 'an object', number: '42', zero: '0', boolean: 'true', array: 'an array of 1', nan: 'NaN' };
    for (const which of Object.keys(KEYS)) {
      const r = await get({ 'x-case': which });
      expect([which, r.status, r.body?.handledBy]).toEqual([which, 500, 'framework']);
      expect(r.body.message).toBe(
        `tokenbucket: the \`key\` function must return a string (or undefined for none); got ${expected[which]}. (see docs/reference/errors.md#tb_err_invalid_key)`,
      );
    }
    expect(remaining(await get({ 'x-case': 'good' }))).toBe(1); // nothing was taken by the failures
    expect(remaining(await get({ 'x-case': 'none' }))).toBe(1); // null is "no key": the IP bucket
    expect((await get({ 'x-case': 'good' })).status).toBe(200);
    expect((await get({ 'x-case': 'good' })).status).toBe(429);
  });

  test('a cost function that returns garbage: a clear error through the framework, never a pass', async () => {
    const COSTS: Record<string, unknown> = {
      nan: NaN,
      infinity: Infinity,
      'minus-infinity': -Infinity,
      negative: -1,
      string: '1',
      undefined: undefined,
      null: null,
      object: { cost: 1 },
    };
    const { get } = await route(suite, {
      capacity: 2,
      refillPerSecond: SLOW,
      cost: (req) => {
        const which = harness.header(req, 'x-case')!;
        return (which === 'good' ? 1 : COSTS[which]) as number;
      },
    });
    const expected: Record<string, string> = {
      nan: 'NaN',
      infinity: 'Infinity',
      'minus-infinity': '-Infinity',
      negative: '-1',
      string: '"1"',
      undefined: 'undefined',
      null: 'null',
      object: 'an object',
    };
    for (const which of Object.keys(COSTS)) {
      const r = await get({ 'x-api-key': 'k', 'x-case': which });
      expect([which, r.status, r.body?.handledBy]).toEqual([which, 500, 'framework']);
      expect(r.body.message).toBe(
        `tokenbucket: option \`cost\` must be a finite number >= 0; got ${expected[which]}. (see docs/reference/errors.md#tb_err_invalid_cost)`,
      );
    }
    expect(remaining(await get({ 'x-api-key': 'k', 'x-case': 'good' }))).toBe(1); // nothing was taken by the failures
    expect((await get({ 'x-api-key': 'k', 'x-case': 'good' })).status).toBe(200);
    expect((await get({ 'x-api-key': 'k', 'x-case': 'good' })).status).toBe(429);
  });

  test('a huge finite cost is 413, not an error and not a pass', async () => {
    const { get } = await route(suite, { capacity: 2, refillPerSecond: SLOW, cost: () => Number.MAX_VALUE });
    const r = await get({ 'x-api-key': 'k' });
    expect([r.status, r.headers['retry-after'], remaining(r)]).toEqual([413, undefined, 2]);
  });
}
