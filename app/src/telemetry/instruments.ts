/**
 * The connector's traces and metrics, written against the OpenTelemetry API only: with no SDK
 * registered (telemetry off, the default locally) every call is a no-op, and the exporter itself
 * is never loaded (see azure-monitor.ts). Names follow OpenTelemetry's semantic conventions where
 * one exists; the rest are `connector.*`, and every export span carries `export.id`.
 */
import { context, metrics, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Counter, type Histogram, type Span } from '@opentelemetry/api';

export const INSTRUMENTATION = 'enos-aml-connector';

/**
 * The tracer, looked up at each use, never kept: the SDK registers its provider through its own
 * (CommonJS) copy of the API, and a tracer taken earlier from this (ESM) copy would stay bound to
 * a provider that never gets a delegate. The lookup is a map read in the SDK.
 */
export const tracer = {
  startSpan: (...args: Parameters<ReturnType<typeof trace.getTracer>['startSpan']>) => trace.getTracer(INSTRUMENTATION).startSpan(...args),
};

export { context, SpanKind, SpanStatusCode, trace };
export type { Span };

/** Runs `work` in a new active span that ends with it, marked as an error when it throws. */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
  const span = tracer.startSpan(name, { attributes }, parent ?? context.active());
  try {
    return await context.with(trace.setSpan(parent ?? context.active(), span), () => work(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The same for synchronous work (the SQL guard). */
export function inSpanSync<T>(name: string, attributes: Attributes, work: (span: Span) => T): T {
  const span = tracer.startSpan(name, { attributes });
  try {
    return context.with(trace.setSpan(context.active(), span), () => work(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, error: unknown): void {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') span.setAttribute('error.type', code);
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

interface Instruments {
  exports: Counter;
  rows: Counter;
  bytes: Counter;
  rowsPerSecond: Histogram;
  hiveQueryDuration: Histogram;
  guardRefusals: Counter;
}

/**
 * The metrics. A meter taken before the SDK is registered stays a no-op for good (the metrics
 * API has no proxy), so instruments are made on `bind()`, which the connector calls once
 * telemetry has started; until then they record nothing.
 */
export class ConnectorMetrics {
  private instruments: Instruments | undefined;

  bind(observeQueued: () => Promise<number>): void {
    const meter = metrics.getMeter(INSTRUMENTATION);
    this.instruments = {
      exports: meter.createCounter('connector.exports', { description: 'Exports that ended, by outcome' }),
      rows: meter.createCounter('connector.export.rows', { description: 'Rows written by successful exports', unit: '{row}' }),
      bytes: meter.createCounter('connector.export.bytes', { description: 'Bytes stored by successful exports', unit: 'By' }),
      rowsPerSecond: meter.createHistogram('connector.export.rows_per_second', { description: 'Throughput of each successful export', unit: '{row}/s' }),
      hiveQueryDuration: meter.createHistogram('connector.hive.query.duration', { description: 'Time until Hive finished a query and rows could be fetched', unit: 'ms' }),
      guardRefusals: meter.createCounter('connector.guard.refusals', { description: 'Queries the SQL guard refused, by code' }),
    };
    meter.createObservableGauge('connector.jobs.queued', { description: 'Exports queued on this instance' }).addCallback(async (result) => {
      // A job store that cannot answer just skips this observation; the gauge is not worth an error.
      const queued = await observeQueued().catch(() => undefined);
      if (queued !== undefined) result.observe(queued);
    });
  }

  exportEnded(outcome: string, attributes: Attributes = {}): void {
    this.instruments?.exports.add(1, { outcome, ...attributes });
  }

  exportSucceeded(rows: number, bytes: number, seconds: number, attributes: Attributes = {}): void {
    this.instruments?.rows.add(rows, attributes);
    this.instruments?.bytes.add(bytes, attributes);
    if (seconds > 0) this.instruments?.rowsPerSecond.record(rows / seconds, attributes);
  }

  hiveQueryFinished(ms: number, outcome: 'ok' | 'error'): void {
    this.instruments?.hiveQueryDuration.record(ms, { outcome });
  }

  guardRefused(code: string): void {
    this.instruments?.guardRefusals.add(1, { code });
  }
}
