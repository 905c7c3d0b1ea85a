/**
 * The Parquet encoder: ColumnBatches in, Parquet file bytes out, streaming in bounded memory.
 *
 * A Parquet file is `PAR1`, row groups (per column a contiguous chunk of pages), the footer
 * (FileMetaData), its length and `PAR1`. A column chunk must be whole before the next column's
 * starts, so one row group is buffered — compressed pages plus the open page of each column —
 * and emitted once it reaches `rowGroupBytes`; only the small per-row-group metadata is kept
 * until the footer. The bytes handed back are final and in order: the caller writes them as they
 * come (and may hash them), never seeks back.
 *
 * Chosen by measurement over parquet-wasm, hyparquet-writer, @dsnp/parquetjs and DuckDB's
 * writer (`npm run bench -- parquet`, figures in app/README.md, "Parquet writer"): it reads the
 * batch's typed arrays and byte ranges directly, so there is no per-value JS object, string or
 * Arrow conversion on the way. Typing rules: parquet/schema.ts; Hive text parsing:
 * parquet/hive-text.ts.
 */
import type { ColumnBatch } from '../hive/column-batch.js';
import type { ResultColumn } from '../hive/result-schema.js';
import { ColumnChunkWriter } from './parquet/column-writer.js';
import { zstdCodec } from './parquet/compression.js';
import { fileMetadata, type RowGroupMeta } from './parquet/footer.js';
import { planColumn } from './parquet/schema.js';

export interface ParquetEncoderOptions {
  /**
   * Buffered bytes (compressed pages plus open pages and dictionaries) at which a row group is
   * written out: the encoder's memory bound and, roughly, the row group size on disk.
   * @default 64 MiB — the low end of the 64–128 MB readers like, and what the connector's
   *   memory goal (peak RSS ≤ idle + 100 MB per export) leaves room for.
   */
  rowGroupBytes?: number;
  /**
   * Rows at which a row group is written out even if it is smaller than `rowGroupBytes`.
   * @default 1,048,576 — pyarrow's own default. A narrow result compresses so well (enos.measurement:
   *   6.3 bytes a row) that 64 MiB would be ten million rows in one group, which parallel readers
   *   (DuckDB, Spark, Azure ML tables) cannot split and which the encoder would hold in memory.
   */
  rowGroupRows?: number;
  /** zstd level (1–22; higher is smaller and slower). @default 1 */
  compressionLevel?: number;
  /** Uncompressed value bytes that close a data page. @default 1 MiB */
  pageBytes?: number;
  /** Rows that close a data page. @default 20,000 (Arrow's default) */
  pageRows?: number;
  /** Where a column chunk's bytes are gathered when its row group ends. @default a new buffer each */
  allocate?: (bytes: number) => Uint8Array;
}

export interface ParquetEncoder {
  /**
   * Encodes the first `rowLimit` rows of `batch` (all by default). Returns the bytes that are
   * ready to write, in order (the `PAR1` magic on the first call, then any completed row group);
   * often none. The batch is not retained: its buffers may be reused once this returns.
   */
  push(batch: ColumnBatch, rowLimit?: number): Uint8Array[];
  /** The remaining bytes: the last row group and the footer. The file is complete after them. */
  finish(): Uint8Array[];
  /** Bytes held for the current row group. */
  readonly bytesBuffered: number;
  /** Rows encoded so far. */
  readonly rows: number;
}

/** See ParquetEncoderOptions.rowGroupBytes. */
export const DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024;
const MAGIC = new TextEncoder().encode('PAR1');
/** Rows appended between page and row-group checks: bounds the overshoot of either limit. */
const SLICE_ROWS = 4096;

export function createParquetEncoder(columns: readonly ResultColumn[], options: ParquetEncoderOptions = {}): ParquetEncoder {
  const rowGroupBytes = options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES;
  const rowGroupRows = options.rowGroupRows ?? 1024 * 1024;
  const codec = zstdCodec(options.compressionLevel);
  const limits = { pageBytes: options.pageBytes ?? 1024 * 1024, pageRows: options.pageRows ?? 20_000 };
  if (!(rowGroupBytes > 0)) throw new Error(`rowGroupBytes must be a positive number of bytes, got ${rowGroupBytes}`);
  if (!(rowGroupRows > 0)) throw new Error(`rowGroupRows must be a positive number of rows, got ${rowGroupRows}`);
  const plans = columns.map(planColumn);
  const allocate = options.allocate ?? ((bytes: number) => new Uint8Array(bytes));
  const writers = plans.map((plan) => new ColumnChunkWriter(plan, codec, limits, allocate));
  const rowGroups: RowGroupMeta[] = [];
  let offset = 0;
  let groupRows = 0;
  let totalRows = 0;
  let finished = false;

  const buffered = () => writers.reduce((sum, writer) => sum + writer.bufferedBytes, 0);

  const start = (out: Uint8Array[]) => {
    if (offset === 0) {
      out.push(MAGIC);
      offset = MAGIC.length;
    }
  };

  const flushRowGroup = (out: Uint8Array[]) => {
    if (groupRows === 0) return;
    const group: RowGroupMeta = { rows: groupRows, offset, chunks: [] };
    for (const writer of writers) {
      const { bytes, ...chunk } = writer.finishChunk();
      group.chunks.push({ chunk, offset });
      out.push(bytes);
      offset += chunk.compressedBytes;
    }
    rowGroups.push(group);
    groupRows = 0;
  };

  return {
    push(batch, rowLimit = Infinity) {
      if (finished) throw new Error('the Parquet encoder was already finished');
      if (batch.columns.length !== writers.length) {
        throw new Error(`Hive sent ${batch.columns.length} columns but the schema has ${writers.length}`);
      }
      const count = Math.max(0, Math.min(batch.rowCount, rowLimit));
      const out: Uint8Array[] = [];
      start(out);
      for (let from = 0, to = 0; from < count; from = to) {
        to = Math.min(count, from + SLICE_ROWS, from + rowGroupRows - groupRows);
        for (let c = 0; c < writers.length; c++) writers[c]!.append(batch.columns[c]!, from, to);
        groupRows += to - from;
        totalRows += to - from;
        if (groupRows >= rowGroupRows || buffered() >= rowGroupBytes) flushRowGroup(out);
      }
      return out;
    },
    finish() {
      if (finished) throw new Error('the Parquet encoder was already finished');
      finished = true;
      const out: Uint8Array[] = [];
      start(out);
      flushRowGroup(out);
      const footer = fileMetadata(plans, rowGroups, codec.id);
      const tail = new Uint8Array(8);
      new DataView(tail.buffer).setUint32(0, footer.length, true);
      tail.set(MAGIC, 4);
      out.push(footer, tail);
      return out;
    },
    get bytesBuffered() {
      return buffered();
    },
    get rows() {
      return totalRows;
    },
  };
}
