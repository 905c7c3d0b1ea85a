/**
 * The Thrift binary protocol, by hand, for the server side of TCLIService. Requests are small, so
 * they are decoded generically into field-id trees (`ThriftStruct`) and read through typed views
 * (see requests.ts); responses are written straight into a growable Buffer, which is what lets the
 * row-set encoder write millions of values without building one object per value.
 */

/** Wire type ids of the binary protocol. */
export const TType = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
} as const;

export const MessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

const VERSION_1 = 0x80010000;
const VERSION_MASK = 0xffff0000;
/** Bounds nesting so a hostile request cannot exhaust the stack. */
const MAX_DEPTH = 32;

/** The bytes end before the value does: wait for more input (only meaningful on unframed streams). */
export class ThriftUnderrunError extends Error {
  override readonly name = 'ThriftUnderrunError';
}

/** The bytes can never become a valid message: the peer is not speaking our protocol. */
export class ThriftProtocolError extends Error {
  override readonly name = 'ThriftProtocolError';
}

export class ThriftStruct {
  constructor(readonly fields: ReadonlyMap<number, ThriftValue>) {}
}

export class ThriftMap {
  constructor(readonly entries: ReadonlyArray<readonly [ThriftValue, ThriftValue]>) {}
}

/** Strings and binaries share a wire type, so both arrive as Buffers; views decode UTF-8. */
export type ThriftValue = boolean | number | bigint | Buffer | ThriftStruct | ThriftMap | ThriftValue[];

export interface MessageHeader {
  name: string;
  type: number;
  seqid: number;
}

export class ThriftReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly maxLength = Number.MAX_SAFE_INTEGER,
  ) {
    this.pos = start;
  }

  get position(): number {
    return this.pos;
  }

  private need(bytes: number): void {
    if (bytes < 0) throw new ThriftProtocolError(`negative length ${bytes}`);
    if (bytes > this.maxLength) {
      throw new ThriftProtocolError(`a value of ${bytes} bytes exceeds the ${this.maxLength} byte message limit`);
    }
    if (this.pos + bytes > this.buf.length) throw new ThriftUnderrunError(`need ${bytes} bytes at ${this.pos}`);
  }

  readByte(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  readI16(): number {
    this.need(2);
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  readI32(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  readI64(): bigint {
    this.need(8);
    const value = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return value;
  }

  readDouble(): number {
    this.need(8);
    const value = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return value;
  }

  readBinary(): Buffer {
    const length = this.readI32();
    this.need(length);
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** Strict (versioned) headers as every current client sends, and the old unversioned form. */
  readMessageHeader(): MessageHeader {
    const first = this.readI32();
    if (first < 0) {
      const version = (first & VERSION_MASK) >>> 0;
      if (version !== VERSION_1) {
        throw new ThriftProtocolError(`bad protocol version 0x${version.toString(16)}, expected 0x80010000 (binary protocol)`);
      }
      const name = this.readBinary().toString('utf8');
      return { name, type: first & 0xff, seqid: this.readI32() };
    }
    this.need(first);
    const name = this.buf.toString('utf8', this.pos, this.pos + first);
    this.pos += first;
    const type = this.readByte();
    return { name, type, seqid: this.readI32() };
  }

  readValue(type: number, depth = 0): ThriftValue {
    if (depth > MAX_DEPTH) throw new ThriftProtocolError(`values nested deeper than ${MAX_DEPTH}`);
    switch (type) {
      case TType.BOOL:
        return this.readByte() !== 0;
      case TType.BYTE:
        return this.readByte();
      case TType.I16:
        return this.readI16();
      case TType.I32:
        return this.readI32();
      case TType.I64:
        return this.readI64();
      case TType.DOUBLE:
        return this.readDouble();
      case TType.STRING:
        return this.readBinary();
      case TType.STRUCT:
        return this.readStruct(depth + 1);
      case TType.MAP: {
        const keyType = this.readByte();
        const valueType = this.readByte();
        const size = this.readCount();
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.readValue(keyType, depth + 1), this.readValue(valueType, depth + 1)]);
        return new ThriftMap(entries);
      }
      case TType.LIST:
      case TType.SET: {
        const elementType = this.readByte();
        const size = this.readCount();
        const values: ThriftValue[] = [];
        for (let i = 0; i < size; i++) values.push(this.readValue(elementType, depth + 1));
        return values;
      }
      default:
        throw new ThriftProtocolError(`unknown field type ${type}`);
    }
  }

  readStruct(depth = 0): ThriftStruct {
    const fields = new Map<number, ThriftValue>();
    for (;;) {
      const type = this.readByte();
      if (type === TType.STOP) return new ThriftStruct(fields);
      const id = this.readI16();
      fields.set(id, this.readValue(type, depth));
    }
  }

  /** Element counts are bounded by the bytes that can still arrive: one byte per element at least. */
  private readCount(): number {
    const size = this.readI32();
    if (size < 0 || size > this.maxLength) throw new ThriftProtocolError(`bad container size ${size}`);
    return size;
  }
}

/**
 * A growable output buffer with Thrift binary primitives. Every message starts with 4 bytes of
 * headroom so the framed transports (SASL) can put the frame length in front without a copy.
 */
export class ThriftWriter {
  buf: Buffer;
  pos: number;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(initialSize, 64));
    this.pos = 4;
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buf.writeInt8(value, this.pos);
    this.pos += 1;
  }

  bool(value: boolean): void {
    this.byte(value ? 1 : 0);
  }

  i16(value: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(value, this.pos);
    this.pos += 2;
  }

  i32(value: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(value, this.pos);
    this.pos += 4;
  }

  i64(value: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(value, this.pos);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(value, this.pos);
    this.pos += 8;
  }

  string(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.ensure(4 + length);
    this.buf.writeInt32BE(length, this.pos);
    this.buf.write(value, this.pos + 4, length, 'utf8');
    this.pos += 4 + length;
  }

  binary(value: Uint8Array): void {
    this.ensure(4 + value.length);
    this.buf.writeInt32BE(value.length, this.pos);
    this.buf.set(value, this.pos + 4);
    this.pos += 4 + value.length;
  }

  field(type: number, id: number): void {
    this.ensure(3);
    this.buf[this.pos] = type;
    this.buf.writeInt16BE(id, this.pos + 1);
    this.pos += 3;
  }

  stop(): void {
    this.byte(TType.STOP);
  }

  listBegin(elementType: number, size: number): void {
    this.ensure(5);
    this.buf[this.pos] = elementType;
    this.buf.writeInt32BE(size, this.pos + 1);
    this.pos += 5;
  }

  mapBegin(keyType: number, valueType: number, size: number): void {
    this.ensure(6);
    this.buf[this.pos] = keyType;
    this.buf[this.pos + 1] = valueType;
    this.buf.writeInt32BE(size, this.pos + 2);
    this.pos += 6;
  }

  /** Writes a strict message header; returns the offset of the seqid so a cached reply can be re-addressed. */
  messageHeader(name: string, type: number, seqid: number): number {
    this.i32((VERSION_1 | type) >> 0);
    this.string(name);
    const seqidOffset = this.pos;
    this.i32(seqid);
    return seqidOffset;
  }
}

/** A complete reply: `bytes` has 4 bytes of headroom in front of the message for a frame length. */
export interface EncodedMessage {
  bytes: Buffer;
  seqidOffset: number;
}

export function finishMessage(writer: ThriftWriter, seqidOffset: number): EncodedMessage {
  return { bytes: writer.buf.subarray(0, writer.pos), seqidOffset };
}

export function setSeqid(message: EncodedMessage, seqid: number): void {
  message.bytes.writeInt32BE(seqid, message.seqidOffset);
}

/** The message for a framed transport (SASL): the headroom becomes the frame length. */
export function framed(message: EncodedMessage): Buffer {
  message.bytes.writeUInt32BE(message.bytes.length - 4, 0);
  return message.bytes;
}

/** The message for an unframed transport (NOSASL, HTTP). */
export function unframed(message: EncodedMessage): Buffer {
  return message.bytes.subarray(4);
}
