// Run before every test file (jest.config.cjs setupFiles). Node 20 (seen on 20.20.2) keeps the
// diagnostics channels in a map of weak references, and when a channel nobody holds is collected,
// its finalizer deletes its name from the map, even when a new channel of that name has taken its
// place meanwhile: `subscribe(name)` then makes a third channel while the code publishes on the
// second, and a test sees no event. An app loads tokenbucket once and holds its channels for good;
// jest loads core anew for each test file and drops the last file's, so a worker's first channels
// can be collected. Held here for the worker's life (on Node's own module object, which every test
// file of a worker shares), each name keeps one channel. test/tooling/keep-channels.test.ts checks
// that the names are core's CHANNELS.
const dc = require('node:diagnostics_channel');

const NAMES = ['tokenbucket:decision', 'tokenbucket:store:error', 'tokenbucket:store:status', 'tokenbucket:store:call'];
const held = Symbol.for('tokenbucket.test.heldChannels');
dc[held] ??= NAMES.map((name) => dc.channel(name));

module.exports = { NAMES };
