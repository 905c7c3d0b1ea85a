/**
 * The web page's side list, over real HTTP against the real connector: each organization sees
 * the databases its configuration allows, with their tables listed by Hive's GetTables (served by
 * the HiveServer2 stand-in), and nothing of another organization's.
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
