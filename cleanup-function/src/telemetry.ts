/**
 * The cleanup function's OpenTelemetry, to the stack's Application Insights with the function's
 * managed identity (Entra ID; role "Monitoring Metrics Publisher"), only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set. The distro is imported on the first invocation
 * that needs it, so a run without telemetry never loads it. Each run is one span,
 * `cleanup.run`, with the summary as attributes, plus counters of what it deleted; everything is
 * flushed at the end of the invocation, because the Functions host may freeze the instance right
 * after. (The host's own logs — `context.log` lines — reach Application Insights through the
 * host, as before.)
 */
import { ManagedIdentityCredential } from '@azure/identity';
import type { CleanupConfig } from './config.js';
import type { CleanupSummary } from './summary.js';

export interface CleanupTelemetry {
  /** Runs `run` inside the `cleanup.run` span and records the summary it returns. */
  inRun(run: () => Promise<CleanupSummary>): Promise<CleanupSummary>;
  flush(): Promise<void>;
}

const NAME = 'enos-aml-cleanup';

export async function startCleanupTelemetry(config: NonNullable<CleanupConfig['telemetry']>): Promise<CleanupTelemetry> {
  const [{ useAzureMonitor }, { resourceFromAttributes }, { trace, metrics, SpanStatusCode }] = await Promise.all([
    import('@azure/monitor-opentelemetry'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
  ]);
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: config.connectionString,
      ...(config.auth === 'entra' ? { credential: new ManagedIdentityCredential(config.managedIdentityClientId ? { clientId: config.managedIdentityClientId } : {}) } : {}),
    },
    resource: resourceFromAttributes({ 'service.name': NAME }),
    tracesPerSecond: 0,
    samplingRatio: 1,
    enableLiveMetrics: false,
  });
  // Looked up after the SDK registered (a meter taken before would stay a no-op).
  const meter = metrics.getMeter(NAME);
  const deleted = meter.createCounter('cleanup.blobs.deleted', { description: 'Expired exports deleted' });
  const failed = meter.createCounter('cleanup.blobs.failed', { description: 'Deletes that failed after their retries' });
  const jobsExpired = meter.createCounter('cleanup.jobs.expired', { description: 'Jobs marked expired' });
  const duration = meter.createHistogram('cleanup.run.duration', { description: 'Length of a run', unit: 'ms' });
  const flushAll = async () => {
    const providers = [trace.getTracerProvider(), metrics.getMeterProvider()] as unknown as { forceFlush?: () => Promise<void>; getDelegate?: () => { forceFlush?: () => Promise<void> } }[];
    await Promise.all(providers.map((provider) => (provider.getDelegate?.() ?? provider).forceFlush?.()));
  };
  return {
    async inRun(run) {
      return trace.getTracer(NAME).startActiveSpan('cleanup.run', async (span) => {
        try {
          const summary = await run();
          const { errors, ...counts } = summary;
          span.setAttributes(Object.fromEntries(Object.entries(counts).map(([key, value]) => [`cleanup.${key}`, value])));
          if (errors.length > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: errors.join('; ') });
          deleted.add(summary.deleted);
          failed.add(summary.failed);
          jobsExpired.add(summary.jobsExpired);
          duration.record(summary.durationMs, { complete: summary.complete });
          return summary;
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      });
    },
    flush: flushAll,
  };
}
