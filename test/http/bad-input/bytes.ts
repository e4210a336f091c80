// Bad input, bytes no HTTP client sends: non-ASCII keys and control characters, on the raw socket.
import { SLOW, type SuiteApps } from '../suite-apps';
import { remaining } from './raw';
import { rawRoute } from './routes';

export function byteCases(suite: SuiteApps): void {
  test('non-ASCII bytes: the latin1 string Node parses is just a key, byte for byte', async () => {
    const { get } = await rawRoute(suite, { capacity: 1, refillPerSecond: SLOW });
    const utf8 = Buffer.concat([Buffer.from('X-API-Key: '), Buffer.from('ключ-é-🔑', 'utf8')]);
    const latin1 = Buffer.concat([Buffer.from('X-API-Key: '), Buffer.from([0xe9])]); // é as one byte
    const utf8E = Buffer.concat([Buffer.from('X-API-Key: '), Buffer.from('é', 'utf8')]); // é as two
    expect((await get(utf8)).status).toBe(200);
    expect((await get(utf8)).status).toBe(429); // the same bytes are the same caller
    expect((await get(latin1)).status).toBe(200);
    expect((await get(utf8E)).status).toBe(200); // other bytes, another caller
    expect((await get(latin1)).status).toBe(429);
    expect(remaining(await get())).toBe(0); // and none of them was the IP bucket
  });

  test('control characters in a key: 400 from Node, before the limiter', async () => {
    const { get } = await rawRoute(suite, { capacity: 2, refillPerSecond: SLOW });
    for (const byte of [0x00, 0x01, 0x7f]) {
      const r = await get(Buffer.concat([Buffer.from('X-API-Key: a'), Buffer.from([byte]), Buffer.from('b')]));
      expect([byte, r.status, r.headers.ratelimit]).toEqual([byte, 400, undefined]);
    }
    expect(remaining(await get())).toBe(1);
  });
}
