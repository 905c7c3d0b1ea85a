/**
 * The streaming heart of an export: Hive row sets → CSV or Parquet bytes (in an encode worker)
 * → (gzip) → the store's writer, with backpressure all the way (stream.pipeline), so memory
 * stays flat whatever the result size.
 * Caps stop the export at a row boundary and mark it truncated — never silently. On any failure
 * the writer is aborted, so nothing half-written is ever published.
 *
 * A large result is split into parts (`partMaxBytes`), each a complete file of its own — its own
 * encoder (CSV header, Parquet footer) and its own gzip stream — cut between row sets, never
 * inside a row; the store publishes them all at once on commit.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { RunningQuery } from '../hive/query-runner.js';
import { MAX_EXPORT_PARTS, type CommittedExport, type ExportFormat, type ExportWriter } from '../storage/export-store.js';
import { AppError } from '../errors.js';
import type { WireRowSet } from '../hive/column-batch.js';
import { RowSetDecodeError } from '../hive/rowset-decoder.js';
import type { EncodePool, RowSetEncoder } from './encode-pool.js';
import type { EncodingSpec } from './row-set-encoding.js';

export interface ExportLimits {
  maxRows: number;
  /**
   * Cap on the export's bytes before compression, all parts together: CSV text (each part's
   * header included), or Parquet bytes (checked between row sets, see row-set-encoding.ts).
   */
  maxBytes: number;
  /**
   * A part is closed at the first row-set boundary after its stored bytes (compressed for csv.gz)
   * reached this, and the next part begins; an export that never gets there stays one file.
   */
  partMaxBytes: number;
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
  // A Parquet part can only end after a row group: one as big as the part would make parts twice the limit.
  const spec: EncodingSpec =
    options.format === 'parquet' ? { format: 'parquet', columns: query.columns, maxRowGroupBytes: limits.partMaxBytes } : { format: 'csv', columns: query.columns };
  // One source of row sets for every part: read by hand, so that ending a part never ends the query.
  const rowSets = query.rowSets();
  const nextRowSet = async (): Promise<WireRowSet | undefined> => {
    const read = await rowSets.next();
    return read.done ? undefined : read.value;
  };
  /** A row set read at a part boundary to learn whether another part follows; the next part starts with it. */
  let carried: WireRowSet | undefined;
  let rows = 0;
  let truncated = false;
  let parts = 1;
  let partRows = 0;
  /** Encoded bytes (before compression) of the closed parts: what the byte cap has left for the next. */
  let closedBytes = 0;

  /** One part as a complete file: its header, whole row sets until it is full or the rows end, its footer. */
  async function* partChunks(encoder: RowSetEncoder, onMore: () => void): AsyncGenerator<Buffer> {
    let encodedBytes = 0;
    const counted = (chunks: Buffer[]) => {
      for (const chunk of chunks) encodedBytes += chunk.length;
      return chunks;
    };
    yield* counted(await encoder.start());
    for (;;) {
      const next = carried ?? (await nextRowSet());
      carried = undefined;
      if (!next) break;
      const remaining = limits.maxRows - rows;
      if (remaining <= 0) {
        truncated = true;
        break;
      }
      const encoded = await encoder.encode(next, remaining, limits.maxBytes - closedBytes);
      rows += encoded.rows;
      partRows += encoded.rows;
      // Fewer rows than the row set had: a cap stopped the export at a row boundary.
      if (encoded.rows < next.rowCount) truncated = true;
      yield* counted(encoded.chunks);
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
      if (truncated) break;
      if (writer.partBytesWritten >= limits.partMaxBytes && parts < MAX_EXPORT_PARTS) {
        // Full: this part ends here, unless no row follows (an empty last part would be a file of a header).
        const following = await nextRowSet();
        if (!following) break;
        if (rows >= limits.maxRows || closedBytes + encodedBytes >= limits.maxBytes) {
          truncated = true;
          break;
        }
        carried = following;
        onMore();
        break;
      }
    }
    yield* counted(await encoder.finish());
    closedBytes += encodedBytes;
  }

  try {
    for (;;) {
      let more = false;
      const encoder = options.encoders.open(spec);
      try {
        const source = Readable.from(partChunks(encoder, () => (more = true)), { objectMode: false });
        const streamOptions = options.signal ? { signal: options.signal } : {};
        if (options.format === 'csv.gz') await pipeline(source, createGzip({ level: 6 }), writer.stream, streamOptions);
        else await pipeline(source, writer.stream, streamOptions);
      } finally {
        encoder.close();
      }
      if (!more) break;
      await writer.nextPart({ rows: partRows });
      parts += 1;
      partRows = 0;
    }
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
    // Stops the fetching when the export ended early (a cap, a failure); a no-op after the last
    // row set. Not awaited: it would wait for a fetch in flight, which the query's close ends.
    void rowSets.return(undefined).catch(() => undefined);
  }
}
