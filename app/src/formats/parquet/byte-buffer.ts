/**
 * A growable little-endian byte buffer the page builders write into. Reused from page to page
 * (`reset` keeps the memory), so a long export allocates its page buffers once, not per page.
 * Parquet is little-endian on disk; DataView writes say so explicitly, and bulk copies of typed
 * arrays rely on the platform being little-endian too (checked once at load).
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('the Parquet encoder copies typed arrays as little-endian bytes; this platform is big-endian');
}

export class ByteBuffer {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  constructor(initial = 1024) {
    this.bytes = new Uint8Array(initial);
    this.view = new DataView(this.bytes.buffer);
  }

  reset(): void {
    this.length = 0;
  }

  /** Bytes allocated, for memory accounting. */
  get capacity(): number {
    return this.bytes.length;
  }

  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  i32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }

  /** An INT64 as its two 32-bit words: `lo` unsigned, `hi` signed. */
  i64Words(lo: number, hi: number): void {
    this.ensure(8);
    this.view.setUint32(this.length, lo, true);
    this.view.setInt32(this.length + 4, hi, true);
    this.length += 8;
  }

  f32(value: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  append(source: Uint8Array, start = 0, end = source.length): void {
    const count = end - start;
    this.ensure(count);
    this.bytes.set(source.subarray(start, end), this.length);
    this.length += count;
  }

  /** A view of the written bytes; valid until the next write or reset. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
