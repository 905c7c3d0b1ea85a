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
const BASE64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const TWO_POW_32 = 4_294_967_296;
/** Integers below this in magnitude are exact and their digits cheap. */
const SAFE = 2 ** 53;

/**
 * Writers take the output buffer and a position and return the position after what they wrote.
 * They never check for room: encodeRows sizes the buffer for the batch's worst case first
 * (maxBytesOf), which keeps every bounds check and property write out of the per-value paths.
 */

/** Digits of a non-negative integer below 2^53. */
function writeDigits(buf: Buffer, pos: number, n: number): number {
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  const end = pos + digits;
  let p = end;
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
  return end;
}

function writeInteger(buf: Buffer, pos: number, n: number): number {
  if (n >= 0) return writeDigits(buf, pos, n);
  buf[pos] = 0x2d; // -
  return writeDigits(buf, pos + 1, -n);
}

function writeLatin1(buf: Buffer, pos: number, text: string): number {
  return pos + buf.write(text, pos, 'latin1');
}

/**
 * `String(value)` without building the string for the common cases: integers, and decimals with
 * up to six fraction digits. A k-digit decimal D is JavaScript's text for `value` when it is the
 * fewest digits that read back as `value`; with |value|·10^k < 2^50 at most one k-digit decimal
 * lies within half a double's spacing, and `fl(D·10^k) / 10^k === value` (both operands exact, so
 * the division is correctly rounded) checks that it reads back. Anything else goes through String.
 */
function writeDouble(buf: Buffer, pos: number, value: number): number {
  if (Number.isInteger(value)) {
    if (value < SAFE && value > -SAFE) return writeInteger(buf, pos, value); // -0 writes "0", as String does
    return writeLatin1(buf, pos, String(value));
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
        if (value < 0) buf[pos++] = 0x2d;
        pos = writeDigits(buf, pos, n);
        buf[pos] = DOT;
        let f = fraction;
        for (let d = k; d >= 1; d--) {
          buf[pos + d] = ZERO + (f % 10);
          f = Math.floor(f / 10);
        }
        return pos + k + 1;
      }
    }
  }
  return writeLatin1(buf, pos, String(value));
}

type FieldWriter = (buf: Buffer, pos: number, row: number) => number;

/** Copies bytes; short runs (most CSV fields) in a loop, as a native copy costs more to call than to run. */
function copyBytes(buf: Buffer, pos: number, data: Buffer, start: number, length: number): number {
  if (length > 32) return pos + data.copy(buf, pos, start, start + length);
  for (let i = 0; i < length; i++) buf[pos + i] = data[start + i]!;
  return pos + length;
}

/** The longest text of one value of each fixed kind (a double's: `-2.2250738585072014e-308`). */
const FIXED_WIDTH: Record<FixedColumn['kind'], number> = { bool: 5, int8: 4, int16: 6, int32: 11, int64: 20, double: 24 };

function fixedWriter(column: FixedColumn): FieldWriter {
  const { values } = column;
  switch (column.kind) {
    case 'bool':
      return (buf, pos, row) => {
        const word = values[row] ? TRUE : FALSE;
        for (let i = 0; i < word.length; i++) buf[pos + i] = word[i]!;
        return pos + word.length;
      };
    case 'int64': {
      const big = values as BigInt64Array;
      const words = new Int32Array(big.buffer, big.byteOffset, big.length * 2);
      return (buf, pos, row) => {
        const high = words[row * 2 + 1]!;
        // Exact as a double while the high word stays within ±2^21.
        if (high < 2_097_152 && high >= -2_097_152) return writeInteger(buf, pos, high * TWO_POW_32 + (words[row * 2]! >>> 0));
        return writeLatin1(buf, pos, big[row]!.toString());
      };
    }
    case 'double': {
      const doubles = values as Float64Array;
      return (buf, pos, row) => writeDouble(buf, pos, doubles[row]!);
    }
    default: {
      const ints = values as Int8Array | Int16Array | Int32Array;
      return (buf, pos, row) => writeInteger(buf, pos, ints[row]!);
    }
  }
}

/**
 * A CSV field of raw text: quoted (quotes doubled) when it holds `"`, `,`, CR or LF; `""` when
 * empty. Copies while it looks, and starts over quoted in the rare case it finds one of those.
 */
function writeTextField(buf: Buffer, pos: number, data: Buffer, start: number, length: number): number {
  if (length === 0) {
    buf[pos] = QUOTE;
    buf[pos + 1] = QUOTE;
    return pos + 2;
  }
  let special = false;
  for (let i = 0; i < length; i++) {
    const b = data[start + i]!;
    buf[pos + i] = b;
    if (b === QUOTE || b === COMMA || b === CR || b === LF) {
      special = true;
      break;
    }
  }
  if (!special) return pos + length;
  let p = pos;
  buf[p++] = QUOTE;
  for (let i = start; i < start + length; i++) {
    const b = data[i]!;
    buf[p++] = b;
    if (b === QUOTE) buf[p++] = QUOTE;
  }
  buf[p++] = QUOTE;
  return p;
}

/** `YYYY-MM-DD HH:MM:SS[.f]` → `YYYY-MM-DDTHH:MM:SS[.f]`, a `.0` fraction dropped. */
function writeTimestamp(buf: Buffer, pos: number, data: Buffer, start: number, length: number): number {
  if (length >= 2 && data[start + length - 2] === DOT && data[start + length - 1] === ZERO) length -= 2;
  let replaced = false;
  for (let i = 0; i < length; i++) {
    const b = data[start + i]!;
    if (b === SPACE && !replaced) {
      buf[pos + i] = 0x54; // T
      replaced = true;
    } else buf[pos + i] = b;
  }
  return pos + length;
}

/** Hive's decimal text, padded with zeros to `scale` fraction digits. */
function writeDecimal(buf: Buffer, pos: number, data: Buffer, start: number, length: number, scale: number): number {
  let dot = -1;
  for (let i = start; i < start + length; i++) {
    if (data[i] === DOT) {
      dot = i;
      break;
    }
  }
  const digits = dot < 0 ? 0 : start + length - dot - 1;
  const pad = digits >= scale ? 0 : scale - digits;
  pos = copyBytes(buf, pos, data, start, length);
  if (pad === 0) return pos;
  if (dot < 0) buf[pos++] = DOT;
  for (let i = 0; i < pad; i++) buf[pos++] = ZERO;
  return pos;
}

function writeBase64(buf: Buffer, pos: number, data: Buffer, start: number, length: number): number {
  if (length === 0) {
    buf[pos] = QUOTE;
    buf[pos + 1] = QUOTE;
    return pos + 2;
  }
  let p = pos;
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
  return p;
}

function bytesWriter(column: BytesColumn, spec: CsvColumn): FieldWriter {
  const data = Buffer.isBuffer(column.data) ? column.data : Buffer.from(column.data.buffer, column.data.byteOffset, column.data.byteLength);
  const { starts, lengths } = column;
  if (column.kind === 'binary') return (buf, pos, row) => writeBase64(buf, pos, data, starts[row]!, lengths[row]!);
  switch (spec.typeId) {
    case TYPE.TIMESTAMP:
      return (buf, pos, row) => writeTimestamp(buf, pos, data, starts[row]!, lengths[row]!);
    case TYPE.DATE:
      return (buf, pos, row) => copyBytes(buf, pos, data, starts[row]!, lengths[row]!);
    case TYPE.DECIMAL: {
      const scale = spec.scale ?? 0;
      if (scale > 0) return (buf, pos, row) => writeDecimal(buf, pos, data, starts[row]!, lengths[row]!, scale);
      return (buf, pos, row) => writeTextField(buf, pos, data, starts[row]!, lengths[row]!);
    }
    default:
      return (buf, pos, row) => writeTextField(buf, pos, data, starts[row]!, lengths[row]!);
  }
}

function writerFor(column: BatchColumn, spec: CsvColumn): FieldWriter {
  return 'values' in column ? fixedWriter(column) : bytesWriter(column, spec);
}

/**
 * The most bytes `rows` rows can take: a text field at worst doubles (every byte a quote) plus
 * its quotes, base64 takes 4/3, a decimal gains its scale and a dot; every row has its commas,
 * CRLF, and at most one `""` for an all-NULL one-column row.
 */
function maxBytesOf(columns: readonly BatchColumn[], specs: readonly CsvColumn[], rows: number): number {
  let bytes = rows * (columns.length + 4);
  columns.forEach((column, c) => {
    if ('values' in column) {
      bytes += rows * FIXED_WIDTH[column.kind];
      return;
    }
    let text = 0;
    for (let row = 0; row < rows; row++) text += column.lengths[row]!;
    bytes += 2 * text + rows * ((specs[c]!.scale ?? 0) + 4);
  });
  return bytes;
}

/** The header line: column names as CSV fields, CRLF. */
export function csvHeaderBytes(names: readonly string[]): Buffer {
  const encoded = names.map((name) => Buffer.from(name, 'utf8'));
  const buf = Buffer.allocUnsafe(encoded.reduce((sum, bytes) => sum + 2 * bytes.length + 3, 2));
  let pos = 0;
  encoded.forEach((bytes, i) => {
    if (i > 0) buf[pos++] = COMMA;
    pos = writeTextField(buf, pos, bytes, 0, bytes.length);
  });
  buf[pos++] = CR;
  buf[pos++] = LF;
  return buf.subarray(0, pos);
}

/**
 * CSV as a BatchEncoder: the header, then whole rows within the caps. Rows are written into one
 * scratch buffer, kept between batches and sized for the batch's worst case, and each batch's
 * bytes leave in a buffer of their own (the caller may hand it to another thread): a new one, or
 * one from `allocate` (an encode worker's ChunkBufferPool).
 */
export class CsvEncoder implements BatchEncoder {
  private written = 0;
  private scratch = Buffer.alloc(0);

  constructor(
    private readonly specs: readonly CsvColumn[],
    private readonly names: readonly string[] = [],
    private readonly allocate: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafeSlow(bytes),
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
    const room = maxBytesOf(batch.columns, this.specs, rowCount);
    if (this.scratch.length < room) this.scratch = Buffer.allocUnsafeSlow(Math.ceil(room * 1.25));
    const buf = this.scratch;
    const writers = batch.columns.map((column, i) => writerFor(column, this.specs[i]!));
    const nulls = batch.columns.map((column) => column.nulls);
    let pos = 0;
    let rows = 0;
    for (let row = 0; row < rowCount; row++) {
      const rowStart = pos;
      const byte = row >> 3;
      const bit = 1 << (row & 7);
      for (let c = 0; c < width; c++) {
        if (c > 0) buf[pos++] = COMMA;
        const mask = nulls[c]!;
        if (byte < mask.length && (mask[byte]! & bit) !== 0) continue;
        pos = writers[c]!(buf, pos, row);
      }
      if (pos === rowStart) {
        // One column holding NULL: an empty field would be an empty line.
        buf[pos++] = QUOTE;
        buf[pos++] = QUOTE;
      }
      buf[pos++] = CR;
      buf[pos++] = LF;
      if (pos > maxBytes) {
        pos = rowStart;
        break;
      }
      rows++;
    }
    if (pos === 0) return { bytes: Buffer.alloc(0), rows };
    const bytes = this.allocate(pos);
    buf.copy(bytes, 0, 0, pos);
    return { bytes, rows };
  }
}
