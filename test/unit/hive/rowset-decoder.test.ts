/**
 * The fast path (rowset-decoder.ts + formats/csv-encoder.ts) against the reference (thrift's
 * generated decoder + the connector's earlier encoder, test/support/reference-csv.ts) on random
 * row sets of every type: the same bytes, for columnar and serialized (compact) row sets, under
 * row and byte caps. And what it refuses: nothing is ever decoded into fewer rows.
 */
import { describe, expect, it } from 'vitest';
import { CsvEncoder, type CsvColumn } from '../../../app/src/formats/csv-encoder.js';
import { TYPE_ID } from '../../../app/src/hive/result-schema.js';
import { RowSetDecodeError, decodeFetchResultsResult } from '../../../app/src/hive/rowset-decoder.js';
import { csvRows as referenceRows, type ThriftColumn } from '../../support/reference-csv.js';
import { compactColumns, fastBatch, fetchResultBytes, generatedRowSet } from '../../support/thrift-rowsets.js';

/** mulberry32: a small seeded generator, so a failure can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof random>;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const TEXT_PIECES = ['a', 'Zürich', '⚡', '風力', '😀', '"', ',', '\r', '\n', ' ', 'x'.repeat(20), '', '\t', '\\', "'", 'é'];

function text(rng: Rng): string {
  let value = '';
  for (let i = rng.int(0, 6); i > 0; i--) value += rng.pick(TEXT_PIECES);
  return value;
}

function double(rng: Rng): number {
  switch (rng.int(0, 9)) {
    case 0:
      return rng.pick([0, -0, 1e21, -1e21, 1e-7, 5e-324, Number.MAX_VALUE, -Number.MIN_VALUE, 0.1 + 0.2, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, 1e15 + 0.3]);
    case 1:
      return rng.int(-1_000_000, 1_000_000);
    case 2:
    case 3:
    case 4:
      return rng.int(-10_000_000, 10_000_000) / 10 ** rng.int(1, 7);
    case 5:
      return Math.fround(rng.int(-100_000, 100_000) / 10 ** rng.int(0, 4)); // a FLOAT's double
    case 6:
      return (rng.next() - 0.5) * 10 ** rng.int(-12, 25);
    default: {
      const bytes = Buffer.alloc(8);
      for (let i = 0; i < 8; i++) bytes[i] = rng.int(0, 255);
      return bytes.readDoubleBE(0);
    }
  }
}

function int64(rng: Rng): bigint {
  switch (rng.int(0, 4)) {
    case 0:
      return rng.pick([0n, -1n, 1n, 9007199254740992n, 9007199254740993n, -9007199254740993n, 2n ** 63n - 1n, -(2n ** 63n), (2097152n << 32n) - 1n, -(2097152n << 32n), 2097152n << 32n]);
    case 1:
      return BigInt(rng.int(-1_000_000, 1_000_000));
    default: {
      const bytes = Buffer.alloc(8);
      for (let i = 0; i < 8; i++) bytes[i] = rng.int(0, 255);
      return bytes.readBigInt64BE(0);
    }
  }
}

function timestamp(rng: Rng): string {
  const base = `${pad(rng.int(1, 9999), 4)}-${pad(rng.int(1, 12), 2)}-${pad(rng.int(1, 28), 2)} ${pad(rng.int(0, 23), 2)}:${pad(rng.int(0, 59), 2)}:${pad(rng.int(0, 59), 2)}`;
  return base + rng.pick(['', '.0', '.5', '.123', '.000001', '.123456789', '.10']);
}

function decimal(rng: Rng, scale: number): string {
  const digits = rng.int(0, scale);
  const whole = rng.int(0, 3) === 0 ? '0' : String(rng.int(0, 99999999));
  const fraction = Array.from({ length: digits }, () => rng.int(0, 9)).join('');
  return `${rng.int(0, 3) === 0 ? '-' : ''}${whole}${digits > 0 ? `.${fraction}` : ''}`;
}

interface Generated {
  column: ThriftColumn;
  spec: CsvColumn;
}

/** One column of `rows` values of a random Hive type, NULL slots holding Hive's defaults. */
function column(rng: Rng, rows: number): Generated {
  const nullRate = rng.pick([0, 0, 0.1, 0.5, 1]);
  const isNull = Array.from({ length: rows }, () => rng.next() < nullRate);
  const bitmap = Buffer.alloc(rng.int(0, 1) === 0 && !isNull.includes(true) ? 1 : 1 + (rows >> 3));
  isNull.forEach((missing, row) => {
    if (missing) bitmap[row >> 3]! |= 1 << (row & 7);
  });
  const values = <T>(make: () => T, fill: T) => Array.from({ length: rows }, (_, row) => (isNull[row] ? fill : make()));
  const scale = rng.int(0, 6);
  const kinds: (() => Generated)[] = [
    () => ({ column: { boolVal: { values: values(() => rng.next() < 0.5, true), nulls: bitmap } }, spec: { typeId: TYPE_ID.BOOLEAN } }),
    () => ({ column: { byteVal: { values: values(() => rng.int(-128, 127), 0), nulls: bitmap } }, spec: { typeId: TYPE_ID.TINYINT } }),
    () => ({ column: { i16Val: { values: values(() => rng.int(-32768, 32767), 0), nulls: bitmap } }, spec: { typeId: TYPE_ID.SMALLINT } }),
    () => ({ column: { i32Val: { values: values(() => rng.int(-2147483648, 2147483647), 0), nulls: bitmap } }, spec: { typeId: TYPE_ID.INT } }),
    () => ({ column: { i64Val: { values: values(() => int64(rng), 0n), nulls: bitmap } }, spec: { typeId: TYPE_ID.BIGINT } }),
    () => ({ column: { doubleVal: { values: values(() => double(rng), 0), nulls: bitmap } }, spec: { typeId: rng.pick([TYPE_ID.DOUBLE, TYPE_ID.FLOAT]) } }),
    () => ({ column: { stringVal: { values: values(() => text(rng), ''), nulls: bitmap } }, spec: { typeId: rng.pick([TYPE_ID.STRING, TYPE_ID.VARCHAR, TYPE_ID.CHAR, TYPE_ID.ARRAY, TYPE_ID.MAP, TYPE_ID.STRUCT, TYPE_ID.INTERVAL_DAY_TIME, TYPE_ID.TIMESTAMPLOCALTZ]) } }),
    () => ({ column: { stringVal: { values: values(() => timestamp(rng), ''), nulls: bitmap } }, spec: { typeId: TYPE_ID.TIMESTAMP } }),
    () => ({ column: { stringVal: { values: values(() => timestamp(rng).slice(0, 10), ''), nulls: bitmap } }, spec: { typeId: TYPE_ID.DATE } }),
    () => ({ column: { stringVal: { values: values(() => decimal(rng, scale), ''), nulls: bitmap } }, spec: { typeId: TYPE_ID.DECIMAL, scale } }),
    () => ({ column: { stringVal: { values: values(() => '', ''), nulls: Buffer.from(isNull.length ? bitmap.fill(0xff) : bitmap) } }, spec: { typeId: TYPE_ID.NULL } }),
    () => ({ column: { binaryVal: { values: values(() => Buffer.from(Array.from({ length: rng.int(0, 10) }, () => rng.int(0, 255))), Buffer.alloc(0)), nulls: bitmap } }, spec: { typeId: TYPE_ID.BINARY } }),
  ];
  return rng.pick(kinds)();
}

/** The reference's bytes for the first `maxRows` rows within `maxBytes`, as the pipeline kept whole rows. */
function referenceBytes(columns: ThriftColumn[], specs: CsvColumn[], maxRows: number, maxBytes: number): { text: string; rows: number } {
  const lines = referenceRows({ columns }, specs, maxRows);
  let text = '';
  let bytes = 0;
  let rows = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    text += line;
    rows++;
  }
  return { text, rows };
}

describe('the fast decoder and encoder write what the generated decoder and the reference encoder write', () => {
  for (let seed = 1; seed <= 400; seed++) {
    it(`random row set #${seed}`, () => {
      const rng = random(seed * 7919);
      const rows = rng.pick([0, 1, 2, 7, 8, 9, 63, 64, 65, rng.int(0, 400)]);
      const generated = Array.from({ length: rng.int(1, 7) }, () => column(rng, rows));
      const columns = generated.map((g) => g.column);
      const specs = generated.map((g) => g.spec);
      const maxRows = rng.pick([Infinity, Infinity, rng.int(0, rows + 1)]);
      const maxBytes = rng.pick([Infinity, Infinity, rng.int(0, 4000)]);

      const bytes = fetchResultBytes({ columns });
      const reference = referenceBytes(generatedRowSet(bytes).columns ?? [], specs, maxRows, maxBytes);
      const fast = new CsvEncoder(specs).encodeRows(fastBatch(bytes, columns.length), maxRows, maxBytes);
      expect(fast.rows).toBe(reference.rows);
      expect(fast.bytes.toString('utf8')).toBe(reference.text);

      // The same columns serialized in the tasks (compact protocol, `binaryColumns`).
      const serialized = fetchResultBytes({ binaryColumns: compactColumns(columns), columnCount: columns.length });
      const fromCompact = new CsvEncoder(specs).encodeRows(fastBatch(serialized, columns.length), maxRows, maxBytes);
      expect(fromCompact.bytes.toString('utf8')).toBe(reference.text);
    });
  }
});

describe('what the decoder refuses rather than return fewer rows', () => {
  const ints = (...values: number[]): ThriftColumn => ({ i32Val: { values, nulls: Buffer.alloc(1) } });

  it('a reply cut short, at every length', () => {
    const bytes = fetchResultBytes({ columns: [ints(1, 2, 3), { stringVal: { values: ['a', 'bc', ''], nulls: Buffer.alloc(1) } }] });
    for (let end = 0; end < bytes.length; end++) {
      expect(() => decodeFetchResultsResult(bytes, 0, end, 2), `cut at ${end}`).toThrow(RowSetDecodeError);
    }
  });

  it('a column count unlike the schema, columnar or serialized', () => {
    expect(() => fastBatch(fetchResultBytes({ columns: [ints(1), ints(2)] }), 3)).toThrow(/2 columns for a schema of 3/);
    expect(() => fastBatch(fetchResultBytes({ binaryColumns: compactColumns([ints(1)]), columnCount: 1 }), 2)).toThrow(/1 serialized columns for a schema of 2/);
  });

  it('columns of different lengths', () => {
    expect(() => fastBatch(fetchResultBytes({ columns: [ints(1, 2), ints(3)] }), 2)).toThrow(/column 2 has 1 values, column 1 has 2/);
  });

  it('a TColumn member it does not know', () => {
    const bytes = fetchResultBytes({ columns: [ints(7)] });
    // The TColumn field header is STRUCT(12), id 4 (i32Val); make it id 9, which TCLIService does not define.
    const at = bytes.indexOf(Buffer.from([12, 0, 4]));
    bytes.writeInt16BE(9, at + 1);
    expect(() => fastBatch(bytes, 1)).toThrow(/member \(9\) the connector does not know/);
  });

  it('the end of a result: an empty row set, columnar or with no blob', () => {
    expect(fastBatch(fetchResultBytes({ columns: [ints(), ints()] }), 2)).toEqual({ rowCount: 0, columns: [] });
    expect(fastBatch(fetchResultBytes({ columnCount: 2 } as never), 2)).toEqual({ rowCount: 0, columns: [] });
  });
});
