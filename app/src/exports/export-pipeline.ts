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
import { addAbortSignal, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { RunningQuery } from '../hive/query-runner.js';
import { MAX_EXPORT_PARTS, type CommittedExport, type ExportFormat, type ExportWriter } from '../storage/export-store.js';
import { AppError } from '../errors.js';
import type { WireRowSet } from '../hive/column-batch.js';
import { RowSetDecodeError } from '../hive/rowset-decoder.js';
import type { EncodedChunk } from '../formats/encoder.js';
import type { EncodePool, RowSetEncoder } from './encode-pool.js';
import type { EncodingSpec } from './row-set-encoding.js';

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
    options.format === 'parquet'
      ? {
          format: 'parquet',
          columns: query.columns,
          maxRowGroupBytes: limits.partMaxBytes,
        }
      : { format: 'csv', columns: query.columns };
  // One source of row sets for every part: read by hand, so that ending a part never ends the query.
  const rowSets = query.rowSets();
  const nextRowSet = async (): Promise<WireRowSet | undefined> => {
    const read = await rowSets.next();
    return read.done ? undefined : read.value;
  };
  /** A row set read at a part boundary to learn whether another part follows; the next part starts with it. */
  let carried: WireRowSet | undefined;
  let rows = 0;
  /** Rows handed to encoders so far, as if every row set was taken whole: what the row cap counts. */
  let planned = 0;
  let truncated = false;
  let parts = 1;
  let partRows = 0;
  /** Encoded bytes (before compression) of the closed parts: what the byte cap has left for the next. */
  let closedBytes = 0;

  /**
   * One part as a complete file: its header, whole row sets until it is full or the rows end, its
   * footer. Row sets go to the encoder a few ahead of the bytes coming back (ENCODE_AHEAD), so
   * the worker starts on the next one while this thread writes the last: each hand-over between
   * threads costs a wake-up, which on a busy machine is longer than the encoding itself. When a
   * cap cuts one short the encoder takes nothing more (row-set-encoding.ts), so later answers
   * come back empty. A full part takes back what is in flight (at most ENCODE_AHEAD row sets past
   * its limit) before it ends.
   */
  async function* partChunks(encoder: RowSetEncoder, onMore: () => void): AsyncGenerator<Buffer> {
    let encodedBytes = 0;
    const ahead: {
      encoded: Promise<EncodedChunk>;
      asked: number;
      rowCount: number;
    }[] = [];
    const counted = (chunks: Buffer[]) => {
      for (const chunk of chunks) encodedBytes += chunk.length;
      return chunks;
    };
    async function* takeOldest(): AsyncGenerator<Buffer> {
      const { encoded, asked, rowCount } = ahead.shift()!;
      const done = await encoded;
      rows += done.rows;
      partRows += done.rows;
      // Fewer rows than the row set had: a cap stopped the export at a row boundary.
      if (done.rows < rowCount || done.rows < asked) truncated = true;
      yield* counted(done.chunks);
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
    }

    yield* counted(await encoder.start());
    let full = false;
    for (;;) {
      const next = carried ?? (await nextRowSet());
      carried = undefined;
      if (!next) break;
      const remaining = limits.maxRows - planned;
      if (remaining <= 0) {
        // More rows than the cap allows: the file ends here, whole.
        truncated = true;
        break;
      }
      const asked = Math.min(next.rowCount, remaining);
      planned += asked;
      const encoded = encoder.encode(next, asked, limits.maxBytes - closedBytes);
      encoded.catch(() => undefined); // awaited in order below; an abort must not leave it unhandled
      ahead.push({ encoded, asked, rowCount: next.rowCount });
      // A row set arrived: the export is moving (the scheduler's watchdog counts this).
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
      if (ahead.length > ENCODE_AHEAD) yield* takeOldest();
      if (truncated) break;
      if (writer.partBytesWritten >= limits.partMaxBytes && parts < MAX_EXPORT_PARTS) {
        full = true;
        break;
      }
    }
    // Every row set handed over is taken back: its rows may already be in the encoder (Parquet).
    while (ahead.length > 0) yield* takeOldest();
    if (full && !truncated) {
      // This part ends here, unless no row follows (an empty last part would be a file of a header).
      const following = await nextRowSet();
      if (following) {
        if (planned >= limits.maxRows || closedBytes + encodedBytes >= limits.maxBytes) truncated = true;
        else {
          carried = following;
          onMore();
        }
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
        const chunks = partChunks(encoder, () => (more = true));
        const release = (chunk: Buffer) => encoder.release(chunk);
        if (options.format === 'csv.gz') {
          const gzip = createGzip({ level: GZIP_LEVEL });
          await writeChunks(chunks, gzip, pipeline(gzip, writer.stream, options.signal ? { signal: options.signal } : {}), release);
        } else {
          if (options.signal) addAbortSignal(options.signal, writer.stream);
          await writeChunks(chunks, writer.stream, finished(writer.stream), release);
        }
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

/**
 * Writes `chunks` into `sink` (the store's writer, or gzip in front of it), one at a time as the
 * sink calls back, and gives each back through `release` at its callback: by then the sink has
 * taken the bytes (copied into an upload block or the file's cipher buffer, compressed), so an
 * encode worker can write the next chunk into the same memory (chunk-buffer-pool.ts). A stream
 * pipeline would hand the chunk on with no word of when it is done with it.
 * `ended` settles when everything after `sink` has finished, and rejects on the first failure
 * or abort anywhere along it, which ends the writing at once, even while a row set is awaited.
 * A failure of the chunks' source (Hive, the encoder) destroys the sink, so nothing goes on.
 */
async function writeChunks(chunks: AsyncGenerator<Buffer>, sink: Writable, ended: Promise<void>, release: (chunk: Buffer) => void): Promise<void> {
  // Each wait listens for `ended` failing and stops listening when it is over. A Promise.race
  // with `ended` instead would leave a reaction on it per wait, and through it every chunk
  // (each race's result) reachable until the part ends.
  let failure: { error: unknown } | undefined;
  const waiting = new Set<(error: unknown) => void>();
  ended.catch((error: unknown) => {
    failure = { error };
    for (const stop of waiting) stop(error);
  });
  const unlessEnded = <T>(work: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure.error);
      waiting.add(reject);
      work.then(resolve, reject).finally(() => waiting.delete(reject));
    });
  const ask = () => {
    const next = chunks.next();
    next.catch(() => undefined); // left behind when `ended` fails first
    return next;
  };
  try {
    let next = ask();
    for (;;) {
      const read = await unlessEnded(next);
      if (read.done) break;
      // The next chunk is made (the next row set read and sent to the worker) while this one is written.
      next = ask();
      const refused = await unlessEnded(written(sink, read.value));
      // A write refused because the sink was torn down: `ended` names why.
      if (refused) {
        await ended;
        throw refused;
      }
      release(read.value);
    }
  } catch (error) {
    sink.destroy();
    void chunks.return(undefined).catch(() => undefined);
    throw error;
  }
  sink.end();
  await ended;
}

/** Resolves once `sink` called back for `chunk`: undefined, or the error it reported. */
function written(sink: Writable, chunk: Buffer): Promise<Error | undefined> {
  return new Promise((resolve) => {
    sink.write(chunk, (error) => resolve(error ?? undefined));
  });
}
