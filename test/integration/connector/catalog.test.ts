/**
 * The web page's side list, over real HTTP against the real connector: each organization sees
 * the databases its configuration allows, with their tables listed by Hive's GetTables and a
 * table's columns by GetColumns (both served by the HiveServer2 stand-in), and nothing of another
 * organization's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorStack, type ConnectorStack } from '../../support/connector-stack.js';

describe('GET /api/v1/catalog', () => {
  let stack: ConnectorStack;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'blob' });
  });
  afterAll(async () => stack?.stop());

  it("lists each organization's databases with the tables Hive reports, and only those", async () => {
    // GetTables takes a JDBC pattern, where `enos_other` also matches this database of nobody's.
    await stack.hive.query('CREATE SCHEMA enos1other');
    await stack.hive.query('CREATE TABLE enos1other.not_yours AS SELECT 1 AS x');

    const demo = await stack.api(await stack.signIn('demo'), 'GET', '/api/v1/catalog');
    expect(demo.status).toBe(200);
    expect(demo.json.organizationId).toBe('demo-org');
    expect(demo.json.databases.map((d: { name: string }) => d.name)).toEqual(['enos']);
    const [enos] = demo.json.databases as { name: string; tables: string[] | null }[];
    expect(enos!.tables).toEqual(expect.arrayContaining(['asset', 'measurement', 'power_load']));
    expect(enos!.tables).not.toContain('site');

    const other = await stack.api(await stack.signIn('other'), 'GET', '/api/v1/catalog');
    expect(other.status).toBe(200);
    expect(other.json.databases).toEqual([{ name: 'enos_other', tables: ['site'] }]);
  });
});

describe('GET /api/v1/catalog/tables/{database}/{table}/columns', () => {
  let stack: ConnectorStack;
  let demo: string;
  let other: string;
  const columns = (token: string, database: string, table: string) => stack.api(token, 'GET', `/api/v1/catalog/tables/${database}/${table}/columns`);
  /** GetColumns calls the stand-in has served for this table. */
  const getColumnsCalls = (table: string) => stack.hive.operations().filter((op) => op.statement.startsWith('GetColumns ') && op.statement.includes(`tableName=${table}`)).length;

  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'blob' });
    [demo, other] = await Promise.all([stack.signIn('demo'), stack.signIn('other')]);
    await stack.hive.query("COMMENT ON COLUMN enos.power_load.load_mw IS 'Average load over the hour, MW'");
    // `_` is a wildcard in GetColumns' table pattern: a lookup of power_load must not pick up this one.
    await stack.hive.query('CREATE TABLE enos.power1load AS SELECT 1 AS stray');
  });
  afterAll(async () => stack?.stop());

  it('answers every column with its Hive type text, partition columns last, comments where the metastore has them', async () => {
    const daily = await columns(demo, 'enos', 'measurement_daily');
    expect(daily.status).toBe(200);
    expect(daily.json).toEqual({
      database: 'enos',
      table: 'measurement_daily',
      columns: [
        { name: 'asset_id', type: 'string' },
        { name: 'ts', type: 'timestamp' },
        { name: 'point', type: 'string' },
        { name: 'value', type: 'double' },
        { name: 'quality', type: 'int' },
        { name: 'dt', type: 'string' },
      ],
    });

    const probe = await columns(demo, 'enos', 'type_probe');
    expect(probe.json.columns.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      'id int', 'c_boolean boolean', 'c_tinyint tinyint', 'c_smallint smallint', 'c_int int', 'c_bigint bigint', 'c_float float', 'c_double double',
      'c_decimal decimal(10,2)', 'c_decimal_wide decimal(38,6)', 'c_string string', 'c_long_string string', 'c_date date', 'c_timestamp timestamp',
      'c_binary binary', 'c_char char(10)', 'c_varchar varchar(20)', 'c_array array<int>', 'c_map map<string,double>',
      'c_struct struct<name:string,ts:timestamp,amount:decimal(10,2)>', 'c_union uniontype<int,string>', 'c_interval_ym interval_year_month',
      'c_interval_dt interval_day_time', 'c_tslocal timestamp with local time zone',
    ]);

    const load = await columns(demo, 'enos', 'power_load');
    expect(load.json.columns).toEqual([
      { name: 'region', type: 'string' },
      { name: 'ts', type: 'timestamp' },
      { name: 'load_mw', type: 'decimal(10,3)', comment: 'Average load over the hour, MW' },
      { name: 'temperature_c', type: 'double' },
      { name: 'is_holiday', type: 'boolean' },
    ]);
    // Names are Hive's: case does not matter in the request, the answer is lower case.
    expect((await columns(demo, 'ENOS', 'Asset')).json).toMatchObject({ database: 'enos', table: 'asset', columns: expect.arrayContaining([{ name: 'asset_id', type: 'string' }]) });
  });

  it("answers another organization's table, a table that does not exist and a name Hive could not have with the same 404", async () => {
    for (const [token, database, table] of [
      [demo, 'enos_other', 'site'],
      [other, 'enos', 'asset'],
      [demo, 'enos', 'no_such_table'],
      [demo, 'enos', 'asset%25'],
      [demo, 'enos', 'ass_t'],
    ] as const) {
      const response = await columns(token, database, table);
      expect({ table: `${database}.${table}`, status: response.status, code: response.json.error?.code }).toEqual({ table: `${database}.${table}`, status: 404, code: 'not_found' });
    }
    // Not asked of Hive at all for a table outside the organization.
    expect(getColumnsCalls('site')).toBe(0);
    expect((await columns(other, 'enos_other', 'site')).json.columns.map((c: { name: string }) => c.name)).toEqual([
      'site_id', 'name', 'country', 'latitude', 'longitude', 'org_id', 'capacity_mw', 'opened',
    ]);
    expect((await stack.api(undefined as unknown as string, 'GET', '/api/v1/catalog/tables/enos/asset/columns')).status).toBe(401);
  });

  it('asks Hive once per table for a few minutes, and again after a failure', async () => {
    const fault = stack.hive.faults.add({ kind: 'fail', match: /^GetColumns schemaName=enos tableName=measurement /, message: 'injected: metastore unavailable', times: 1 });
    try {
      const failed = await columns(demo, 'enos', 'measurement');
      expect(failed.status).toBe(503);
      expect(failed.json.error).toEqual({ code: 'hive_unavailable', message: 'Hive could not list the columns of enos.measurement; try again shortly' });
    } finally {
      fault.remove();
    }
    const first = await columns(demo, 'enos', 'measurement');
    const second = await columns(demo, 'Enos', 'MEASUREMENT');
    expect(first.status).toBe(200);
    expect(second.json).toEqual(first.json);
    expect(getColumnsCalls('measurement ')).toBe(2); // the failed call and one that answered
  });
});
