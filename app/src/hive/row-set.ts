/**
 * HiveServer2's columnar result vocabulary (TRowSet / TTableSchema of TCLIService.thrift), as
 * the parts of hive-driver's thrift objects that the connector reads. Row sets are the Hive
 * adapter's output; encoders in `formats/` consume them.
 *
 * `readRowSet` is the one gate every row set passes: a serialized row set (binaryColumns, sent
 * when hive.server2.thrift.resultset.serialize.in.tasks is on) is decoded as Hive's own
 * ColumnBasedSet decodes it, and anything the connector cannot read — a column count unlike the
 * schema, a column with no values, columns of different lengths — fails the export loudly rather
 * than letting it succeed with fewer rows than Hive sent.
 */
import hive from 'hive-driver';
import thrift from 'thrift';
import { AppError } from '../errors.js';

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
  i64Val?: ValuesWithNulls<Int64Like | number> | null;
  doubleVal?: ValuesWithNulls<number> | null;
  stringVal?: ValuesWithNulls<string> | null;
  binaryVal?: ValuesWithNulls<Buffer> | null;
}
export interface ThriftRowSet {
  columns?: ThriftColumn[] | null;
  /** TCompactProtocol-encoded TColumns, when the result was serialized in the tasks. */
  binaryColumns?: Buffer | null;
  columnCount?: number | null;
}
export interface ThriftColumnDesc {
  columnName: string;
  typeDesc: {
    types: { primitiveEntry?: { type: number; typeQualifiers?: { qualifiers?: Record<string, { i32Value?: number | null } | undefined> | null } | null } | null }[];
  };
}
export interface ThriftTableSchema {
  columns: ThriftColumnDesc[];
}

const valuesOf = (column: ThriftColumn) =>
  column.stringVal ?? column.i64Val ?? column.i32Val ?? column.doubleVal ?? column.boolVal ?? column.i16Val ?? column.byteVal ?? column.binaryVal;

export function rowCount(rowSet: ThriftRowSet): number {
  const first = rowSet.columns?.[0];
  return first ? (valuesOf(first)?.values.length ?? 0) : 0;
}

const unreadable = (why: string) =>
  new AppError('hive_error', 502, `Hive sent a result the connector cannot read (${why}); the export was stopped rather than left incomplete`);

/**
 * thrift 0.20's TCompactProtocol reads a boolean inside a list as `readByte().value`, but the
 * transport returns the byte itself, so every list boolean would read false. Java's reads
 * `readByte() == BOOLEAN_TRUE` (1); so does this.
 */
function compactProtocol(bytes: Buffer) {
  const transport = new thrift.TFramedTransport(bytes);
  const protocol = new thrift.TCompactProtocol(transport);
  const state = protocol as unknown as { boolValue_: { hasBoolValue: boolean; boolValue: boolean } };
  protocol.readBool = () => {
    if (state.boolValue_.hasBoolValue) {
      state.boolValue_.hasBoolValue = false;
      return state.boolValue_.boolValue;
    }
    return (transport.readByte() as unknown as number) === 1;
  };
  return protocol;
}

/** ColumnBasedSet(TRowSet): `columnCount` TColumns, one after another, in the compact protocol. */
function decodeBinaryColumns(bytes: Buffer, count: number): ThriftColumn[] {
  const protocol = compactProtocol(bytes);
  const columns: ThriftColumn[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const column = new hive.thrift.TCLIService_types.TColumn();
      column.read(protocol);
      columns.push(column as ThriftColumn);
    }
  } catch (cause) {
    throw new AppError('hive_error', 502, 'Hive sent a serialized result the connector cannot decode; the export was stopped rather than left incomplete', { cause });
  }
  return columns;
}

/**
 * The row set's columns, checked against the schema's `width`; throws an AppError for anything
 * it cannot read. An empty row set (the end of the result) reads as no columns.
 */
export function readRowSet(rowSet: ThriftRowSet, width: number): ThriftRowSet {
  let columns = rowSet.columns ?? [];
  if (rowSet.binaryColumns && rowSet.binaryColumns.length > 0) {
    if (rowSet.columnCount !== width) throw unreadable(`${rowSet.columnCount ?? 'no'} serialized columns for a schema of ${width}`);
    columns = decodeBinaryColumns(rowSet.binaryColumns, width);
  }
  if (columns.length === 0) return { columns: [] };
  if (columns.length !== width) throw unreadable(`${columns.length} columns for a schema of ${width}`);
  let rows: number | undefined;
  for (const [index, column] of columns.entries()) {
    const values = valuesOf(column);
    if (!values) throw unreadable(`column ${index + 1} carries no values of a type it knows`);
    if (rows !== undefined && values.values.length !== rows) throw unreadable(`column ${index + 1} has ${values.values.length} values, column 1 has ${rows}`);
    rows = values.values.length;
  }
  // An exhausted result comes back as columns with no values: the end, like no columns at all.
  return rows === 0 ? { columns: [] } : { columns };
}
