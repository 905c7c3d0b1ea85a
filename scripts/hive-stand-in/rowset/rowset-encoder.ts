/**
 * Encodes a FetchResults reply — a columnar TRowSet — straight from DuckDB vectors into Thrift
 * binary bytes. Per column it writes the TColumn union member HiveServer2 uses for the type, the
 * values (defaults in null slots, as Hive's ColumnBuffer does: 0, "", and `true` for booleans),
 * then the null bitmap exactly as Hive's ColumnBuffer.toBinary builds it: bit i%8 of byte i/8 set
 * for a null row, 1 + floor(bitset.length() / 8) bytes long (one zero byte when nothing is null).
 */
import { MessageType, TType, ThriftWriter, finishMessage, type EncodedMessage } from '../thrift/binary-protocol.js';
import { SUCCESS, writeStatus } from '../thrift/responses.js';
import { WIRE, type ColumnPlan } from './column-plan.js';
import { compactColumns } from './compact-columns.js';
import { hiveValueText } from './hive-text.js';
import { RawChunk, type RawColumn } from './raw-chunk.js';
import {
  decimalRoom, exactInt64, floatAsHiveDouble, formatDecimalBigInt, putLength, writeDate, writeDecimalNumber, writeTimestampMicros,
} from './value-format.js';

/** Version- and session-dependent text forms. */
export interface TextRules {
  /** Hive 2.3 sends TIMESTAMP through java.sql.Timestamp.toString(), which keeps `.0`. */
  timestampAlwaysHasFraction: boolean;
  /** The session's time zone, for TIMESTAMP WITH LOCAL TIME ZONE. */
  zone: string;
  /** DECIMAL padded to its scale (ColumnBasedSet); false for results serialized in the tasks. */
  decimalPadded: boolean;
}

export const DEFAULT_TEXT_RULES: TextRules = { timestampAlwaysHasFraction: false, zone: 'UTC', decimalPadded: true };

/** Rows [start, end) of one chunk. */
export interface Slice {
  chunk: RawChunk;
  start: number;
  end: number;
}

class NullMask {
  private bytes: Uint8Array;
  private highest = -1;

  constructor(rows: number) {
    this.bytes = new Uint8Array((rows >> 3) + 1);
  }

  mark(row: number): void {
    this.bytes[row >> 3]! |= 1 << (row & 7);
    this.highest = row;
  }

  writeAndReset(w: ThriftWriter): void {
    const length = 1 + ((this.highest + 1) >> 3);
    w.binary(this.bytes.subarray(0, length));
    this.bytes.fill(0, 0, length);
    this.highest = -1;
  }
}

const isValid = (validity: Uint8Array, row: number) => (validity[row >> 3]! & (1 << (row & 7))) !== 0;

/** Calls `onNull(row)` for each invalid row of [start, end), skipping all-valid bytes quickly. */
function forEachNull(validity: Uint8Array | null, start: number, end: number, onNull: (row: number) => void): void {
  if (!validity) return;
  let row = start;
  while (row < end) {
    if ((row & 7) === 0 && row + 8 <= end && validity[row >> 3] === 0xff) {
      row += 8;
      continue;
    }
    if (!isValid(validity, row)) onNull(row);
    row++;
  }
}

function writeUtf8(w: ThriftWriter, text: string): void {
  const length = Buffer.byteLength(text, 'utf8');
  w.ensure(4 + length);
  w.buf.writeInt32BE(length, w.pos);
  w.buf.write(text, w.pos + 4, length, 'utf8');
  w.pos += 4 + length;
}

/** Fixed-width integers and doubles: one bulk copy, one native byte swap to big endian. */
function copySwapped(w: ThriftWriter, column: RawColumn, width: number, start: number, end: number, base: number, nulls: NullMask, nullFill: number): void {
  const bytes = (end - start) * width;
  w.ensure(bytes);
  const out = w.buf.subarray(w.pos, w.pos + bytes);
  out.set(column.data.subarray(start * width, end * width));
  if (width === 2) out.swap16();
  else if (width === 4) out.swap32();
  else if (width === 8) out.swap64();
  forEachNull(column.validity, start, end, (row) => {
    nulls.mark(base + row - start);
    const at = (row - start) * width;
    out.fill(0, at, at + width);
    if (nullFill) out[at + width - 1] = nullFill;
  });
  w.pos += bytes;
}

/** Unsigned DuckDB integers widened to the next signed Thrift integer. */
function widenUnsigned(w: ThriftWriter, column: RawColumn, plan: ColumnPlan, start: number, end: number, base: number, nulls: NullMask): void {
  const outWidth = plan.source === 'uint8' ? 2 : plan.source === 'uint16' ? 4 : 8;
  w.ensure((end - start) * outWidth);
  const { buf } = w;
  const { view, validity } = column;
  for (let row = start; row < end; row++) {
    const valid = !validity || isValid(validity, row);
    if (!valid) nulls.mark(base + row - start);
    if (plan.source === 'uint8') buf.writeInt16BE(valid ? view.getUint8(row) : 0, w.pos);
    else if (plan.source === 'uint16') buf.writeInt32BE(valid ? view.getUint16(row * 2, true) : 0, w.pos);
    else {
      buf.writeInt32BE(0, w.pos);
      buf.writeUInt32BE(valid ? view.getUint32(row * 4, true) : 0, w.pos + 4);
    }
    w.pos += outWidth;
  }
}

function floats(w: ThriftWriter, column: RawColumn, start: number, end: number, base: number, nulls: NullMask): void {
  w.ensure((end - start) * 8);
  const { validity, view } = column;
  for (let row = start; row < end; row++) {
    const valid = !validity || isValid(validity, row);
    if (!valid) nulls.mark(base + row - start);
    w.buf.writeDoubleBE(valid ? floatAsHiveDouble(view.getFloat32(row * 4, true)) : 0, w.pos);
    w.pos += 8;
  }
}

/** A NULL in a string column: its bit in the null mask and an empty value in its slot. */
function writeNullString(w: ThriftWriter, nulls: NullMask, index: number): void {
  nulls.mark(index);
  w.ensure(4);
  w.buf.writeInt32BE(0, w.pos);
  w.pos += 4;
}

/** VARCHAR and BLOB: DuckDB string_t is 16 bytes, length then 12 inline bytes or a prefix and a pointer. */
function strings(w: ThriftWriter, chunk: RawChunk, column: RawColumn, start: number, end: number, base: number, nulls: NullMask): void {
  const { data, view, validity } = column;
  for (let row = start; row < end; row++) {
    if (validity && !isValid(validity, row)) {
      writeNullString(w, nulls, base + row - start);
      continue;
    }
    const offset = row * 16;
    const length = view.getUint32(offset, true);
    w.ensure(16 + length); // room for the unrolled 12-byte copy below, whatever the length
    const { buf } = w;
    const at = w.pos + 4;
    putLength(buf, w.pos, length);
    if (length <= 12) {
      // An inlined string: copy all 12 inline bytes unrolled (a loop over `length` costs ~3×);
      // the bytes past `length` are overwritten by whatever comes next.
      const from = offset + 4;
      buf[at] = data[from]!;
      buf[at + 1] = data[from + 1]!;
      buf[at + 2] = data[from + 2]!;
      buf[at + 3] = data[from + 3]!;
      buf[at + 4] = data[from + 4]!;
      buf[at + 5] = data[from + 5]!;
      buf[at + 6] = data[from + 6]!;
      buf[at + 7] = data[from + 7]!;
      buf[at + 8] = data[from + 8]!;
      buf[at + 9] = data[from + 9]!;
      buf[at + 10] = data[from + 10]!;
      buf[at + 11] = data[from + 11]!;
    } else {
      buf.set(chunk.longString(column, offset, length), at);
    }
    w.pos = at + length;
  }
}

function texts(w: ThriftWriter, chunk: RawChunk, columnIndex: number, start: number, end: number, base: number, nulls: NullMask): void {
  for (let row = start; row < end; row++) {
    const text = chunk.text(columnIndex, row);
    if (text === null) nulls.mark(base + row - start);
    writeUtf8(w, text ?? '');
  }
}

function hiveTexts(w: ThriftWriter, chunk: RawChunk, columnIndex: number, plan: ColumnPlan, rules: TextRules, start: number, end: number, base: number, nulls: NullMask): void {
  for (let row = start; row < end; row++) {
    const value = chunk.value(columnIndex, row);
    if (value === null) writeNullString(w, nulls, base + row - start);
    else writeUtf8(w, hiveValueText(value, plan.duckType!, plan.hiveType, rules.zone));
  }
}

function allNull(w: ThriftWriter, start: number, end: number, base: number, nulls: NullMask): void {
  for (let row = start; row < end; row++) writeNullString(w, nulls, base + row - start);
}

/** DATE, TIMESTAMP and DECIMAL: Hive's text forms, fast path in ASCII, DuckDB's text otherwise. */
function formatted(w: ThriftWriter, chunk: RawChunk, columnIndex: number, plan: ColumnPlan, rules: TextRules, start: number, end: number, base: number, nulls: NullMask): void {
  const column = chunk.columns[columnIndex]!;
  const { view, validity } = column;
  const scale = plan.decimal?.scale ?? 0;
  const room = plan.source === 'date' ? 14 : plan.source === 'timestamp' ? 33 : decimalRoom(plan.decimal?.precision ?? 38);
  for (let row = start; row < end; row++) {
    if (validity && !isValid(validity, row)) {
      writeNullString(w, nulls, base + row - start);
      continue;
    }
    w.ensure(room);
    let next = -1;
    if (!rules.decimalPadded && plan.decimal) {
      // HiveDecimal.toString: the value without trailing fraction zeros.
      const text = chunk.text(columnIndex, row) ?? '';
      writeUtf8(w, text.includes('.') ? text.replace(/\.?0+$/, '') : text);
      continue;
    }
    switch (plan.source) {
      case 'date':
        next = writeDate(w.buf, w.pos, view.getInt32(row * 4, true));
        break;
      case 'timestamp':
        next = writeTimestampMicros(w.buf, w.pos, view.getUint32(row * 8, true), view.getInt32(row * 8 + 4, true), rules.timestampAlwaysHasFraction);
        break;
      case 'decimal16':
        next = writeDecimalNumber(w.buf, w.pos, view.getInt16(row * 2, true), scale);
        break;
      case 'decimal32':
        next = writeDecimalNumber(w.buf, w.pos, view.getInt32(row * 4, true), scale);
        break;
      case 'decimal64': {
        const unscaled = exactInt64(view.getUint32(row * 8, true), view.getInt32(row * 8 + 4, true));
        if (unscaled !== undefined) next = writeDecimalNumber(w.buf, w.pos, unscaled, scale);
        else writeUtf8(w, formatDecimalBigInt(view.getBigInt64(row * 8, true), scale));
        break;
      }
      case 'decimal128': {
        const unscaled = (view.getBigInt64(row * 16 + 8, true) << 64n) + view.getBigUint64(row * 16, true);
        writeUtf8(w, formatDecimalBigInt(unscaled, scale));
        break;
      }
    }
    if (next >= 0) w.pos = next;
    else if (plan.source === 'date' || plan.source === 'timestamp') writeUtf8(w, chunk.text(columnIndex, row) ?? '');
  }
}

function writeValues(w: ThriftWriter, plan: ColumnPlan, rules: TextRules, slice: Slice, columnIndex: number, base: number, nulls: NullMask): void {
  const { chunk, start, end } = slice;
  const column = chunk.columns[columnIndex]!;
  switch (plan.source) {
    case 'bool':
      return copySwapped(w, column, 1, start, end, base, nulls, 1); // Hive writes `true` in null slots
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'double':
      return copySwapped(w, column, plan.width, start, end, base, nulls, 0);
    case 'uint8':
    case 'uint16':
    case 'uint32':
      return widenUnsigned(w, column, plan, start, end, base, nulls);
    case 'float':
      return floats(w, column, start, end, base, nulls);
    case 'varchar':
    case 'blob':
      return strings(w, chunk, column, start, end, base, nulls);
    case 'text':
      return texts(w, chunk, columnIndex, start, end, base, nulls);
    case 'hive-text':
      return hiveTexts(w, chunk, columnIndex, plan, rules, start, end, base, nulls);
    case 'null':
      return allNull(w, start, end, base, nulls);
    default:
      return formatted(w, chunk, columnIndex, plan, rules, start, end, base, nulls);
  }
}

/** TRowSet.columns (field 3) for `rows` rows spread over `slices`. */
function writeColumns(w: ThriftWriter, plans: readonly ColumnPlan[], rules: TextRules, slices: readonly Slice[], rows: number): void {
  w.field(TType.LIST, 3);
  w.listBegin(TType.STRUCT, plans.length);
  writeColumnStructs(w, plans, rules, slices, rows);
}

/** One TColumn struct per plan, back to back (the list's elements, or the serialized blob's content). */
function writeColumnStructs(w: ThriftWriter, plans: readonly ColumnPlan[], rules: TextRules, slices: readonly Slice[], rows: number): void {
  const nulls = new NullMask(rows);
  plans.forEach((plan, columnIndex) => {
    const wire = WIRE[plan.wire];
    w.field(TType.STRUCT, wire.fieldId);
    w.field(TType.LIST, 1);
    w.listBegin(wire.elementType, rows);
    let base = 0;
    for (const slice of slices) {
      writeValues(w, plan, rules, slice, columnIndex, base, nulls);
      base += slice.end - slice.start;
    }
    w.field(TType.STRING, 2);
    nulls.writeAndReset(w);
    w.stop(); // T<type>Column
    w.stop(); // TColumn union
  });
}

/**
 * The complete FetchResults REPLY for these rows, with seqid 0 to be set when it is sent (it may
 * be encoded ahead of the request). HiveServer2 always sends hasMoreRows=false; clients read an
 * empty row set as the end.
 *
 * `serialized`: the row set as HiveServer2 sends results that ThriftJDBCBinarySerDe serialized
 * in the tasks (ColumnBasedSet.toTRowSet when blob based): `columns` unset, the TColumns in
 * TCompactProtocol in `binaryColumns`, and `columnCount`; the last, empty fetch carries no blob.
 */
export function encodeFetchReply(
  plans: readonly ColumnPlan[],
  slices: readonly Slice[],
  rows: number,
  startRowOffset: number,
  sizeHint = 1024,
  options: { rules?: TextRules; serialized?: boolean } = {},
): EncodedMessage {
  const rules = options.rules ?? DEFAULT_TEXT_RULES;
  const w = new ThriftWriter(sizeHint);
  const seqidOffset = w.messageHeader('FetchResults', MessageType.REPLY, 0);
  w.field(TType.STRUCT, 0);
  writeStatus(w, SUCCESS);
  w.field(TType.BOOL, 2);
  w.bool(false);
  w.field(TType.STRUCT, 3); // TRowSet
  w.field(TType.I64, 1);
  w.i64(BigInt(startRowOffset));
  w.field(TType.LIST, 2); // rows: unused in the columnar protocol versions (V6+)
  w.listBegin(TType.STRUCT, 0);
  if (options.serialized) {
    if (rows > 0) {
      const scratch = new ThriftWriter(sizeHint);
      const from = scratch.pos;
      writeColumnStructs(scratch, plans, rules, slices, rows);
      w.field(TType.STRING, 4);
      w.binary(compactColumns(scratch.buf.subarray(from, scratch.pos), plans.length));
    }
    w.field(TType.I32, 5);
    w.i32(plans.length);
  } else {
    writeColumns(w, plans, rules, slices, rows);
  }
  w.stop(); // TRowSet
  w.stop(); // TFetchResultsResp
  w.stop(); // FetchResults_result
  return finishMessage(w, seqidOffset);
}

/** The operation log (fetchType 1): one string column, a line per row, no nulls. */
export function encodeLogReply(plan: ColumnPlan, lines: readonly string[]): EncodedMessage {
  const w = new ThriftWriter(1024);
  const seqidOffset = w.messageHeader('FetchResults', MessageType.REPLY, 0);
  w.field(TType.STRUCT, 0);
  writeStatus(w, SUCCESS);
  w.field(TType.BOOL, 2);
  w.bool(false);
  w.field(TType.STRUCT, 3); // TRowSet
  w.field(TType.I64, 1);
  w.i64(0n);
  w.field(TType.LIST, 2);
  w.listBegin(TType.STRUCT, 0);
  w.field(TType.LIST, 3);
  w.listBegin(TType.STRUCT, 1);
  w.field(TType.STRUCT, WIRE[plan.wire].fieldId);
  w.field(TType.LIST, 1);
  w.listBegin(TType.STRING, lines.length);
  for (const line of lines) writeUtf8(w, line);
  w.field(TType.STRING, 2);
  w.binary(new Uint8Array(1));
  w.stop(); // TStringColumn
  w.stop(); // TColumn
  w.stop(); // TRowSet
  w.stop(); // TFetchResultsResp
  w.stop(); // FetchResults_result
  return finishMessage(w, seqidOffset);
}
