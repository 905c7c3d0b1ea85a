/**
 * A decoded FetchResults row set in the shape encoders want: one entry per result column,
 * numbers in typed arrays in the platform's byte order, strings and binaries as byte ranges of
 * the frame they arrived in (no JS string per value). The fast decoder (rowset-decoder.ts)
 * produces it; the CSV and Parquet encoders (formats/) consume it.
 *
 * The byte ranges point into the received message, so a batch is valid only until that buffer
 * is reused: encode it before asking for the next one (the pipeline does).
 */

/** Hive's null bitmap: bit i%8 of byte i/8 set means row i is NULL; bytes past its end are not null. */
export type NullBitmap = Uint8Array;

export interface FixedColumn {
  kind: 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'double';
  /** One value per row; a NULL row's slot holds Hive's default (0, or 1 for booleans). */
  values: Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float64Array;
  nulls: NullBitmap;
}

export interface BytesColumn {
  kind: 'string' | 'binary';
  /** The buffer the values live in (the received frame). */
  data: Uint8Array;
  /** Row i's bytes are data[starts[i], starts[i] + lengths[i]); UTF-8 for strings. */
  starts: Int32Array;
  lengths: Int32Array;
  nulls: NullBitmap;
}

export type BatchColumn = FixedColumn | BytesColumn;

export interface ColumnBatch {
  rowCount: number;
  columns: BatchColumn[];
}

export function isNullAt(nulls: NullBitmap, row: number): boolean {
  const byte = nulls[row >> 3];
  return byte !== undefined && (byte & (1 << (row & 7))) !== 0;
}

/**
 * A FetchResults reply as it arrived, not yet decoded: the connector only looks at its headers
 * (rowset-decoder.ts `peekFetchResults`) on the thread that talks to Hive, and decodes it where
 * it is encoded (an export's encode worker), so neither step holds up the API.
 */
export interface WireRowSet {
  /** `FetchResults_result` bytes (after the message header), owned by this row set: transferable. */
  reply: Uint8Array;
  /** From the first column's list header; the decoder checks every other column against it. */
  rowCount: number;
  columnCount: number;
}
