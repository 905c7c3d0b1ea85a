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
import type { EncodedChunk } from '../formats/encoder.js';
import type { EncodePool } from './encode-pool.js';

/**
 * gzip level of csv.gz, chosen by measurement on the measurement table's CSV (this machine, one
 * core): level 1 takes 0.31 CPU-s per million rows and leaves 30% of the bytes; level 6, zlib's
 * default, 1.10 s for 23%, which would cap a csv.gz export near 0.9M rows/s, below the CSV path
 * itself. Level 1's files are 30% larger than level 6's: inside Azure that costs a download less
 * than level 6 costs the export, and Parquet is the compact format (6 bytes a row, typed).
 */
const GZIP_LEVEL = 1;

/** Row sets handed to the encoder before their bytes are taken back. */
const ENCODE_AHEAD = 2;

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

  /**
   * Row sets go to the encoder a few ahead of the bytes coming back (ENCODE_AHEAD), so the worker
   * starts on the next one while this thread writes the last: each hand-over between threads
   * costs a wake-up, which on a busy machine is longer than the encoding itself. Their rows are
   * asked as if every earlier row set was taken whole; when a cap cuts one short the encoder
   * takes nothing more (row-set-encoding.ts), so later answers come back empty.
   */
  const ahead: { encoded: Promise<EncodedChunk>; asked: number; rowCount: number }[] = [];
  let planned = 0;

  async function* takeOldest(): AsyncGenerator<Buffer> {
    const { encoded, asked, rowCount } = ahead.shift()!;
    const done = await encoded;
    rows += done.rows;
    // Fewer rows than the row set had: a cap stopped the export at a row boundary.
    if (done.rows < rowCount || done.rows < asked) truncated = true;
    yield* done.chunks;
    options.onProgress?.({ rows, bytes: writer.bytesWritten });
  }

  async function* chunks(): AsyncGenerator<Buffer> {
    yield* await encoder.start();
    for await (const rowSet of query.rowSets()) {
      const remaining = limits.maxRows - planned;
      if (remaining <= 0) {
        // More rows than the cap allows: the file ends here, whole.
        truncated = true;
        break;
      }
      const asked = Math.min(rowSet.rowCount, remaining);
      planned += asked;
      const encoded = encoder.encode(rowSet, asked, limits.maxBytes);
      encoded.catch(() => undefined); // awaited in order below; an abort must not leave it unhandled
      ahead.push({ encoded, asked, rowCount: rowSet.rowCount });
      // A row set arrived: the export is moving (the scheduler's watchdog counts this).
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
      if (ahead.length > ENCODE_AHEAD) yield* takeOldest();
      if (truncated) break;
    }
    // Every row set handed over is taken back: its rows may already be in the encoder (Parquet).
    while (ahead.length > 0) yield* takeOldest();
    yield* await encoder.finish();
  }

  try {
    const source = Readable.from(chunks(), { objectMode: false });
    const streamOptions = options.signal ? { signal: options.signal } : {};
    if (options.format === 'csv.gz') await pipeline(source, createGzip({ level: GZIP_LEVEL }), writer.stream, streamOptions);
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
