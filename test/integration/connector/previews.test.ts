/**
 * POST /api/v1/previews over real HTTP against the real connector, the HiveServer2 stand-in over
 * Thrift and Azurite: values typed for JSON, the row cap, the guard's and Hive's errors with their
 * positions, the deadline (and the query cancelled on Hive), the per-user limits, the audit event,
 * and that a preview leaves no job and no file behind.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ownerIdOf } from '../../../app/src/auth/principal.js';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const standIns = useStandIns(2_000);

async function blobNames(stack: ConnectorStack): Promise<string[]> {
  const container = BlobServiceClient.fromConnectionString(inject('azurite').connectionString).getContainerClient(stack.container);
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names;
}

/** The stand-in's record of the one operation whose statement contains `marker`. */
const operationOf = (marker: string) => standIns.hive.operations().filter((op) => op.statement.includes(marker));

async function waitForOperation(marker: string): Promise<void> {
  await expect.poll(() => operationOf(marker).length, { timeout: 10_000 }).toBe(1);
}

const preview = (stack: ConnectorStack, token: string, body: unknown) => stack.api(token, 'POST', '/api/v1/previews', body);

describe('POST /api/v1/previews', () => {
  let stack: ConnectorStack;
  let demo: string;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'blob', hive: standIns.hive, enos: standIns.enos });
    demo = await stack.signIn('demo');
  });
  afterAll(async () => stack?.stop());

  it('answers the probe table with its schema and every type typed for JSON, leaving no job and no file', async () => {
    const response = await preview(stack, demo, { sql: 'SELECT * FROM enos.type_probe WHERE id IN (1, 2, 3, 4, 7) ORDER BY id' });
    expect(response.status).toBe(200);
    const { schema, rows, truncated } = response.json;
    expect(truncated).toBe(false);
    expect(schema.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      'id int', 'c_boolean boolean', 'c_tinyint tinyint', 'c_smallint smallint', 'c_int int', 'c_bigint bigint', 'c_float float', 'c_double double',
      'c_decimal decimal(10,2)', 'c_decimal_wide decimal(38,6)', 'c_string string', 'c_long_string string', 'c_date date', 'c_timestamp timestamp',
      'c_binary binary', 'c_char char(10)', 'c_varchar varchar(20)', 'c_array array', 'c_map map', 'c_struct struct', 'c_union uniontype',
      'c_interval_ym interval_year_month', 'c_interval_dt interval_day_time', 'c_tslocal timestamp with local time zone',
    ]);
    expect(schema.every((c: { nullable: boolean }) => c.nullable)).toBe(true);
    // Numbers for the small numeric types; BIGINT exact as a string (2^53 + 1 would round as a
    // JSON number); DECIMAL as a string padded to its scale; BINARY base64; the rest Hive's text.
    expect(rows).toEqual([
      [1, true, 1, 1, 1, '9007199254740993', 1.5, 0.1, '12.50', '1.000001', 'a', 'a string longer than twelve bytes', '2024-02-29', '2024-02-29 23:59:59.123',
        'AP8=', 'ab        ', 'varchar one', '[1,2,3]', '{"a":1.5,"b":null}', '{"name":"x\\"y","ts":"2024-01-01 00:00:00","amount":12.5}', '{0:7}', '1-2',
        '1 02:03:04.500000000', '2024-02-29 23:59:59.123 UTC'],
      [2, ...Array(23).fill(null)],
      [3, false, -128, -32768, -2147483648, '-9223372036854775808', -3.25, -1e300, '-0.05', '-12345678901234567890123456789012.123456', '',
        'it\'s "quoted", tab\tand newline\n', '1970-01-01', '1970-01-01 00:00:00', '', '          ', '', '[]', '{}', '{"name":"","ts":null,"amount":-0.05}',
        '{1:"tab\\tq\\""}', '-0-3', '-1 00:00:00.000000000', '1970-01-01 00:00:00.0 UTC'],
      [4, true, 127, 32767, 2147483647, '9223372036854775807', 3.4e38, 1.7976931348623157e308, '99999999.99', '99999999999999999999999999999999.999999',
        'Zürich ⚡ 風力', 'Ünïcödé beyond twelve bytes: 風力発電', '9999-12-31', '2038-01-19 03:14:07.999999', 'Ynl0ZXM=', 'Zü⚡       ', 'Zürich ⚡ 風力',
        '[null,-2147483648]', '{"k\\n":1.0E300}', '{"name":"Ünï","ts":"2038-01-19 03:14:07.999999","amount":99999999.99}', '{1:"Zürich"}', '0-0',
        '0 00:00:00.000000000', '2038-01-19 03:14:07.999999 UTC'],
      [7, false, 7, 7, 7, '-9007199254740993', 7, 7.25, '0.00', '0.000001', 'seven', 'seven seven seven', '1900-03-01', '1899-12-31 23:59:59', 'c2V2ZW4=',
        'seven     ', 'seven', '[7]', '{"seven":7.0}', '{"name":"seven","ts":"1899-12-31 23:59:59","amount":7}', '{0:-7}', '100-0', '1 12:00:00.000000000',
        '2000-01-01 12:00:00.5 UTC'],
    ]);
    // NULL is null and '' is '' (row 2 against row 3), in the JSON text itself too.
    expect(rows[1][10]).toBeNull();
    expect(rows[2][10]).toBe('');

    const me = await stack.api(demo, 'GET', '/api/v1/me');
    expect(await stack.connector.jobs.listByOwner(ownerIdOf({ userId: me.json.user.id, organizationId: 'demo-org' }), { limit: 10 })).toEqual([]);
    expect((await stack.api(demo, 'GET', '/api/v1/exports')).json.exports).toEqual([]);
    expect(await blobNames(stack)).toEqual([]);
  });

  it('sends the doubles JSON has no number for as strings', async () => {
    const response = await preview(stack, demo, {
      sql: "SELECT CAST('NaN' AS DOUBLE) AS nan_value, CAST('Infinity' AS DOUBLE) AS inf, CAST('-Infinity' AS DOUBLE) AS minus_inf, CAST(0.5 AS DOUBLE) AS half",
    });
    expect(response.status).toBe(200);
    expect(response.json.rows).toEqual([['NaN', 'Infinity', '-Infinity', 0.5]]);
  });

  it('shows at most the rows asked for, says whether there were more, and has Hive send only one more row, in one fetch', async () => {
    const three = await preview(stack, demo, { sql: "SELECT asset_id, 'cap_probe_1' AS tag FROM enos.asset ORDER BY asset_id", rows: 3 });
    expect(three.status).toBe(200);
    expect(three.json.rows).toEqual([['INV-00001', 'cap_probe_1'], ['INV-00004', 'cap_probe_1'], ['INV-00007', 'cap_probe_1']]);
    expect(three.json.truncated).toBe(true);
    // The SQL went to Hive as written (no LIMIT added); 4 rows came in one FetchResults, then the operation was closed.
    expect(operationOf('cap_probe_1')).toEqual([
      expect.objectContaining({ statement: "SELECT asset_id, 'cap_probe_1' AS tag FROM enos.asset ORDER BY asset_id", fetchCalls: 1, rowsFetched: 4, state: 'CLOSED' }),
    ]);

    const exact = "SELECT asset_id FROM enos.asset WHERE asset_id IN ('INV-00001', 'INV-00004', 'INV-00007') ORDER BY asset_id";
    const all = await preview(stack, demo, { sql: exact, rows: 3 });
    expect({ rows: all.json.rows.length, truncated: all.json.truncated }).toEqual({ rows: 3, truncated: false });
    const two = await preview(stack, demo, { sql: exact, rows: 2 });
    expect({ rows: two.json.rows, truncated: two.json.truncated }).toEqual({ rows: [['INV-00001'], ['INV-00004']], truncated: true });
    const none = await preview(stack, demo, { sql: "SELECT asset_id FROM enos.asset WHERE asset_id = 'nobody'" });
    expect(none.json).toEqual({ schema: [{ name: 'asset_id', type: 'string', nullable: true }], rows: [], truncated: false });

    const byDefault = await preview(stack, demo, { sql: "SELECT asset_id, 'cap_probe_2' AS tag FROM enos.asset" });
    expect({ rows: byDefault.json.rows.length, truncated: byDefault.json.truncated }).toEqual({ rows: 20, truncated: true });
    expect(operationOf('cap_probe_2')).toEqual([expect.objectContaining({ rowsFetched: 21, fetchCalls: 1 })]);
  });

  it('refuses a row count outside 1..100 and unknown fields with 400, before Hive sees anything', async () => {
    for (const body of [{ sql: "SELECT 'rows_probe' AS x FROM enos.asset", rows: 101 }, { sql: "SELECT 'rows_probe' AS x FROM enos.asset", rows: 0 }]) {
      const response = await preview(stack, demo, body);
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('rows') });
    }
    const unknown = await preview(stack, demo, { sql: "SELECT 'rows_probe' AS x FROM enos.asset", limit: 5 });
    expect(unknown.json.error.code).toBe('validation_failed');
    expect((await preview(stack, demo, {})).json.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('sql') });
    expect(operationOf('rows_probe')).toEqual([]);
    expect((await preview(stack, undefined as unknown as string, { sql: 'SELECT 1 FROM enos.asset' })).status).toBe(401);
  });

  it("answers the guard's refusal with 400 and its position, another organization's table with 403, and audits both", async () => {
    const refused = await preview(stack, demo, { sql: 'SELECT asset_id\nFROM enos.asset;\nDROP TABLE enos.asset' });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'sql_rejected', position: { line: 3, column: 1 } });
    const forbidden = await preview(stack, demo, { sql: 'SELECT * FROM enos_other.site' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error).toMatchObject({ code: 'table_forbidden', position: { line: 1, column: 15 } });
    expect(standIns.hive.operations().filter((op) => op.statement.includes('enos_other.site') || op.statement.includes('DROP'))).toEqual([]);

    const events = await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['export.refused', 'authz.refused'], limit: 50 });
    expect(events.map((e) => [e.type, e.sql])).toEqual(
      expect.arrayContaining([
        ['export.refused', 'SELECT asset_id\nFROM enos.asset;\nDROP TABLE enos.asset'],
        ['authz.refused', 'SELECT * FROM enos_other.site'],
      ]),
    );
  });

  it("answers Hive's compile error with 422, Hive's message and where it is in the caller's text", async () => {
    // Hive counts from the statement it was sent, which starts after the caller's leading blank line and spaces.
    const column = await preview(stack, demo, { sql: '\n  SELECT no_such_column\n  FROM enos.asset' });
    expect(column.status).toBe(422);
    expect(column.json.error).toEqual({
      code: 'hive_error',
      message: expect.stringMatching(/^Error while compiling statement: FAILED: SemanticException \[Error 10004\]: Line 1:7 .*no_such_column/),
      position: { line: 2, column: 10 },
    });
    const table = await preview(stack, demo, { sql: 'SELECT asset_id FROM enos.no_such_table' });
    expect(table.status).toBe(422);
    expect(table.json.error).toMatchObject({ code: 'hive_error', message: expect.stringMatching(/Table not found/), position: { line: 1, column: 22 } });
  });

  it('records a preview.run audit event with the SQL, the tables and the client address before Hive runs it', async () => {
    const sql = "SELECT a.asset_id, p.load_mw, 'audit_probe' AS tag FROM enos.asset a JOIN enos.power_load p ON a.site_id = p.region";
    expect((await preview(stack, demo, { sql, rows: 5 })).status).toBe(200);
    const [event] = (await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['preview.run'], limit: 100 })).filter((e) => e.sql === sql);
    expect(event).toMatchObject({
      type: 'preview.run',
      outcome: 'success',
      userName: 'demo',
      via: 'session',
      sql,
      tables: ['enos.asset', 'enos.power_load'],
      clientAddress: expect.stringMatching(/127\.0\.0\.1/),
      detail: expect.stringMatching(/^preview [0-9a-f-]{36}, rows=5$/),
    });
    // Auditors find it through the API like any other event.
    const trail = await stack.api(demo, 'GET', '/api/v1/audit?type=preview.run');
    expect(trail.json.events.some((e: { sql: string }) => e.sql === sql)).toBe(true);
  });

  it('stops the query on Hive when the caller hangs up', async () => {
    const fault = standIns.hive.faults.add({ match: 'hangup_probe', kind: 'delay', ms: 60_000, during: 'execute' });
    try {
      const controller = new AbortController();
      const request = fetch(`${stack.url}/api/v1/previews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${demo}` },
        body: JSON.stringify({ sql: "SELECT asset_id, count(*) AS n, 'hangup_probe' AS tag FROM enos.asset GROUP BY asset_id" }),
        signal: controller.signal,
      });
      request.catch(() => undefined);
      await waitForOperation('hangup_probe');
      controller.abort();
      await expect.poll(() => operationOf('hangup_probe')[0]?.cancelledWhile, { timeout: 10_000 }).toBe('RUNNING');
      await expect.poll(() => operationOf('hangup_probe')[0]?.state, { timeout: 10_000 }).toBe('CLOSED');
    } finally {
      fault.remove();
    }
  });
});

describe('preview deadline and limits', () => {
  let stack: ConnectorStack;
  let demo: string;
  beforeAll(async () => {
    stack = await startConnectorStack({
      storage: 'blob',
      hive: standIns.hive,
      enos: standIns.enos,
      env: { PREVIEW_TIMEOUT_MS: '2000', PREVIEW_MAX_CONCURRENT_PER_USER: '1', PREVIEW_RATE_LIMIT_PER_MINUTE: '4' },
    });
    demo = await stack.signIn('demo');
  });
  afterAll(async () => stack?.stop());

  it('answers 504 preview_timeout at the deadline and cancels the query on Hive; a second preview meanwhile is 429', async () => {
    const fault = standIns.hive.faults.add({ match: 'timeout_probe', kind: 'delay', ms: 60_000, during: 'execute' });
    try {
      // A GROUP BY runs a job: the operation is RUNNING on Hive while the deadline passes.
      const slow = preview(stack, demo, { sql: "SELECT asset_id, count(*) AS n, 'timeout_probe' AS tag FROM enos.asset GROUP BY asset_id" });
      await waitForOperation('timeout_probe');
      const second = await preview(stack, demo, { sql: "SELECT 'second_probe' AS x FROM enos.asset" });
      expect(second.status).toBe(429);
      expect(second.json.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/running/) });
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);

      const timedOut = await slow;
      expect(timedOut.status).toBe(504);
      expect(timedOut.json.error).toMatchObject({ code: 'preview_timeout', message: expect.stringMatching(/2 s/) });
      await expect.poll(() => operationOf('timeout_probe')[0]?.cancelledWhile, { timeout: 10_000 }).toBe('RUNNING');
      await expect.poll(() => operationOf('timeout_probe')[0]?.state, { timeout: 10_000 }).toBe('CLOSED');
      expect(operationOf('second_probe')).toEqual([]);
    } finally {
      fault.remove();
    }
  });

  it('limits previews per user per minute with 429 and Retry-After; other users are not affected', async () => {
    // The first test used two of this user's four.
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await preview(stack, demo, { sql: `SELECT asset_id, 'rate_probe_${i}' AS tag FROM enos.asset`, rows: 1 }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2]!.json.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/4 previews in a minute/) });
    expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(operationOf('rate_probe_2')).toEqual([]);

    const auditor = await stack.signIn('auditor');
    expect((await preview(stack, auditor, { sql: 'SELECT asset_id FROM enos.asset', rows: 1 })).status).toBe(200);
  });
});
