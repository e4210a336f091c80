// Public entry point of @tokenbucket/opentelemetry: the limiter's diagnostics channels as OpenTelemetry metrics.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  metrics,
  ValueType,
  type Counter,
  type Histogram,
  type MeterProvider,
  type ObservableCallback,
  type ObservableCounter,
  type ObservableGauge,
} from '@opentelemetry/api';
import {
  CHANNELS,
  invalidOption,
  TokenBucketError,
  type DecisionEvent,
  type StoreCallMessage,
  type StoreErrorMessage,
  type StoreStatusMessage,
} from '@tokenbucket/core';
import { DecisionCounts, StoreStates } from './counts.js';

export { ONE_NODE, OTHER } from './counts.js';

/** The meter's (instrumentation scope's) name. */
export const METER_NAME = '@tokenbucket/opentelemetry';

/** Bucket bounds (seconds) of the Redis call histogram: a loopback call takes well under 1 ms, a time-out 200 ms. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]);

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
  /** `tokenbucket.decisions` {route, policy, outcome, source}: a monotonic (observable) counter. */
  readonly decisions: ObservableCounter;
  /** `tokenbucket.store.errors` {store, code}. */
  readonly storeErrors: Counter;
  /** `tokenbucket.store.up` {store, node}: 1 or 0. */
  readonly storeUp: ObservableGauge;
  /** `tokenbucket.store.call.duration` {store}, in seconds. */
  readonly storeCallDuration: Histogram;
  /** Unsubscribes from the channels and stops observing; the instruments then report nothing new. Safe to call twice. */
  close(): void;
}

const OPTIONS = new Set(['meterProvider', 'buckets', 'maxLabelValues']);
/** Providers with an open registration: a second one would count every decision twice. */
const active = new WeakSet<MeterProvider>();

/**
 * Subscribes to tokenbucket's diagnostics channels and reports them through four OpenTelemetry
 * instruments: decisions, store errors, store up, Redis call durations. Every limiter and store
 * in the process is counted. Throws a TokenBucketError (INVALID_OPTION) for a bad option, and for
 * a MeterProvider that already has an open registration (close the first).
 */
export function registerMetrics(options: OpenTelemetryMetricsOptions = {}): OpenTelemetryMetrics {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
  for (const name of Object.keys(options)) {
    if (!OPTIONS.has(name)) {
      throw new TokenBucketError('INVALID_OPTION', `registerMetrics has no option \`${name}\` (it takes ${[...OPTIONS].join(', ')}).`, name);
    }
  }
  const { meterProvider = metrics.getMeterProvider(), buckets = DEFAULT_BUCKETS, maxLabelValues = 1000 } = options;
  if (typeof meterProvider !== 'object' || meterProvider === null || typeof meterProvider.getMeter !== 'function') {
    invalidOption('meterProvider', meterProvider, 'an OpenTelemetry MeterProvider');
  }
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]!))
  ) {
    invalidOption('buckets', buckets, 'a non-empty array of increasing finite numbers of seconds > 0');
  }
  if (!Number.isSafeInteger(maxLabelValues) || maxLabelValues < 1) invalidOption('maxLabelValues', maxLabelValues, 'an integer >= 1');
  if (active.has(meterProvider)) {
    invalidOption(
      'meterProvider',
      meterProvider,
      'a MeterProvider without tokenbucket instruments, but an earlier registerMetrics is still open on it (call close() on what it returned first)',
    );
  }

  const meter = meterProvider.getMeter(METER_NAME);
  const counts = new DecisionCounts(maxLabelValues);
  const states = new StoreStates();

  const decisions = meter.createObservableCounter('tokenbucket.decisions', {
    description:
      'Rate-limit decisions, by route, binding policy, outcome (allowed or denied; a dry-run denial is denied) and source (redis, denial-cache, memory, fallback, store).',
    unit: '{decision}',
    valueType: ValueType.INT,
  });
  const storeErrors = meter.createCounter('tokenbucket.store.errors', {
    description: 'Failed calls to a store (errors and time-outs), by store and error code.',
    unit: '{error}',
    valueType: ValueType.INT,
  });
  const storeUp = meter.createObservableGauge('tokenbucket.store.up', {
    description: "1 while the store's (or Cluster node's) circuit is closed and calls go to Redis, 0 while it is open and onStoreError answers.",
    valueType: ValueType.INT,
  });
  const storeCallDuration = meter.createHistogram('tokenbucket.store.call.duration', {
    description: 'Duration of calls to Redis (one take, or a batch of takes), from send to reply or failure.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...buckets] },
  });

  const observeDecisions: ObservableCallback = (result) => {
    for (const s of counts.series) result.observe(s.total, s.labels as unknown as Record<string, string>);
  };
  const observeStores: ObservableCallback = (result) => {
    states.report((up, store, node) => {
      result.observe(up, { store, node });
    });
  };
  decisions.addCallback(observeDecisions);
  storeUp.addCallback(observeStores);

  const storeAttributes = new Map<string, { store: string }>();
  const handlers: [string, (message: unknown) => void][] = [
    [CHANNELS.decision, guarded((m) => counts.count(m as DecisionEvent))],
    [
      CHANNELS.storeError,
      guarded((m) => {
        const { store, code } = m as StoreErrorMessage;
        storeErrors.add(1, { store, code });
      }),
    ],
    [
      CHANNELS.storeStatus,
      guarded((m) => {
        const { store, node, status } = m as StoreStatusMessage;
        states.status(store, node, status === 'up');
      }),
    ],
    [
      CHANNELS.storeCall,
      guarded((m) => {
        const { store, node, durationMs, ok } = m as StoreCallMessage;
        let attributes = storeAttributes.get(store);
        if (attributes === undefined) {
          attributes = { store };
          storeAttributes.set(store, attributes);
        }
        storeCallDuration.record(durationMs / 1000, attributes);
        if (ok) states.called(store, node);
      }),
    ],
  ];
  for (const [name, handler] of handlers) subscribe(name, handler);
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
      for (const [name, handler] of handlers) unsubscribe(name, handler);
      decisions.removeCallback(observeDecisions);
      storeUp.removeCallback(observeStores);
      active.delete(meterProvider);
    },
  };
}

/**
 * A subscriber that cannot throw: an error thrown by a diagnostics_channel subscriber is the
 * process's uncaught exception. A failure becomes one TokenBucketWarning per subscriber.
 */
function guarded(handle: (message: unknown) => void): (message: unknown) => void {
  let warned = false;
  return (message) => {
    try {
      handle(message);
    } catch (err) {
      if (warned) return;
      warned = true;
      process.emitWarning(`tokenbucket: a metrics subscriber failed: ${err instanceof Error ? err.message : String(err)}`, 'TokenBucketWarning');
    }
  };
}
