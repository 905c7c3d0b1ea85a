/**
 * Multi-part results end to end, through the real connector over HTTP, the HiveServer2 stand-in
 * and Azurite or the local disk: with EXPORT_PART_MAX_BYTES at 64 KiB and small row sets, an
 * export in each format is split into parts; each part is a complete file (CSV with its header,
 * a gzip stream of its own, a Parquet file DuckDB reads alone) served at its own URL with the
 * bytes and digest the job states, and their rows, in order, are the rows of the same query
 * exported as one file by a connector with the default part size. The MLTable names every part
 * URL in order with the format's read transformation. Link renewal, delete, the expiry sweep, a
 * stable link and a Hive failure in the middle cover every part and the MLTable.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const SEED_ROWS = 32_000;
const SQL = 'SELECT asset_id, ts, point, value, quality FROM enos.measurement ORDER BY asset_id, ts, point';
const PART_BYTES = 64 * 1024;
const SPLIT_ENV = {
  EXPORT_PART_MAX_BYTES: String(PART_BYTES),
  HIVE_FETCH_SIZE: '500',
  SCHEDULE_MIN_INTERVAL_SECONDS: '1',
  SCHEDULE_TICK_SECONDS: '3600',
  STABLE_LINK_REDIRECT_MINUTES: '10',
};
const FORMATS = ['csv', 'csv.gz', 'parquet'] as const;
type Format = (typeof FORMATS)[number];
const EXTENSION: Record<Format, string> = { csv: '.csv', 'csv.gz': '.csv.gz', parquet: '.parquet' };
const standIns = useStandIns(SEED_ROWS);

interface Mltable {
  type: string;
  paths: { file: string }[];
  transformations: Record<string, unknown>[];
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function get(url: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(url);
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

/** Download URLs carry whole seconds. */
const toSecond = (iso: string) => Math.floor(Date.parse(iso) / 1000) * 1000;

/** When a download URL stops working, from the URL itself: a SAS's `se`, a signed URL's `exp`. */
function urlExpiry(url: string): number {
  const params = new URL(url).searchParams;
  return params.has('se') ? Date.parse(params.get('se')!) : Number(params.get('exp')) * 1000;
}

let db: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'multi-part-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

/** A file's data rows as text, read alone: CSV after its header (checked), Parquet by DuckDB. */
async function rowsOfFile(format: Format, bytes: Buffer, header: string[]): Promise<string[][]> {
  if (format === 'parquet') {
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    const file = path.join(dir, `${sha256(bytes)}.parquet`);
    writeFileSync(file, bytes);
    const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
    expect(reader.columnNames()).toEqual(header);
    return reader.getRowsJson().map((row) => row.map((value) => (value === null ? '\u0000NULL' : String(value))));
  }
  // gunzipSync of one part alone: each part is a complete gzip stream.
  const text = (format === 'csv.gz' ? gunzipSync(bytes) : bytes).toString('utf8');
  const [first, ...rows] = parseCsv(text) as string[][];
  expect(first).toEqual(header);
  return rows;
}

/** What of a job is left in storage: committed blobs, or files and temp files on the disk. */
async function storedFilesOf(stack: ConnectorStack, jobId: string): Promise<string[]> {
  if (stack.env.STORAGE_METHOD === 'blob') {
    const container = BlobServiceClient.fromConnectionString(inject('azurite').connectionString).getContainerClient(stack.container);
    const found: string[] = [];
    for await (const blob of container.listBlobsFlat()) if (blob.name.includes(jobId)) found.push(blob.name);
    return found;
  }
  const exportsDir = stack.env.LOCAL_EXPORT_DIR!;
  const entries = await readdir(exportsDir);
  const sidecars = await Promise.all(
    entries.filter((name) => name.endsWith('.json')).map(async (name) => ({ name, sidecar: JSON.parse(await readFile(path.join(exportsDir, name), 'utf8')) as { jobId: string; id: string } })),
  );
  const ids = new Set(sidecars.filter(({ sidecar }) => sidecar.jobId === jobId).map(({ sidecar }) => sidecar.id));
  const partial = (await readdir(path.join(exportsDir, '.partial')).catch(() => [] as string[])).filter((name) => name.startsWith(`${jobId}.`));
  return [...entries.filter((name) => ids.has(name.replace(/\.(json|data)$/, ''))), ...partial.map((name) => `.partial/${name}`)];
}

describe.each(['blob', 'local'] as const)('multi-part exports with the %s storage method', (storage) => {
  let split: ConnectorStack;
  let whole: ConnectorStack;
  let splitToken: string;
  let wholeToken: string;

  beforeAll(async () => {
    [split, whole] = await Promise.all([
      startConnectorStack({ storage, hive: standIns.hive, enos: standIns.enos, env: SPLIT_ENV }),
      startConnectorStack({ storage, hive: standIns.hive, enos: standIns.enos, env: { HIVE_FETCH_SIZE: '500' } }),
    ]);
    [splitToken, wholeToken] = await Promise.all([split.signIn('demo'), whole.signIn('demo')]);
  });
  afterAll(async () => {
    await Promise.all([split?.stop(), whole?.stop()]);
  });

  async function exportWith(stack: ConnectorStack, token: string, body: Record<string, unknown>): Promise<any> {
    const submitted = await stack.api(token, 'POST', '/api/v1/exports', body);
    expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
    return stack.waitFor(token, submitted.json.id, undefined, 120_000);
  }

  describe.each(FORMATS)('as %s', (format) => {
    let job: any;
    let mltableText: string;

    it('writes complete parts at their own URLs whose rows, in order, are the single-file export of the same query', async () => {
      const [multi, single] = await Promise.all([exportWith(split, splitToken, { sql: SQL, format }), exportWith(whole, wholeToken, { sql: SQL, format })]);
      job = multi;
      expect(multi.status, JSON.stringify(multi.error)).toBe('succeeded');
      expect(single.status, JSON.stringify(single.error)).toBe('succeeded');
      const files = multi.files as { url: string; name: string; rows: number; bytes: number; sha256: string }[];
      expect(files.length, JSON.stringify(files.map((f) => [f.rows, f.bytes]))).toBeGreaterThanOrEqual(3);
      expect(multi).toMatchObject({ downloadUrl: null, mltableUrl: expect.any(String), truncated: false, progress: { rows: SEED_ROWS } });
      expect(files.map((file) => file.name)).toEqual(files.map((_, index) => `${multi.fileName}-part-${String(index + 1).padStart(5, '0')}${EXTENSION[format]}`));
      expect(files.reduce((sum, file) => sum + file.rows, 0)).toBe(multi.progress.rows);
      expect(files.reduce((sum, file) => sum + file.bytes, 0)).toBe(multi.progress.bytes);

      // The single-file export keeps today's shape, with its one file listed too.
      expect(single.files).toHaveLength(1);
      expect(single).toMatchObject({ mltableUrl: null, downloadUrl: single.files[0].url, progress: { rows: SEED_ROWS } });
      expect(single.files[0]).toMatchObject({ name: `${single.fileName}${EXTENSION[format]}`, rows: SEED_ROWS, bytes: single.progress.bytes });
      const singleBody = (await get(single.downloadUrl)).body;
      expect(sha256(singleBody)).toBe(single.files[0].sha256);

      const header = (multi.schema as { name: string }[]).map((column) => column.name);
      const concatenated: string[][] = [];
      for (const [index, file] of files.entries()) {
        const response = await get(file.url);
        expect(response.status).toBe(200);
        expect(response.body.length).toBe(file.bytes);
        expect(sha256(response.body)).toBe(file.sha256);
        expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${file.name}"`);
        const rows = await rowsOfFile(format, response.body, header);
        expect(rows, `part ${index + 1}`).toHaveLength(file.rows);
        // A part is closed once it holds the limit; only the last may be smaller.
        if (index < files.length - 1) expect(file.bytes).toBeGreaterThanOrEqual(PART_BYTES);
        concatenated.push(...rows);
      }
      expect(concatenated).toEqual(await rowsOfFile(format, singleBody, header));

      const manifest = await get(multi.mltableUrl);
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get('content-disposition')).toBe('attachment; filename="MLTable"');
      mltableText = manifest.body.toString('utf8');
      const table = parseYaml(mltableText) as Mltable;
      expect(table.type).toBe('mltable');
      expect(table.transformations.map((step) => Object.keys(step)[0])).toEqual([format === 'parquet' ? 'read_parquet' : 'read_delimited']);
      expect(table.paths).toHaveLength(files.length);
      for (const [index, entry] of table.paths.entries()) {
        const response = await get(entry.file);
        expect(response.status).toBe(200);
        expect(sha256(response.body)).toBe(files[index]!.sha256);
        expect(urlExpiry(entry.file)).toBe(toSecond(multi.expiresAt));
      }
    });

    it('renews the URL of every part and rewrites the MLTable; delete removes every part and the MLTable', async () => {
      expect(job, 'the export of the previous test').toBeDefined();
      const before = job;
      const renewed = await split.api(splitToken, 'POST', `/api/v1/exports/${before.id}/link`, { ttlMinutes: 2_880 });
      expect(renewed.status).toBe(200);
      const after = renewed.json;
      expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.parse(before.expiresAt));
      expect(after.files).toHaveLength(before.files.length);
      for (const [index, file] of after.files.entries()) {
        expect(file.url).not.toBe(before.files[index].url);
        expect(urlExpiry(file.url)).toBe(toSecond(after.expiresAt));
        expect(file).toMatchObject({ name: before.files[index].name, rows: before.files[index].rows, bytes: before.files[index].bytes, sha256: before.files[index].sha256 });
        expect(sha256((await get(file.url)).body)).toBe(file.sha256);
      }
      expect(after.mltableUrl).not.toBe(before.mltableUrl);
      const rewritten = (await get(after.mltableUrl)).body.toString('utf8');
      expect(rewritten).not.toBe(mltableText);
      const table = parseYaml(rewritten) as Mltable;
      expect(table.paths).toHaveLength(after.files.length);
      for (const [index, entry] of table.paths.entries()) {
        expect(urlExpiry(entry.file)).toBe(toSecond(after.expiresAt));
        expect(sha256((await get(entry.file)).body)).toBe(after.files[index].sha256);
      }

      expect((await storedFilesOf(split, before.id)).length).toBeGreaterThan(after.files.length);
      expect((await split.api(splitToken, 'DELETE', `/api/v1/exports/${before.id}`)).status).toBe(204);
      expect(await storedFilesOf(split, before.id)).toEqual([]);
      for (const url of [after.mltableUrl, ...after.files.map((file: { url: string }) => file.url), before.mltableUrl]) {
        expect((await get(url)).status).toBe(404);
      }
    });
  });

  it('a Hive failure while the later parts are written fails the export truthfully and leaves no part behind', async () => {
    const fault = standIns.hive.faults.add({ match: 'multipart_fault', kind: 'fail', afterFetches: 14, message: 'Error while processing statement: FAILED: Execution Error (injected mid-export)' });
    try {
      const failed = await exportWith(split, splitToken, { sql: `SELECT asset_id, ts, point, value, quality, 'multipart_fault' AS probe FROM enos.measurement ORDER BY asset_id, ts, point` });
      expect(fault.hits).toBe(1);
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'hive_error' }, files: [], downloadUrl: null, mltableUrl: null });
      expect(await storedFilesOf(split, failed.id)).toEqual([]);
      if (storage === 'blob') {
        // Later parts had been begun (their blocks staged, never committed): the failure came mid-export.
        const container = BlobServiceClient.fromConnectionString(inject('azurite').connectionString).getContainerClient(split.container);
        const staged: string[] = [];
        for await (const blob of container.listBlobsFlat({ includeUncommitedBlobs: true })) if (blob.name.includes(failed.id)) staged.push(blob.name);
        expect(staged).toContain(`${staged[0]!.slice(0, staged[0]!.lastIndexOf('/'))}/${failed.fileName}-part-00002.csv`);
      }
    } finally {
      fault.remove();
    }
  });

  it("a refreshing export's stable link of a multi-part result redirects to its MLTable", async () => {
    const created = await split.api(splitToken, 'POST', '/api/v1/schedules', { name: 'measurements', sql: SQL, format: 'parquet', cron: '* * * * * *', keepLast: 1 });
    expect(created.status).toBe(201);
    const deadline = Date.now() + 120_000;
    let view = created.json;
    while (view.runs[0]?.status !== 'succeeded') {
      expect(['queued', 'running', undefined]).toContain(view.runs[0]?.status);
      if (Date.now() > deadline) throw new Error(`the first run never succeeded: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      view = (await split.api(splitToken, 'GET', `/api/v1/schedules/${view.id}`)).json;
    }
    const result = (await split.api(splitToken, 'GET', `/api/v1/exports/${view.runs[0].exportId}`)).json;
    expect(result.files.length).toBeGreaterThan(1);

    const response = await fetch(view.stableUrl, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = response.headers.get('location')!;
    expect(new URL(location).pathname).toMatch(/\/MLTable$/);
    const manifest = await get(location);
    expect(manifest.headers.get('content-disposition')).toBe('attachment; filename="MLTable"');
    const table = parseYaml(manifest.body.toString('utf8')) as Mltable;
    expect(table.transformations.map((step) => Object.keys(step)[0])).toEqual(['read_parquet']);
    expect(table.paths).toHaveLength(result.files.length);
    for (const [index, entry] of table.paths.entries()) expect(sha256((await get(entry.file)).body)).toBe(result.files[index].sha256);

    expect((await split.api(splitToken, 'DELETE', `/api/v1/schedules/${view.id}`)).status).toBe(204);
    expect(await storedFilesOf(split, result.id)).toEqual([]);
  });

  it("the connector's expiry sweep deletes every part and the MLTable of an expired export", async () => {
    let now = Date.now();
    const stack = await startConnectorStack({ storage, hive: standIns.hive, enos: standIns.enos, env: SPLIT_ENV, overrides: { clock: () => new Date(now) } });
    try {
      const token = await stack.signIn('demo');
      const job = await exportWith(stack, token, { sql: SQL, format: 'csv.gz', ttlMinutes: 5 });
      expect(job.status).toBe('succeeded');
      expect(job.files.length).toBeGreaterThan(1);
      expect((await storedFilesOf(stack, job.id)).length).toBeGreaterThan(job.files.length);

      now += 6 * 60_000;
      expect(await stack.connector.scheduler.sweep()).toBe(1);
      expect(await storedFilesOf(stack, job.id)).toEqual([]);
      expect((await stack.api(token, 'GET', `/api/v1/exports/${job.id}`)).json).toMatchObject({ status: 'expired', files: [], downloadUrl: null, mltableUrl: null });
    } finally {
      await stack.stop();
    }
  });
});
