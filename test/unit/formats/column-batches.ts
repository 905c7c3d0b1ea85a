/**
 * Hand-built ColumnBatches in the shape the fast Hive decoder produces (typed arrays, byte ranges
 * into one shared buffer, Hive's null bitmaps with Hive's default values in NULL slots), for the
 * encoder tests.
 */
import type { BytesColumn, ColumnBatch, FixedColumn, NullBitmap } from '../../../app/src/hive/column-batch.js';

const utf8 = new TextEncoder();

export function nullBitmap(isNull: readonly boolean[]): NullBitmap {
  const bitmap = new Uint8Array(Math.ceil(isNull.length / 8));
  isNull.forEach((flag, row) => {
    if (flag) bitmap[row >> 3]! |= 1 << (row & 7);
  });
  return bitmap;
}

/** Values in one shared buffer with a little junk around them, as in a received frame. */
export function bytesColumn(kind: 'string' | 'binary', values: readonly (string | Uint8Array | null)[]): BytesColumn {
  const encoded = values.map((value) => (value === null ? new Uint8Array(0) : typeof value === 'string' ? utf8.encode(value) : value));
  const data = new Uint8Array(encoded.reduce((sum, bytes) => sum + bytes.length + 3, 3)).fill(0xee);
  const starts = new Int32Array(values.length);
  const lengths = new Int32Array(values.length);
  let at = 3;
  encoded.forEach((bytes, row) => {
    starts[row] = at;
    lengths[row] = bytes.length;
    data.set(bytes, at);
    at += bytes.length + 3;
  });
  return { kind, data, starts, lengths, nulls: nullBitmap(values.map((value) => value === null)) };
}

export const stringColumn = (values: readonly (string | null)[]) => bytesColumn('string', values);
export const binaryColumn = (values: readonly (Uint8Array | null)[]) => bytesColumn('binary', values);

export function fixedColumn(kind: FixedColumn['kind'], values: readonly (number | bigint | boolean | null)[]): FixedColumn {
  const nulls = nullBitmap(values.map((value) => value === null));
  switch (kind) {
    case 'bool':
      return { kind, values: Uint8Array.from(values, (value) => (value === null ? 1 : value ? 1 : 0)), nulls };
    case 'int8':
      return { kind, values: Int8Array.from(values, (value) => Number(value ?? 0)), nulls };
    case 'int16':
      return { kind, values: Int16Array.from(values, (value) => Number(value ?? 0)), nulls };
    case 'int32':
      return { kind, values: Int32Array.from(values, (value) => Number(value ?? 0)), nulls };
    case 'int64':
      return { kind, values: BigInt64Array.from(values, (value) => BigInt(value ?? 0)), nulls };
    case 'double':
      return { kind, values: Float64Array.from(values, (value) => Number(value ?? 0)), nulls };
  }
}

export function batch(...columns: ColumnBatch['columns']): ColumnBatch {
  const rowCount = columns[0] ? ('starts' in columns[0] ? columns[0].starts.length : columns[0].values.length) : 0;
  return { rowCount, columns };
}
