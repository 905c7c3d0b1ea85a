/**
 * HiveServer2's result-set metadata (TTableSchema of TCLIService.thrift) as the parts of
 * hive-driver's thrift objects the connector reads. Row sets themselves arrive as ColumnBatches
 * (column-batch.ts, decoded by rowset-decoder.ts).
 */
export interface ThriftColumnDesc {
  columnName: string;
  typeDesc: {
    types: { primitiveEntry?: { type: number; typeQualifiers?: { qualifiers?: Record<string, { i32Value?: number | null } | undefined> | null } | null } | null }[];
  };
}
export interface ThriftTableSchema {
  columns: ThriftColumnDesc[];
}
