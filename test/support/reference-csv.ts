/**
 * The reference CSV encoder: the connector's encoder before the fast decoder (issue 13), over
 * the row sets thrift's generated decoder builds. The property test holds the fast path
 * (rowset-decoder.ts + formats/csv-encoder.ts) to it byte for byte; nothing in the product uses
 * it. Each column is formatted once into an array of ready-to-join fields, then rows are joined; NULL is an empty field, an empty string is `""` so the two stay apart.
 * The one exception: in a one-column result a NULL is `""` too, because an empty field would be
 * an empty line, which pandas and other readers skip (rows would silently go missing).
 *
 * Formatting rules: BIGINT exact from the 8 raw bytes (never through a float), DECIMAL as the
 * exact text Hive sends, DATE as YYYY-MM-DD, TIMESTAMP as ISO 8601 local date-time
 * (`YYYY-MM-DDTHH:MM:SS[.fff]`, no offset: Hive timestamps carry no zone; Hive 2.3's `.0` on a
 * whole second is dropped, so one value reads the same from every Hive version), BINARY as base64
 * (an empty value is `""`, not NULL), complex types as the JSON text Hive sends, CHAR/VARCHAR,
 * intervals and TIMESTAMP WITH LOCAL TIME ZONE as Hive's text, booleans as true/false.
 */

import { TYPE_ID as TYPE } from '../../app/src/hive/result-schema.js';

/** The parts of thrift's generated TRowSet / TColumn objects the reference reads. */
export interface Int64Like {
  buffer: Buffer;
  offset?: number;
}
export interface ValuesWithNulls<T> {
  values: T[];
  nulls: Buffer;
}
export interface ThriftColumn {
  boolVal?: ValuesWithNulls<boolean> | null;
  byteVal?: ValuesWithNulls<number> | null;
  i16Val?: ValuesWithNulls<number> | null;
  i32Val?: ValuesWithNulls<number> | null;
  i64Val?: ValuesWithNulls<Int64Like | number | bigint> | null;
  doubleVal?: ValuesWithNulls<number> | null;
  stringVal?: ValuesWithNulls<string> | null;
  binaryVal?: ValuesWithNulls<Buffer> | null;
}
export interface ThriftRowSet {
  columns?: ThriftColumn[] | null;
}

export function rowCount(rowSet: ThriftRowSet): number {
  const first = rowSet.columns?.[0];
  if (!first) return 0;
  const data = first.stringVal ?? first.i64Val ?? first.i32Val ?? first.doubleVal ?? first.boolVal ?? first.i16Val ?? first.byteVal ?? first.binaryVal;
  return data?.values.length ?? 0;
}

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(text: string): string {
  if (text === '') return '""';
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(columns: readonly { name: string }[]): string {
  return `${columns.map((column) => csvField(column.name)).join(',')}\r\n`;
}

/** `2024-01-01 00:00:00.0` (Hive 2.3) and `2024-01-01 00:00:00` (3.1+) both → `2024-01-01T00:00:00`. */
export function isoTimestamp(hiveText: string): string {
  return (hiveText.endsWith('.0') ? hiveText.slice(0, -2) : hiveText).replace(' ', 'T');
}

const base64Field = (value: Buffer): string => (value.length === 0 ? '""' : value.toString('base64'));

/** What the encoder needs of a result column (ResultColumn has it). */
export interface CsvColumn {
  typeId: number;
  /** DECIMAL scale: values are written padded to it, as HiveServer2 pads them in columnar results. */
  scale?: number;
}

/**
 * `12.5` → `12.50` for scale 2. HiveServer2 pads decimals to their scale (ColumnBasedSet), but a
 * result serialized in the tasks is not padded; one value must read the same either way.
 */
export function paddedDecimal(text: string, scale: number): string {
  if (scale <= 0) return text;
  const dot = text.indexOf('.');
  const digits = dot < 0 ? 0 : text.length - dot - 1;
  if (digits >= scale) return text;
  return `${text}${dot < 0 ? '.' : ''}${'0'.repeat(scale - digits)}`;
}

const isNull = (nulls: Buffer, index: number): boolean => {
  const byte = nulls[index >> 3];
  return byte !== undefined && (byte & (1 << (index & 7))) !== 0;
};

function int64Text(value: Int64Like | number | bigint): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return value.buffer.readBigInt64BE(value.offset ?? 0).toString();
}

function formatColumn(column: ThriftColumn, spec: CsvColumn, count: number): string[] {
  const type = spec.typeId;
  const out = new Array<string>(count);
  const fill = <T>(data: ValuesWithNulls<T>, format: (value: T) => string) => {
    const { values, nulls } = data;
    const anyNull = nulls.length > 0 && nulls.some((byte) => byte !== 0);
    for (let i = 0; i < count; i++) {
      out[i] = anyNull && isNull(nulls, i) ? '' : format(values[i]!);
    }
  };
  if (column.stringVal) {
    if (type === TYPE.TIMESTAMP) fill(column.stringVal, isoTimestamp);
    else if (type === TYPE.DATE) fill(column.stringVal, (value) => value);
    else if (type === TYPE.DECIMAL && spec.scale) {
      const scale = spec.scale;
      fill(column.stringVal, (value) => paddedDecimal(value, scale));
    }
    else fill(column.stringVal, csvField);
  } else if (column.i64Val) fill(column.i64Val, int64Text);
  else if (column.i32Val) fill(column.i32Val, String);
  else if (column.doubleVal) fill(column.doubleVal, String);
  else if (column.boolVal) fill(column.boolVal, (value) => (value ? 'true' : 'false'));
  else if (column.i16Val) fill(column.i16Val, String);
  else if (column.byteVal) fill(column.byteVal, String);
  else if (column.binaryVal) fill(column.binaryVal, base64Field);
  else throw new Error('Hive sent a column with no values of a known type');
  return out;
}

/**
 * CSV lines (each ending in CRLF) for the first `limit` rows of a row set. Returned as one
 * string per row so callers can stop exactly at a byte cap.
 */
export function csvRows(rowSet: ThriftRowSet, specs: readonly CsvColumn[], limit = Infinity): string[] {
  const count = Math.min(rowCount(rowSet), limit);
  const columns = rowSet.columns ?? [];
  if (count === 0) return [];
  if (columns.length !== specs.length) {
    throw new Error(`Hive sent ${columns.length} columns but the schema has ${specs.length}`);
  }
  const formatted = columns.map((column, index) => formatColumn(column, specs[index]!, count));
  const rows = new Array<string>(count);
  const width = formatted.length;
  for (let r = 0; r < count; r++) {
    let line = formatted[0]![r]!;
    for (let c = 1; c < width; c++) line += `,${formatted[c]![r]}`;
    rows[r] = line === '' ? '""\r\n' : `${line}\r\n`;
  }
  return rows;
}
