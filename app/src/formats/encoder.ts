/**
 * What the export pipeline asks of a file format: bytes before the first row, whole rows within a
 * row and byte budget, bytes after the last row. CSV (csv-encoder.ts) is one; Parquet another.
 * Encoders consume the Hive adapter's ColumnBatch and never see Hive or storage.
 */
import type { ColumnBatch } from '../hive/column-batch.js';

export interface EncodedChunk {
  /**
   * Bytes ready to write, in order (may be empty while a format buffers). They belong to the
   * caller: the encoder never writes to them again, so they may move to another thread.
   */
  chunks: Buffer[];
  /** Rows of the batch taken: fewer than asked means a cap stopped the export. */
  rows: number;
}

export interface BatchEncoder {
  /** Bytes that open the file (a CSV header). */
  start(): Buffer[];
  /** Encodes whole rows of `batch`: at most `maxRows`, and no row that would pass `maxBytes` of output. */
  encode(batch: ColumnBatch, maxRows: number, maxBytes: number): EncodedChunk;
  /** Bytes that close the file (whatever is buffered, a footer). */
  finish(): Buffer[];
  /** Output bytes so far, for the byte cap. */
  readonly bytes: number;
}

/** True when `chunk` spans its whole ArrayBuffer (not a view into a pool, a scratch or shared memory): that memory can move to another thread as it is. */
export function spansWholeBuffer(chunk: Uint8Array): boolean {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
}
