// Makes the built core emit two coded warnings through its real paths, then exits: a decision
// hook that throws (TB_WARN_HOOK_FAILED) and a metrics label past maxLabelValues
// (TB_WARN_LABEL_VALUES). test/core/error-codes.test.ts runs it with and without --disable-warning.
const path = require('node:path');

const dist = path.join(__dirname, '..', '..', 'packages', 'core', 'dist', 'cjs');
const { createLimiter, MemoryStore } = require(path.join(dist, 'index.js'));
const { createHttpLimiter } = require(path.join(dist, 'adapter.js'));
const { subscribeMetrics } = require(path.join(dist, 'metrics.js'));

async function main() {
  const subscription = subscribeMetrics(1, { storeCall() {} });
  const store = new MemoryStore();
  // Two policy names against a bound of one label value.
  for (const name of ['first', 'second']) await createLimiter({ store, name, capacity: 5, refillPerSecond: 1 }).take('caller');

  const adapter = {
    incoming: (req) => req,
    ip: () => '127.0.0.1',
    headersSent: () => false,
    setHeader() {},
    send() {},
    callOnLimited() {},
  };
  const onDecision = () => {
    throw new Error('the hook broke');
  };
  const limiter = createHttpLimiter(adapter, { store, capacity: 5, refillPerSecond: 1, onDecision });
  await limiter.handle({ headers: { 'x-api-key': 'k' } }, {}, 'GET /');

  subscription.close();
  store.close();
  // Warnings are emitted on the next tick: let them print before exiting.
  setImmediate(() => process.stdout.write('done\n'));
}

main();
