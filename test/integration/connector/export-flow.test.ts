/**
 * The whole export flow over the real HTTP API, for both storage methods: sign in, export,
 * poll, download the URL with a plain GET (no SDK, no token), parse with a real CSV parser and
 * match cell by cell against the same query run directly on the stand-in's DuckDB.
 */
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const ROWS = 200_000;
const standIns = useStandIns(ROWS);

async function download(url: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(url);
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

describe.each(['blob', 'local'] as const)('export flow with the %s storage method', (storage) => {
  let stack: ConnectorStack;
  let token: string;

  beforeAll(async () => {
    stack = await startConnectorStack({ storage, hive: standIns.hive, enos: standIns.enos });
    token = await stack.signIn('demo');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(`exports ${ROWS.toLocaleString('en')} rows whose download matches DuckDB cell by cell`, async () => {
    const sql = 'SELECT asset_id, ts, point, value, quality FROM enos.measurement ORDER BY asset_id, ts, point';
    const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql, ttlMinutes: 60 });
    expect(submitted.status).toBe(202);
    expect(submitted.json.status).toMatch(/queued|running/);
    expect(submitted.headers.get('location')).toBe(`/api/v1/exports/${submitted.json.id}`);

    const job = await stack.waitFor(token, submitted.json.id);
    expect(job).toMatchObject({ status: 'succeeded', truncated: false, progress: { rows: ROWS } });
    expect(new Date(job.expiresAt).getTime() - new Date(job.finishedAt).getTime()).toBeLessThanOrEqual(60 * 60_000);

    const { status, body, headers } = await download(job.downloadUrl);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/csv/);
    expect(body.length).toBe(job.progress.bytes);
    const records = parse(body, { columns: false }) as string[][];
    expect(records[0]).toEqual(['asset_id', 'ts', 'point', 'value', 'quality']);
    expect(records).toHaveLength(ROWS + 1);

    const expected = (await standIns.hive.query(sql)).rows;
    for (let i = 0; i < ROWS; i++) {
      const row = expected[i]!;
      const [assetId, ts, point, value, quality] = records[i + 1]!;
      if (assetId !== row.asset_id || ts !== String(row.ts).replace(' ', 'T') || point !== row.point) {
        throw new Error(`row ${i + 1} differs: ${JSON.stringify(records[i + 1])} vs ${JSON.stringify(row)}`);
      }
      if ((row.value === null ? '' : Number(value)) !== (row.value ?? '') || (row.quality === null ? '' : Number(quality)) !== (row.quality ?? '')) {
        throw new Error(`row ${i + 1} values differ: ${JSON.stringify(records[i + 1])} vs ${JSON.stringify(row)}`);
      }
    }
  });

  it('keeps every Hive type exact: BIGINT beyond 2^53, DECIMAL, dates, timestamps, binary, NULL vs empty', async () => {
    const sql = 'SELECT * FROM enos.type_probe ORDER BY id';
    const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql });
    const job = await stack.waitFor(token, submitted.json.id);
    expect(job.status).toBe('succeeded');
    const text = (await download(job.downloadUrl)).body.toString('utf8');
    const [header, ...rows] = parse(text) as string[][];
    const expected = (await standIns.hive.query('SELECT *, hex(c_binary) AS binary_hex FROM enos.type_probe ORDER BY id')).rows;
    expect(rows).toHaveLength(expected.length);
    const at = (row: string[], name: string) => row[header!.findIndex((column) => column === name || column.endsWith(`.${name}`))]!;
    rows.forEach((row, index) => {
      const want = expected[index]!;
      const text = (value: unknown) => (value === null ? '' : String(value));
      expect(at(row, 'c_bigint')).toBe(text(want.c_bigint));
      expect(at(row, 'c_decimal')).toBe(text(want.c_decimal));
      expect(at(row, 'c_decimal_wide')).toBe(text(want.c_decimal_wide));
      expect(at(row, 'c_string')).toBe(text(want.c_string));
      expect(at(row, 'c_long_string')).toBe(text(want.c_long_string));
      expect(at(row, 'c_date')).toBe(text(want.c_date));
      expect(at(row, 'c_timestamp')).toBe(text(want.c_timestamp).replace(' ', 'T'));
      expect(at(row, 'c_boolean')).toBe(text(want.c_boolean));
      expect(at(row, 'c_double') === '' ? null : Number(at(row, 'c_double'))).toBe(want.c_double);
      expect(at(row, 'c_binary')).toBe(want.binary_hex === null ? '' : Buffer.from(String(want.binary_hex), 'hex').toString('base64'));
    });
    // NULL is an empty field; an empty string is "" (row 3 has c_string = '').
    expect(text.split('\r\n')[3]).toContain(',"",');
  });

  it('writes csv.gz that decompresses to the same CSV', async () => {
    const sql = 'SELECT asset_id, name, asset_type FROM enos.asset ORDER BY asset_id';
    const plain = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql })).json.id);
    const gz = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql, format: 'csv.gz' })).json.id);
    expect(gz.status).toBe('succeeded');
    expect(gz.downloadUrl).toMatch(/\.csv\.gz/);
    const [a, b] = await Promise.all([download(plain.downloadUrl), download(gz.downloadUrl)]);
    expect(b.body[0]).toBe(0x1f);
    expect(gunzipSync(b.body).equals(a.body)).toBe(true);
  });

  it('lists the user\'s exports newest first, issues a new link, and kills the URL on delete', async () => {
    const sql = 'SELECT * FROM enos.asset LIMIT 10';
    const job = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql, ttlMinutes: 30 })).json.id);
    const list = await stack.api(token, 'GET', '/api/v1/exports');
    expect(list.status).toBe(200);
    expect(list.json.exports[0].id).toBe(job.id);

    const relinked = await stack.api(token, 'POST', `/api/v1/exports/${job.id}/link`, { ttlMinutes: 120 });
    expect(relinked.status).toBe(200);
    expect(new Date(relinked.json.expiresAt).getTime()).toBeGreaterThan(new Date(job.expiresAt).getTime());
    expect((await download(relinked.json.downloadUrl)).status).toBe(200);

    expect((await stack.api(token, 'DELETE', `/api/v1/exports/${job.id}`)).status).toBe(204);
    expect((await stack.api(token, 'GET', `/api/v1/exports/${job.id}`)).status).toBe(404);
    expect((await download(relinked.json.downloadUrl)).status).toBe(404);
    expect((await download(job.downloadUrl)).status).toBe(404);
  });
});
