/**
 * HiveServer2's columnar result vocabulary (TRowSet / TTableSchema of TCLIService.thrift), as
 * the parts of hive-driver's thrift objects that the connector reads. Row sets are the Hive
 * adapter's output; encoders in `formats/` consume them.
 */

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
}
export interface ThriftColumnDesc {
  columnName: string;
  typeDesc: { types: { primitiveEntry?: { type: number } | null }[] };
}
export interface ThriftTableSchema {
  columns: ThriftColumnDesc[];
}

export function rowCount(rowSet: ThriftRowSet): number {
  const first = rowSet.columns?.[0];
  if (!first) return 0;
  const data =
    first.stringVal ?? first.i64Val ?? first.i32Val ?? first.doubleVal ?? first.boolVal ?? first.i16Val ?? first.byteVal ?? first.binaryVal;
  return data?.values.length ?? 0;
}
