/**
 * ColumnBatch → RFC 4180 CSV bytes, written straight into a Buffer row by row: numbers formatted
 * into ASCII digits, strings copied from the frame they arrived in (quoted only when they hold a
 * `"`, `,`, CR or LF), no JS string per value on the common paths.
 *
 * The bytes are the contract (test/unit/formats/csv-encoder.test.ts holds them to the reference
 * encoder over random row sets): NULL is an empty field, an empty string `""`, and in a
 * one-column result a NULL is `""` too (an empty line would be skipped by pandas and other
 * readers: rows would go missing). BIGINT exact from its 64 bits; DOUBLE/FLOAT as JavaScript's
 * shortest round-trip text (`String(x)`: `0.1`, `1e+21`); DECIMAL as Hive's text padded to the
 * column's scale; DATE as sent; TIMESTAMP as ISO 8601 local date-time (`T`, Hive 2.3's `.0` on a
 * whole second dropped); BINARY as base64 (an empty value `""`); booleans `true`/`false`; every
 * other type (STRING, CHAR, VARCHAR, complex types' JSON, intervals, local-time-zone timestamps)
 * as the text Hive sends.
 */
import type { BatchColumn, BytesColumn, ColumnBatch, FixedColumn } from '../hive/column-batch.js';
import { TYPE_ID as TYPE } from '../hive/result-schema.js';
import type { BatchEncoder, EncodedChunk } from './encoder.js';

/** What the encoder needs of a result column (ResultColumn has it). */
export interface CsvColumn {
  typeId: number;
  /** DECIMAL scale: values are padded to it, as HiveServer2 pads them in columnar results. */
  scale?: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const ZERO = 0x30;
const DOT = 0x2e;

/** "00".."99", for two digits a step. */
const PAIRS = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''), 'latin1');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const EMPTY_QUOTED = Buffer.from('""');
const BASE64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const TWO_POW_32 = 4_294_967_296;
/** Integers below this in magnitude are exact and their digits cheap. */
const SAFE = 2 ** 53;

/** A growable output buffer. */
class Out {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 1024));
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/** Digits of a non-negative integer below 2^53. */
function writeDigits(out: Out, n: number): void {
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  out.ensure(digits);
  const buf = out.buf;
  let p = out.pos + digits;
  out.pos = p;
  while (n >= 100) {
    const rest = n % 100;
    n = (n - rest) / 100;
    buf[--p] = PAIRS[rest * 2 + 1]!;
    buf[--p] = PAIRS[rest * 2]!;
  }
  if (n >= 10) {
    buf[--p] = PAIRS[n * 2 + 1]!;
    buf[--p] = PAIRS[n * 2]!;
  } else buf[--p] = ZERO + n;
}

function writeInteger(out: Out, n: number): void {
  if (n < 0) {
    out.ensure(1);
    out.buf[out.pos++] = 0x2d; // -
    writeDigits(out, -n);
  } else writeDigits(out, n);
}

function writeLatin1(out: Out, text: string): void {
  out.ensure(text.length);
  out.pos += out.buf.write(text, out.pos, 'latin1');
}

/**
 * `String(value)` without building the string for the common cases: integers, and decimals with
 * up to six fraction digits. A k-digit decimal D is JavaScript's text for `value` when it is the
 * fewest digits that read back as `value`; with |value|·10^k < 2^50 at most one k-digit decimal
 * lies within half a double's spacing, and `fl(D·10^k) / 10^k === value` (both operands exact, so
 * the division is correctly rounded) checks that it reads back. Anything else goes through String.
 */
function writeDouble(out: Out, value: number): void {
  if (Number.isInteger(value)) {
    if (value < SAFE && value > -SAFE) return writeInteger(out, value); // -0 writes "0", as String does
    return writeLatin1(out, String(value));
  }
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-6 && magnitude < 1e9) {
    for (let k = 1; k <= 6; k++) {
      const scaled = value * POW10[k]!;
      if (Math.abs(scaled) >= 2 ** 50) break;
      if (Number.isInteger(scaled) && scaled / POW10[k]! === value) {
        let n = Math.abs(scaled);
        const fraction = n % POW10[k]!;
        // A trailing zero means a shorter text reads back too (its product was not exact): let String decide.
        if (fraction % 10 === 0) break;
        n = (n - fraction) / POW10[k]!;
        if (value < 0) {
          out.ensure(1);
          out.buf[out.pos++] = 0x2d;
        }
        writeDigits(out, n);
        out.ensure(k + 1);
        const buf = out.buf;
        buf[out.pos] = DOT;
        let f = fraction;
        for (let d = k; d >= 1; d--) {
          buf[out.pos + d] = ZERO + (f % 10);
          f = Math.floor(f / 10);
        }
        out.pos += k + 1;
        return;
      }
    }
  }
  writeLatin1(out, String(value));
}

type FieldWriter = (out: Out, row: number) => void;

function fixedWriter(column: FixedColumn): FieldWriter {
  const { values } = column;
  switch (column.kind) {
    case 'bool':
      return (out, row) => {
        const word = values[row] ? TRUE : FALSE;
        out.ensure(5);
        word.copy(out.buf, out.pos);
        out.pos += word.length;
      };
    case 'int64': {
      const big = values as BigInt64Array;
      const words = new Int32Array(big.buffer, big.byteOffset, big.length * 2);
      return (out, row) => {
        const high = words[row * 2 + 1]!;
        // Exact as a double while the high word stays within ±2^21.
        if (high < 2_097_152 && high >= -2_097_152) writeInteger(out, high * TWO_POW_32 + (words[row * 2]! >>> 0));
        else writeLatin1(out, big[row]!.toString());
      };
    }
    case 'double': {
      const doubles = values as Float64Array;
      return (out, row) => writeDouble(out, doubles[row]!);
    }
    default: {
      const ints = values as Int8Array | Int16Array | Int32Array;
      return (out, row) => writeInteger(out, ints[row]!);
    }
  }
}

/** A CSV field of raw text: quoted (quotes doubled) when it holds `"`, `,`, CR or LF; `""` when empty. */
function writeTextField(out: Out, data: Buffer, start: number, length: number): void {
  if (length === 0) {
    out.ensure(2);
    out.buf[out.pos++] = QUOTE;
    out.buf[out.pos++] = QUOTE;
    return;
  }
  const end = start + length;
  let quotes = 0;
  let special = false;
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    if (b === QUOTE) {
      quotes++;
      special = true;
    } else if (b === COMMA || b === CR || b === LF) special = true;
  }
  if (!special) {
    out.ensure(length);
    data.copy(out.buf, out.pos, start, end);
    out.pos += length;
    return;
  }
  out.ensure(length + quotes + 2);
  const buf = out.buf;
  let p = out.pos;
  buf[p++] = QUOTE;
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    buf[p++] = b;
    if (b === QUOTE) buf[p++] = QUOTE;
  }
  buf[p++] = QUOTE;
  out.pos = p;
}

function writeRaw(out: Out, data: Buffer, start: number, length: number): void {
  out.ensure(length);
  data.copy(out.buf, out.pos, start, start + length);
  out.pos += length;
}

/** `YYYY-MM-DD HH:MM:SS[.f]` → `YYYY-MM-DDTHH:MM:SS[.f]`, a `.0` fraction dropped. */
function writeTimestamp(out: Out, data: Buffer, start: number, length: number): void {
  if (length >= 2 && data[start + length - 2] === DOT && data[start + length - 1] === ZERO) length -= 2;
  out.ensure(length);
  const buf = out.buf;
  let replaced = false;
  for (let i = 0; i < length; i++) {
    const b = data[start + i]!;
    if (b === SPACE && !replaced) {
      buf[out.pos + i] = 0x54; // T
      replaced = true;
    } else buf[out.pos + i] = b;
  }
  out.pos += length;
}

/** Hive's decimal text, padded with zeros to `scale` fraction digits. */
function writeDecimal(out: Out, data: Buffer, start: number, length: number, scale: number): void {
  let dot = -1;
  for (let i = start; i < start + length; i++) {
    if (data[i] === DOT) {
      dot = i;
      break;
    }
  }
  const digits = dot < 0 ? 0 : start + length - dot - 1;
  const pad = digits >= scale ? 0 : scale - digits;
  out.ensure(length + pad + 1);
  data.copy(out.buf, out.pos, start, start + length);
  out.pos += length;
  if (pad === 0) return;
  if (dot < 0) out.buf[out.pos++] = DOT;
  out.buf.fill(ZERO, out.pos, out.pos + pad);
  out.pos += pad;
}

function writeBase64(out: Out, data: Buffer, start: number, length: number): void {
  if (length === 0) {
    out.ensure(2);
    EMPTY_QUOTED.copy(out.buf, out.pos);
    out.pos += 2;
    return;
  }
  out.ensure(Math.ceil(length / 3) * 4);
  const buf = out.buf;
  let p = out.pos;
  const end = start + length;
  let i = start;
  for (; i + 3 <= end; i += 3) {
    const n = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    buf[p++] = BASE64[n >> 18]!;
    buf[p++] = BASE64[(n >> 12) & 63]!;
    buf[p++] = BASE64[(n >> 6) & 63]!;
    buf[p++] = BASE64[n & 63]!;
  }
  if (i < end) {
    const n = (data[i]! << 16) | ((i + 1 < end ? data[i + 1]! : 0) << 8);
    buf[p++] = BASE64[n >> 18]!;
    buf[p++] = BASE64[(n >> 12) & 63]!;
    buf[p++] = i + 1 < end ? BASE64[(n >> 6) & 63]! : 0x3d;
    buf[p++] = 0x3d; // =
  }
  out.pos = p;
}

function bytesWriter(column: BytesColumn, spec: CsvColumn): FieldWriter {
  const data = Buffer.isBuffer(column.data) ? column.data : Buffer.from(column.data.buffer, column.data.byteOffset, column.data.byteLength);
  const { starts, lengths } = column;
  if (column.kind === 'binary') return (out, row) => writeBase64(out, data, starts[row]!, lengths[row]!);
  switch (spec.typeId) {
    case TYPE.TIMESTAMP:
      return (out, row) => writeTimestamp(out, data, starts[row]!, lengths[row]!);
    case TYPE.DATE:
      return (out, row) => writeRaw(out, data, starts[row]!, lengths[row]!);
    case TYPE.DECIMAL: {
      const scale = spec.scale ?? 0;
      if (scale > 0) return (out, row) => writeDecimal(out, data, starts[row]!, lengths[row]!, scale);
      return (out, row) => writeTextField(out, data, starts[row]!, lengths[row]!);
    }
    default:
      return (out, row) => writeTextField(out, data, starts[row]!, lengths[row]!);
  }
}

function writerFor(column: BatchColumn, spec: CsvColumn): FieldWriter {
  return 'values' in column ? fixedWriter(column) : bytesWriter(column, spec);
}

/** The header line: column names as CSV fields, CRLF. */
export function csvHeaderBytes(names: readonly string[]): Buffer {
  const out = new Out(256);
  names.forEach((name, i) => {
    if (i > 0) {
      out.ensure(1);
      out.buf[out.pos++] = COMMA;
    }
    const bytes = Buffer.from(name, 'utf8');
    writeTextField(out, bytes, 0, bytes.length);
  });
  out.ensure(2);
  out.buf[out.pos++] = CR;
  out.buf[out.pos++] = LF;
  return out.buf.subarray(0, out.pos);
}

/**
 * CSV as a BatchEncoder: the header, then whole rows within the caps. Keeps an estimate of bytes
 * per row to size its buffer, so a steady stream allocates one buffer per batch.
 */
export class CsvEncoder implements BatchEncoder {
  private bytesPerRow = 64;
  private written = 0;

  constructor(
    private readonly specs: readonly CsvColumn[],
    private readonly names: readonly string[] = [],
  ) {}

  get bytes(): number {
    return this.written;
  }

  start(): Buffer[] {
    const header = csvHeaderBytes(this.names);
    this.written += header.length;
    return [header];
  }

  finish(): Buffer[] {
    return [];
  }

  encode(batch: ColumnBatch, maxRows = Infinity, maxBytes = Infinity): EncodedChunk {
    const { bytes, rows } = this.encodeRows(batch, maxRows, maxBytes - this.written);
    this.written += bytes.length;
    return { chunks: bytes.length > 0 ? [bytes] : [], rows };
  }

  /** Whole rows of `batch`, at most `maxRows`, in at most `maxBytes` bytes. */
  encodeRows(batch: ColumnBatch, maxRows = Infinity, maxBytes = Infinity): { bytes: Buffer; rows: number } {
    const rowCount = Math.min(batch.rowCount, maxRows);
    if (rowCount <= 0) return { bytes: Buffer.alloc(0), rows: 0 };
    const width = this.specs.length;
    if (batch.columns.length !== width) throw new Error(`Hive sent ${batch.columns.length} columns but the schema has ${width}`);
    const writers = batch.columns.map((column, i) => writerFor(column, this.specs[i]!));
    const nulls = batch.columns.map((column) => column.nulls);
    const out = new Out(Math.ceil(rowCount * this.bytesPerRow * 1.1) + 64);
    let rows = 0;
    for (let row = 0; row < rowCount; row++) {
      const rowStart = out.pos;
      const byte = row >> 3;
      const bit = 1 << (row & 7);
      for (let c = 0; c < width; c++) {
        if (c > 0) {
          out.ensure(1);
          out.buf[out.pos++] = COMMA;
        }
        const mask = nulls[c]!;
        if (byte < mask.length && (mask[byte]! & bit) !== 0) continue;
        writers[c]!(out, row);
      }
      if (out.pos === rowStart) {
        // One column holding NULL: an empty field would be an empty line.
        out.ensure(2);
        out.buf[out.pos++] = QUOTE;
        out.buf[out.pos++] = QUOTE;
      }
      out.ensure(2);
      out.buf[out.pos++] = CR;
      out.buf[out.pos++] = LF;
      if (out.pos > maxBytes) {
        out.pos = rowStart;
        break;
      }
      rows++;
    }
    if (rows > 0) this.bytesPerRow = out.pos / rows;
    return { bytes: out.buf.subarray(0, out.pos), rows };
  }
}
