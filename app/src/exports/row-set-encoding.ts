/**
 * One export's file encoding, as an encode worker runs it (or the main thread, with
 * EXPORT_WORKERS=0): each row set decoded from the bytes Hive sent (rowset-decoder.ts) and
 * encoded into the export's file format at once, while its bytes are at hand.
 */
import type { ColumnBatch, WireRowSet } from '../hive/column-batch.js';
import type { ResultColumn } from '../hive/result-schema.js';
import { decodeWireRowSet } from '../hive/rowset-decoder.js';
import { CsvEncoder } from '../formats/csv-encoder.js';
import { spansWholeBuffer, type BatchEncoder, type EncodedChunk } from '../formats/encoder.js';
import type { ParquetEncoder } from '../formats/parquet.js';
import type { ChunkBuffers } from './chunk-buffer-pool.js';

/** A file format the encoders write (compression, as in csv.gz, is the pipeline's). */
export type FileFormat = 'csv' | 'parquet';

/** Everything a worker needs to set up an export's encoder: plain data, so it can be posted. */
export interface EncodingSpec {
  format: FileFormat;
  columns: ResultColumn[];
  /**
   * Parquet: a row group never grows past this (nor past the encoder's default), so a part of a
   * multi-part export can end near its size limit. @default the encoder's default
   */
  maxRowGroupBytes?: number;
}

/** Below this a chunk is a header, the magic or a footer: copying it costs nothing worth saving. */
const OWN_BUFFER_MIN_BYTES = 64 * 1024;

/**
 * The Parquet encoder as a BatchEncoder. The pipeline may move its chunks to another thread, so
 * those that are views of buffers the encoder reuses (or its shared magic bytes) are copied out;
 * column chunks, each a buffer of its own, are not (see `owned`).
 * The byte cap is checked between row sets, on what is written plus what the open row group
 * holds: a Parquet file cannot end at an arbitrary row, so it may pass the cap by one row set.
 */
class ParquetBatchEncoder implements BatchEncoder {
  private written = 0;

  constructor(
    private readonly parquet: ParquetEncoder,
    private readonly buffers?: ChunkBuffers,
  ) {}

  get bytes(): number {
    return this.written + this.parquet.bytesBuffered;
  }

  start(): Buffer[] {
    return [];
  }

  encode(batch: ColumnBatch, maxRows: number, maxBytes: number): EncodedChunk {
    if (this.bytes >= maxBytes) return { chunks: [], rows: 0 };
    const rows = Math.min(batch.rowCount, maxRows);
    return { chunks: this.owned(this.parquet.push(batch, rows)), rows };
  }

  finish(): Buffer[] {
    return this.owned(this.parquet.finish());
  }

  private owned(chunks: Uint8Array[]): Buffer[] {
    return chunks.map((chunk) => {
      this.written += chunk.byteLength;
      // A column chunk is a buffer of its own (or `buffers`' to be given back), made when its row
      // group ends and referenced by nothing else (parquet/column-writer.ts): it moves on as it
      // is. A copy would be left behind as garbage in the worker at every row group. Views and
      // small pieces are copied.
      const lent = this.buffers?.isLent(chunk.buffer) ?? false;
      const ownBuffer = lent || (chunk.byteLength >= OWN_BUFFER_MIN_BYTES && spansWholeBuffer(chunk));
      return ownBuffer ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.from(chunk);
    });
  }
}

/**
 * Where the encoders write their chunks (a CSV row set's text, a Parquet column chunk): `buffers`
 * (an encode worker's ChunkBufferPool), or new buffers without it.
 */
async function createBatchEncoder(spec: EncodingSpec, buffers?: ChunkBuffers): Promise<BatchEncoder> {
  const allocate = buffers && ((bytes: number) => buffers.take(bytes));
  switch (spec.format) {
    case 'csv':
      return new CsvEncoder(spec.columns, spec.columns.map((column) => column.name), allocate);
    case 'parquet': {
      // Loaded on first use: the native zstd binding is not needed by a connector writing CSV.
      const { createParquetEncoder, DEFAULT_ROW_GROUP_BYTES } = await import('../formats/parquet.js');
      const rowGroupBytes = Math.min(spec.maxRowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES, DEFAULT_ROW_GROUP_BYTES);
      return new ParquetBatchEncoder(createParquetEncoder(spec.columns, { rowGroupBytes, ...(allocate && { allocate }) }), buffers);
    }
  }
}

export class RowSetEncoding {
  /** A cap cut a row set short: the file ends there, so later row sets add nothing (export-pipeline.ts sends ahead). */
  private capped = false;

  private constructor(
    private readonly spec: EncodingSpec,
    private readonly encoder: BatchEncoder,
  ) {}

  static async open(spec: EncodingSpec, buffers?: ChunkBuffers): Promise<RowSetEncoding> {
    return new RowSetEncoding(spec, await createBatchEncoder(spec, buffers));
  }

  start(): Buffer[] {
    return this.encoder.start();
  }

  encode(rowSet: WireRowSet, maxRows: number, maxBytes: number): EncodedChunk {
    if (this.capped) return { chunks: [], rows: 0 };
    const encoded = this.encoder.encode(decodeWireRowSet(rowSet, this.spec.columns.length), maxRows, maxBytes);
    if (encoded.rows < Math.min(rowSet.rowCount, maxRows)) this.capped = true;
    return encoded;
  }

  finish(): Buffer[] {
    return this.encoder.finish();
  }
}
