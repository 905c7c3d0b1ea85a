/**
 * The Parquet encoder's streaming contract and its building blocks, without a reader: bounded
 * memory across many batches, bytes handed out in file order, loud refusals; the RLE/bit-packed
 * hybrid against a decoder written from the spec. (Values read back by DuckDB:
 * test/integration/formats/parquet-duckdb.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { createParquetEncoder } from '../../../app/src/formats/parquet.js';
import { ByteBuffer } from '../../../app/src/formats/parquet/byte-buffer.js';
import { bitWidth, encodeHybrid } from '../../../app/src/formats/parquet/rle.js';
import { TYPE_ID, type ResultColumn } from '../../../app/src/hive/result-schema.js';
import { batch, fixedColumn, stringColumn } from './column-batches.js';

/** parquet-format Encodings.md, RLE/bit-packing hybrid, decoded the plain way. */
function decodeHybrid(bytes: Uint8Array, width: number, count: number): number[] {
  const out: number[] = [];
  let i = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (out.length < count) {
    const header = varint();
    if (header % 2 === 0) {
      let value = 0;
      for (let b = 0; b < Math.ceil(width / 8); b++) value += bytes[i++]! * 2 ** (8 * b);
      for (let k = 0; k < header / 2; k++) out.push(value);
    } else {
      const values = ((header - 1) / 2) * 8;
      let bitPos = 0;
      for (let k = 0; k < values; k++) {
        let value = 0;
        for (let b = 0; b < width; b++, bitPos++) if (bytes[i + (bitPos >> 3)]! & (1 << (bitPos & 7))) value |= 1 << b;
        out.push(value);
      }
      i += ((header - 1) / 2) * width;
    }
  }
  expect(i).toBe(bytes.length);
  return out.slice(0, count);
}

describe('RLE / bit-packing hybrid', () => {
  it('round-trips runs, noise and their mix at every width a dictionary can need', () => {
    for (const width of [1, 2, 3, 5, 8, 9, 13, 16, 20]) {
      for (const shape of ['runs', 'noise', 'mixed', 'short'] as const) {
        const count = shape === 'short' ? 5 : 3000;
        const max = 2 ** width;
        const values = Array.from({ length: count }, (_, k) => {
          if (shape === 'runs') return Math.floor(k / 37) % max;
          if (shape === 'noise') return Math.floor(Math.random() * max);
          return k % 200 < 100 ? 1 % max : Math.floor(Math.random() * max);
        });
        const out = new ByteBuffer(16);
        encodeHybrid(values, count, width, out);
        expect(decodeHybrid(out.written(), width, count)).toEqual(values);
      }
    }
  });

  it('needs at least one bit and grows with the largest index', () => {
    expect([0, 1, 2, 3, 4, 255, 256, 1_000_000].map(bitWidth)).toEqual([1, 1, 2, 2, 3, 8, 9, 20]);
  });
});

const COLUMNS: ResultColumn[] = [
  { name: 'asset_id', type: 'string', typeId: TYPE_ID.STRING, nullable: true },
  { name: 'ts', type: 'timestamp', typeId: TYPE_ID.TIMESTAMP, nullable: true },
  { name: 'value', type: 'double', typeId: TYPE_ID.DOUBLE, nullable: true },
  { name: 'big', type: 'bigint', typeId: TYPE_ID.BIGINT, nullable: true },
];

function measurementBatch(first: number, rows: number) {
  const ids: (string | null)[] = [];
  const ts: string[] = [];
  const values: (number | null)[] = [];
  const bigs: bigint[] = [];
  for (let i = first; i < first + rows; i++) {
    ids.push(i % 101 === 0 ? null : `asset-${i % 997}`);
    ts.push(`2024-01-${String(1 + (i % 28)).padStart(2, '0')} 10:00:${String(i % 60).padStart(2, '0')}.${i % 1000}`);
    values.push(i % 50 === 0 ? null : Math.sin(i) * 1000);
    bigs.push(BigInt(i) * 1_000_003n);
  }
  return batch(stringColumn(ids), stringColumn(ts), fixedColumn('double', values), fixedColumn('int64', bigs));
}

describe('createParquetEncoder', () => {
  it('keeps its buffer under the row-group target across many batches, handing out row groups as it goes', () => {
    const rowGroupBytes = 512 * 1024;
    const encoder = createParquetEncoder(COLUMNS, { rowGroupBytes });
    let emitted = 0;
    let emittedAtHalf = 0;
    let maxBuffered = 0;
    const batches = 200;
    for (let b = 0; b < batches; b++) {
      for (const bytes of encoder.push(measurementBatch(b * 5000, 5000))) emitted += bytes.length;
      maxBuffered = Math.max(maxBuffered, encoder.bytesBuffered);
      expect(encoder.bytesBuffered).toBeLessThan(rowGroupBytes);
      if (b === batches / 2) emittedAtHalf = emitted;
    }
    const tail = encoder.finish();
    const total = emitted + tail.reduce((sum, bytes) => sum + bytes.length, 0);
    // Output flowed during the pushes (not only at finish), and most of it before the end.
    expect(emittedAtHalf).toBeGreaterThan(total / 4);
    expect(emitted).toBeGreaterThan(total / 2);
    expect(maxBuffered).toBeGreaterThan(rowGroupBytes / 4);
    expect(encoder.rows).toBe(batches * 5000);
  });

  it('emits a complete file: PAR1, row groups, footer, its length, PAR1', () => {
    const encoder = createParquetEncoder(COLUMNS);
    const parts = [...encoder.push(measurementBatch(0, 1000)), ...encoder.finish()];
    const file = Buffer.concat(parts);
    expect(file.subarray(0, 4).toString()).toBe('PAR1');
    expect(file.subarray(-4).toString()).toBe('PAR1');
    const footerLength = file.readUInt32LE(file.length - 8);
    expect(footerLength).toBeGreaterThan(0);
    expect(footerLength).toBeLessThan(file.length - 12);
    expect(encoder.bytesBuffered).toBe(0);
  });

  it('refuses a batch unlike the schema, and use after finish', () => {
    const encoder = createParquetEncoder(COLUMNS);
    expect(() => encoder.push(batch(stringColumn(['a'])))).toThrow('Hive sent 1 columns but the schema has 4');
    const wrongKind = measurementBatch(0, 3);
    wrongKind.columns[2] = stringColumn(['1', '2', '3']);
    expect(() => encoder.push(wrongKind)).toThrow('column value (double): Hive sent string values where double was expected');
    encoder.finish();
    expect(() => encoder.push(measurementBatch(0, 3))).toThrow('the Parquet encoder was already finished');
    expect(() => createParquetEncoder(COLUMNS, { compressionLevel: 0 })).toThrow('zstd level must be an integer from 1 to 22, got 0');
    expect(() => createParquetEncoder([{ name: 'd', type: 'decimal(40,2)', typeId: TYPE_ID.DECIMAL, scale: 2, nullable: true }])).toThrow(/column d: DECIMAL precision\/scale 40,2/);
  });

  it('fails loudly on a value it cannot represent, naming the column', () => {
    const encoder = createParquetEncoder([{ name: 'ts', type: 'timestamp', typeId: TYPE_ID.TIMESTAMP, nullable: true }]);
    expect(() => encoder.push(batch(stringColumn(['2024-01-01 00:00:00', '+10000-01-01 00:00:00'])))).toThrow(
      'column ts: Hive sent "+10000-01-01 00:00:00" where a timestamp YYYY-MM-DD HH:MM:SS[.fffffffff] was expected',
    );
  });
});
