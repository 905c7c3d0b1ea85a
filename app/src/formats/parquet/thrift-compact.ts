/**
 * Just enough of Thrift's compact protocol to write Parquet's page headers and footer
 * (parquet-format's parquet.thrift is defined over it). Writing by hand rather than through the
 * generic thrift package: the structures are fixed, a page header is written per ~1 MB page, and
 * the generated-code route would pull parquet.thrift's generated classes into the app.
 *
 * Encoding (Thrift's TCompactProtocol spec): a field header is one byte `delta << 4 | type` when
 * the field id grows by 1..15, else the type byte and the zigzag varint id; integers are zigzag
 * varints; binaries are a varint length and the bytes; lists start with `size << 4 | elementType`
 * (size < 15) or `0xF0 | elementType` and a varint size; booleans live in the field type; a struct
 * ends with a 0 byte.
 */

export const CompactType = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

const utf8 = new TextEncoder();

export class CompactWriter {
  private bytes = new Uint8Array(256);
  private length = 0;
  private lastField = 0;
  private readonly fieldStack: number[] = [];

  /** The bytes written so far (a copy: the writer may be reused). */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  private byte(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  /** Unsigned varint of a non-negative safe integer (file offsets pass 2^32, so no bit operators). */
  private varint(value: number): void {
    this.ensure(10);
    while (value >= 0x80) {
      this.bytes[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.length++] = value;
  }

  private zigzag(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`Parquet metadata integer out of range: ${value}`);
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  private fieldHeader(id: number, type: number): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastField = id;
  }

  i32(id: number, value: number): this {
    this.fieldHeader(id, CompactType.I32);
    this.zigzag(value);
    return this;
  }

  /** i64 fields of the footer (sizes, offsets, counts) stay within 2^53, so a number carries them. */
  i64(id: number, value: number): this {
    this.fieldHeader(id, CompactType.I64);
    this.zigzag(value);
    return this;
  }

  i16(id: number, value: number): this {
    this.fieldHeader(id, CompactType.I16);
    this.zigzag(value);
    return this;
  }

  i8(id: number, value: number): this {
    this.fieldHeader(id, CompactType.BYTE);
    this.byte(value & 0xff);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.fieldHeader(id, value ? CompactType.TRUE : CompactType.FALSE);
    return this;
  }

  binary(id: number, value: Uint8Array): this {
    this.fieldHeader(id, CompactType.BINARY);
    this.rawBinary(value);
    return this;
  }

  string(id: number, value: string): this {
    return this.binary(id, utf8.encode(value));
  }

  /** Opens a struct field; its fields follow, then `end()`. */
  struct(id: number): this {
    this.fieldHeader(id, CompactType.STRUCT);
    return this.begin();
  }

  /** Opens a struct that is a list element (no field header). */
  begin(): this {
    this.fieldStack.push(this.lastField);
    this.lastField = 0;
    return this;
  }

  /** Closes the innermost struct (or the top-level one). */
  end(): this {
    this.byte(0);
    this.lastField = this.fieldStack.pop() ?? 0;
    return this;
  }

  list(id: number, elementType: number, size: number): this {
    this.fieldHeader(id, CompactType.LIST);
    if (size < 15) this.byte((size << 4) | elementType);
    else {
      this.byte(0xf0 | elementType);
      this.varint(size);
    }
    return this;
  }

  /** List elements. */
  rawI32(value: number): this {
    this.zigzag(value);
    return this;
  }

  rawBinary(value: Uint8Array): this {
    this.varint(value.length);
    this.ensure(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
    return this;
  }

  rawString(value: string): this {
    return this.rawBinary(utf8.encode(value));
  }
}
