// The values each entry point of @tokenbucket/core exports, pinned: adding one is a decision made
// here, in review, not a side effect. The main entry holds the names a user writes; adapter
// authors, metrics exporters and store authors have a subpath each.
import * as main from '@tokenbucket/core';
import * as adapter from '@tokenbucket/core/adapter';
import * as metrics from '@tokenbucket/core/metrics';
import * as store from '@tokenbucket/core/store';

const values = (entry: object) => Object.keys(entry).sort();

test('@tokenbucket/core: the names a user writes, and no more', () => {
  expect(values(main)).toEqual(['CHANNELS', 'MemoryStore', 'RedisStore', 'TokenBucketError', 'createLimiter', 'memoizePolicies']);
});

test('@tokenbucket/core/adapter: what an adapter for a framework needs', () => {
  expect(values(adapter)).toEqual([
    'ADAPTER_OPTION_NAMES',
    'NO_ROUTE',
    'addErrorContext',
    'apiKeyFromHeaders',
    'checkOptionNames',
    'createHttpLimiter',
    'emitTokenBucketWarning',
    'invalidOption',
    'keyHeaders',
    'mountId',
    'onNodeResponseEnd',
    'optionNames',
    'problemDetails',
    'rateLimitHeaders',
    'routeId',
  ]);
});

test('@tokenbucket/core/metrics: what a metrics exporter shares', () => {
  expect(values(metrics)).toEqual([
    'DEFAULT_CALL_BUCKETS',
    'DecisionCounts',
    'ONE_NODE',
    'OTHER',
    'StoreErrorCounts',
    'StoreStates',
    'checkOptionNames',
    'invalidOption',
    'optionNames',
    'parseCommonMetricsOptions',
    'subscribeMetrics',
  ]);
});

test('@tokenbucket/core/store: the key layout a store of its own can share', () => {
  expect(values(store)).toEqual(['bucketKey', 'hashCallerKey', 'slotKey']);
});

test('a name two entries export is one value, not a copy', () => {
  expect(adapter.invalidOption).toBe(metrics.invalidOption);
  expect(adapter.optionNames).toBe(metrics.optionNames);
  expect(adapter.checkOptionNames).toBe(metrics.checkOptionNames);
});

test("no plumbing in the main entry: no value of a subpath is also the main entry's", () => {
  for (const name of [...values(adapter), ...values(metrics), ...values(store)]) expect(main).not.toHaveProperty(name);
});
