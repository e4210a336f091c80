// What the channel subscribers keep between scrapes: decision counts per label set, store states.
// (@tokenbucket/prometheus keeps the same tallies: a change here belongs there too.)
import type { DecisionEvent } from '@tokenbucket/core';

/** The label value that stands for every route (or policy) past `maxLabelValues`. */
export const OTHER = '(other)';
/** The `node` label of a standalone or Sentinel store, which has one node. */
export const ONE_NODE = 'default';

export interface DecisionLabels {
  readonly route: string;
  readonly policy: string;
  readonly outcome: string;
  readonly source: string;
}

/** One series of the decisions counter: its labels and how many decisions it has counted. */
export interface DecisionSeries {
  readonly labels: DecisionLabels;
  total: number;
  /** The part of `total` already handed to the metrics library. */
  reported: number;
}

/**
 * Decision counts by route, policy, outcome and source. Counting is a few map lookups and an
 * addition: the metrics library sees the totals only when it collects. At most `max` distinct
 * routes and `max` distinct policies get their own label value; the rest count as `(other)`.
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
    const { outcome, source } = event;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      if (s.labels.outcome === outcome && s.labels.source === source) {
        s.total++;
        return;
      }
    }
    const first = list[0];
    const labels =
      first === undefined
        ? { route: this.routes.value(route), policy: this.policies.value(event.policy), outcome, source }
        : { ...first.labels, outcome, source };
    const s: DecisionSeries = { labels, total: 1, reported: 0 };
    list.push(s);
    this.series.push(s);
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
      process.emitWarning(
        `tokenbucket: more than ${this.max} distinct \`${this.label}\` label values; the next ones are counted as "${OTHER}". ` +
          'Route and policy names should be patterns, not concrete URLs (name routers mounted on parameterized paths), ' +
          'or raise `maxLabelValues`.',
        'TokenBucketWarning',
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

  /** A circuit opened (down) or closed (up). */
  status(store: string, node: string | undefined, up: boolean): void {
    this.nodes(store).set(node ?? ONE_NODE, up ? 1 : 0);
  }

  /** A call succeeded: a store or node not seen before is up (no status change is published for it). */
  called(store: string, node: string | undefined): void {
    const nodes = this.nodes(store);
    const name = node ?? ONE_NODE;
    if (!nodes.has(name)) nodes.set(name, 1);
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
