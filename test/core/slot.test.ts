// callerSlot, the Cluster hash slot of a caller's bucket keys, against two references that need no
// server: values Redis's CLUSTER KEYSLOT gives (checked against a real Cluster in
// redis-cluster.test.ts, over many ids), and a plain bit-by-bit CRC16 over many inputs.
import { randomBytes } from 'node:crypto';
import { hashCallerKey } from '../../packages/core/src/hash';
import { callerSlot } from '../../packages/core/src/store/redis/slot';
import { slotOfCaller } from '../support/slot';

test('known slots: what CLUSTER KEYSLOT answers for these keys', () => {
  // CRC16/XMODEM's check value is 0x31C3 for "123456789"; 0x31C3 & 16383 = 12739.
  expect(callerSlot('123456789')).toBe(12739);
  expect(callerSlot('foo')).toBe(12182);
  expect(callerSlot('bar')).toBe(5061);
  expect(callerSlot('')).toBe(0);
});

test('the same slot as a bit-by-bit CRC16, for 10,000 caller ids and every byte value', () => {
  const ids: string[] = [];
  for (let i = 0; i < 8_000; i++) ids.push(hashCallerKey(`slot-caller-${i}`));
  for (let i = 0; i < 2_000; i++) ids.push(randomBytes(1 + (i % 40)).toString('base64url'));
  for (let b = 0; b < 128; b++) ids.push(String.fromCharCode(b), `id${String.fromCharCode(b)}`);
  const wrong = ids.filter((id) => callerSlot(id) !== slotOfCaller(id));
  expect(wrong).toEqual([]);
  // Spread over the whole range: a slot function stuck in a corner would still agree on a few ids.
  const slots = new Set(ids.map(callerSlot));
  expect(slots.size).toBeGreaterThan(7_000);
  expect(Math.max(...slots)).toBeGreaterThan(16_300);
  expect(Math.max(...slots)).toBeLessThan(16_384);
  expect(Math.min(...slots)).toBe(0);
});
