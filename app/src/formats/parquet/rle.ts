/**
 * Parquet's RLE / bit-packing hybrid (parquet-format Encodings.md, "Run Length Encoding /
 * Bit-Packing Hybrid"), used for definition levels (bit width 1) and dictionary indices.
 * A run of ≥ 8 equal values becomes an RLE run (`varint(count << 1)`, the value in
 * ceil(width / 8) bytes); anything else is bit-packed in groups of 8 (`varint(groups << 1 | 1)`,
 * then `width` bytes per group, values LSB first). Only the last group may be padded: the reader
 * knows how many values the page holds.
 */
import type { ByteBuffer } from './byte-buffer.js';

/** Widest index this encoder packs: a dictionary is capped far below 2^24 entries. */
const MAX_WIDTH = 24;

function varint(out: ByteBuffer, value: number): void {
  while (value >= 0x80) {
    out.u8((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.u8(value);
}

/** Bits needed for the values 0..maxValue (at least 1: some readers mishandle width 0). */
export function bitWidth(maxValue: number): number {
  let width = 1;
  while (width < 32 && maxValue >= 2 ** width) width++;
  return width;
}

export function encodeHybrid(values: ArrayLike<number>, count: number, width: number, out: ByteBuffer): void {
  if (width < 1 || width > MAX_WIDTH) throw new Error(`RLE bit width ${width} is outside 1..${MAX_WIDTH}`);
  const valueBytes = (width + 7) >> 3;
  let i = 0;
  while (i < count) {
    const value = values[i]!;
    let j = i + 1;
    while (j < count && values[j] === value) j++;
    if (j - i >= 8) {
      varint(out, (j - i) * 2);
      for (let b = 0; b < valueBytes; b++) out.u8((value >>> (8 * b)) & 0xff);
      i = j;
      continue;
    }
    // Bit-pack groups of 8 until a group boundary where a run of 8 equal values begins.
    const start = i;
    let groups = 0;
    do {
      groups++;
      i += 8;
    } while (i < count && !startsRun(values, i, count));
    varint(out, (groups << 1) | 1);
    out.ensure(groups * width);
    let acc = 0;
    let bits = 0;
    const end = start + groups * 8;
    for (let k = start; k < end; k++) {
      acc |= (k < count ? values[k]! : 0) << bits;
      bits += width;
      while (bits >= 8) {
        out.bytes[out.length++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    i = Math.min(i, count);
  }
}

function startsRun(values: ArrayLike<number>, at: number, count: number): boolean {
  if (at + 8 > count) return false;
  const value = values[at];
  for (let k = at + 1; k < at + 8; k++) if (values[k] !== value) return false;
  return true;
}

/** One RLE run: the definition levels of a page without NULLs, in 2–6 bytes. */
export function encodeRun(value: number, count: number, width: number, out: ByteBuffer): void {
  varint(out, count * 2);
  const valueBytes = (width + 7) >> 3;
  for (let b = 0; b < valueBytes; b++) out.u8((value >>> (8 * b)) & 0xff);
}
