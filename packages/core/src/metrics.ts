// @tokenbucket/core/metrics: what a metrics exporter shares with @tokenbucket/prometheus and
// @tokenbucket/opentelemetry: the diagnostics-channel subscriptions, the tallies kept between
// scrapes, and the checks of the common options.

export {
  DecisionCounts,
  DEFAULT_CALL_BUCKETS,
  ONE_NODE,
  OTHER,
  parseCommonMetricsOptions,
  StoreErrorCounts,
  StoreStates,
  subscribeMetrics,
} from './exporter.js';
export type { CommonMetricsOptions, DecisionLabels, DecisionSeries, MetricsRecorder, MetricsSubscription, StoreErrorSeries } from './exporter.js';
export { invalidOption } from './errors.js';
export { checkOptionNames, optionNames } from './option-names.js';
export type { DecisionEvent } from './decision.js';
export type { DecisionSource, StoreCall, StoreCallError, StoreStatusChange } from './diagnostics.js';
