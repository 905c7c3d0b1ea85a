/**
 * Starts OpenTelemetry with the Azure Monitor distro (@azure/monitor-opentelemetry) when — and
 * only when — an Application Insights connection string is configured: the distro and its SDK
 * (some 40 MB of modules) are imported here, on demand, so a connector without telemetry never
 * loads them (`npm run bench -- telemetry` measures the difference in memory).
 *
 * Authentication is Entra ID by default: the exporter gets a token for the connector's managed
 * identity (role "Monitoring Metrics Publisher" on the Application Insights resource), so the
 * resource can have local (instrumentation key) authentication switched off. `key` sends with the
 * connection string alone. Every span is kept (no sampling by default): exports are few and each
 * one's trace is what an operator looks for.
 */
import type { TokenCredential } from '@azure/identity';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/config.js';

export interface TelemetryHandle {
  /** Exports what is buffered; for tests and before a Functions instance freezes. */
  flush(): Promise<void>;
  /** Flushes and stops; nothing is exported afterwards. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  instanceId: string;
  credential?: () => TokenCredential;
  /** Extra span processors (tests add an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

export async function startAzureMonitor(config: NonNullable<Config['telemetry']>, options: TelemetryOptions): Promise<TelemetryHandle> {
  const [{ useAzureMonitor, shutdownAzureMonitor }, { resourceFromAttributes }, { metrics, trace }, { logs }] = await Promise.all([
    import('@azure/monitor-opentelemetry'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
    import('@opentelemetry/api-logs'),
  ]);
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: config.connectionString,
      ...(config.auth === 'entra' && options.credential ? { credential: options.credential() } : {}),
    },
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.serviceVersion,
      'service.instance.id': options.instanceId,
    }),
    samplingRatio: config.samplingRatio,
    // 0 turns the distro's rate-limited sampler off in favour of samplingRatio.
    tracesPerSecond: 0,
    enableLiveMetrics: false,
    // Incoming requests get the connector's own spans (http/request-context), which know the
    // route and the user; the distro's HTTP instrumentation would add a second, anonymous one.
    instrumentationOptions: { http: { enabled: false }, azureSdk: { enabled: true } },
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  const flush = async () => {
    const providers = [trace.getTracerProvider(), metrics.getMeterProvider(), logs.getLoggerProvider()] as unknown as { forceFlush?: () => Promise<void>; getDelegate?: () => { forceFlush?: () => Promise<void> } }[];
    await Promise.all(providers.map((provider) => (provider.getDelegate?.() ?? provider).forceFlush?.()));
  };
  return { flush, shutdown: () => shutdownAzureMonitor() };
}
