/**
 * The file footer: FileMetaData (parquet.thrift) in Thrift compact form — the schema, every row
 * group's column chunks with their offsets, sizes and statistics, and the Hive types as
 * key-value metadata so a reader can tell `varchar(20)` or `array` from plain text.
 */
import type { ChunkResult } from './column-writer.js';
import type { ColumnPlan, LogicalType } from './schema.js';
import { CompactType, CompactWriter } from './thrift-compact.js';

export interface ChunkPlacement {
  chunk: Omit<ChunkResult, 'bytes'>;
  /** File offset of the chunk's first byte. */
  offset: number;
}

export interface RowGroupMeta {
  rows: number;
  offset: number;
  chunks: ChunkPlacement[];
}

const Repetition = { OPTIONAL: 1 } as const;
export const CREATED_BY = 'enos-aml-connector';
/** Key of the key-value metadata entry holding `[{name, type}]` with Hive's type text. */
export const HIVE_SCHEMA_KEY = 'enos.hive.schema';

function writeLogicalType(w: CompactWriter, logical: LogicalType): void {
  w.struct(10);
  switch (logical.kind) {
    case 'string':
      w.struct(1).end();
      break;
    case 'decimal':
      w.struct(5).i32(1, logical.scale).i32(2, logical.precision).end();
      break;
    case 'date':
      w.struct(6).end();
      break;
    case 'timestamp-micros-local':
      // TimestampType { isAdjustedToUTC: false, unit: TimeUnit { MICROS } }
      w.struct(8).bool(1, false).struct(2).struct(2).end().end().end();
      break;
    case 'int':
      w.struct(10).i8(1, logical.bitWidth).bool(2, true).end();
      break;
  }
  w.end();
}

function writeSchemaElement(w: CompactWriter, plan: ColumnPlan): void {
  w.begin().i32(1, plan.physical);
  if (plan.typeLength !== undefined) w.i32(2, plan.typeLength);
  w.i32(3, Repetition.OPTIONAL).string(4, plan.name);
  if (plan.convertedType !== undefined) w.i32(6, plan.convertedType);
  if (plan.scale !== undefined) w.i32(7, plan.scale);
  if (plan.precision !== undefined) w.i32(8, plan.precision);
  if (plan.logical) writeLogicalType(w, plan.logical);
  w.end();
}

function writeColumnChunk(w: CompactWriter, plan: ColumnPlan, placement: ChunkPlacement, codec: number): void {
  const { chunk, offset } = placement;
  w.begin().i64(2, offset).struct(3);
  w.i32(1, plan.physical);
  w.list(2, CompactType.I32, chunk.encodings.length);
  for (const encoding of chunk.encodings) w.rawI32(encoding);
  w.list(3, CompactType.BINARY, 1).rawString(plan.name);
  w.i32(4, codec).i64(5, chunk.numValues).i64(6, chunk.uncompressedBytes).i64(7, chunk.compressedBytes);
  w.i64(9, offset + chunk.dictionaryPageBytes);
  if (chunk.dictionaryPageBytes > 0) w.i64(11, offset);
  w.struct(12).i64(3, chunk.statistics.nullCount);
  if (chunk.statistics.max && chunk.statistics.min) w.binary(5, chunk.statistics.max).binary(6, chunk.statistics.min);
  w.end();
  w.end().end();
}

export function fileMetadata(plans: readonly ColumnPlan[], rowGroups: readonly RowGroupMeta[], codec: number): Uint8Array {
  const w = new CompactWriter();
  const totalRows = rowGroups.reduce((sum, group) => sum + group.rows, 0);
  w.begin().i32(1, 2);
  w.list(2, CompactType.STRUCT, plans.length + 1);
  w.begin().string(4, 'schema').i32(5, plans.length).end();
  for (const plan of plans) writeSchemaElement(w, plan);
  w.i64(3, totalRows);
  w.list(4, CompactType.STRUCT, rowGroups.length);
  rowGroups.forEach((group, ordinal) => {
    const uncompressed = group.chunks.reduce((sum, c) => sum + c.chunk.uncompressedBytes, 0);
    const compressed = group.chunks.reduce((sum, c) => sum + c.chunk.compressedBytes, 0);
    w.begin().list(1, CompactType.STRUCT, plans.length);
    group.chunks.forEach((placement, i) => writeColumnChunk(w, plans[i]!, placement, codec));
    w.i64(2, uncompressed).i64(3, group.rows).i64(5, group.offset).i64(6, compressed).i16(7, ordinal).end();
  });
  const hiveSchema = JSON.stringify(plans.map((plan) => ({ name: plan.name, type: plan.hiveType })));
  w.list(5, CompactType.STRUCT, 1).begin().string(1, HIVE_SCHEMA_KEY).string(2, hiveSchema).end();
  w.string(6, CREATED_BY);
  // TYPE_ORDER for every column: min/max statistics follow the logical type's order.
  w.list(7, CompactType.STRUCT, plans.length);
  for (let i = 0; i < plans.length; i++) w.begin().struct(1).end().end();
  w.end();
  return w.toBytes();
}
