/**
 * Builds one column's chunk of the current row group: values go into a page buffer (PLAIN, or
 * dictionary ids for byte-array columns), a page is compressed and kept once it reaches its size
 * or row limit, and `finishChunk` hands back the whole chunk, its pages in file order (dictionary
 * page first), as one buffer.
 * Data pages are DataPage V1 with RLE definition levels (max level 1: every column is optional),
 * the layout every Parquet reader accepts.
 *
 * Byte-array columns start dictionary-encoded (the repeated asset ids, point names and codes of
 * time series shrink to a few bits per value) and fall back to PLAIN for the rest of the chunk
 * once the dictionary outgrows `DICTIONARY_LIMIT`, as parquet-mr and Arrow do.
 */
import type { BatchColumn, BytesColumn, FixedColumn } from '../../hive/column-batch.js';
import { ByteBuffer } from './byte-buffer.js';
import { ByteDictionary } from './byte-dictionary.js';
import type { PageCodec } from './compression.js';
import { parseDate, parseDecimal, parseTimestamp, type Int64Words, type Unscaled } from './hive-text.js';
import { bitWidth, encodeHybrid, encodeRun } from './rle.js';
import type { ColumnPlan } from './schema.js';
import { CompactWriter } from './thrift-compact.js';

export const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** Dictionary page size past which a chunk falls back to PLAIN (parquet-mr and Arrow use 1 MiB). */
const DICTIONARY_LIMIT = 1024 * 1024;
const TWO_32 = 2 ** 32;

export interface PageLimits {
  /** Uncompressed value bytes that close a page. */
  pageBytes: number;
  /** Rows that close a page (Arrow's default is 20,000). */
  pageRows: number;
}

export interface ChunkStatistics {
  nullCount: number;
  /** PLAIN-encoded min and max, for integer-like columns with at least one value. */
  min?: Uint8Array;
  max?: Uint8Array;
}

export interface ChunkResult {
  /**
   * The column chunk: page headers and page bodies in file order, in one buffer of exactly its
   * size that nothing else references (the export moves it to another thread, see
   * exports/row-set-encoding.ts).
   */
  bytes: Uint8Array;
  compressedBytes: number;
  uncompressedBytes: number;
  /** Bytes of the dictionary page (header + body) before the first data page; 0 without one. */
  dictionaryPageBytes: number;
  numValues: number;
  encodings: number[];
  statistics: ChunkStatistics;
}

function isNullAt(nulls: Uint8Array, row: number): boolean {
  return ((nulls[row >> 3] ?? 0) & (1 << (row & 7))) !== 0;
}

/** True when no row in [from, to) may be NULL (whole bitmap bytes checked, so edges are conservative). */
function noNulls(nulls: Uint8Array, from: number, to: number): boolean {
  const last = Math.min((to - 1) >> 3, nulls.length - 1);
  for (let b = from >> 3; b <= last; b++) if (nulls[b] !== 0) return false;
  return true;
}

export class ColumnChunkWriter {
  private readonly values = new ByteBuffer(64 * 1024);
  private readonly body = new ByteBuffer(64 * 1024);
  private defs = new Uint8Array(4096);
  private indices = new Int32Array(4096);
  private pageRows = 0;
  private pageValues = 0;
  private boolBits = 0;
  private readonly dictionary: ByteDictionary | undefined;
  private dictionaryOn: boolean;
  private usedDictionary = false;
  private usedPlain = false;

  /**
   * The row group's compressed pages of this column, copied in as each page closes. One buffer
   * reused from row group to row group: a page kept as the compressor's own Buffer would live
   * through the whole row group and end as old-generation garbage in the encode worker, which
   * V8 frees only at a full collection (glibc's arena held ~45 MB of them at 10M rows).
   */
  private readonly pages = new ByteBuffer(64 * 1024);
  private pagesCompressed = 0;
  private pagesUncompressed = 0;
  private chunkValues = 0;
  private chunkNulls = 0;
  private hasMinMax = false;
  private minHi = 0;
  private minLo = 0;
  private maxHi = 0;
  private maxLo = 0;

  private readonly words: Int64Words = { lo: 0, hi: 0 };
  private readonly unscaled: Unscaled = { small: 0, big: undefined };
  private readonly fixed: Uint8Array;

  constructor(
    private readonly plan: ColumnPlan,
    private readonly codec: PageCodec,
    private readonly limits: PageLimits,
    /** Where `finishChunk` gathers the chunk: exactly its bytes, in a buffer no one else writes to until they are handed back. */
    private readonly allocate: (bytes: number) => Uint8Array,
  ) {
    this.dictionary = plan.value === 'bytes' ? new ByteDictionary() : undefined;
    this.dictionaryOn = this.dictionary !== undefined;
    this.fixed = new Uint8Array(plan.typeLength ?? 0);
  }

  /** Memory this column holds for the row group: kept pages, the open page, the dictionary. */
  get bufferedBytes(): number {
    return this.pagesCompressed + this.values.length + this.pageRows + this.pageValues * 4 + (this.dictionary?.page.length ?? 0);
  }

  append(column: BatchColumn, from: number, to: number): void {
    if (column.kind !== this.plan.batchKind) {
      throw new Error(`column ${this.plan.name} (${this.plan.hiveType}): Hive sent ${column.kind} values where ${this.plan.batchKind} was expected`);
    }
    const count = to - from;
    this.reserve(count);
    const nullFree = noNulls(column.nulls, from, to);
    const defs = this.defs;
    const base = this.pageRows;
    if (nullFree) defs.fill(1, base, base + count);
    else for (let r = from; r < to; r++) defs[base + r - from] = isNullAt(column.nulls, r) ? 0 : 1;

    if ('starts' in column) this.appendBytesColumn(column, from, to, nullFree);
    else this.appendFixed(column, from, to, nullFree);
    this.pageRows += count;

    if (this.dictionaryOn && this.dictionary!.page.length > DICTIONARY_LIMIT) {
      this.flushPage();
      this.dictionaryOn = false;
    } else if (this.values.length >= this.limits.pageBytes || this.pageRows >= this.limits.pageRows) {
      this.flushPage();
    }
  }

  private reserve(count: number): void {
    const rows = this.pageRows + count;
    if (rows > this.defs.length) {
      const defs = new Uint8Array(Math.max(rows, this.defs.length * 2));
      defs.set(this.defs.subarray(0, this.pageRows));
      this.defs = defs;
    }
    if (this.dictionary && this.pageValues + count > this.indices.length) {
      const indices = new Int32Array(Math.max(this.pageValues + count, this.indices.length * 2));
      indices.set(this.indices.subarray(0, this.pageValues));
      this.indices = indices;
    }
  }

  private trackMinMax(lo: number, hi: number): void {
    if (!this.hasMinMax) {
      this.hasMinMax = true;
      this.minLo = this.maxLo = lo;
      this.minHi = this.maxHi = hi;
      return;
    }
    if (hi < this.minHi || (hi === this.minHi && lo < this.minLo)) {
      this.minHi = hi;
      this.minLo = lo;
    }
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) {
      this.maxHi = hi;
      this.maxLo = lo;
    }
  }

  private appendFixed(column: FixedColumn, from: number, to: number, nullFree: boolean): void {
    const v = column.values;
    const out = this.values;
    const defs = this.defs;
    const base = this.pageRows - from;
    const minMax = this.plan.minMax;
    switch (this.plan.value) {
      case 'int32':
      case 'int16':
      case 'int8': {
        if (nullFree && this.plan.value === 'int32') {
          out.append(new Uint8Array(v.buffer, v.byteOffset + from * 4, (to - from) * 4));
          if (minMax) for (let r = from; r < to; r++) this.trackMinMax(v[r] as number, 0);
          break;
        }
        for (let r = from; r < to; r++) {
          if (defs[base + r] === 0) continue;
          const value = v[r] as number;
          out.i32(value);
          if (minMax) this.trackMinMax(value, 0);
        }
        break;
      }
      case 'int64': {
        // The 8 raw bytes, never through a double: BIGINT beyond 2^53 stays exact.
        const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
        if (nullFree) out.append(new Uint8Array(v.buffer, v.byteOffset + from * 8, (to - from) * 8));
        for (let r = from; r < to; r++) {
          if (defs[base + r] === 0) continue;
          const lo = w[2 * r]! >>> 0;
          const hi = w[2 * r + 1]!;
          if (!nullFree) out.i64Words(lo, hi);
          this.trackMinMax(lo, hi);
        }
        break;
      }
      case 'double': {
        if (nullFree) out.append(new Uint8Array(v.buffer, v.byteOffset + from * 8, (to - from) * 8));
        else for (let r = from; r < to; r++) if (defs[base + r] !== 0) out.f64(v[r] as number);
        break;
      }
      case 'float': {
        for (let r = from; r < to; r++) if (defs[base + r] !== 0) out.f32(v[r] as number);
        break;
      }
      case 'bool': {
        let bits = this.boolBits;
        out.ensure(((bits + (to - from) + 7) >> 3) - out.length + 1);
        for (let r = from; r < to; r++) {
          if (defs[base + r] === 0) continue;
          const at = bits >> 3;
          if ((bits & 7) === 0) out.bytes[at] = 0;
          if (v[r]) out.bytes[at] = out.bytes[at]! | (1 << (bits & 7));
          bits++;
        }
        this.boolBits = bits;
        out.length = (bits + 7) >> 3;
        break;
      }
      default:
        throw new Error(`column ${this.plan.name}: no fixed-width writer for ${this.plan.value}`);
    }
    this.pageValues += nullFree ? to - from : this.countValues(from, to);
  }

  private countValues(from: number, to: number): number {
    let count = 0;
    const defs = this.defs;
    for (let i = this.pageRows, end = this.pageRows + (to - from); i < end; i++) count += defs[i]!;
    return count;
  }

  private appendBytesColumn(column: BytesColumn, from: number, to: number, nullFree: boolean): void {
    const { data, starts, lengths } = column;
    const defs = this.defs;
    const base = this.pageRows - from;
    const out = this.values;
    const name = this.plan.name;
    let valueCount = this.pageValues;
    switch (this.plan.value) {
      case 'bytes': {
        if (this.dictionaryOn) {
          const dictionary = this.dictionary!;
          const indices = this.indices;
          for (let r = from; r < to; r++) {
            if (!nullFree && defs[base + r] === 0) continue;
            indices[valueCount++] = dictionary.idOf(data, starts[r]!, lengths[r]!);
          }
        } else {
          for (let r = from; r < to; r++) {
            if (!nullFree && defs[base + r] === 0) continue;
            const start = starts[r]!;
            const length = lengths[r]!;
            out.i32(length);
            out.append(data, start, start + length);
            valueCount++;
          }
        }
        break;
      }
      case 'date': {
        for (let r = from; r < to; r++) {
          if (!nullFree && defs[base + r] === 0) continue;
          const days = parseDate(name, data, starts[r]!, lengths[r]!);
          out.i32(days);
          this.trackMinMax(days, 0);
          valueCount++;
        }
        break;
      }
      case 'timestamp': {
        const words = this.words;
        for (let r = from; r < to; r++) {
          if (!nullFree && defs[base + r] === 0) continue;
          parseTimestamp(name, data, starts[r]!, lengths[r]!, words);
          out.i64Words(words.lo, words.hi);
          this.trackMinMax(words.lo, words.hi);
          valueCount++;
        }
        break;
      }
      case 'decimal32':
      case 'decimal64':
      case 'decimalFixed': {
        const precision = this.plan.precision!;
        const scale = this.plan.scale!;
        const unscaled = this.unscaled;
        for (let r = from; r < to; r++) {
          if (!nullFree && defs[base + r] === 0) continue;
          parseDecimal(name, precision, scale, data, starts[r]!, lengths[r]!, unscaled);
          this.writeDecimal(unscaled);
          valueCount++;
        }
        break;
      }
      default:
        throw new Error(`column ${name}: no text writer for ${this.plan.value}`);
    }
    this.pageValues = valueCount;
  }

  private writeDecimal(value: Unscaled): void {
    let lo: number;
    let hi: number;
    if (value.big === undefined) {
      hi = Math.floor(value.small / TWO_32);
      lo = value.small - hi * TWO_32;
    } else {
      lo = Number(BigInt.asUintN(32, value.big));
      hi = Number(BigInt.asIntN(32, value.big >> 32n));
    }
    if (this.plan.value === 'decimal32') this.values.i32(lo | 0);
    else if (this.plan.value === 'decimal64') this.values.i64Words(lo, hi);
    else {
      // Big-endian two's complement in typeLength bytes (Parquet's DECIMAL on FIXED_LEN_BYTE_ARRAY).
      const out = this.fixed;
      const n = out.length;
      const words = [lo, hi >>> 0, 0, 0];
      if (value.big === undefined) words[2] = words[3] = hi < 0 ? 0xffffffff : 0;
      else {
        const wide = BigInt.asUintN(128, value.big);
        words[2] = Number((wide >> 64n) & 0xffffffffn);
        words[3] = Number((wide >> 96n) & 0xffffffffn);
      }
      for (let k = 0; k < n; k++) out[n - 1 - k] = (words[k >> 2]! >>> (8 * (k & 3))) & 0xff;
      this.values.append(out);
    }
  }

  private flushPage(): void {
    if (this.pageRows === 0) return;
    const body = this.body;
    body.reset();
    // Definition levels: 4-byte length, then the hybrid runs.
    body.i32(0);
    if (this.pageValues === this.pageRows) encodeRun(1, this.pageRows, 1, body);
    else encodeHybrid(this.defs, this.pageRows, 1, body);
    body.view.setInt32(0, body.length - 4, true);

    let encoding: number = Encoding.PLAIN;
    if (this.dictionaryOn && this.pageValues > 0) {
      encoding = Encoding.RLE_DICTIONARY;
      const width = bitWidth(this.dictionary!.size - 1);
      body.u8(width);
      encodeHybrid(this.indices, this.pageValues, width, body);
      this.usedDictionary = true;
    } else {
      body.append(this.values.bytes, 0, this.values.length);
      this.usedPlain = true;
    }
    const uncompressed = body.written();
    const compressed = this.codec.compress(uncompressed);
    const header = new CompactWriter()
      .i32(1, PageType.DATA_PAGE).i32(2, uncompressed.length).i32(3, compressed.length)
      .struct(5).i32(1, this.pageRows).i32(2, encoding).i32(3, Encoding.RLE).i32(4, Encoding.RLE).end()
      .end().toBytes();
    this.keep(header, compressed, uncompressed.length);
    this.chunkValues += this.pageRows;
    this.chunkNulls += this.pageRows - this.pageValues;
    this.pageRows = 0;
    this.pageValues = 0;
    this.boolBits = 0;
    this.values.reset();
  }

  private keep(header: Uint8Array, compressed: Uint8Array, uncompressedLength: number): void {
    this.pages.append(header);
    this.pages.append(compressed);
    this.pagesCompressed += header.length + compressed.length;
    this.pagesUncompressed += header.length + uncompressedLength;
  }

  finishChunk(): ChunkResult {
    this.flushPage();
    let dictionaryPage: Uint8Array[] = [];
    let dictionaryPageBytes = 0;
    if (this.usedDictionary) {
      const dictionary = this.dictionary!;
      const page = dictionary.page.written();
      const compressed = this.codec.compress(page);
      const header = new CompactWriter()
        .i32(1, PageType.DICTIONARY_PAGE).i32(2, page.length).i32(3, compressed.length)
        .struct(7).i32(1, dictionary.size).i32(2, Encoding.PLAIN).end()
        .end().toBytes();
      dictionaryPage = [header, compressed];
      dictionaryPageBytes = header.length + compressed.length;
      this.pagesCompressed += dictionaryPageBytes;
      this.pagesUncompressed += header.length + page.length;
    }
    const encodings: number[] = [Encoding.RLE];
    if (this.usedPlain || this.usedDictionary) encodings.push(Encoding.PLAIN);
    if (this.usedDictionary) encodings.push(Encoding.RLE_DICTIONARY);
    const statistics: ChunkStatistics = { nullCount: this.chunkNulls };
    if (this.hasMinMax) {
      statistics.min = this.plainStat(this.minLo, this.minHi);
      statistics.max = this.plainStat(this.maxLo, this.maxHi);
    }
    const chunk = this.allocate(dictionaryPageBytes + this.pages.length);
    let at = 0;
    for (const part of [...dictionaryPage, this.pages.written()]) {
      chunk.set(part, at);
      at += part.length;
    }
    const result: ChunkResult = {
      bytes: chunk, compressedBytes: this.pagesCompressed, uncompressedBytes: this.pagesUncompressed, dictionaryPageBytes,
      numValues: this.chunkValues, encodings, statistics,
    };
    this.pages.reset();
    this.pagesCompressed = 0;
    this.pagesUncompressed = 0;
    this.chunkValues = 0;
    this.chunkNulls = 0;
    this.hasMinMax = false;
    this.usedDictionary = false;
    this.usedPlain = false;
    this.dictionary?.reset();
    this.dictionaryOn = this.dictionary !== undefined;
    return result;
  }

  private plainStat(lo: number, hi: number): Uint8Array {
    const is64 = this.plan.physical === 2;
    const bytes = new Uint8Array(is64 ? 8 : 4);
    const view = new DataView(bytes.buffer);
    if (is64) {
      view.setUint32(0, lo, true);
      view.setInt32(4, hi, true);
    } else view.setInt32(0, lo, true);
    return bytes;
  }
}

