// What every metrics package (@tokenbucket/prometheus, @tokenbucket/opentelemetry) shares: the
// channel subscriptions, the tallies kept between scrapes, and the checks of their common options.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { DecisionEvent } from './decision.js';
import { CHANNELS, type StoreCall, type StoreCallError, type StoreStatusChange } from './diagnostics.js';
import { callUserCode, emitTokenBucketWarning, invalidOption } from './errors.js';
import { checkOptionNames } from './option-names.js';

/** The label value that stands for every route (or policy) past `maxLabelValues`. */
export const OTHER = '(other)';
/** The `node` label of a standalone or Sentinel store, which has one node. */
export const ONE_NODE = 'default';

export interface DecisionLabels {
  readonly route: string;
  readonly policy: string;
  readonly outcome: string;
  readonly source: string;
  /** The binding policy's kind: `rate` (a token bucket) or `concurrency` (slots in flight). */
  readonly kind: string;
}

/** One series of the decisions counter: its labels and how many decisions it has counted. */
export interface DecisionSeries {
  readonly labels: DecisionLabels;
  total: number;
  /** The part of `total` already handed to the metrics library. */
  reported: number;
}

/**
 * Decision counts by route, policy, outcome, source and kind. Counting is a few map lookups and an
 * addition: the metrics library sees the totals only when it collects. At most `max` distinct
 * routes and `max` distinct policies get their own label value; the rest count as `(other)`.
 * A series' first decision also makes the series of the other outcome (same route, policy, source
 * and kind), at 0: a policy that has not denied yet has a denied series, so
 * `rate(...{outcome="denied"})` shows 0 rather than nothing, and counts its first denials.
 */
export class DecisionCounts {
  /** Every series, in the order first seen. */
  readonly series: DecisionSeries[] = [];
  private readonly byRoute = new Map<string, Map<string, DecisionSeries[]>>();
  private readonly routes: BoundedValues;
  private readonly policies: BoundedValues;

  constructor(max: number) {
    this.routes = new BoundedValues('route', max);
    this.policies = new BoundedValues('policy', max);
  }

  count(event: DecisionEvent): void {
    const route = event.route ?? '';
    const byPolicy = this.byRoute.get(route) ?? this.routeEntry(route);
    const list = byPolicy.get(event.policy) ?? this.policyEntry(byPolicy, event.policy);
    const { outcome, source, kind } = event;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      if (s.labels.outcome === outcome && s.labels.source === source && s.labels.kind === kind) {
        s.total++;
        return;
      }
    }
    const first = list[0];
    const labels =
      first === undefined
        ? { route: this.routes.value(route), policy: this.policies.value(event.policy), outcome, source, kind }
        : { ...first.labels, outcome, source, kind };
    const s: DecisionSeries = { labels, total: 1, reported: 0 };
    list.push(s);
    this.series.push(s);
    const other = outcome === 'allowed' ? 'denied' : 'allowed';
    if (!list.some((x) => x.labels.outcome === other && x.labels.source === source && x.labels.kind === kind)) {
      const zero: DecisionSeries = { labels: { ...labels, outcome: other }, total: 0, reported: 0 };
      list.push(zero);
      this.series.push(zero);
    }
  }

  /** A route not seen yet: its own entry while under the bound, else the shared `(other)` one. */
  private routeEntry(route: string): Map<string, DecisionSeries[]> {
    const label = this.routes.value(route);
    let entry = this.byRoute.get(label);
    if (entry === undefined) {
      entry = new Map();
      this.byRoute.set(label, entry);
    }
    return entry;
  }

  private policyEntry(byPolicy: Map<string, DecisionSeries[]>, policy: string): DecisionSeries[] {
    const label = this.policies.value(policy);
    let entry = byPolicy.get(label);
    if (entry === undefined) {
      entry = [];
      byPolicy.set(label, entry);
    }
    return entry;
  }
}

/** One series of the store errors counter: its labels and how many failed calls it has counted. */
export interface StoreErrorSeries {
  readonly labels: { readonly store: string; readonly code: string };
  total: number;
  /** The part of `total` already handed to the metrics library. */
  reported: number;
  /** Whether the metrics library has collected this series yet (at 0, see StoreErrorCounts). */
  shown: boolean;
}

/**
 * Failed store calls by store and error code. A series is new when its first error happens, and a
 * counter series that first appears at 3 (the failures that opened a circuit, between two scrapes)
 * is one whose first 3 `rate()` and `increase()` never count. So an exporter reports a new series
 * at 0 the first time it collects it (`shown`), and its count from the next collection on: the
 * errors are held, never lost, and counted from the first one.
 */
export class StoreErrorCounts {
  /** Every series, in the order first seen. */
  readonly series: StoreErrorSeries[] = [];
  private readonly byKey = new Map<string, StoreErrorSeries>();

  count(store: string, code: string): void {
    const key = `${store}\n${code}`;
    const known = this.byKey.get(key);
    if (known !== undefined) {
      known.total++;
      return;
    }
    const s: StoreErrorSeries = { labels: { store, code }, total: 1, reported: 0, shown: false };
    this.byKey.set(key, s);
    this.series.push(s);
  }

  /**
   * Calls `report` for each series with what the metrics library should have for it now: 0 for a
   * series collected for the first time, else its total.
   */
  collect(report: (s: StoreErrorSeries, value: number) => void): void {
    for (const s of this.series) {
      if (s.shown) report(s, s.total);
      else {
        s.shown = true;
        report(s, 0);
      }
    }
  }
}

/** The label values of one label, at most `max` of them; the rest become `(other)`, with one warning. */
class BoundedValues {
  private readonly seen = new Set<string>();
  private warned = false;

  constructor(
    private readonly label: string,
    private readonly max: number,
  ) {}

  value(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size < this.max) {
      this.seen.add(value);
      return value;
    }
    if (!this.warned) {
      this.warned = true;
      emitTokenBucketWarning(
        'TB_WARN_LABEL_VALUES',
        `tokenbucket: more than ${this.max} distinct \`${this.label}\` label values; the next ones are counted as "${OTHER}". ` +
          'Route and policy names should be patterns, not concrete URLs (name routers mounted on parameterized paths), ' +
          'or raise `maxLabelValues`.',
      );
    }
    return OTHER;
  }
}

/**
 * Up (1) or down (0) per store and node, as the store's circuit breakers last reported. On a
 * Cluster, calls made before the client knows which master serves a slot have no node: once the
 * store has named nodes, that stand-in is left out (it would otherwise stay at its last value,
 * perhaps 0, long after every call goes to a named master).
 */
export class StoreStates {
  /** store → node → 1 or 0. */
  private readonly states = new Map<string, Map<string, number>>();
  /** `store\nnode` of nodes down only because they have failed and never answered (not by a status event). */
  private readonly neverUp = new Set<string>();

  /** A circuit opened (down) or closed (up). */
  status(store: string, node: string | undefined, up: boolean): void {
    this.neverUp.delete(`${store}\n${node ?? ONE_NODE}`);
    this.nodes(store).set(node ?? ONE_NODE, up ? 1 : 0);
  }

  /** A call succeeded: a store or node not seen before is up (no status change is published for it). */
  called(store: string, node: string | undefined): void {
    const nodes = this.nodes(store);
    const name = node ?? ONE_NODE;
    if (!nodes.has(name) || this.neverUp.delete(`${store}\n${name}`)) nodes.set(name, 1);
  }

  /**
   * A call failed: a store or node that has never answered is down (a client that never connects
   * may fail too rarely, or too evenly in time, to open its circuit; it is not up).
   */
  failed(store: string, node: string | undefined): void {
    const nodes = this.nodes(store);
    const name = node ?? ONE_NODE;
    if (nodes.has(name)) return;
    nodes.set(name, 0);
    this.neverUp.add(`${store}\n${name}`);
  }

  /** Calls `report` for each store and node to report. */
  report(report: (up: number, store: string, node: string) => void): void {
    for (const [store, nodes] of this.states) {
      const named = nodes.size > (nodes.has(ONE_NODE) ? 1 : 0);
      for (const [node, up] of nodes) if (!(named && node === ONE_NODE)) report(up, store, node);
    }
  }

  private nodes(store: string): Map<string, number> {
    let nodes = this.states.get(store);
    if (nodes === undefined) {
      nodes = new Map();
      this.states.set(store, nodes);
    }
    return nodes;
  }
}

/** Bucket bounds (seconds) of the Redis call histogram: a loopback call takes well under 1 ms, a time-out 200 ms. */
export const DEFAULT_CALL_BUCKETS: readonly number[] = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]);

/** The options every metrics package takes, besides where its instruments go. */
export interface CommonMetricsOptions {
  buckets?: readonly number[];
  maxLabelValues?: number;
}

/**
 * Checks a metrics package's options: an object with no name outside `known`, and the common
 * `buckets` and `maxLabelValues`, which it returns with their defaults. Throws a TokenBucketError
 * (TB_ERR_INVALID_OPTION) naming the option and the value.
 */
export function parseCommonMetricsOptions(options: unknown, known: readonly string[]): Required<CommonMetricsOptions> {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object');
  checkOptionNames(options, known);
  const { buckets = DEFAULT_CALL_BUCKETS, maxLabelValues = 1000 } = options as CommonMetricsOptions;
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]!))
  ) {
    invalidOption('buckets', buckets, 'a non-empty array of increasing finite numbers of seconds > 0');
  }
  if (!Number.isSafeInteger(maxLabelValues) || maxLabelValues < 1) invalidOption('maxLabelValues', maxLabelValues, 'an integer >= 1');
  return { buckets, maxLabelValues };
}

/** What a metrics package records as it happens (the rest it reads from the tallies when collected). */
export interface MetricsRecorder {
  /** A store call's duration in seconds; `labels` is one object per store, reused. */
  storeCall(labels: { readonly store: string }, seconds: number): void;
}

/** The subscriptions of one registration and what they tally. */
export interface MetricsSubscription {
  readonly counts: DecisionCounts;
  readonly errors: StoreErrorCounts;
  readonly states: StoreStates;
  /** Unsubscribes from every channel. */
  close(): void;
}

/**
 * Subscribes to the four diagnostics channels: decisions are counted in `counts`, store errors in
 * `errors`, store states kept in `states`, call durations handed to `recorder`. A subscriber that throws
 * would be the process's uncaught exception: each one catches, and warns once.
 */
export function subscribeMetrics(maxLabelValues: number, recorder: MetricsRecorder): MetricsSubscription {
  const counts = new DecisionCounts(maxLabelValues);
  const errors = new StoreErrorCounts();
  const states = new StoreStates();
  const storeLabels = new Map<string, { store: string }>();
  const handlers: [string, (message: unknown) => void][] = [
    [CHANNELS.decision, guarded((m) => counts.count(m as DecisionEvent))],
    [
      CHANNELS.storeError,
      guarded((m) => {
        const { store, node, code } = m as StoreCallError;
        errors.count(store, code);
        states.failed(store, node);
      }),
    ],
    [
      CHANNELS.storeStatus,
      guarded((m) => {
        const { store, node, status } = m as StoreStatusChange;
        states.status(store, node, status === 'up');
      }),
    ],
    [
      CHANNELS.storeCall,
      guarded((m) => {
        const { store, node, durationMs, ok } = m as StoreCall;
        let labels = storeLabels.get(store);
        if (labels === undefined) {
          labels = { store };
          storeLabels.set(store, labels);
        }
        recorder.storeCall(labels, durationMs / 1000);
        if (ok) states.called(store, node);
      }),
    ],
  ];
  for (const [name, handler] of handlers) subscribe(name, handler);
  return {
    counts,
    errors,
    states,
    close() {
      for (const [name, handler] of handlers) unsubscribe(name, handler);
    },
  };
}

/** A subscriber that cannot throw: a failure becomes one TokenBucketWarning per subscriber. */
function guarded(handle: (message: unknown) => void): (message: unknown) => void {
  const once = { warned: false };
  return (message) => callUserCode('TB_WARN_METRICS_FAILED', 'a metrics subscriber', () => handle(message), once);
}
