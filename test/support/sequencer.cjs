// Runs the slowest test files first, so that no long file starts last and runs on alone while the
// other workers sit idle. Jest's own order needs its cache of the last run's durations, which a
// fresh clone (every CI run) has not: it then orders by file size, and the small files that run a
// whole shared suite (test/core/clients/*.test.ts, 20 s each) started last and made the run's
// tail. The durations come from test/support/durations.json (seconds per file, the longest of its
// projects), written from a full run by `node scripts/test-durations.mjs`. A file it does not
// name yet (a new one) runs first: it may be slow.
const { relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const durations = require('./durations.json');

const root = relative.bind(null, require('node:path').join(__dirname, '..', '..'));

class SlowestFirst extends Sequencer {
  sort(tests) {
    const seconds = (test) => durations[root(test.path)] ?? Number.POSITIVE_INFINITY;
    return [...tests].sort((a, b) => seconds(b) - seconds(a) || a.path.localeCompare(b.path));
  }
}

module.exports = SlowestFirst;
