// Public entry point of @tokenbucket/opentelemetry: the limiter's diagnostics channels as OpenTelemetry metrics.
import {
  metrics,
  ValueType,
  type Histogram,
  type MeterProvider,
  type ObservableCallback,
  type ObservableCounter,
  type ObservableGauge,
} from '@opentelemetry/api';
import { DEFAULT_CALL_BUCKETS, invalidOption, optionNames, parseCommonMetricsOptions, subscribeMetrics } from '@tokenbucket/core/metrics';

export { ONE_NODE, OTHER } from '@tokenbucket/core/metrics';

/** The meter's (instrumentation scope's) name. */
export const METER_NAME = '@tokenbucket/opentelemetry';

/** Bucket bounds (seconds) of the Redis call histogram: a loopback call takes well under 1 ms, a time-out 200 ms. */
export const DEFAULT_BUCKETS: readonly number[] = DEFAULT_CALL_BUCKETS;

export interface OpenTelemetryMetricsOptions {
  /**
   * Where the instruments are created (a meter named `@tokenbucket/opentelemetry`).
   * @default the global MeterProvider (`metrics.getMeterProvider()`), set by your SDK setup
   */
  meterProvider?: MeterProvider;
  /**
   * Bucket bounds, in seconds, advised for `tokenbucket.store.call.duration`: increasing, finite,
   * > 0. A View configured in the SDK takes precedence.
   * @default DEFAULT_BUCKETS, 0.1 ms to 1 s
   */
  buckets?: readonly number[];
  /**
   * Distinct values of the `route` attribute, and of the `policy` attribute, that get series of
   * their own; past it, decisions count under `(other)` and one TokenBucketWarning says so.
   * @default 1000
   */
  maxLabelValues?: number;
}

/** The instruments `registerMetrics` created, and how to stop them. */
export interface OpenTelemetryMetrics {
  /** `tokenbucket.decisions` {route, policy, outcome, source, kind}: a monotonic (observable) counter. */
  readonly decisions: ObservableCounter;
  /** `tokenbucket.store.errors` {store, code}: a monotonic (observable) counter; a new series is 0 at its first collection. */
  readonly storeErrors: ObservableCounter;
  /** `tokenbucket.store.up` {store, node}: 1 or 0. */
  readonly storeUp: ObservableGauge;
  /** `tokenbucket.store.call.duration` {store}, in seconds. */
  readonly storeCallDuration: Histogram;
  /** Unsubscribes from the channels and stops observing; the instruments then report nothing new. Safe to call twice. */
  close(): void;
}

const OPTIONS = optionNames<OpenTelemetryMetricsOptions>({ meterProvider: 1, buckets: 1, maxLabelValues: 1 });
/** Providers with an open registration: a second one would count every decision twice. */
const active = new WeakSet<MeterProvider>();

/**
 * Subscribes to tokenbucket's diagnostics channels and reports them through four OpenTelemetry
 * instruments: decisions, store errors, store up, Redis call durations. Every limiter and store
 * in the process is counted. Throws a TokenBucketError (TB_ERR_INVALID_OPTION) for a bad option, and for
 * a MeterProvider that already has an open registration (close the first).
 */
export function registerMetrics(options: OpenTelemetryMetricsOptions = {}): OpenTelemetryMetrics {
  const { buckets, maxLabelValues } = parseCommonMetricsOptions(options, OPTIONS);
  const { meterProvider = metrics.getMeterProvider() } = options;
  if (typeof meterProvider !== 'object' || meterProvider === null || typeof meterProvider.getMeter !== 'function') {
    invalidOption('meterProvider', meterProvider, 'an OpenTelemetry MeterProvider');
  }
  if (active.has(meterProvider)) {
    invalidOption(
      'meterProvider',
      meterProvider,
      'a MeterProvider without tokenbucket instruments, but an earlier registerMetrics is still open on it (call close() on what it returned first)',
    );
  }

  const meter = meterProvider.getMeter(METER_NAME);
  const decisions = meter.createObservableCounter('tokenbucket.decisions', {
    description:
      'Rate-limit decisions, by route, binding policy, outcome (allowed or denied; a dry-run denial is denied), source (redis, lease, denial-cache, lockout, memory, fallback, store) and kind (rate, or concurrency: the binding policy limits requests in flight).',
    unit: '{decision}',
    valueType: ValueType.INT,
  });
  const storeErrors = meter.createObservableCounter('tokenbucket.store.errors', {
    description:
      'Failed calls to a store (errors and time-outs), by store and error code. A new series is 0 at its first collection, so rates count its first errors.',
    unit: '{error}',
    valueType: ValueType.INT,
  });
  const storeUp = meter.createObservableGauge('tokenbucket.store.up', {
    description: "1 while the store's (or Cluster node's) circuit is closed and calls go to Redis, 0 while it is open and storeFailure answers.",
    valueType: ValueType.INT,
  });
  const storeCallDuration = meter.createHistogram('tokenbucket.store.call.duration', {
    description: 'Duration of calls to Redis (one take, or a batch of takes), from send to reply or failure.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...buckets] },
  });

  const subscription = subscribeMetrics(maxLabelValues, {
    storeCall: (attributes, seconds) => storeCallDuration.record(seconds, attributes),
  });
  const observeDecisions: ObservableCallback = (result) => {
    for (const s of subscription.counts.series) result.observe(s.total, s.labels as unknown as Record<string, string>);
  };
  const observeErrors: ObservableCallback = (result) => {
    subscription.errors.collect((s, value) => result.observe(value, s.labels));
  };
  const observeStores: ObservableCallback = (result) => {
    subscription.states.report((up, store, node) => {
      result.observe(up, { store, node });
    });
  };
  decisions.addCallback(observeDecisions);
  storeErrors.addCallback(observeErrors);
  storeUp.addCallback(observeStores);

  active.add(meterProvider);

  let open = true;
  return {
    decisions,
    storeErrors,
    storeUp,
    storeCallDuration,
    close() {
      if (!open) return;
      open = false;
      subscription.close();
      decisions.removeCallback(observeDecisions);
      storeErrors.removeCallback(observeErrors);
      storeUp.removeCallback(observeStores);
      active.delete(meterProvider);
    },
  };
}
