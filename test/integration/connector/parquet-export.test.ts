/**
 * `format: "parquet"` end to end: the connector exports the type probe as Parquet and as CSV
 * through its API, with each storage method; DuckDB — an independent reader — reads the Parquet
 * file with its own types and the CSV file typed from the job's schema, and the two must hold the
 * same rows, value for value. The file is typed as app/README.md "Parquet writer" says.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorStack, startHiveForTests, type ConnectorStack } from '../../support/connector-stack.js';
import type { HiveStandIn } from '../../../scripts/hive-stand-in/index.js';

const PROBE = 'SELECT * FROM enos.type_probe ORDER BY id';

/** Hive type text → the DuckDB type the Parquet file must carry (complex types and intervals are text). */
function duckTypeOf(hiveType: string): string {
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(hiveType);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const known: Record<string, string> = {
    boolean: 'BOOLEAN', tinyint: 'TINYINT', smallint: 'SMALLINT', int: 'INTEGER', bigint: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
    date: 'DATE', timestamp: 'TIMESTAMP', binary: 'BLOB',
  };
  return known[hiveType] ?? 'VARCHAR';
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

let db: DuckDBConnection;
let dir: string;
let hive: HiveStandIn;

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parquet-export-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
  hive = await startHiveForTests(1_000);
});
afterAll(async () => {
  db?.closeSync();
  await hive?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['blob', 'local'] as const)('a Parquet export with the %s storage method', (storage) => {
  let stack: ConnectorStack;
  let token: string;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage, hive });
    token = await stack.signIn('demo');
  });
  afterAll(() => stack?.stop());

  async function exportFile(sql: string, format: 'csv' | 'parquet') {
    const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql, format });
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
    const job = await stack.waitFor(token, submitted.json.id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const response = await fetch(job.downloadUrl);
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    const file = path.join(dir, `${storage}-${job.id}.${format}`);
    writeFileSync(file, bytes);
    return { job, bytes, file, contentType: response.headers.get('content-type') };
  }

  it('holds every probe value with its Hive type, the same rows DuckDB reads from the CSV export', async () => {
    const parquet = await exportFile(PROBE, 'parquet');
    const csv = await exportFile(PROBE, 'csv');
    expect(parquet.job).toMatchObject({ format: 'parquet', truncated: false, progress: { rows: 11, bytes: parquet.bytes.length } });
    expect(parquet.contentType).toBe('application/vnd.apache.parquet');
    expect(parquet.job.downloadUrl).toMatch(/\.parquet(\?|$)/);
    expect(parquet.bytes.subarray(0, 4).toString()).toBe('PAR1');

    const schema = parquet.job.schema as { name: string; type: string }[];
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${parquet.file}')`);
    expect(described.map((row) => [row.column_name, row.column_type])).toEqual(schema.map((column) => [column.name, duckTypeOf(column.type)]));

    // The CSV read with the types the Parquet file should have: binary from its base64, "" kept apart from NULL.
    const csvTypes = schema.map((column) => `${quoteIdent(column.name)}: '${column.type === 'binary' ? 'VARCHAR' : duckTypeOf(column.type)}'`).join(', ');
    const csvColumns = schema.map((column) => (column.type === 'binary' ? `from_base64(${quoteIdent(column.name)}) AS ${quoteIdent(column.name)}` : quoteIdent(column.name))).join(', ');
    await db.run(`CREATE OR REPLACE TABLE from_parquet AS SELECT * FROM read_parquet('${parquet.file}')`);
    await db.run(
      `CREATE OR REPLACE TABLE from_csv AS SELECT ${csvColumns} FROM read_csv('${csv.file}', header = true, columns = {${csvTypes}}, allow_quoted_nulls = false, auto_detect = false, quote = '"', escape = '"')`,
    );
    expect(await rows('SELECT count(*)::INTEGER AS n FROM from_parquet')).toEqual([{ n: 11 }]);
    expect(await rows('SELECT * FROM from_parquet EXCEPT ALL SELECT * FROM from_csv')).toEqual([]);
    expect(await rows('SELECT * FROM from_csv EXCEPT ALL SELECT * FROM from_parquet')).toEqual([]);
    // What a CSV reader would have lost: BIGINT beyond 2^53, and "" beside NULL.
    expect(await rows(`SELECT c_bigint::VARCHAR AS b, c_string FROM from_parquet WHERE id IN (1, 2, 3) ORDER BY id`)).toEqual([
      { b: '9007199254740993', c_string: 'a' },
      { b: null, c_string: null },
      { b: '-9223372036854775808', c_string: '' },
    ]);
  });

  it('writes a result of many row sets as one file of every row', async () => {
    await stack.stop();
    stack = await startConnectorStack({ storage, hive, env: { HIVE_FETCH_SIZE: '100' } });
    token = await stack.signIn('demo');
    const { job, file } = await exportFile('SELECT asset_id, ts, value FROM enos.measurement', 'parquet');
    expect(job.progress.rows).toBe(1_000);
    expect(await rows(`SELECT count(*)::INTEGER AS n, count(DISTINCT asset_id)::INTEGER > 1 AS many FROM read_parquet('${file}')`)).toEqual([{ n: 1_000, many: true }]);
  });

  it('stops at the row cap with whole rows and says the file is truncated', async () => {
    await stack.stop();
    stack = await startConnectorStack({ storage, hive, env: { EXPORT_MAX_ROWS: '250' } });
    token = await stack.signIn('demo');
    const { job, file } = await exportFile('SELECT asset_id, ts, value FROM enos.measurement', 'parquet');
    expect(job).toMatchObject({ truncated: true, progress: { rows: 250 } });
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`)).toEqual([{ n: 250 }]);
  });
});
