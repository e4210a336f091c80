// An OpenTelemetry MeterProvider whose metrics a test collects on demand, and readers of its data points.
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** A reader that exports nothing by itself: the test calls collect(). */
class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

export interface Collected {
  /** Every instrument collected, by name. */
  metrics: Map<string, MetricData>;
}

export function meterProvider(): { provider: MeterProvider; collect(): Promise<Collected> } {
  // The SDK folds a metric's series past 2000 into one overflow point; the tests count more.
  const reader = new CollectingReader({ cardinalitySelector: () => 100_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      const metrics = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) metrics.set(m.descriptor.name, m);
      return { metrics };
    },
  };
}

/** The value of a sum or gauge data point with exactly these attributes, or undefined. */
export function pointValue(c: Collected, name: string, attributes: Record<string, string>): number | undefined {
  const m = c.metrics.get(name);
  const point = m?.dataPoints.find((p) => JSON.stringify(Object.entries(p.attributes).sort()) === JSON.stringify(Object.entries(attributes).sort()));
  return point === undefined ? undefined : (point.value as number);
}
