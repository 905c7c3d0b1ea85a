/**
 * The streaming heart of an export: Hive row sets → CSV or Parquet bytes (in an encode worker)
 * → (gzip) → the store's writer, with backpressure all the way (stream.pipeline), so memory
 * stays flat whatever the result size.
 * Caps stop the export at a row boundary and mark it truncated — never silently. On any failure
 * the writer is aborted, so nothing half-written is ever published.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { RunningQuery } from '../hive/query-runner.js';
import type { CommittedExport, ExportFormat, ExportWriter } from '../storage/export-store.js';
import { AppError } from '../errors.js';
import { RowSetDecodeError } from '../hive/rowset-decoder.js';
import type { EncodePool } from './encode-pool.js';

export interface ExportLimits {
  maxRows: number;
  /**
   * Cap on the file's bytes before compression: CSV text (header included), or Parquet bytes
   * (checked between row sets, see row-set-encoding.ts).
   */
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
  /** Where row sets are decoded and encoded (worker threads, see encode-pool.ts). */
  encoders: EncodePool;
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
  const encoder = options.encoders.open({ format: options.format === 'parquet' ? 'parquet' : 'csv', columns: query.columns });
  let rows = 0;
  let truncated = false;

  async function* chunks(): AsyncGenerator<Buffer> {
    yield* await encoder.start();
    for await (const rowSet of query.rowSets()) {
      const remaining = limits.maxRows - rows;
      if (remaining <= 0) {
        truncated = true;
        return;
      }
      const batchRows = rowSet.rowCount;
      const encoded = await encoder.encode(rowSet, remaining, limits.maxBytes);
      rows += encoded.rows;
      // Fewer rows than the row set had: a cap stopped the export at a row boundary.
      if (encoded.rows < batchRows) truncated = true;
      yield* encoded.chunks;
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
      if (truncated) break;
    }
    yield* await encoder.finish();
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
    if (error instanceof RowSetDecodeError) {
      throw new AppError('hive_error', 502, `Hive sent a result the connector cannot read (${error.message}); the export was stopped rather than left incomplete`, { cause: error });
    }
    throw error;
  } finally {
    encoder.close();
  }
}
