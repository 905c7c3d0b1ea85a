import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHiveStandIn, type HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { columnValues, connect, int64, isNull, openSession, rowSetRows, streamRowSets, type Connection } from './hive-client.js';

// A million rows of every type, with NULLs in every column, fetched in batches with hive-driver
// over binary SASL PLAIN and checked against DuckDB: row order, counts, null positions and
// position-weighted sums per column computed both ways, plus a sample of rows cell by cell.
const ROWS = 1_000_000;
const BATCH = 10_000;

const QUERY = `SELECT
  i AS row_id,
  CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END AS c_boolean,
  CASE WHEN i % 13 = 0 THEN NULL ELSE CAST(i % 256 - 128 AS TINYINT) END AS c_tinyint,
  CASE WHEN i % 17 = 0 THEN NULL ELSE CAST(i % 65536 - 32768 AS SMALLINT) END AS c_smallint,
  CASE WHEN i % 19 = 0 THEN NULL ELSE CAST(CAST(hash(i) % 4294967296 AS BIGINT) - 2147483648 AS INTEGER) END AS c_int,
  CASE WHEN i % 23 = 0 THEN NULL ELSE CAST(hash(i, 'big') % 9223372036854775807 AS BIGINT) * (1 - 2 * (i % 2)) END AS c_bigint,
  CASE WHEN i % 29 = 0 THEN NULL ELSE CAST(i % 1000 AS FLOAT) / 8 END AS c_float,
  CASE WHEN i % 31 = 0 THEN NULL ELSE (i % 100000) / 4 - 12345.5 END AS c_double,
  CASE WHEN i % 37 = 0 THEN NULL ELSE CAST(((i * 7919) % 2000000 - 1000000) / 100 AS DECIMAL(10, 2)) END AS c_decimal,
  CASE WHEN i % 41 = 0 THEN NULL ELSE 'asset-' || (i % 5000) END AS c_string,
  CASE WHEN i % 43 = 0 THEN NULL WHEN i % 7 = 0 THEN 'Zürich ⚡ point ' || i ELSE 'measurement point number ' || i END AS c_long_string,
  CASE WHEN i % 47 = 0 THEN NULL ELSE DATE '1990-01-01' + CAST(i % 20000 AS INTEGER) END AS c_date,
  CASE WHEN i % 53 = 0 THEN NULL ELSE TIMESTAMP '2020-01-01 00:00:00' + to_microseconds(i * 1234567) END AS c_timestamp,
  CASE WHEN i % 59 = 0 THEN NULL ELSE CAST('b' || (i % 100) AS BLOB) END AS c_binary
FROM range(${ROWS}) AS t(i)`;

const COLUMNS = ['row_id', 'c_boolean', 'c_tinyint', 'c_smallint', 'c_int', 'c_bigint', 'c_float', 'c_double', 'c_decimal', 'c_string', 'c_long_string', 'c_date', 'c_timestamp', 'c_binary'];

/** Sums as DuckDB computes them, each weighted by w = row_id % 97 + 1 so order matters too. */
const CHECKSUMS = `WITH q AS (${QUERY}), weighted AS (SELECT *, row_id % 97 + 1 AS w FROM q)
SELECT count(*) AS n,
  ${COLUMNS.slice(1).map((c) => `coalesce(sum(w) FILTER (WHERE ${c} IS NULL), 0) AS null_${c}`).join(',\n  ')},
  sum(CASE WHEN c_boolean THEN w ELSE 0 END) AS c_boolean,
  sum(c_tinyint * w) AS c_tinyint,
  sum(c_smallint * w) AS c_smallint,
  sum(CAST(c_int AS HUGEINT) * w) AS c_int,
  sum(CAST(c_bigint AS HUGEINT) * w) AS c_bigint,
  sum(CAST(c_float AS DOUBLE) * w) AS c_float,
  sum(c_double * w) AS c_double,
  sum(c_decimal * w) AS c_decimal,
  sum(strlen(c_string) * w) + sum(unicode(c_string) * w) AS c_string,
  sum(strlen(c_long_string) * w) + sum(unicode(c_long_string) * w) AS c_long_string,
  sum((c_date - DATE '1970-01-01') * w) AS c_date,
  sum(CAST(epoch_us(c_timestamp) AS HUGEINT) * w) AS c_timestamp,
  sum(octet_length(c_binary) * w) AS c_binary
FROM weighted`;

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' → microseconds since the epoch. */
function timestampMicros(text: string): bigint {
  const match = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) throw new Error(`not a Hive timestamp: ${text}`);
  const [, y, mo, d, h, mi, s, fraction = ''] = match;
  return BigInt(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!)) * 1000n + BigInt(fraction.padEnd(6, '0'));
}

function dateDays(text: string): number {
  const match = /^(\d{4})-(\d\d)-(\d\d)$/.exec(text);
  if (!match) throw new Error(`not a Hive date: ${text}`);
  return Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!) / DAY_MS;
}

function decimalCents(text: string): bigint {
  if (!/^-?\d+\.\d\d$/.test(text)) throw new Error(`not a DECIMAL(10,2) in Hive's form: ${text}`);
  return BigInt(text.replace('.', ''));
}

let standIn: HiveStandIn;
let connection: Connection;

beforeAll(async () => {
  standIn = await startHiveStandIn({ seedRows: 1_000, listeners: [{ transport: 'binary', auth: 'PLAIN' }] });
  connection = await connect(standIn.listeners[0]!);
});

afterAll(async () => {
  connection?.close();
  await standIn?.close();
});

it('fetches a million rows of every type in batches, matching DuckDB', async () => {
  // Columnar batches of BATCH rows: the encoder under test (a serialized result would go in
  // blobs of hive.server2.thrift.resultset.default.fetch.size rows instead).
  const session = await openSession(connection, { 'set:hiveconf:hive.server2.thrift.resultset.serialize.in.tasks': 'false' });
  const nulls: Record<string, number> = Object.fromEntries(COLUMNS.slice(1).map((c) => [c, 0]));
  let booleans = 0, tinyints = 0, smallints = 0, floats = 0, doubles = 0, strings = 0, longStrings = 0, dates = 0, binaries = 0;
  let ints = 0n, bigints = 0n, decimals = 0n, timestamps = 0n;
  const sample = new Map<number, unknown[]>();
  let row = 0;
  let outOfOrder = 0;
  const cells: unknown[] = [];
  const sizes: number[] = [];
  // Checksums as the batches arrive, so a million decoded rows are never all in memory.
  const schema = await streamRowSets(connection, session, QUERY, BATCH, (rowSet) => {
    if (rowSetRows(rowSet) === 0) {
      sizes.push(0);
      return;
    }
    const columns = COLUMNS.map((_, c) => columnValues(rowSet, c));
    const size = columns[0]!.values.length;
    sizes.push(size);
    for (let r = 0; r < size; r++, row++) {
      if (int64(columns[0]!.values[r]) !== BigInt(row)) outOfOrder++;
      const w = (row % 97) + 1;
      for (let c = 0; c < COLUMNS.length; c++) {
        const { values, nulls: mask } = columns[c]!;
        cells[c] = isNull(mask, r) ? null : values[r];
        if (c > 0 && cells[c] === null) nulls[COLUMNS[c]!]! += w;
      }
      if (row % 9973 === 0) sample.set(row, [...cells]);
      const [, b, t, s, i, big, f, d, dec, str, long, date, ts, bin] = cells;
      if (b === true) booleans += w;
      if (t !== null) tinyints += (t as number) * w;
      if (s !== null) smallints += (s as number) * w;
      if (i !== null) ints += BigInt(i as number) * BigInt(w);
      if (big !== null) bigints += int64(big) * BigInt(w);
      if (f !== null) floats += (f as number) * w;
      if (d !== null) doubles += (d as number) * w;
      if (dec !== null) decimals += decimalCents(dec as string) * BigInt(w);
      if (str !== null) strings += (Buffer.byteLength(str as string) + (str as string).codePointAt(0)!) * w;
      if (long !== null) longStrings += (Buffer.byteLength(long as string) + (long as string).codePointAt(0)!) * w;
      if (date !== null) dates += dateDays(date as string) * w;
      if (ts !== null) timestamps += timestampMicros(ts as string) * BigInt(w);
      if (bin !== null) binaries += (bin as Buffer).length * w;
    }
  });
  expect(schema.columns.map((c) => c.columnName)).toEqual(COLUMNS);
  expect(sizes).toEqual([...Array<number>(ROWS / BATCH).fill(BATCH), 0]);
  expect(row).toBe(ROWS);
  expect(outOfOrder, 'rows whose row_id is not their position').toBe(0);

  const expected = (await standIn.query(CHECKSUMS)).rows[0]!;
  expect(Number(expected.n)).toBe(ROWS);
  for (const name of COLUMNS.slice(1)) expect(nulls[name], `weighted nulls of ${name}`).toBe(Number(expected[`null_${name}`]));
  expect({
    c_boolean: booleans, c_tinyint: tinyints, c_smallint: smallints, c_int: ints, c_bigint: bigints, c_float: floats, c_double: doubles,
    c_decimal: decimals, c_string: strings, c_long_string: longStrings, c_date: dates, c_timestamp: timestamps, c_binary: binaries,
  }).toEqual({
    c_boolean: Number(expected.c_boolean), c_tinyint: Number(expected.c_tinyint), c_smallint: Number(expected.c_smallint),
    c_int: BigInt(expected.c_int as string), c_bigint: BigInt(expected.c_bigint as string), c_float: expected.c_float, c_double: expected.c_double,
    c_decimal: decimalCents(expected.c_decimal as string), c_string: Number(expected.c_string), c_long_string: Number(expected.c_long_string),
    c_date: Number(expected.c_date), c_timestamp: BigInt(expected.c_timestamp as string), c_binary: Number(expected.c_binary),
  });
  expect(bigints).not.toBe(0n);

  // A row every 9973, cell by cell, against DuckDB's own text forms.
  const rows = (await standIn.query(`SELECT *, hex(c_binary) AS binary_hex FROM (${QUERY}) WHERE row_id % 9973 = 0 ORDER BY row_id`)).rows;
  expect(rows).toHaveLength(sample.size);
  for (const want of rows) {
    const got = sample.get(Number(want.row_id))!;
    const [, b, t, s, i, big, f, d, dec, str, long, date, ts, bin] = got;
    expect({ b, t, s, i, big: big === null ? null : String(int64(big)), f, d, dec, str, long, date, ts, bin: bin === null ? null : (bin as Buffer).toString('hex').toUpperCase() }).toEqual({
      b: want.c_boolean, t: want.c_tinyint, s: want.c_smallint, i: want.c_int, big: want.c_bigint, f: want.c_float, d: want.c_double,
      dec: want.c_decimal, str: want.c_string, long: want.c_long_string, date: want.c_date, ts: want.c_timestamp, bin: want.binary_hex,
    });
  }
  await connection.bounded(session.close(), 'CloseSession');
}, 180_000);
