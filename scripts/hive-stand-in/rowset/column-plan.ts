/**
 * How each DuckDB result column reaches the client: its Hive type in the schema (TTypeId plus
 * qualifiers) and how its values are read from DuckDB vectors and written into the columnar
 * TRowSet. Mirrors what HiveServer2 does: integers and doubles travel as numbers, FLOAT as a
 * double, DECIMAL/DATE/TIMESTAMP as strings, BINARY as bytes, and anything Hive has no type for
 * as STRING.
 */
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { TType, type ThriftWriter } from '../thrift/binary-protocol.js';

/** TCLIService.thrift TTypeId. */
export const TTypeId = {
  BOOLEAN: 0, TINYINT: 1, SMALLINT: 2, INT: 3, BIGINT: 4, FLOAT: 5, DOUBLE: 6, STRING: 7, TIMESTAMP: 8,
  BINARY: 9, ARRAY: 10, MAP: 11, STRUCT: 12, UNION: 13, DECIMAL: 15, NULL: 16, DATE: 17, VARCHAR: 18, CHAR: 19,
  INTERVAL_YEAR_MONTH: 20, INTERVAL_DAY_TIME: 21, TIMESTAMPLOCALTZ: 22,
} as const;

/** TProtocolVersion HIVE_CLI_SERVICE_PROTOCOL_V11 (0-based): the first with TIMESTAMPLOCALTZ. */
const PROTOCOL_V11 = 10;

/** Where a value comes from in the DuckDB vector. */
export type ValueSource =
  | 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'float' | 'double'
  | 'varchar' | 'blob' | 'date' | 'timestamp' | 'decimal16' | 'decimal32' | 'decimal64' | 'decimal128'
  /** Anything else: DuckDB's own text form of the value. */
  | 'text'
  /** Complex types, intervals, CHAR, TIMESTAMP WITH LOCAL TIME ZONE: Hive's text (hive-text.ts). */
  | 'hive-text'
  /** A bare NULL (Hive type `void`): every value null. */
  | 'null';

/** Which TColumn union member carries the values. */
export type WireColumn = 'boolVal' | 'byteVal' | 'i16Val' | 'i32Val' | 'i64Val' | 'doubleVal' | 'stringVal' | 'binaryVal';

/** TColumn union field id and list element type for each member. */
export const WIRE: Record<WireColumn, { fieldId: number; elementType: number }> = {
  boolVal: { fieldId: 1, elementType: TType.BOOL },
  byteVal: { fieldId: 2, elementType: TType.BYTE },
  i16Val: { fieldId: 3, elementType: TType.I16 },
  i32Val: { fieldId: 4, elementType: TType.I32 },
  i64Val: { fieldId: 5, elementType: TType.I64 },
  doubleVal: { fieldId: 6, elementType: TType.DOUBLE },
  stringVal: { fieldId: 7, elementType: TType.STRING },
  binaryVal: { fieldId: 8, elementType: TType.STRING },
};

export interface ColumnPlan {
  name: string;
  typeId: number;
  source: ValueSource;
  wire: WireColumn;
  /** Bytes per value in the DuckDB vector (0 for 'text', read through the node-api vector). */
  width: number;
  decimal?: { precision: number; scale: number };
  /** CHAR/VARCHAR maximum length (TTypeQualifiers characterMaximumLength). */
  maxLength?: number;
  /** Hive's type text where DuckDB's type says less (char(10), interval_year_month). */
  hiveType?: string;
  /** DuckDB's type, for the 'hive-text' values. */
  duckType?: DuckDBType;
  /** TColumnDesc.comment: metadata results describe their columns; statement results have none. */
  comment?: string;
}

type Mapping = Pick<ColumnPlan, 'typeId' | 'source' | 'wire' | 'width'>;

const MAPPINGS: Partial<Record<DuckDBTypeId, Mapping>> = {
  [DuckDBTypeId.BOOLEAN]: { typeId: TTypeId.BOOLEAN, source: 'bool', wire: 'boolVal', width: 1 },
  [DuckDBTypeId.TINYINT]: { typeId: TTypeId.TINYINT, source: 'int8', wire: 'byteVal', width: 1 },
  [DuckDBTypeId.SMALLINT]: { typeId: TTypeId.SMALLINT, source: 'int16', wire: 'i16Val', width: 2 },
  [DuckDBTypeId.INTEGER]: { typeId: TTypeId.INT, source: 'int32', wire: 'i32Val', width: 4 },
  [DuckDBTypeId.BIGINT]: { typeId: TTypeId.BIGINT, source: 'int64', wire: 'i64Val', width: 8 },
  // Unsigned types widen to the next signed Hive type that holds every value.
  [DuckDBTypeId.UTINYINT]: { typeId: TTypeId.SMALLINT, source: 'uint8', wire: 'i16Val', width: 1 },
  [DuckDBTypeId.USMALLINT]: { typeId: TTypeId.INT, source: 'uint16', wire: 'i32Val', width: 2 },
  [DuckDBTypeId.UINTEGER]: { typeId: TTypeId.BIGINT, source: 'uint32', wire: 'i64Val', width: 4 },
  [DuckDBTypeId.FLOAT]: { typeId: TTypeId.FLOAT, source: 'float', wire: 'doubleVal', width: 4 },
  [DuckDBTypeId.DOUBLE]: { typeId: TTypeId.DOUBLE, source: 'double', wire: 'doubleVal', width: 8 },
  [DuckDBTypeId.VARCHAR]: { typeId: TTypeId.STRING, source: 'varchar', wire: 'stringVal', width: 16 },
  [DuckDBTypeId.BLOB]: { typeId: TTypeId.BINARY, source: 'blob', wire: 'binaryVal', width: 16 },
  [DuckDBTypeId.DATE]: { typeId: TTypeId.DATE, source: 'date', wire: 'stringVal', width: 4 },
  [DuckDBTypeId.TIMESTAMP]: { typeId: TTypeId.TIMESTAMP, source: 'timestamp', wire: 'stringVal', width: 8 },
  // Other timestamp precisions keep Hive's TIMESTAMP type but use DuckDB's text form.
  [DuckDBTypeId.TIMESTAMP_S]: { typeId: TTypeId.TIMESTAMP, source: 'text', wire: 'stringVal', width: 0 },
  [DuckDBTypeId.TIMESTAMP_MS]: { typeId: TTypeId.TIMESTAMP, source: 'text', wire: 'stringVal', width: 0 },
  [DuckDBTypeId.TIMESTAMP_NS]: { typeId: TTypeId.TIMESTAMP, source: 'text', wire: 'stringVal', width: 0 },
};

const TEXT: Mapping = { typeId: TTypeId.STRING, source: 'text', wire: 'stringVal', width: 0 };

function decimalMapping(width: number): Mapping {
  if (width <= 4) return { typeId: TTypeId.DECIMAL, source: 'decimal16', wire: 'stringVal', width: 2 };
  if (width <= 9) return { typeId: TTypeId.DECIMAL, source: 'decimal32', wire: 'stringVal', width: 4 };
  if (width <= 18) return { typeId: TTypeId.DECIMAL, source: 'decimal64', wire: 'stringVal', width: 8 };
  return { typeId: TTypeId.DECIMAL, source: 'decimal128', wire: 'stringVal', width: 16 };
}

/**
 * The stand-in's fallback naming, for statements whose select list could not be analysed (see
 * statement-shape.ts): unaliased expressions are `_c<position>` and names are lower-cased.
 */
export function hiveColumnName(duckdbName: string, index: number): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(duckdbName) ? duckdbName.toLowerCase() : `_c${index}`;
}

const HIVE_TEXT = (typeId: number): Mapping => ({ typeId, source: 'hive-text', wire: 'stringVal', width: 0 });

const COMPLEX: Partial<Record<DuckDBTypeId, number>> = {
  [DuckDBTypeId.LIST]: TTypeId.ARRAY,
  [DuckDBTypeId.ARRAY]: TTypeId.ARRAY,
  [DuckDBTypeId.MAP]: TTypeId.MAP,
  [DuckDBTypeId.STRUCT]: TTypeId.STRUCT,
  [DuckDBTypeId.UNION]: TTypeId.UNION,
};

/**
 * How column `name` (already Hive's name) of DuckDB type `type` goes to a client that negotiated
 * `protocol`; `hiveType` is the metastore's type where DuckDB cannot tell it.
 */
export function planColumn(name: string, type: DuckDBType, hiveType?: string, protocol = PROTOCOL_V11): ColumnPlan {
  const length = hiveType && /^(?:var)?char\((\d+)\)$/.exec(hiveType)?.[1];
  if (hiveType === 'void') return { name, typeId: TTypeId.NULL, source: 'null', wire: 'stringVal', width: 0, hiveType };
  if (length && hiveType.startsWith('char')) return { name, ...HIVE_TEXT(TTypeId.CHAR), maxLength: Number(length), hiveType, duckType: type };
  if (length) return { name, ...MAPPINGS[DuckDBTypeId.VARCHAR]!, typeId: TTypeId.VARCHAR, maxLength: Number(length), hiveType };
  if (type.typeId === DuckDBTypeId.DECIMAL) {
    return { name, ...decimalMapping(type.width), decimal: { precision: type.width, scale: type.scale } };
  }
  const complex = COMPLEX[type.typeId];
  if (complex !== undefined) return { name, ...HIVE_TEXT(complex), duckType: type };
  if (type.typeId === DuckDBTypeId.INTERVAL) {
    const typeId = hiveType === 'interval_year_month' ? TTypeId.INTERVAL_YEAR_MONTH : TTypeId.INTERVAL_DAY_TIME;
    return { name, ...HIVE_TEXT(typeId), duckType: type, ...(hiveType ? { hiveType } : {}) };
  }
  if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ) {
    // Before V11 the client has no type id for it; HiveServer2 then describes it as a string.
    return { name, ...HIVE_TEXT(protocol >= PROTOCOL_V11 ? TTypeId.TIMESTAMPLOCALTZ : TTypeId.STRING), duckType: type };
  }
  return { name, ...(MAPPINGS[type.typeId] ?? TEXT) };
}

/** TGetResultSetMetadataResp.schema: TTableSchema { 1: list<TColumnDesc> }, positions from 1. */
export function writeTableSchema(w: ThriftWriter, fieldId: number, columns: readonly ColumnPlan[]): void {
  w.field(TType.STRUCT, fieldId);
  w.field(TType.LIST, 1);
  w.listBegin(TType.STRUCT, columns.length);
  columns.forEach((column, i) => {
    w.field(TType.STRING, 1);
    w.string(column.name);
    w.field(TType.STRUCT, 2); // TTypeDesc
    w.field(TType.LIST, 1);
    // One TTypeEntry, a primitive entry even for ARRAY/MAP/STRUCT/UNION: Hive's
    // TypeDescriptor.toTTypeDesc describes complex columns by their type id alone.
    w.listBegin(TType.STRUCT, 1);
    w.field(TType.STRUCT, 1); // primitiveEntry
    w.field(TType.I32, 1);
    w.i32(column.typeId);
    const qualifiers: [string, number][] = column.decimal
      ? [['precision', column.decimal.precision], ['scale', column.decimal.scale]]
      : column.maxLength !== undefined
        ? [['characterMaximumLength', column.maxLength]]
        : [];
    if (qualifiers.length > 0) {
      w.field(TType.STRUCT, 2); // TTypeQualifiers
      w.field(TType.MAP, 1);
      w.mapBegin(TType.STRING, TType.STRUCT, qualifiers.length);
      for (const [key, value] of qualifiers) {
        w.string(key);
        w.field(TType.I32, 1); // TTypeQualifierValue.i32Value
        w.i32(value);
        w.stop();
      }
      w.stop();
    }
    w.stop(); // TPrimitiveTypeEntry
    w.stop(); // TTypeEntry
    w.stop(); // TTypeDesc
    w.field(TType.I32, 3);
    w.i32(i + 1);
    if (column.comment !== undefined) {
      w.field(TType.STRING, 4);
      w.string(column.comment);
    }
    w.stop(); // TColumnDesc
  });
  w.stop(); // TTableSchema
}
