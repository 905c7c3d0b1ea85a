/**
 * How each Hive result column becomes a Parquet column (the typing rules of issue 11). Every
 * column is OPTIONAL: Hive result sets never promise NOT NULL.
 *
 * | Hive | batch column | Parquet physical | annotation |
 * |---|---|---|---|
 * | BOOLEAN | bool | BOOLEAN | – |
 * | TINYINT / SMALLINT / INT | int8 / int16 / int32 | INT32 | INT(8/16/32, signed) |
 * | BIGINT | int64 | INT64 | INT(64, signed) |
 * | FLOAT | double (the double of its shortest decimal) | FLOAT | – |
 * | DOUBLE | double | DOUBLE | – |
 * | DECIMAL(p,s) | string text | INT32 (p ≤ 9), INT64 (p ≤ 18), FIXED_LEN_BYTE_ARRAY | DECIMAL(p,s) |
 * | DATE | string `YYYY-MM-DD` | INT32 | DATE |
 * | TIMESTAMP | string | INT64 | TIMESTAMP(MICROS, isAdjustedToUTC=false) |
 * | STRING / VARCHAR / CHAR | string | BYTE_ARRAY | STRING |
 * | BINARY | binary | BYTE_ARRAY | – |
 * | ARRAY / MAP / STRUCT / UNION, INTERVAL_*, TIMESTAMP WITH LOCAL TIME ZONE, user-defined | string | BYTE_ARRAY | STRING: Hive's text (JSON for the complex types) |
 * | NULL (void) | string, all NULL | BYTE_ARRAY | STRING |
 *
 * The complex types stay text because HiveServer2's result metadata names only their category
 * (`array`, `map`, …), never their element types, so no typed nested Parquet schema can be
 * derived; Hive's own text for them is JSON (SerDeUtils.getJSONString), which readers can parse.
 * DECIMAL without a precision in its type text (a server that sends no type qualifiers) is text
 * too, since no DECIMAL annotation can be written without one.
 */
import type { BatchColumn } from '../../hive/column-batch.js';
import { TYPE_ID, type ResultColumn } from '../../hive/result-schema.js';

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
export const ConvertedType = { UTF8: 0, DECIMAL: 5, DATE: 6, INT_8: 15, INT_16: 16, INT_32: 17, INT_64: 18 } as const;

/** How a column's values are turned into Parquet values. */
export type ValueKind =
  | 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'float' | 'double'
  | 'bytes' | 'date' | 'timestamp' | 'decimal32' | 'decimal64' | 'decimalFixed';

export type LogicalType =
  | { kind: 'string' }
  | { kind: 'int'; bitWidth: 8 | 16 | 32 | 64 }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'timestamp-micros-local' };

export interface ColumnPlan {
  name: string;
  /** Hive's type text, kept in the file's key-value metadata. */
  hiveType: string;
  value: ValueKind;
  /** The ColumnBatch kind Hive sends for this type. */
  batchKind: BatchColumn['kind'];
  physical: number;
  typeLength?: number;
  convertedType?: number;
  logical?: LogicalType;
  /** DECIMAL only. */
  precision?: number;
  scale?: number;
  /** min/max statistics are kept for integer-like columns (cheap, and what readers prune on). */
  minMax: boolean;
}

/** Smallest two's complement width holding every value of `precision` digits (Parquet's rule). */
export function decimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) < 10n ** BigInt(precision)) bytes++;
  return bytes;
}

function decimalPlan(column: ResultColumn): ColumnPlan {
  const match = /^decimal\((\d+),\s*(\d+)\)$/i.exec(column.type);
  if (!match) return textPlan(column);
  const precision = Number(match[1]);
  const scale = Number(match[2]);
  if (precision < 1 || precision > 38 || scale > precision) {
    throw new Error(`column ${column.name}: DECIMAL precision/scale ${precision},${scale} is outside Hive's 1..38 with scale ≤ precision`);
  }
  const base = { name: column.name, hiveType: column.type, batchKind: 'string' as const, convertedType: ConvertedType.DECIMAL, precision, scale, logical: { kind: 'decimal' as const, precision, scale }, minMax: false };
  if (precision <= 9) return { ...base, value: 'decimal32', physical: PhysicalType.INT32 };
  if (precision <= 18) return { ...base, value: 'decimal64', physical: PhysicalType.INT64 };
  return { ...base, value: 'decimalFixed', physical: PhysicalType.FIXED_LEN_BYTE_ARRAY, typeLength: decimalBytes(precision) };
}

function textPlan(column: ResultColumn): ColumnPlan {
  return {
    name: column.name, hiveType: column.type, value: 'bytes', batchKind: 'string', physical: PhysicalType.BYTE_ARRAY,
    convertedType: ConvertedType.UTF8, logical: { kind: 'string' }, minMax: false,
  };
}

function intPlan(column: ResultColumn, value: 'int8' | 'int16' | 'int32' | 'int64'): ColumnPlan {
  const bitWidth = ({ int8: 8, int16: 16, int32: 32, int64: 64 } as const)[value];
  const convertedType = ({ int8: ConvertedType.INT_8, int16: ConvertedType.INT_16, int32: ConvertedType.INT_32, int64: ConvertedType.INT_64 })[value];
  return {
    name: column.name, hiveType: column.type, value, batchKind: value, physical: value === 'int64' ? PhysicalType.INT64 : PhysicalType.INT32,
    convertedType, logical: { kind: 'int', bitWidth }, minMax: true,
  };
}

export function planColumn(column: ResultColumn): ColumnPlan {
  const base = { name: column.name, hiveType: column.type };
  switch (column.typeId) {
    case TYPE_ID.BOOLEAN: return { ...base, value: 'bool', batchKind: 'bool', physical: PhysicalType.BOOLEAN, minMax: false };
    case TYPE_ID.TINYINT: return intPlan(column, 'int8');
    case TYPE_ID.SMALLINT: return intPlan(column, 'int16');
    case TYPE_ID.INT: return intPlan(column, 'int32');
    case TYPE_ID.BIGINT: return intPlan(column, 'int64');
    case TYPE_ID.FLOAT: return { ...base, value: 'float', batchKind: 'double', physical: PhysicalType.FLOAT, minMax: false };
    case TYPE_ID.DOUBLE: return { ...base, value: 'double', batchKind: 'double', physical: PhysicalType.DOUBLE, minMax: false };
    case TYPE_ID.DECIMAL: return decimalPlan(column);
    case TYPE_ID.DATE:
      return { ...base, value: 'date', batchKind: 'string', physical: PhysicalType.INT32, convertedType: ConvertedType.DATE, logical: { kind: 'date' }, minMax: true };
    case TYPE_ID.TIMESTAMP:
      // No converted type: TIMESTAMP_MICROS would mean "adjusted to UTC" to older readers.
      return { ...base, value: 'timestamp', batchKind: 'string', physical: PhysicalType.INT64, logical: { kind: 'timestamp-micros-local' }, minMax: true };
    case TYPE_ID.BINARY: return { ...base, value: 'bytes', batchKind: 'binary', physical: PhysicalType.BYTE_ARRAY, minMax: false };
    default:
      // STRING, VARCHAR, CHAR, the complex types, intervals, TIMESTAMP WITH LOCAL TIME ZONE, NULL, user-defined.
      return textPlan(column);
  }
}
