/**
 * The streaming heart of an export: Hive row sets → CSV text → (gzip) → the store's writer, with
 * backpressure all the way (stream.pipeline), so memory stays flat whatever the result size.
 * Caps stop the export at a row boundary and mark it truncated — never silently. On any failure
 * the writer is aborted, so nothing half-written is ever published.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { RunningQuery } from '../hive/query-runner.js';
import type { CommittedExport, ExportFormat, ExportWriter } from '../storage/export-store.js';
import { CsvEncoder } from '../formats/csv-encoder.js';
import type { BatchEncoder } from '../formats/encoder.js';

export interface ExportLimits {
  maxRows: number;
  /** Cap on CSV bytes before compression (header included). */
  maxBytes: number;
}

export interface ExportProgress {
  rows: number;
  /** Bytes handed to the store so far (compressed when the format is csv.gz). */
  bytes: number;
}

export interface ExportOutcome {
  rows: number;
  truncated: boolean;
  committed: CommittedExport;
}

export async function streamExport(options: {
  query: RunningQuery;
  writer: ExportWriter;
  format: ExportFormat;
  limits: ExportLimits;
  onProgress?: (progress: ExportProgress) => void;
  /**
   * Cancellation, shutdown or timeout. It must reach the streams themselves: while the store
   * holds back a write, the row source is not asked for more and never gets to see the abort.
   */
  signal?: AbortSignal;
}): Promise<ExportOutcome> {
  const { query, writer, limits } = options;
  const encoder: BatchEncoder = new CsvEncoder(query.columns, query.columns.map((column) => column.name));
  let rows = 0;
  let truncated = false;

  async function* chunks(): AsyncGenerator<Buffer> {
    yield* encoder.start();
    for await (const batch of query.batches()) {
      if (batch.rowCount === 0) continue;
      const remaining = limits.maxRows - rows;
      if (remaining <= 0) {
        truncated = true;
        return;
      }
      const encoded = encoder.encode(batch, remaining, limits.maxBytes);
      rows += encoded.rows;
      // Fewer rows than the batch had: a cap stopped the export at a row boundary.
      if (encoded.rows < batch.rowCount) truncated = true;
      yield* encoded.chunks;
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
      if (truncated) break;
    }
    yield* encoder.finish();
  }

  try {
    const source = Readable.from(chunks(), { objectMode: false });
    const streamOptions = options.signal ? { signal: options.signal } : {};
    if (options.format === 'csv.gz') await pipeline(source, createGzip({ level: 6 }), writer.stream, streamOptions);
    else await pipeline(source, writer.stream, streamOptions);
    const committed = await writer.commit({ rows, truncated });
    options.onProgress?.({ rows, bytes: committed.bytes });
    return { rows, truncated, committed };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
