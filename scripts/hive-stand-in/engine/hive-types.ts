/**
 * Hive's column types as the metastore stores them and as HiveServer2's GetColumns describes
 * them, for the stand-in's tables:
 *  - `hiveTypeText`: the type text a Hive table of the same shape would have in its metastore
 *    (`bigint`, `decimal(10,2)`, `array<int>`, `struct<name:string,ts:timestamp>`), from the
 *    DuckDB type, mapped the way rowset/column-plan.ts maps result columns (unsigned integers
 *    widen, anything Hive has no type for is `string`);
 *  - `describeHiveType`: what GetColumnsOperation reads from that text through TypeDescriptor —
 *    a port of `serde/src/java/org/apache/hadoop/hive/serde2/thrift/Type.java` (names, java.sql
 *    types, `getType(String)`'s first-match rule, precision and radix) and
 *    `service/src/java/org/apache/hive/service/cli/TypeDescriptor.java` (`getTypeName`,
 *    `getColumnSize`, `getDecimalDigits`).
 */
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';

/** java.sql.Types constants, as Type.java names them. */
const SQL = {
  NULL: 0, BOOLEAN: 16, TINYINT: -6, SMALLINT: 5, INTEGER: 4, BIGINT: -5, FLOAT: 6, DOUBLE: 8, VARCHAR: 12, CHAR: 1, DATE: 91,
  TIMESTAMP: 93, OTHER: 1111, BINARY: -2, DECIMAL: 3, ARRAY: 2003, JAVA_OBJECT: 2000, STRUCT: 2002,
} as const;

interface HiveTypeKind {
  /** Type.getName(): upper case. */
  name: string;
  javaSqlType: number;
  /** Qualified (CHAR, VARCHAR, DECIMAL) and complex types match a type text by prefix. */
  qualified?: boolean;
  complex?: boolean;
  /** Type.getMaxPrecision, for the numeric types. */
  maxPrecision?: number;
}

/** Type.java's enum, in declaration order: getType(String) takes the first that matches. */
const TYPES: readonly HiveTypeKind[] = [
  { name: 'VOID', javaSqlType: SQL.NULL },
  { name: 'BOOLEAN', javaSqlType: SQL.BOOLEAN },
  { name: 'TINYINT', javaSqlType: SQL.TINYINT, maxPrecision: 3 },
  { name: 'SMALLINT', javaSqlType: SQL.SMALLINT, maxPrecision: 5 },
  { name: 'INT', javaSqlType: SQL.INTEGER, maxPrecision: 10 },
  { name: 'BIGINT', javaSqlType: SQL.BIGINT, maxPrecision: 19 },
  { name: 'FLOAT', javaSqlType: SQL.FLOAT, maxPrecision: 7 },
  { name: 'DOUBLE', javaSqlType: SQL.DOUBLE, maxPrecision: 15 },
  { name: 'STRING', javaSqlType: SQL.VARCHAR },
  { name: 'CHAR', javaSqlType: SQL.CHAR, qualified: true },
  { name: 'VARCHAR', javaSqlType: SQL.VARCHAR, qualified: true },
  { name: 'DATE', javaSqlType: SQL.DATE },
  { name: 'TIMESTAMP', javaSqlType: SQL.TIMESTAMP },
  { name: 'TIMESTAMP WITH LOCAL TIME ZONE', javaSqlType: SQL.OTHER },
  { name: 'INTERVAL_YEAR_MONTH', javaSqlType: SQL.OTHER },
  { name: 'INTERVAL_DAY_TIME', javaSqlType: SQL.OTHER },
  { name: 'BINARY', javaSqlType: SQL.BINARY },
  // HiveDecimal.MAX_PRECISION
  { name: 'DECIMAL', javaSqlType: SQL.DECIMAL, qualified: true, maxPrecision: 38 },
  { name: 'ARRAY', javaSqlType: SQL.ARRAY, complex: true },
  { name: 'MAP', javaSqlType: SQL.JAVA_OBJECT, complex: true },
  { name: 'STRUCT', javaSqlType: SQL.STRUCT, complex: true },
  { name: 'UNIONTYPE', javaSqlType: SQL.OTHER, complex: true },
  { name: 'USER_DEFINED', javaSqlType: SQL.OTHER, complex: true },
];

/** Integer.MAX_VALUE: TypeDescriptor's column size of STRING and BINARY. */
const JAVA_INT_MAX = 2_147_483_647;

/** The GetColumns fields TypeDescriptor gives for one column. */
export interface HiveTypeDescription {
  /** DATA_TYPE: java.sql.Types. */
  dataType: number;
  /** TYPE_NAME: Type's upper-case name, or a complex type's whole text as stored (`array<int>`). */
  typeName: string;
  /** COLUMN_SIZE: precision, character length, 10 for DATE, 29 for TIMESTAMP … or null. */
  columnSize: number | null;
  /** DECIMAL_DIGITS: 0 for booleans and integers, 7/15 for FLOAT/DOUBLE, the scale, 9 for TIMESTAMP … or null. */
  decimalDigits: number | null;
  /** NUM_PREC_RADIX: 10 for numeric types, else null. */
  numPrecRadix: number | null;
}

/** Type.getType(String): an exact name (case-insensitive), or the first qualified/complex type the text starts with. */
function typeOf(text: string): HiveTypeKind {
  const upper = text.toUpperCase();
  for (const type of TYPES) {
    if (upper === type.name) return type;
    if ((type.qualified || type.complex) && upper.startsWith(type.name)) return type;
  }
  throw new Error(`Unrecognized type name: ${text}`);
}

/** TypeDescriptor(String) and the getters GetColumnsOperation calls. */
export function describeHiveType(text: string): HiveTypeDescription {
  const type = typeOf(text);
  const numbers = /\((\d+)(?:\s*,\s*(\d+))?\)/.exec(text);
  const first = numbers ? Number(numbers[1]) : undefined;
  const second = numbers?.[2] !== undefined ? Number(numbers[2]) : undefined;
  // DecimalTypeInfo: `decimal` alone is decimal(10,0) (HiveDecimal.USER_DEFAULT_PRECISION/SCALE).
  const precision = type.name === 'DECIMAL' ? (first ?? 10) : type.maxPrecision;
  const scale = type.name === 'DECIMAL' ? (second ?? 0) : undefined;
  const numeric = type.maxPrecision !== undefined;

  let columnSize: number | null;
  if (numeric) columnSize = precision ?? null;
  else if (type.name === 'STRING' || type.name === 'BINARY') columnSize = JAVA_INT_MAX;
  else if (type.name === 'CHAR' || type.name === 'VARCHAR') columnSize = first ?? null;
  else if (type.name === 'DATE') columnSize = 10;
  else if (type.name === 'TIMESTAMP') columnSize = 29;
  else if (type.name === 'TIMESTAMP WITH LOCAL TIME ZONE') columnSize = 31;
  else columnSize = null;

  const DIGITS: Record<string, number> = { BOOLEAN: 0, TINYINT: 0, SMALLINT: 0, INT: 0, BIGINT: 0, FLOAT: 7, DOUBLE: 15, TIMESTAMP: 9 };
  const decimalDigits = type.name === 'DECIMAL' ? (scale ?? null) : (DIGITS[type.name] ?? null);

  return {
    dataType: type.javaSqlType,
    // Only a complex type keeps its text; a qualified one loses its qualifiers (`DECIMAL`, `VARCHAR`).
    typeName: type.complex ? text : type.name,
    columnSize,
    decimalDigits,
    numPrecRadix: numeric ? 10 : null,
  };
}

const SIMPLE: Partial<Record<DuckDBTypeId, string>> = {
  [DuckDBTypeId.BOOLEAN]: 'boolean',
  [DuckDBTypeId.TINYINT]: 'tinyint',
  [DuckDBTypeId.SMALLINT]: 'smallint',
  [DuckDBTypeId.INTEGER]: 'int',
  [DuckDBTypeId.BIGINT]: 'bigint',
  [DuckDBTypeId.UTINYINT]: 'smallint',
  [DuckDBTypeId.USMALLINT]: 'int',
  [DuckDBTypeId.UINTEGER]: 'bigint',
  [DuckDBTypeId.FLOAT]: 'float',
  [DuckDBTypeId.DOUBLE]: 'double',
  [DuckDBTypeId.VARCHAR]: 'string',
  [DuckDBTypeId.BLOB]: 'binary',
  [DuckDBTypeId.DATE]: 'date',
  [DuckDBTypeId.TIMESTAMP]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_S]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_MS]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_NS]: 'timestamp',
  // TypeInfoFactory.getTimestampTZTypeInfo(null).getQualifiedName(): DDL stores it without a zone.
  [DuckDBTypeId.TIMESTAMP_TZ]: 'timestamp with local time zone',
  // A DuckDB INTERVAL is one of Hive's two; hive-catalog.ts says which where it matters.
  [DuckDBTypeId.INTERVAL]: 'interval_day_time',
  [DuckDBTypeId.SQLNULL]: 'void',
};

/** The metastore's type text for a column of DuckDB type `type` (lower case, as Hive's DDL stores it). */
export function hiveTypeText(type: DuckDBType): string {
  const simple = SIMPLE[type.typeId];
  if (simple !== undefined) return simple;
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL:
      return `decimal(${type.width},${type.scale})`;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return `array<${hiveTypeText(type.valueType)}>`;
    case DuckDBTypeId.MAP:
      return `map<${hiveTypeText(type.keyType)},${hiveTypeText(type.valueType)}>`;
    case DuckDBTypeId.STRUCT:
      return `struct<${type.entryNames.map((name, i) => `${name}:${hiveTypeText(type.entryTypes[i]!)}`).join(',')}>`;
    case DuckDBTypeId.UNION:
      return `uniontype<${type.memberTypes.map(hiveTypeText).join(',')}>`;
    default:
      return 'string';
  }
}
