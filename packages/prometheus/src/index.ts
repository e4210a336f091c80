// Public entry point of @tokenbucket/prometheus: the limiter's diagnostics channels as prom-client metrics.
import { DEFAULT_CALL_BUCKETS, invalidOption, optionNames, parseCommonMetricsOptions, subscribeMetrics } from '@tokenbucket/core/metrics';
import {
  Counter,
  Gauge,
  Histogram,
  register as defaultRegistry,
  type Metric,
  type OpenMetricsContentType,
  type PrometheusContentType,
  type Registry,
} from 'prom-client';

export { ONE_NODE, OTHER } from '@tokenbucket/core/metrics';

/** Bucket bounds (seconds) of the Redis call histogram: a loopback call takes well under 1 ms, a time-out 200 ms. */
export const DEFAULT_BUCKETS: readonly number[] = DEFAULT_CALL_BUCKETS;

/** A prom-client registry, in either exposition format. */
export type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

export interface PrometheusMetricsOptions {
  /**
   * The registry the metrics are registered on.
   * @default prom-client's default registry (`register`)
   */
  register?: AnyRegistry;
  /**
   * Prepended to every metric name. Dashboards and alerts that ship with tokenbucket use the default.
   * @default 'tokenbucket_'
   */
  prefix?: string;
  /**
   * Upper bounds, in seconds, of `tokenbucket_store_call_duration_seconds`'s buckets: increasing,
   * finite, > 0.
   * @default DEFAULT_BUCKETS, 0.1 ms to 1 s
   */
  buckets?: readonly number[];
  /**
   * Distinct values of the `route` label, and of the `policy` label, that get series of their own;
   * past it, decisions count under `(other)` and one TokenBucketWarning says so. Route and policy
   * names are patterns, so their number is the app's; this bounds a mistake (concrete URLs).
   * @default 1000
   */
  maxLabelValues?: number;
}

/** What `registerMetrics` registered, and how to undo it. */
export interface PrometheusMetrics {
  /** `tokenbucket_decisions_total{route, policy, outcome, source, kind}`. */
  readonly decisions: Counter<'route' | 'policy' | 'outcome' | 'source' | 'kind'>;
  /** `tokenbucket_store_errors_total{store, code}`: a new series is 0 at its first scrape. */
  readonly storeErrors: Counter<'store' | 'code'>;
  /** `tokenbucket_store_up{store, node}`: 1 or 0. */
  readonly storeUp: Gauge<'store' | 'node'>;
  /** `tokenbucket_store_call_duration_seconds{store}`. */
  readonly storeCallDuration: Histogram<'store'>;
  /** Unsubscribes from the channels and removes the metrics from the registry. Safe to call twice. */
  close(): void;
}

const OPTIONS = optionNames<PrometheusMetricsOptions>({ register: 1, prefix: 1, buckets: 1, maxLabelValues: 1 });

/**
 * Subscribes to tokenbucket's diagnostics channels and registers four metrics on a prom-client
 * registry: decisions, store errors, store up, Redis call durations. Every limiter and store in
 * the process is counted, whatever created it. Throws a TokenBucketError (TB_ERR_INVALID_OPTION) for a
 * bad option, and for a registry that already has these metrics (close the first registration).
 */
export function registerMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const { buckets, maxLabelValues } = parseCommonMetricsOptions(options, OPTIONS);
  const { register = defaultRegistry, prefix = 'tokenbucket_' } = options;
  if (typeof register !== 'object' || register === null || typeof register.getSingleMetric !== 'function' || typeof register.registerMetric !== 'function') {
    invalidOption('register', register, "a prom-client Registry (new Registry(), or prom-client's `register`)");
  }
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    invalidOption('prefix', prefix, 'a metric name prefix: letters, digits, _ and :, not starting with a digit');
  }

  const names = {
    decisions: `${prefix}decisions_total`,
    storeErrors: `${prefix}store_errors_total`,
    storeUp: `${prefix}store_up`,
    storeCallDuration: `${prefix}store_call_duration_seconds`,
  };
  for (const name of Object.values(names)) {
    if (register.getSingleMetric(name) !== undefined) {
      invalidOption(
        'register',
        register,
        `a registry without \`${name}\`, which is already registered there (by an earlier registerMetrics: call close() on what it returned first, or give another \`prefix\`)`,
      );
    }
  }

  const decisions = new Counter({
    name: names.decisions,
    help: 'Rate-limit decisions, by route, binding policy, outcome (allowed or denied; a dry-run denial is denied), source (redis, lease, denial-cache, lockout, memory, fallback, store) and kind (rate, or concurrency: the binding policy limits requests in flight).',
    labelNames: ['route', 'policy', 'outcome', 'source', 'kind'] as const,
    registers: [],
    collect() {
      for (const s of subscription.counts.series) {
        if (s.total > s.reported) {
          this.inc(s.labels, s.total - s.reported);
          s.reported = s.total;
        } else if (s.total === 0) {
          this.inc(s.labels, 0); // the other outcome's series, at 0 from the policy's first decision
        }
      }
    },
  });
  const storeErrors = new Counter({
    name: names.storeErrors,
    help: 'Failed calls to a store (errors and time-outs), by store and error code. A new series shows 0 at its first scrape, so rate() counts its first errors.',
    labelNames: ['store', 'code'] as const,
    registers: [],
    collect() {
      subscription.errors.collect((s, value) => {
        if (value > s.reported || value === 0) {
          this.inc(s.labels, value - s.reported);
          s.reported = value;
        }
      });
    },
  });
  const storeUp = new Gauge({
    name: names.storeUp,
    help: "1 while the store's (or Cluster node's) circuit is closed and calls go to Redis, 0 while it is open and storeFailure answers.",
    labelNames: ['store', 'node'] as const,
    registers: [],
    collect() {
      this.reset();
      subscription.states.report((up, store, node) => {
        this.set({ store, node }, up);
      });
    },
  });
  const storeCallDuration = new Histogram({
    name: names.storeCallDuration,
    help: 'Duration of calls to Redis (one take, or a batch of takes), from send to reply or failure, in seconds.',
    labelNames: ['store'] as const,
    buckets: [...buckets],
    registers: [],
  });
  const subscription = subscribeMetrics(maxLabelValues, {
    storeCall: (labels, seconds) => storeCallDuration.observe(labels, seconds),
  });
  const registered: [string, Metric][] = [
    [names.decisions, decisions],
    [names.storeErrors, storeErrors],
    [names.storeUp, storeUp],
    [names.storeCallDuration, storeCallDuration],
  ];
  for (const [, metric] of registered) register.registerMetric(metric);

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
      // Only ours: after close(), the same names may have been registered again by someone else.
      for (const [name, metric] of registered) {
        if (register.getSingleMetric(name) === metric) register.removeSingleMetric(name);
      }
    },
  };
}
