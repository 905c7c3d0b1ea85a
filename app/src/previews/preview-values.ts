/**
 * The first rows of a decoded row set as JSON values a client can trust, typed from the Hive
 * schema: TINYINT, SMALLINT, INT, FLOAT and DOUBLE as numbers (NaN and ±Infinity, which JSON has
 * no number for, as the strings "NaN", "Infinity", "-Infinity"); BIGINT and DECIMAL as strings, so
 * no digit is lost to a double (9007199254740993 stays 9007199254740993), decimals padded to the
 * column's scale as HiveServer2's columnar results and the CSV export pad them; BOOLEAN as
 * booleans; BINARY as base64; NULL as null, which an empty string is not; everything else — DATE,
 * TIMESTAMP, STRING, CHAR, VARCHAR, intervals, and complex types' JSON — as the text Hive sent.
 */
import { isNullAt, type BatchColumn, type ColumnBatch } from '../hive/column-batch.js';
import { TYPE_ID, type ResultColumn } from '../hive/result-schema.js';

export type PreviewValue = string | number | boolean | null;

const asBuffer = (data: Uint8Array) => (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

/** A double for JSON: a number, or the name of a value JSON cannot hold. */
function doubleValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** Hive's decimal text with zeros up to `scale` fraction digits (`12.5` → `12.50`, `7` → `7.00`). */
export function padDecimal(text: string, scale: number): string {
  if (scale <= 0) return text;
  const dot = text.indexOf('.');
  const digits = dot < 0 ? 0 : text.length - dot - 1;
  if (digits >= scale) return text;
  return `${text}${dot < 0 ? '.' : ''}${'0'.repeat(scale - digits)}`;
}

/** The value reader of one column: row index → JSON value. */
function reader(column: BatchColumn, spec: Pick<ResultColumn, 'typeId' | 'scale'>): (row: number) => PreviewValue {
  const { nulls } = column;
  const orNull = (read: (row: number) => PreviewValue) => (row: number) => (isNullAt(nulls, row) ? null : read(row));
  switch (column.kind) {
    case 'bool':
      return orNull((row) => column.values[row] !== 0);
    case 'int8':
    case 'int16':
    case 'int32':
      return orNull((row) => Number(column.values[row]));
    case 'int64': {
      // BIGINT: exact, as a string (JSON readers turn numbers into doubles).
      const values = column.values as BigInt64Array;
      return orNull((row) => values[row]!.toString());
    }
    case 'double': {
      const values = column.values as Float64Array;
      return orNull((row) => doubleValue(values[row]!));
    }
    case 'binary': {
      const data = asBuffer(column.data);
      return orNull((row) => data.toString('base64', column.starts[row]!, column.starts[row]! + column.lengths[row]!));
    }
    case 'string': {
      const data = asBuffer(column.data);
      const text = (row: number) => data.toString('utf8', column.starts[row]!, column.starts[row]! + column.lengths[row]!);
      if (spec.typeId === TYPE_ID.DECIMAL && spec.scale !== undefined && spec.scale > 0) {
        const scale = spec.scale;
        return orNull((row) => padDecimal(text(row), scale));
      }
      return orNull(text);
    }
  }
}

/** The first `limit` rows of `batch`, one array of values per row, in the schema's column order. */
export function previewRows(columns: readonly Pick<ResultColumn, 'typeId' | 'scale'>[], batch: ColumnBatch, limit: number): PreviewValue[][] {
  const readers = batch.columns.map((column, i) => reader(column, columns[i]!));
  const count = Math.min(limit, batch.rowCount);
  const rows: PreviewValue[][] = [];
  for (let row = 0; row < count; row++) rows.push(readers.map((read) => read(row)));
  return rows;
}
