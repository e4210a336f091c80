// test/support/keep-channels.cjs holds one diagnostics channel per name of core's CHANNELS for a
// jest worker's life: the channel a test subscribes to by name is then the one core publishes on.
import { channel } from 'node:diagnostics_channel';
import { CHANNELS } from '@tokenbucket/core';

const { NAMES } = require('../support/keep-channels.cjs') as { NAMES: string[] };

test('it holds exactly the channels core publishes on', () => {
  expect([...NAMES].sort()).toEqual(Object.values(CHANNELS).sort());
  const held = (require('node:diagnostics_channel') as Record<symbol, unknown>)[Symbol.for('tokenbucket.test.heldChannels')] as unknown[];
  expect(held.map((c) => (c as { name: string }).name).sort()).toEqual(Object.values(CHANNELS).sort());
  for (const name of NAMES) expect(held).toContain(channel(name));
});
