/**
 * Serialized row sets: ThriftJDBCBinarySerDe writes each batch of TColumns with Thrift's
 * TCompactProtocol, and ColumnBasedSet(TRowSet) reads `columnCount` TColumns back from the blob
 * the same way. The stand-in encodes columns once (binary protocol, rowset-encoder.ts) and
 * transcodes those bytes to the compact protocol here, which keeps one column encoder for both
 * shapes.
 *
 * Compact protocol (Thrift's TCompactProtocol spec): field headers carry the id delta in the
 * high nibble when it fits in 1..15; integers are zigzag varints; doubles little-endian; strings
 * a varint length; list headers pack sizes below 15 into the high nibble; booleans in lists are
 * one byte, 1 = true and 2 = false.
 */
import { TType } from '../thrift/binary-protocol.js';

const C = { BOOLEAN_TRUE: 1, BOOLEAN_FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

const COMPACT_OF: Record<number, number> = {
  [TType.BOOL]: C.BOOLEAN_TRUE,
  [TType.BYTE]: C.BYTE,
  [TType.I16]: C.I16,
  [TType.I32]: C.I32,
  [TType.I64]: C.I64,
  [TType.DOUBLE]: C.DOUBLE,
  [TType.STRING]: C.BINARY,
  [TType.LIST]: C.LIST,
  [TType.SET]: C.SET,
  [TType.MAP]: C.MAP,
  [TType.STRUCT]: C.STRUCT,
};

class CompactOut {
  private buf = Buffer.allocUnsafe(1024);
  pos = 0;

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value & 0xff;
  }

  varint(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  zigzag(value: bigint): void {
    this.varint((value << 1n) ^ (value >> 63n));
  }

  bytes(data: Uint8Array): void {
    this.varint(BigInt(data.length));
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

class Transcoder {
  pos = 0;
  constructor(
    private readonly input: Buffer,
    readonly out: CompactOut,
  ) {}

  struct(): void {
    let lastId = 0;
    for (;;) {
      const type = this.input[this.pos++]!;
      if (type === TType.STOP) {
        this.out.byte(0);
        return;
      }
      const id = this.input.readInt16BE(this.pos);
      this.pos += 2;
      if (type === TType.BOOL) {
        const compact = this.input[this.pos++] !== 0 ? C.BOOLEAN_TRUE : C.BOOLEAN_FALSE;
        this.fieldHeader(compact, id, lastId);
      } else {
        this.fieldHeader(COMPACT_OF[type]!, id, lastId);
        this.value(type);
      }
      lastId = id;
    }
  }

  private fieldHeader(compactType: number, id: number, lastId: number): void {
    const delta = id - lastId;
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | compactType);
    else {
      this.out.byte(compactType);
      this.out.zigzag(BigInt(id));
    }
  }

  private value(type: number): void {
    const input = this.input;
    switch (type) {
      case TType.BOOL:
        this.out.byte(input[this.pos++] !== 0 ? C.BOOLEAN_TRUE : C.BOOLEAN_FALSE);
        return;
      case TType.BYTE:
        this.out.byte(input[this.pos++]!);
        return;
      case TType.I16:
        this.out.zigzag(BigInt(input.readInt16BE(this.pos)));
        this.pos += 2;
        return;
      case TType.I32:
        this.out.zigzag(BigInt(input.readInt32BE(this.pos)));
        this.pos += 4;
        return;
      case TType.I64:
        this.out.zigzag(input.readBigInt64BE(this.pos));
        this.pos += 8;
        return;
      case TType.DOUBLE: {
        const bytes = Buffer.from(input.subarray(this.pos, this.pos + 8)).reverse();
        for (const b of bytes) this.out.byte(b);
        this.pos += 8;
        return;
      }
      case TType.STRING: {
        const length = input.readInt32BE(this.pos);
        this.out.bytes(input.subarray(this.pos + 4, this.pos + 4 + length));
        this.pos += 4 + length;
        return;
      }
      case TType.STRUCT:
        this.struct();
        return;
      case TType.LIST:
      case TType.SET: {
        const element = input[this.pos]!;
        const size = input.readInt32BE(this.pos + 1);
        this.pos += 5;
        const compact = COMPACT_OF[element]!;
        if (size < 15) this.out.byte((size << 4) | compact);
        else {
          this.out.byte(0xf0 | compact);
          this.out.varint(BigInt(size));
        }
        for (let i = 0; i < size; i++) this.value(element);
        return;
      }
      default:
        throw new Error(`compact transcoding of wire type ${type} is not needed for TColumns`);
    }
  }
}

/** `count` TColumn structs in binary protocol → the same structs in compact protocol, back to back. */
export function compactColumns(binaryColumns: Buffer, count: number): Buffer {
  const transcoder = new Transcoder(binaryColumns, new CompactOut());
  for (let i = 0; i < count; i++) transcoder.struct();
  return transcoder.out.result();
}
