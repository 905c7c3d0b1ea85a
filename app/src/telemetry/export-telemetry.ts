/**
 * One trace per export, from the HTTP request that submitted it through the guard, Hive and
 * storage: the submit request's span context is remembered by export id, and the run — which
 * starts later, outside any request — becomes its child (`export.run`), with Hive (`hive.query`,
 * `hive.fetch`) and storage (`storage.upload`, …) spans below. Adapters are wrapped here rather
 * than edited, so the Hive and storage code stays unaware of telemetry.
 */
import { trace, type Context } from '@opentelemetry/api';
import type { ExportJob } from '../jobs/job-store.js';
import type { JobTransitionListener } from '../jobs/observed-job-store.js';
import type { QueryRunner, RunningQuery } from '../hive/query-runner.js';
import type { ExportStore, ExportWriter } from '../storage/export-store.js';
import { context, failSpan, inSpan, SpanKind, tracer, type ConnectorMetrics } from './instruments.js';

/** Submit contexts waiting for their run; bounded, in case a job never runs here. */
const submitContexts = new Map<string, Context>();
const MAX_REMEMBERED = 10_000;

/** Called in the submitting request: the run of `jobId` will continue this trace. */
export function rememberSubmitContext(jobId: string): void {
  if (!trace.getSpan(context.active())?.isRecording()) return;
  if (submitContexts.size >= MAX_REMEMBERED) submitContexts.delete(submitContexts.keys().next().value!);
  submitContexts.set(jobId, context.active());
}

/** Runs one export inside its `export.run` span, a child of its submit request when known. */
export function inExportSpan(job: ExportJob, run: () => Promise<void>): Promise<void> {
  const parent = submitContexts.get(job.id);
  submitContexts.delete(job.id);
  return inSpan(
    'export.run',
    { 'export.id': job.id, 'export.format': job.format, 'enos.organization': job.organizationId },
    () => run(),
    parent,
  );
}

/** Outcome metrics, and the outcome on the running export's span (the listener runs inside it). */
export function exportOutcomeTelemetry(metrics: ConnectorMetrics): JobTransitionListener {
  return ({ job, status }) => {
    if (status === 'queued' || status === 'running') return;
    const span = trace.getActiveSpan();
    span?.setAttributes({ 'export.outcome': status, 'export.rows': job.rows, 'export.bytes': job.bytes });
    if (status === 'failed' && job.error) span?.setAttribute('error.type', job.error.code);
    metrics.exportEnded(status, job.error ? { 'error.type': job.error.code } : {});
    if (status === 'succeeded' && job.startedAt && job.finishedAt) {
      metrics.exportSucceeded(job.rows, job.bytes, (job.finishedAt.getTime() - job.startedAt.getTime()) / 1000, { 'export.format': job.format });
    }
  };
}

/** Hive spans and the Hive latency metric around a query runner. */
export function tracedQueryRunner(runner: QueryRunner, metrics: ConnectorMetrics): QueryRunner {
  return {
    async start(sql, options) {
      const started = performance.now();
      let query: RunningQuery;
      try {
        query = await inSpan('hive.query', { 'db.system': 'hive', 'db.operation.name': 'SELECT' }, () => runner.start(sql, options));
      } catch (error) {
        metrics.hiveQueryFinished(performance.now() - started, 'error');
        throw error;
      }
      metrics.hiveQueryFinished(performance.now() - started, 'ok');
      return {
        columns: query.columns,
        close: () => query.close(),
        async *rowSets() {
          const span = tracer.startSpan('hive.fetch', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'hive' } });
          let batches = 0;
          try {
            for await (const rowSet of query.rowSets()) {
              batches++;
              yield rowSet;
            }
          } catch (error) {
            failSpan(span, error);
            throw error;
          } finally {
            span.setAttribute('hive.fetch.batches', batches);
            span.end();
          }
        },
      };
    },
  };
}

/** Storage spans around an export store: one `storage.upload` from begin to commit or abort. */
export function tracedExportStore<T extends ExportStore>(store: T): T {
  const traced = Object.create(store) as T;
  Object.assign(traced, {
    begin: async (target: Parameters<ExportStore['begin']>[0]): Promise<ExportWriter> => {
      const span = tracer.startSpan('storage.upload', { kind: SpanKind.CLIENT, attributes: { 'export.id': target.jobId, 'storage.method': store.method } });
      let writer: ExportWriter;
      try {
        writer = await store.begin(target);
      } catch (error) {
        failSpan(span, error);
        span.end();
        throw error;
      }
      let ended = false;
      const end = () => {
        if (!ended) span.end();
        ended = true;
      };
      return {
        get stream() {
          return writer.stream;
        },
        get bytesWritten() {
          return writer.bytesWritten;
        },
        get partBytesWritten() {
          return writer.partBytesWritten;
        },
        nextPart: (closed) => writer.nextPart(closed),
        async commit(info) {
          try {
            const committed = await writer.commit(info);
            span.setAttributes({ 'storage.bytes': committed.bytes, 'storage.parts': committed.parts?.length ?? 1 });
            return committed;
          } catch (error) {
            failSpan(span, error);
            throw error;
          } finally {
            end();
          }
        },
        async abort() {
          if (!ended) span.setAttribute('storage.aborted', true);
          end();
          await writer.abort();
        },
      };
    },
    delete: (ref: Parameters<ExportStore['delete']>[0]) => inSpan('storage.delete', { 'storage.method': store.method }, () => store.delete(ref)),
    extendExpiry: (ref: Parameters<ExportStore['extendExpiry']>[0], target: Parameters<ExportStore['extendExpiry']>[1]) =>
      inSpan('storage.extend_expiry', { 'storage.method': store.method }, () => store.extendExpiry(ref, target)),
  });
  return traced;
}
