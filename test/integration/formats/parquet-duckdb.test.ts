/**
 * The Parquet encoder against an independent reader: DuckDB's read_parquet (its own Parquet
 * implementation, C++) reads every file back, value by value and type by type, for the shapes of
 * the stand-in's enos.type_probe and then some (BIGINT beyond 2^53, DECIMAL(38,6) extremes and
 * unpadded text, timestamps of 0001/1899/9999 with fractions and Hive 2.3's `.0`, unicode, empty
 * vs NULL, Hive's JSON text of complex types, a void column), with both codecs, over several row
 * groups, through a dictionary fallback and with a row limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParquetEncoder, type ParquetEncoderOptions } from '../../../app/src/formats/parquet.js';
import type { ColumnBatch } from '../../../app/src/hive/column-batch.js';
import { TYPE_ID, type ResultColumn } from '../../../app/src/hive/result-schema.js';
import { batch, binaryColumn, fixedColumn, stringColumn } from '../../unit/formats/column-batches.js';

let dir: string;
let db: DuckDBConnection;
let fileNumber = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parquet-duckdb-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});

afterAll(() => {
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const col = (name: string, type: string, typeId: number, scale?: number): ResultColumn => ({ name, type, typeId, nullable: true, ...(scale !== undefined ? { scale } : {}) });

/** Encodes the batches and writes the bytes in the order the encoder hands them out. */
function encodeToFile(columns: ResultColumn[], batches: ColumnBatch[], options: ParquetEncoderOptions = {}, rowLimit?: number) {
  const encoder = createParquetEncoder(columns, options);
  const parts: Uint8Array[] = [];
  let emittedBeforeFinish = 0;
  for (const b of batches) {
    for (const bytes of encoder.push(b, rowLimit)) {
      parts.push(bytes.slice());
      emittedBeforeFinish += bytes.length;
    }
  }
  parts.push(...encoder.finish());
  const file = path.join(dir, `out-${++fileNumber}.parquet`);
  writeFileSync(file, Buffer.concat(parts));
  return { file, emittedBeforeFinish };
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

// The probe: one row per line below, Hive's NULLs on rows 2 and 10 of every column (the bitmap
// spans two bytes) and wherever a value is null.
const PROBE_COLUMNS: ResultColumn[] = [
  col('id', 'int', TYPE_ID.INT),
  col('c_boolean', 'boolean', TYPE_ID.BOOLEAN),
  col('c_tinyint', 'tinyint', TYPE_ID.TINYINT),
  col('c_smallint', 'smallint', TYPE_ID.SMALLINT),
  col('c_int', 'int', TYPE_ID.INT),
  col('c_bigint', 'bigint', TYPE_ID.BIGINT),
  col('c_float', 'float', TYPE_ID.FLOAT),
  col('c_double', 'double', TYPE_ID.DOUBLE),
  col('c_decimal', 'decimal(10,2)', TYPE_ID.DECIMAL, 2),
  col('c_decimal18', 'decimal(18,4)', TYPE_ID.DECIMAL, 4),
  col('c_decimal_wide', 'decimal(38,6)', TYPE_ID.DECIMAL, 6),
  col('c_string', 'string', TYPE_ID.STRING),
  col('c_date', 'date', TYPE_ID.DATE),
  col('c_timestamp', 'timestamp', TYPE_ID.TIMESTAMP),
  col('c_binary', 'binary', TYPE_ID.BINARY),
  col('c_char', 'char(10)', TYPE_ID.CHAR),
  col('c_varchar', 'varchar(20)', TYPE_ID.VARCHAR),
  col('c_array', 'array', TYPE_ID.ARRAY),
  col('c_map', 'map', TYPE_ID.MAP),
  col('c_struct', 'struct', TYPE_ID.STRUCT),
  col('c_union', 'uniontype', TYPE_ID.UNION),
  col('c_interval_ym', 'interval_year_month', TYPE_ID.INTERVAL_YEAR_MONTH),
  col('c_interval_dt', 'interval_day_time', TYPE_ID.INTERVAL_DAY_TIME),
  col('c_tslocal', 'timestamp with local time zone', TYPE_ID.TIMESTAMPLOCALTZ),
  col('c_void', 'void', TYPE_ID.NULL),
  col('c_decimal9', 'decimal(9,3)', TYPE_ID.DECIMAL, 3),
];

type Cell = string | number | bigint | boolean | Uint8Array | null;
const bytes = (...values: number[]) => Uint8Array.from(values);
const N = null;

/** What Hive sends, per row: id, boolean … void (see PROBE_COLUMNS). */
const PROBE_ROWS: Cell[][] = [
  [1, true, 1, 1, 1, 9007199254740993n, 1.5, 0.1, '12.50', '1.5000', '1.000001', 'a', '2024-02-29', '2024-02-29 23:59:59.123', bytes(0x00, 0xff), 'ab        ', 'varchar one', '[1,2,3]', '{"a":1.5,"b":null}', '{"name":"x\\"y","ts":"2024-01-01 00:00:00","amount":12.50}', '{0:7}', '1-2', '1 02:03:04.500000000', '2024-02-29 23:59:59.123 UTC', N, '1.5'],
  [2, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N],
  [3, false, -128, -32768, -2147483648, -9223372036854775808n, -3.25, -1e300, '-0.05', '-99999999999999.9999', '-99999999999999999999999999999999.999999', '', '1970-01-01', '1970-01-01 00:00:00', bytes(), '', '', '[]', '{}', '{"name":"","ts":null,"amount":-0.05}', '{1:"tab\\tq\\""}', '-0-3', '-1 00:00:00.000000000', '1970-01-01 00:00:00.0 UTC', N, '-999999.999'],
  [4, true, 127, 32767, 2147483647, 9223372036854775807n, 3.4e38, 1.7976931348623157e308, '99999999.99', '99999999999999.9999', '99999999999999999999999999999999.999999', 'Zürich ⚡ 風力', '9999-12-31', '9999-12-31 23:59:59.999999999', bytes(0x62, 0x79, 0x74, 0x65, 0x73), 'Zü⚡       ', 'Zürich ⚡ 風力', '[null,-2147483648]', '{"k\\n":1.0E300}', '{"name":"Ünï","ts":"2038-01-19 03:14:07.999999","amount":99999999.99}', '{1:"Zürich"}', '0-0', '0 00:00:00.000000000', '2038-01-19 03:14:07.999999 UTC', N, '999999.999'],
  [5, N, 5, N, 5, N, 5, N, '5', N, '5', 'five', '0001-01-01', '0001-01-01 00:00:00', N, N, N, N, N, N, N, N, N, N, N, '0'],
  [6, true, N, 6, N, 6, N, 6, N, '6', N, N, N, '2000-01-01 12:00:00.5', bytes(0x73, 0x69, 0x78), N, N, N, N, N, N, N, N, N, N, N],
  [7, false, 7, 7, 7, -9007199254740993n, 7, 7.25, '0.00', '0.0000', '0.000001', 'seven', '1899-12-31', '1899-12-31 23:59:59', bytes(0x73), 'seven     ', 'seven', '[7]', '{"seven":7.0}', '{"name":"seven","ts":"1899-12-31 23:59:59","amount":7.00}', '{0:-7}', '100-0', '1 12:00:00.000000000', '2000-01-01 12:00:00.5 UTC', N, '-0.001'],
  [8, true, 8, 8, 8, 8, 8, 8, '8', '8.5', '12.5', 'eight', '2024-01-08', '2024-01-08 08:08:08.08', bytes(0x65), N, N, N, N, N, N, N, N, N, N, '8'],
  [9, false, 9, 9, 9, 9, 9, 9, '-9.1', '-0.0001', '-0.5', 'a string longer than twelve bytes', '2024-01-09', '2024-01-09 09:09:09.0', bytes(0x6e), N, N, N, N, N, N, N, N, N, N, '9.09'],
  [10, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N],
  [11, true, 11, 11, 11, 11, 11, 11, '11', '11', '11', 'eleven', '2024-01-11', '2024-01-11 11:11:11.000011', bytes(0x65, 0x6c), N, N, N, N, N, N, N, N, N, N, '11.100'],
];

function probeBatch(rowsOf: Cell[][]): ColumnBatch {
  const column = (c: number) => rowsOf.map((row) => row[c]!);
  return batch(
    ...PROBE_COLUMNS.map((spec, c) => {
      const values = column(c);
      switch (spec.typeId) {
        case TYPE_ID.BOOLEAN: return fixedColumn('bool', values as (boolean | null)[]);
        case TYPE_ID.TINYINT: return fixedColumn('int8', values as (number | null)[]);
        case TYPE_ID.SMALLINT: return fixedColumn('int16', values as (number | null)[]);
        case TYPE_ID.INT: return fixedColumn('int32', values as (number | null)[]);
        case TYPE_ID.BIGINT: return fixedColumn('int64', values as (bigint | number | null)[]);
        case TYPE_ID.FLOAT:
        case TYPE_ID.DOUBLE: return fixedColumn('double', values as (number | null)[]);
        case TYPE_ID.BINARY: return binaryColumn(values as (Uint8Array | null)[]);
        default: return stringColumn(values as (string | null)[]);
      }
    }),
  );
}

/** What DuckDB must read back, as its VARCHAR text (BLOB as hex). */
const EXPECTED: Record<string, (string | null)[]> = {
  c_boolean: ['true', null, 'false', 'true', null, 'true', 'false', 'true', 'false', null, 'true'],
  c_tinyint: ['1', null, '-128', '127', '5', null, '7', '8', '9', null, '11'],
  c_smallint: ['1', null, '-32768', '32767', null, '6', '7', '8', '9', null, '11'],
  c_int: ['1', null, '-2147483648', '2147483647', '5', null, '7', '8', '9', null, '11'],
  c_bigint: ['9007199254740993', null, '-9223372036854775808', '9223372036854775807', null, '6', '-9007199254740993', '8', '9', null, '11'],
  c_float: ['1.5', null, '-3.25', '3.4e+38', '5.0', null, '7.0', '8.0', '9.0', null, '11.0'],
  c_decimal9: ['1.500', null, '-999999.999', '999999.999', '0.000', null, '-0.001', '8.000', '9.090', null, '11.100'],
  c_double: ['0.1', null, '-1e+300', '1.7976931348623157e+308', null, '6.0', '7.25', '8.0', '9.0', null, '11.0'],
  c_decimal: ['12.50', null, '-0.05', '99999999.99', '5.00', null, '0.00', '8.00', '-9.10', null, '11.00'],
  c_decimal18: ['1.5000', null, '-99999999999999.9999', '99999999999999.9999', null, '6.0000', '0.0000', '8.5000', '-0.0001', null, '11.0000'],
  c_decimal_wide: ['1.000001', null, '-99999999999999999999999999999999.999999', '99999999999999999999999999999999.999999', '5.000000', null, '0.000001', '12.500000', '-0.500000', null, '11.000000'],
  c_string: ['a', null, '', 'Zürich ⚡ 風力', 'five', null, 'seven', 'eight', 'a string longer than twelve bytes', null, 'eleven'],
  c_date: ['2024-02-29', null, '1970-01-01', '9999-12-31', '0001-01-01', null, '1899-12-31', '2024-01-08', '2024-01-09', null, '2024-01-11'],
  // Digits past the microsecond are truncated; Hive 2.3's `.0` is the whole second.
  c_timestamp: ['2024-02-29 23:59:59.123', null, '1970-01-01 00:00:00', '9999-12-31 23:59:59.999999', '0001-01-01 00:00:00', '2000-01-01 12:00:00.5', '1899-12-31 23:59:59', '2024-01-08 08:08:08.08', '2024-01-09 09:09:09', null, '2024-01-11 11:11:11.000011'],
  c_binary: ['00FF', null, '', '6279746573', null, '736978', '73', '65', '6E', null, '656C'],
};
// The text columns come back exactly as Hive sent them.
for (const name of ['c_char', 'c_varchar', 'c_array', 'c_map', 'c_struct', 'c_union', 'c_interval_ym', 'c_interval_dt', 'c_tslocal', 'c_void']) {
  const c = PROBE_COLUMNS.findIndex((spec) => spec.name === name);
  EXPECTED[name] = PROBE_ROWS.map((row) => row[c] as string | null);
}

const EXPECTED_TYPES: Record<string, string> = {
  id: 'INTEGER', c_boolean: 'BOOLEAN', c_tinyint: 'TINYINT', c_smallint: 'SMALLINT', c_int: 'INTEGER', c_bigint: 'BIGINT', c_float: 'FLOAT',
  c_double: 'DOUBLE', c_decimal9: 'DECIMAL(9,3)', c_decimal: 'DECIMAL(10,2)', c_decimal18: 'DECIMAL(18,4)', c_decimal_wide: 'DECIMAL(38,6)', c_string: 'VARCHAR', c_date: 'DATE',
  c_timestamp: 'TIMESTAMP', c_binary: 'BLOB', c_char: 'VARCHAR', c_varchar: 'VARCHAR', c_array: 'VARCHAR', c_map: 'VARCHAR', c_struct: 'VARCHAR',
  c_union: 'VARCHAR', c_interval_ym: 'VARCHAR', c_interval_dt: 'VARCHAR', c_tslocal: 'VARCHAR', c_void: 'VARCHAR',
};

describe('every probe type read back by DuckDB', () => {
  let file: string;
  beforeAll(() => {
    ({ file } = encodeToFile(PROBE_COLUMNS, [probeBatch(PROBE_ROWS)]));
  });

  it('has the Hive types as Parquet types, every column nullable', async () => {
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(Object.fromEntries(described.map((row) => [row.column_name, row.column_type]))).toEqual(EXPECTED_TYPES);
    const schema = await rows(`SELECT name, type, converted_type, logical_type, repetition_type, type_length FROM parquet_schema('${file}') WHERE name <> 'schema'`);
    const byName = Object.fromEntries(schema.map((row) => [row.name, row]));
    expect(schema.every((row) => row.repetition_type === 'OPTIONAL')).toBe(true);
    expect(byName.c_timestamp).toMatchObject({ type: 'INT64', converted_type: null });
    expect(String(byName.c_timestamp!.logical_type)).toMatch(/isAdjustedToUTC=0, unit=TimeUnit\(MILLIS=<null>, MICROS=MicroSeconds\(\)/);
    expect(byName.c_tinyint).toMatchObject({ type: 'INT32', converted_type: 'INT_8' });
    expect(byName.c_smallint).toMatchObject({ type: 'INT32', converted_type: 'INT_16' });
    expect(byName.c_bigint).toMatchObject({ type: 'INT64', converted_type: 'INT_64' });
    expect(byName.c_float).toMatchObject({ type: 'FLOAT' });
    expect(byName.c_decimal9).toMatchObject({ type: 'INT32', converted_type: 'DECIMAL' });
    expect(byName.c_decimal).toMatchObject({ type: 'INT64', converted_type: 'DECIMAL' });
    expect(byName.c_decimal18).toMatchObject({ type: 'INT64', converted_type: 'DECIMAL' });
    expect(byName.c_decimal_wide).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', converted_type: 'DECIMAL', type_length: '16' });
    expect(byName.c_date).toMatchObject({ type: 'INT32', converted_type: 'DATE' });
    expect(byName.c_string).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: 'StringType()' });
    expect(byName.c_binary).toMatchObject({ type: 'BYTE_ARRAY', converted_type: null, logical_type: null });
    expect(byName.c_struct).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
  });

  it('reads back every value, NULL apart from empty, in order', async () => {
    const got = await rows(
      `SELECT COLUMNS(*)::VARCHAR FROM (SELECT * REPLACE (hex(c_binary) AS c_binary) FROM read_parquet('${file}')) ORDER BY CAST(id AS INTEGER)`,
    );
    expect(got.map((row) => row.id)).toEqual(PROBE_ROWS.map((row) => String(row[0])));
    for (const [name, values] of Object.entries(EXPECTED)) {
      expect({ column: name, values: got.map((row) => row[name]) }).toEqual({ column: name, values });
    }
  });

  it('records the codec, the NULL counts and the Hive types', async () => {
    const meta = await rows(`SELECT path_in_schema, compression, stats_null_count, stats_min_value, stats_max_value FROM parquet_metadata('${file}')`);
    expect(new Set(meta.map((row) => row.compression))).toEqual(new Set(['ZSTD']));
    const byName = Object.fromEntries(meta.map((row) => [row.path_in_schema, row]));
    for (const [name, values] of Object.entries(EXPECTED)) expect([name, byName[name]!.stats_null_count]).toEqual([name, String(values.filter((v) => v === null).length)]);
    expect(byName.c_bigint).toMatchObject({ stats_min_value: '-9223372036854775808', stats_max_value: '9223372036854775807' });
    expect(byName.c_timestamp).toMatchObject({ stats_min_value: '0001-01-01 00:00:00', stats_max_value: '9999-12-31 23:59:59.999999' });
    expect(byName.c_date).toMatchObject({ stats_min_value: '0001-01-01', stats_max_value: '9999-12-31' });
    const [kv] = await rows(`SELECT decode(value) AS value FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'enos.hive.schema'`);
    expect(JSON.parse(String(kv!.value))).toEqual(PROBE_COLUMNS.map(({ name, type }) => ({ name, type })));
  });
});

/** Hive's text of row i's timestamp: 10-minute steps with a millisecond fraction. */
const tsText = (i: number) => new Date((1_704_067_200 + i * 600) * 1000).toISOString().replace('T', ' ').replace('.000Z', `.${String(i % 1000).padStart(3, '0')}`);

/** Measurement-like rows: asset ids and points repeat (dictionary), values and qualities have NULLs. */
function measurementBatches(batches: number, rowsPerBatch: number, uniqueText = false): { batches: ColumnBatch[]; sum: number; nulls: number } {
  const out: ColumnBatch[] = [];
  let sum = 0;
  let nulls = 0;
  for (let b = 0; b < batches; b++) {
    const ids: string[] = [];
    const ts: string[] = [];
    const values: (number | null)[] = [];
    const quality: (number | null)[] = [];
    for (let r = 0; r < rowsPerBatch; r++) {
      const i = b * rowsPerBatch + r;
      ids.push(uniqueText ? `row-${i}-${'x'.repeat(i % 17)}` : `WTG-${String(i % 1000).padStart(5, '0')}`);
      ts.push(tsText(i));
      const value = i % 50 === 0 ? null : (i % 100_000) / 8;
      values.push(value);
      if (value === null) nulls++;
      else sum += value;
      quality.push(i % 97 === 0 ? null : i % 2);
    }
    out.push(batch(stringColumn(ids), stringColumn(ts), fixedColumn('double', values), fixedColumn('int32', quality)));
  }
  return { batches: out, sum, nulls };
}

const MEASUREMENT_COLUMNS = [col('asset_id', 'string', TYPE_ID.STRING), col('ts', 'timestamp', TYPE_ID.TIMESTAMP), col('value', 'double', TYPE_ID.DOUBLE), col('quality', 'int', TYPE_ID.INT)];

describe('streaming a larger result', () => {
  it('writes several row groups as it goes, each readable, with every row', async () => {
    const { batches, sum, nulls } = measurementBatches(30, 10_000);
    const { file, emittedBeforeFinish } = encodeToFile(MEASUREMENT_COLUMNS, batches, { rowGroupBytes: 256 * 1024 });
    expect(emittedBeforeFinish).toBeGreaterThan(256 * 1024);
    const groups = await rows(`SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata('${file}') GROUP BY row_group_id ORDER BY row_group_id`);
    expect(groups.length).toBeGreaterThan(2);
    expect(groups.reduce((total, g) => total + Number(g.n), 0)).toBe(300_000);
    const [got] = await rows(
      `SELECT count(*) AS n, count(value) AS v, sum(value) AS s, count(DISTINCT asset_id) AS ids, min(ts)::VARCHAR AS first, max(ts)::VARCHAR AS last FROM read_parquet('${file}')`,
    );
    expect(got).toMatchObject({ n: '300000', v: String(300_000 - nulls), s: sum, ids: '1000', first: '2024-01-01 00:00:00', last: tsText(299_999) });
  });

  it('closes a row group at rowGroupRows, exactly, even when it is small in bytes', async () => {
    const { batches } = measurementBatches(30, 10_000);
    const { file } = encodeToFile(MEASUREMENT_COLUMNS, batches, { rowGroupRows: 65_536 });
    const groups = await rows(`SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata('${file}') GROUP BY row_group_id ORDER BY row_group_id`);
    expect(groups.map((g) => Number(g.n))).toEqual([65_536, 65_536, 65_536, 65_536, 300_000 - 4 * 65_536]);
  });

  it('falls back from the dictionary to PLAIN within a chunk when text does not repeat', async () => {
    const { batches } = measurementBatches(10, 10_000, true);
    const { file } = encodeToFile(MEASUREMENT_COLUMNS, batches);
    const [chunk] = await rows(`SELECT encodings FROM parquet_metadata('${file}') WHERE path_in_schema = 'asset_id'`);
    expect(String(chunk!.encodings)).toMatch(/RLE_DICTIONARY/);
    expect(String(chunk!.encodings)).toMatch(/PLAIN/);
    const got = await rows(`SELECT asset_id FROM read_parquet('${file}') WHERE asset_id IN ('row-0-', 'row-99999-${'x'.repeat(99_999 % 17)}', 'row-54321-${'x'.repeat(54_321 % 17)}') ORDER BY asset_id`);
    expect(got.map((row) => row.asset_id)).toEqual(['row-0-', `row-54321-${'x'.repeat(54_321 % 17)}`, `row-99999-${'x'.repeat(99_999 % 17)}`]);
    const [count] = await rows(`SELECT count(DISTINCT asset_id) AS n FROM read_parquet('${file}')`);
    expect(count!.n).toBe('100000');
  });

  it('writes only the rows under the limit of each push', async () => {
    const { batches } = measurementBatches(3, 100);
    const { file } = encodeToFile(MEASUREMENT_COLUMNS, batches, {}, 7);
    const [got] = await rows(`SELECT count(*) AS n FROM read_parquet('${file}')`);
    expect(got!.n).toBe('21');
  });

  it('writes a valid empty file when Hive sends no rows', async () => {
    const { file } = encodeToFile(MEASUREMENT_COLUMNS, []);
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(described.map((row) => row.column_type)).toEqual(['VARCHAR', 'TIMESTAMP', 'DOUBLE', 'INTEGER']);
    const [got] = await rows(`SELECT count(*) AS n FROM read_parquet('${file}')`);
    expect(got!.n).toBe('0');
  });
});
