/**
 * The CSV bytes for hand-made row sets: each row set goes on the wire as thrift's generated code
 * writes it, is read back by the fast decoder, and is encoded by CsvEncoder, as in an export.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvEncoder, csvHeaderBytes, type CsvColumn } from '../../../app/src/formats/csv-encoder.js';
import { resultColumns } from '../../../app/src/hive/result-schema.js';
import type { ThriftTableSchema } from '../../../app/src/hive/row-set.js';
import { fastBatch, fetchResultBytes, type TestColumn } from '../../support/thrift-rowsets.js';

const int64 = (value: bigint) => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(value);
  return { buffer, offset: 0 };
};
/** Null bitmap as Hive writes it: bit i of byte i/8, least significant bit first. */
const nulls = (...indexes: number[]) => {
  const bitmap = Buffer.alloc(1 + Math.max(0, ...indexes) / 8);
  for (const index of indexes) bitmap[index >> 3]! |= 1 << (index & 7);
  return bitmap;
};
const desc = (columnName: string, type: number) => ({ columnName, typeDesc: { types: [{ primitiveEntry: { type } }] } });

const schema: ThriftTableSchema = {
  columns: [desc('id', 4), desc('name', 7), desc('ok', 0), desc('ts', 8), desc('day', 17), desc('amount', 15), desc('value', 6), desc('raw', 9)],
};

const rowSet = {
  columns: [
    { i64Val: { values: [int64(9007199254740993n), int64(-9223372036854775808n), int64(0n)], nulls: nulls(2) } },
    { stringVal: { values: ['plain', 'has "quotes", commas\nand newline', ''], nulls: Buffer.alloc(0) } },
    { boolVal: { values: [true, false, false], nulls: nulls(1) } },
    { stringVal: { values: ['2026-11-27 21:10:35.123', '1970-01-01 00:00:00', ''], nulls: nulls(2) } },
    { stringVal: { values: ['2026-11-27', '', ''], nulls: nulls(1, 2) } },
    { stringVal: { values: ['12345678901234567890.12', '-0.01', ''], nulls: nulls(2) } },
    { doubleVal: { values: [0.1, -1.5e300, 0], nulls: nulls(2) } },
    { binaryVal: { values: [Buffer.from([0, 1, 254, 255]), Buffer.alloc(0), Buffer.alloc(0)], nulls: nulls(1, 2) } },
  ],
};

const columnTypes = (of: ThriftTableSchema) => resultColumns(of, '');
const specs = (...typeIds: number[]) => typeIds.map((typeId) => ({ typeId }));

/** CSV lines (CRLF kept) of `columns`, through the wire, the fast decoder and the encoder. */
function csvRows(rowSet: { columns: readonly TestColumn[] }, types: readonly CsvColumn[], limit = Infinity): string[] {
  const { bytes } = new CsvEncoder(types).encodeRows(fastBatch(fetchResultBytes(rowSet), types.length), limit);
  return bytes.toString('utf8').split(/(?<=\r\n)/).filter(Boolean);
}
const isoTimestamp = (text: string) => csvRows({ columns: [{ stringVal: { values: [text], nulls: nulls() } }] }, specs(8))[0]!.slice(0, -2);

describe('columnar CSV encoding', () => {
  const csv = csvHeaderBytes(resultColumns(schema, '').map((c) => c.name)).toString() + csvRows(rowSet, columnTypes(schema)).join('');
  const records = parse(csv, { relax_quotes: false }) as string[][];

  it('writes a header row and RFC 4180 records with CRLF line ends', () => {
    expect(records[0]).toEqual(['id', 'name', 'ok', 'ts', 'day', 'amount', 'value', 'raw']);
    expect(records).toHaveLength(4);
    expect(csv.split('\r\n')).toHaveLength(5); // the embedded \n is inside quotes, not a line end
  });

  it('keeps BIGINT beyond 2^53 and DECIMAL exact, as text', () => {
    expect(records[1]![0]).toBe('9007199254740993');
    expect(records[2]![0]).toBe('-9223372036854775808');
    expect(records[1]![5]).toBe('12345678901234567890.12');
  });

  it('quotes fields with quotes, commas and newlines, and round-trips them', () => {
    expect(records[2]![1]).toBe('has "quotes", commas\nand newline');
  });

  it('writes NULL as an empty field and an empty string as ""', () => {
    const third = csv.split('\r\n')[3];
    expect(third).toBe(',"",false,,,,,');
    expect(csv.split('\r\n')[2]).toContain(',,1970-01-01T00:00:00,,-0.01,');
  });

  it('writes timestamps and dates as ISO 8601 and binary as base64', () => {
    expect(records[1]![3]).toBe('2026-11-27T21:10:35.123');
    expect(records[1]![4]).toBe('2026-11-27');
    expect(records[1]![7]).toBe(Buffer.from([0, 1, 254, 255]).toString('base64'));
    expect(records[1]![6]).toBe('0.1');
  });

  it('writes one timestamp the same whichever Hive version sent it (2.3 keeps a .0 on whole seconds)', () => {
    expect(isoTimestamp('2024-01-01 00:00:00.0')).toBe('2024-01-01T00:00:00');
    expect(isoTimestamp('2024-01-01 00:00:00')).toBe('2024-01-01T00:00:00');
    expect(isoTimestamp('2024-01-01 00:00:00.5')).toBe('2024-01-01T00:00:00.5');
    expect(isoTimestamp('2024-01-01 00:00:00.05')).toBe('2024-01-01T00:00:00.05');
  });

  it('writes an empty BINARY as "" and a NULL one as an empty field', () => {
    const lines = csvRows({ columns: [{ binaryVal: { values: [Buffer.alloc(0), Buffer.alloc(0), Buffer.from('a')], nulls: nulls(1) } }, { i32Val: { values: [1, 2, 3], nulls: nulls() } }] }, specs(9, 3));
    expect(lines).toEqual(['"",1\r\n', ',2\r\n', 'YQ==,3\r\n']);
  });

  it('pads a DECIMAL to its scale, as columnar results are (a result serialized in the tasks is not)', () => {
    const lines = csvRows({ columns: [{ stringVal: { values: ['12.5', '-0.05', '7', '1.123'], nulls: nulls() } }] }, [{ typeId: 15, scale: 2 }]);
    expect(lines).toEqual(['12.50\r\n', '-0.05\r\n', '7.00\r\n', '1.123\r\n']);
  });

  it('stops at a row limit', () => {
    expect(csvRows(rowSet, columnTypes(schema), 2)).toHaveLength(2);
  });

  it('fails loudly when the row set does not match the schema', () => {
    expect(() => csvRows({ columns: rowSet.columns.slice(1) }, columnTypes(schema))).toThrow(/7 columns for a schema of 8/);
  });

  // A one-column row holding NULL would be an empty line, which pandas (skip_blank_lines, its
  // default) and other readers drop: the export would silently lose rows.
  it('never writes an empty line: a one-column NULL is written as an empty field in quotes', () => {
    const single: ThriftTableSchema = { columns: [desc('note', 7)] };
    const lines = csvRows({ columns: [{ stringVal: { values: ['a', '', '', 'b'], nulls: nulls(1) } }] }, columnTypes(single));
    expect(lines).toEqual(['a\r\n', '""\r\n', '""\r\n', 'b\r\n']);
    const ints = csvRows({ columns: [{ i32Val: { values: [0, 7], nulls: nulls(0) } }] }, specs(3));
    expect(ints).toEqual(['""\r\n', '7\r\n']);
  });
});

