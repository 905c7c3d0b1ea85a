/**
 * Decodes a FetchResults reply straight from the bytes that arrived, into a ColumnBatch: numbers
 * with one bulk copy and a native byte swap per column, strings and binaries as byte ranges of
 * the frame (no JS string, no object per value). thrift's generated decoder builds a JS value per
 * cell and a node-int64 object per BIGINT; this is what lets an export run at several times the
 * stock driver's rate (`npm run bench -- export`).
 *
 * It reads the binary protocol (TFetchResultsResp, TRowSet, TColumn of TCLIService.thrift) and,
 * for a result HiveServer2 serialized in its tasks, the compact protocol of `binaryColumns`.
 * Anything it does not understand — an unknown TColumn member, a column count unlike the schema,
 * columns of different lengths, a truncated message — is an error: never fewer rows than Hive
 * sent. The property test (test/unit/hive/rowset-decoder.test.ts) holds it to the generated
 * decoder's reading of random row sets, every type, NULLs and edge values.
 */
import type { BatchColumn, BytesColumn, ColumnBatch, FixedColumn, WireRowSet } from './column-batch.js';

export class RowSetDecodeError extends Error {
  override readonly name = 'RowSetDecodeError';
  /** The bytes ended before the message did: on a stream transport, more may yet arrive. */
  constructor(
    message: string,
    readonly truncated = false,
  ) {
    super(message);
  }
}

/** TStatus as hive-driver's StatusFactory reads it. */
export interface ReplyStatus {
  statusCode: number;
  infoMessages: string[] | null;
  sqlState: string | null;
  errorCode: number | null;
  errorMessage: string | null;
}

export interface FetchReply {
  status: ReplyStatus;
  hasMoreRows: boolean;
  /** Undefined when the reply carried no row set (an error status). Zero rows at the end. */
  batch: ColumnBatch | undefined;
}

/** Binary protocol wire types. */
const T = { STOP: 0, BOOL: 2, BYTE: 3, DOUBLE: 4, I16: 6, I32: 8, I64: 10, STRING: 11, STRUCT: 12, MAP: 13, SET: 14, LIST: 15 } as const;

/** TColumn union member (field id) → what it holds. */
const MEMBER: Record<number, { kind: BatchColumn['kind']; element: number; width: number }> = {
  1: { kind: 'bool', element: T.BOOL, width: 1 },
  2: { kind: 'int8', element: T.BYTE, width: 1 },
  3: { kind: 'int16', element: T.I16, width: 2 },
  4: { kind: 'int32', element: T.I32, width: 4 },
  5: { kind: 'int64', element: T.I64, width: 8 },
  6: { kind: 'double', element: T.DOUBLE, width: 8 },
  7: { kind: 'string', element: T.STRING, width: 0 },
  8: { kind: 'binary', element: T.STRING, width: 0 },
};

const EMPTY = new Uint8Array(0);

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  need(bytes: number): void {
    if (bytes < 0) throw new RowSetDecodeError(`a negative length (${bytes})`);
    if (this.pos + bytes > this.end) throw new RowSetDecodeError(`the FetchResults reply ends ${this.pos + bytes - this.end} bytes early`, true);
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  i16(): number {
    this.need(2);
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }
  i32(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }
  bytes(): Uint8Array {
    const length = this.i32();
    this.need(length);
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }
  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  skip(type: number, depth = 0): void {
    if (depth > 32) throw new RowSetDecodeError('values nested deeper than 32');
    switch (type) {
      case T.BOOL:
      case T.BYTE:
        this.need(1);
        this.pos += 1;
        return;
      case T.I16:
        this.need(2);
        this.pos += 2;
        return;
      case T.I32:
        this.need(4);
        this.pos += 4;
        return;
      case T.I64:
      case T.DOUBLE:
        this.need(8);
        this.pos += 8;
        return;
      case T.STRING:
        this.bytes();
        return;
      case T.STRUCT:
        for (;;) {
          const fieldType = this.byte();
          if (fieldType === T.STOP) return;
          this.i16();
          this.skip(fieldType, depth + 1);
        }
      case T.MAP: {
        const keyType = this.byte();
        const valueType = this.byte();
        const size = this.i32();
        for (let i = 0; i < size; i++) {
          this.skip(keyType, depth + 1);
          this.skip(valueType, depth + 1);
        }
        return;
      }
      case T.SET:
      case T.LIST: {
        const elementType = this.byte();
        const size = this.i32();
        for (let i = 0; i < size; i++) this.skip(elementType, depth + 1);
        return;
      }
      default:
        throw new RowSetDecodeError(`unknown wire type ${type}`);
    }
  }
}

/** Big-endian fixed-width values → a typed array in the platform's order (one copy, one swap). */
function fixedValues(kind: FixedColumn['kind'], buf: Buffer, start: number, count: number, width: number): FixedColumn['values'] {
  if (kind === 'bool') return Uint8Array.from(buf.subarray(start, start + count));
  if (kind === 'int8') return Int8Array.from(buf.subarray(start, start + count), (b) => (b << 24) >> 24);
  const copy = Buffer.allocUnsafeSlow(count * width);
  buf.copy(copy, 0, start, start + count * width);
  if (width === 2) copy.swap16();
  else if (width === 4) copy.swap32();
  else copy.swap64();
  const { buffer, byteOffset } = copy;
  switch (kind) {
    case 'int16':
      return new Int16Array(buffer, byteOffset, count);
    case 'int32':
      return new Int32Array(buffer, byteOffset, count);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, count);
    default:
      return new Float64Array(buffer, byteOffset, count);
  }
}

/** T<kind>Column { 1: list<values>, 2: binary nulls } */
function readColumnBody(r: Reader, member: (typeof MEMBER)[number]): BatchColumn {
  let column: BatchColumn | undefined;
  let nulls: Uint8Array = EMPTY;
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) break;
    const id = r.i16();
    if (id === 1 && fieldType === T.LIST) {
      const element = r.byte();
      const count = r.i32();
      if (element !== member.element || count < 0) throw new RowSetDecodeError(`a ${member.kind} column holds wire type ${element}`);
      if (member.width > 0) {
        r.need(count * member.width);
        column = { kind: member.kind as FixedColumn['kind'], values: fixedValues(member.kind as FixedColumn['kind'], r.buf, r.pos, count, member.width), nulls: EMPTY };
        r.pos += count * member.width;
      } else {
        const starts = new Int32Array(count);
        const lengths = new Int32Array(count);
        const { buf, end } = r;
        let pos = r.pos;
        for (let i = 0; i < count; i++) {
          if (pos + 4 > end) throw new RowSetDecodeError('the FetchResults reply ends inside a string column', true);
          const length = buf.readInt32BE(pos);
          pos += 4;
          if (length < 0) throw new RowSetDecodeError(`a string of negative length (${length})`);
          if (pos + length > end) throw new RowSetDecodeError('the FetchResults reply ends inside a string value', true);
          starts[i] = pos;
          lengths[i] = length;
          pos += length;
        }
        r.pos = pos;
        column = { kind: member.kind as BytesColumn['kind'], data: buf, starts, lengths, nulls: EMPTY };
      }
    } else if (id === 2 && fieldType === T.STRING) {
      nulls = r.bytes();
    } else {
      r.skip(fieldType);
    }
  }
  if (!column) throw new RowSetDecodeError(`a ${member.kind} column came without values`);
  column.nulls = nulls;
  return column;
}

/** TColumn union: exactly one member set. */
function readColumn(r: Reader, index: number): BatchColumn {
  let column: BatchColumn | undefined;
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) break;
    const id = r.i16();
    const member = MEMBER[id];
    if (!member || fieldType !== T.STRUCT) throw new RowSetDecodeError(`column ${index + 1} holds a TColumn member (${id}) the connector does not know`);
    if (column) throw new RowSetDecodeError(`column ${index + 1} sets two TColumn members`);
    column = readColumnBody(r, member);
  }
  if (!column) throw new RowSetDecodeError(`column ${index + 1} carries no values`);
  return column;
}

const countOf = (column: BatchColumn): number => ('values' in column ? column.values.length : column.starts.length);

/** Checks the columns against the schema and each other; an all-empty row set is the end. */
function batchOf(columns: BatchColumn[], width: number | undefined): ColumnBatch {
  if (columns.length === 0) return { rowCount: 0, columns: [] };
  const rowCount = countOf(columns[0]!);
  if (rowCount === 0 && columns.every((c) => countOf(c) === 0)) return { rowCount: 0, columns: [] };
  if (width !== undefined && columns.length !== width) throw new RowSetDecodeError(`${columns.length} columns for a schema of ${width}`);
  columns.forEach((column, i) => {
    if (countOf(column) !== rowCount) throw new RowSetDecodeError(`column ${i + 1} has ${countOf(column)} values, column 1 has ${rowCount}`);
  });
  return { rowCount, columns };
}

/** TRowSet { 1: i64 startRowOffset, 2: list<TRow> rows, 3: list<TColumn> columns, 4: binary binaryColumns, 5: i32 columnCount } */
function readRowSet(r: Reader, width: number | undefined): ColumnBatch {
  let columns: BatchColumn[] = [];
  let binary: Uint8Array | undefined;
  let columnCount: number | undefined;
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) break;
    const id = r.i16();
    if (id === 2 && fieldType === T.LIST) {
      const elementType = r.byte();
      const size = r.i32();
      // Row-based sets predate protocol V6; HiveServer2 sends an empty list beside columns.
      if (size > 0) throw new RowSetDecodeError('a row-based result set (protocol before V6)');
      void elementType;
    } else if (id === 3 && fieldType === T.LIST) {
      const elementType = r.byte();
      const size = r.i32();
      if (elementType !== T.STRUCT || size < 0) throw new RowSetDecodeError('a malformed column list');
      columns = new Array<BatchColumn>(size);
      for (let i = 0; i < size; i++) columns[i] = readColumn(r, i);
    } else if (id === 4 && fieldType === T.STRING) {
      binary = r.bytes();
    } else if (id === 5 && fieldType === T.I32) {
      columnCount = r.i32();
    } else {
      r.skip(fieldType);
    }
  }
  if (binary && binary.length > 0) {
    if (columnCount === undefined || (width !== undefined && columnCount !== width)) {
      throw new RowSetDecodeError(`${columnCount ?? 'no'} serialized columns for a schema of ${width}`);
    }
    columns = decodeCompactColumns(binary, columnCount);
  }
  return batchOf(columns, width);
}

function readStatus(r: Reader): ReplyStatus {
  const status: ReplyStatus = { statusCode: -1, infoMessages: null, sqlState: null, errorCode: null, errorMessage: null };
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) break;
    const id = r.i16();
    if (id === 1 && fieldType === T.I32) status.statusCode = r.i32();
    else if (id === 2 && fieldType === T.LIST) {
      r.byte();
      const size = r.i32();
      status.infoMessages = Array.from({ length: size }, () => r.string());
    } else if (id === 3 && fieldType === T.STRING) status.sqlState = r.string();
    else if (id === 4 && fieldType === T.I32) status.errorCode = r.i32();
    else if (id === 5 && fieldType === T.STRING) status.errorMessage = r.string();
    else r.skip(fieldType);
  }
  return status;
}

/**
 * Decodes `FetchResults_result { 0: TFetchResultsResp success }` that starts at `pos` (just
 * after the message header) and ends before `end`. `width` is the schema's column count, when
 * known. Returns the reply and where the struct ended.
 */
export function decodeFetchResultsResult(buf: Buffer, pos: number, end: number, width?: number): { reply: FetchReply; next: number } {
  const r = new Reader(buf, pos, end);
  let reply: FetchReply | undefined;
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) break;
    const id = r.i16();
    if (id !== 0 || fieldType !== T.STRUCT) {
      r.skip(fieldType);
      continue;
    }
    let status: ReplyStatus | undefined;
    let hasMoreRows = false;
    let batch: ColumnBatch | undefined;
    for (;;) {
      const innerType = r.byte();
      if (innerType === T.STOP) break;
      const innerId = r.i16();
      if (innerId === 1 && innerType === T.STRUCT) status = readStatus(r);
      else if (innerId === 2 && innerType === T.BOOL) hasMoreRows = r.byte() !== 0;
      else if (innerId === 3 && innerType === T.STRUCT) batch = readRowSet(r, width);
      else r.skip(innerType);
    }
    if (!status) throw new RowSetDecodeError('a FetchResults reply without a status');
    reply = { status, hasMoreRows, batch };
  }
  if (!reply) throw new RowSetDecodeError('a FetchResults reply without a result');
  return { reply, next: r.pos };
}

/** What the thread that talks to Hive needs of a reply: its status, and how many rows and columns it holds. */
export interface FetchReplyHeader {
  status: ReplyStatus;
  hasMoreRows: boolean;
  /** Undefined when the reply carried no row set (an error status). */
  rowSet: { rowCount: number; columnCount: number } | undefined;
}

/** The element count of the first column's value list, read from `count` TColumn headers on. */
function peekColumnLength(r: Reader): number {
  const fieldType = r.byte();
  if (fieldType === T.STOP) throw new RowSetDecodeError('column 1 carries no values');
  const member = MEMBER[r.i16()];
  if (!member || fieldType !== T.STRUCT) throw new RowSetDecodeError('column 1 holds a TColumn member the connector does not know');
  for (;;) {
    const type = r.byte();
    if (type === T.STOP) throw new RowSetDecodeError(`a ${member.kind} column came without values`);
    const id = r.i16();
    if (id === 1 && type === T.LIST) {
      r.byte();
      const count = r.i32();
      if (count < 0) throw new RowSetDecodeError(`a negative list length (${count})`);
      return count;
    }
    r.skip(type);
  }
}

/** The same for the first of a serialized result's compact TColumns. */
function peekCompactColumnLength(bytes: Uint8Array): number {
  const r = new CompactReader(bytes);
  const union = r.fieldHeader(0);
  if (!union || union.type !== C.STRUCT || !MEMBER[union.id]) throw new RowSetDecodeError('serialized column 1 holds a TColumn member the connector does not know');
  let last = 0;
  for (;;) {
    const field = r.fieldHeader(last);
    if (!field) throw new RowSetDecodeError('serialized column 1 came without values');
    last = field.id;
    if (field.id === 1 && field.type === C.LIST) return r.listHeader().size;
    r.skip(field.type);
  }
}

function peekRowSet(r: Reader): { rowCount: number; columnCount: number } {
  let compactRows = 0;
  let columnCount = 0;
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) return { rowCount: compactRows, columnCount };
    const id = r.i16();
    if (id === 2 && fieldType === T.LIST) {
      r.byte();
      if (r.i32() > 0) throw new RowSetDecodeError('a row-based result set (protocol before V6)');
    } else if (id === 3 && fieldType === T.LIST) {
      const elementType = r.byte();
      const size = r.i32();
      if (elementType !== T.STRUCT || size < 0) throw new RowSetDecodeError('a malformed column list');
      // Columnar: the first column's length is the row count; the decoder checks the rest.
      if (size > 0) return { rowCount: peekColumnLength(r), columnCount: size };
    } else if (id === 4 && fieldType === T.STRING) {
      const binary = r.bytes();
      if (binary.length > 0) compactRows = peekCompactColumnLength(binary);
    } else if (id === 5 && fieldType === T.I32) {
      columnCount = r.i32();
    } else {
      r.skip(fieldType);
    }
  }
}

/**
 * Reads a FetchResults reply's status and the size of its row set from the headers alone,
 * without walking the values: cheap enough for the thread that serves the API. The values are
 * decoded later (decodeWireRowSet), where every check of decodeFetchResultsResult applies.
 */
export function peekFetchResults(buf: Buffer, start: number, end: number): FetchReplyHeader {
  const r = new Reader(buf, start, end);
  for (;;) {
    const fieldType = r.byte();
    if (fieldType === T.STOP) throw new RowSetDecodeError('a FetchResults reply without a result');
    const id = r.i16();
    if (id !== 0 || fieldType !== T.STRUCT) {
      r.skip(fieldType);
      continue;
    }
    let status: ReplyStatus | undefined;
    let hasMoreRows = false;
    for (;;) {
      const innerType = r.byte();
      const innerId = innerType === T.STOP ? -1 : r.i16();
      if (innerType === T.STOP || (innerId === 3 && innerType === T.STRUCT)) {
        if (!status) throw new RowSetDecodeError('a FetchResults reply without a status');
        return { status, hasMoreRows, rowSet: innerType === T.STOP ? undefined : peekRowSet(r) };
      }
      if (innerId === 1 && innerType === T.STRUCT) status = readStatus(r);
      else if (innerId === 2 && innerType === T.BOOL) hasMoreRows = r.byte() !== 0;
      else r.skip(innerType);
    }
  }
}

/** Where the message that starts at `start` ends, walking every value (for stream transports). */
export function fetchResultsEnd(buf: Buffer, start: number, end: number): number {
  const r = new Reader(buf, start, end);
  r.skip(T.STRUCT);
  return r.pos;
}

/** Decodes a row set peeked earlier: every check of the full decoder, against the schema's width. */
export function decodeWireRowSet(rowSet: WireRowSet, width: number): ColumnBatch {
  const { reply } = rowSet;
  const bytes = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  const { reply: decoded, next } = decodeFetchResultsResult(bytes, 0, bytes.length, width);
  if (next !== bytes.length) throw new RowSetDecodeError(`${bytes.length - next} bytes after the FetchResults reply`);
  const batch = decoded.batch ?? { rowCount: 0, columns: [] };
  if (batch.rowCount !== rowSet.rowCount) throw new RowSetDecodeError(`a row set of ${batch.rowCount} rows where its header said ${rowSet.rowCount}`);
  return batch;
}

// ---- The compact protocol, for results serialized in HiveServer2's tasks -----------------

/** Compact protocol type ids. */
const C = { BOOLEAN_TRUE: 1, BOOLEAN_FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;
const COMPACT_ELEMENT: Record<number, number> = { 1: C.BOOLEAN_TRUE, 2: C.BYTE, 3: C.I16, 4: C.I32, 5: C.I64, 6: C.DOUBLE, 7: C.BINARY, 8: C.BINARY };

class CompactReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new RowSetDecodeError('the serialized columns end early');
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new RowSetDecodeError('a varint longer than 32 bits');
    }
  }
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new RowSetDecodeError('a varint longer than 64 bits');
    }
  }
  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  zigzag64(): bigint {
    const n = this.varint64();
    return (n >> 1n) ^ -(n & 1n);
  }
  listHeader(): { element: number; size: number } {
    const header = this.byte();
    const size = header >> 4;
    return { element: header & 0x0f, size: size === 15 ? this.varint() : size };
  }
  fieldHeader(lastId: number): { type: number; id: number } | undefined {
    const header = this.byte();
    if (header === 0) return undefined;
    const delta = header >> 4;
    const type = header & 0x0f;
    return { type, id: delta === 0 ? Number(this.zigzag()) : lastId + delta };
  }
  skip(type: number, depth = 0): void {
    if (depth > 32) throw new RowSetDecodeError('values nested deeper than 32');
    switch (type) {
      case C.BOOLEAN_TRUE:
      case C.BOOLEAN_FALSE:
        return;
      case C.BYTE:
        this.byte();
        return;
      case C.I16:
      case C.I32:
      case C.I64:
        this.varint64();
        return;
      case C.DOUBLE:
        this.pos += 8;
        return;
      case C.BINARY:
        this.pos += this.varint();
        return;
      case C.LIST:
      case C.SET: {
        const { element, size } = this.listHeader();
        for (let i = 0; i < size; i++) this.skipElement(element, depth + 1);
        return;
      }
      case C.STRUCT: {
        let last = 0;
        for (;;) {
          const field = this.fieldHeader(last);
          if (!field) return;
          last = field.id;
          this.skip(field.type, depth + 1);
        }
      }
      default:
        throw new RowSetDecodeError(`unknown compact type ${type}`);
    }
  }
  /** Inside a list a boolean is a byte of its own. */
  skipElement(element: number, depth: number): void {
    if (element === C.BOOLEAN_TRUE || element === C.BOOLEAN_FALSE) this.byte();
    else this.skip(element, depth);
  }
}

function compactColumnBody(r: CompactReader, memberId: number): BatchColumn {
  const member = MEMBER[memberId]!;
  let column: BatchColumn | undefined;
  let nulls: Uint8Array = EMPTY;
  let last = 0;
  for (;;) {
    const field = r.fieldHeader(last);
    if (!field) break;
    last = field.id;
    if (field.id === 1 && field.type === C.LIST) {
      const { element, size } = r.listHeader();
      if (element !== COMPACT_ELEMENT[memberId]) {
        throw new RowSetDecodeError(`a serialized ${member.kind} column holds compact type ${element}`);
      }
      column = compactValues(r, member.kind, size);
    } else if (field.id === 2 && field.type === C.BINARY) {
      const length = r.varint();
      nulls = r.buf.subarray(r.pos, r.pos + length);
      r.pos += length;
    } else r.skip(field.type);
  }
  if (!column) throw new RowSetDecodeError(`a serialized ${member.kind} column came without values`);
  column.nulls = nulls;
  return column;
}

function compactValues(r: CompactReader, kind: BatchColumn['kind'], size: number): BatchColumn {
  switch (kind) {
    case 'bool': {
      // Java's TCompactProtocol writes a list boolean as BOOLEAN_TRUE (1) or BOOLEAN_FALSE (2).
      const values = new Uint8Array(size);
      for (let i = 0; i < size; i++) values[i] = r.byte() === C.BOOLEAN_TRUE ? 1 : 0;
      return { kind, values, nulls: EMPTY };
    }
    case 'int8': {
      const values = new Int8Array(size);
      for (let i = 0; i < size; i++) values[i] = (r.byte() << 24) >> 24;
      return { kind, values, nulls: EMPTY };
    }
    case 'int16':
    case 'int32': {
      const values = kind === 'int16' ? new Int16Array(size) : new Int32Array(size);
      for (let i = 0; i < size; i++) values[i] = r.zigzag();
      return { kind, values, nulls: EMPTY };
    }
    case 'int64': {
      const values = new BigInt64Array(size);
      for (let i = 0; i < size; i++) values[i] = r.zigzag64();
      return { kind, values, nulls: EMPTY };
    }
    case 'double': {
      // Little-endian on the wire already.
      if (r.pos + size * 8 > r.buf.length) throw new RowSetDecodeError('the serialized columns end early');
      const values = new Float64Array(size);
      new Uint8Array(values.buffer).set(r.buf.subarray(r.pos, r.pos + size * 8));
      r.pos += size * 8;
      return { kind, values, nulls: EMPTY };
    }
    default: {
      const starts = new Int32Array(size);
      const lengths = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const length = r.varint();
        if (r.pos + length > r.buf.length) throw new RowSetDecodeError('the serialized columns end early');
        starts[i] = r.pos;
        lengths[i] = length;
        r.pos += length;
      }
      return { kind, data: r.buf, starts, lengths, nulls: EMPTY };
    }
  }
}

/** ColumnBasedSet(TRowSet): `count` TColumn structs back to back in the compact protocol. */
export function decodeCompactColumns(bytes: Uint8Array, count: number): BatchColumn[] {
  const r = new CompactReader(bytes);
  const columns: BatchColumn[] = [];
  for (let i = 0; i < count; i++) {
    let column: BatchColumn | undefined;
    let last = 0;
    for (;;) {
      const field = r.fieldHeader(last);
      if (!field) break;
      last = field.id;
      const member = MEMBER[field.id];
      if (!member || field.type !== C.STRUCT) throw new RowSetDecodeError(`serialized column ${i + 1} holds a TColumn member (${field.id}) the connector does not know`);
      if (column) throw new RowSetDecodeError(`serialized column ${i + 1} sets two TColumn members`);
      column = compactColumnBody(r, field.id);
    }
    if (!column) throw new RowSetDecodeError(`serialized column ${i + 1} carries no values`);
    columns.push(column);
  }
  return columns;
}
