import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import {
  TCLIService_types, TOperationState, TStatusCode, TTypeId, columnValues, connect, isNull, openSession, sessionHandleOf,
  type Connection, type Operation, type Session,
} from './hive-client.js';

// GetCatalogs, GetSchemas, GetTables and GetTableTypes as HiveServer2 answers them (Hive 3's
// MetadataOperation result sets, the metastore's pattern matching), through hive-driver, and as
// operations like any other: status, result set metadata, columnar fetches, close.
const TOperationType = TCLIService_types.TOperationType as Record<string, number>;

let standIn: HiveStandIn;

beforeAll(async () => {
  standIn = await startHiveStandIn({
    seedRows: 1_000,
    listeners: [{ transport: 'binary', auth: 'PLAIN' }, { transport: 'http', auth: 'PLAIN' }],
  });
  // A view, a table comment and a database whose name differs from enos_other in the `_` only.
  await standIn.query('CREATE VIEW enos.asset_view AS SELECT asset_id, name FROM enos.asset');
  await standIn.query("COMMENT ON TABLE enos.power_load IS 'Hourly load per region'");
  await standIn.query('CREATE SCHEMA enos1other');
  await standIn.query('CREATE TABLE enos1other.site_copy AS SELECT * FROM enos_other.site');
});

afterAll(async () => {
  await standIn?.close();
});

const listener = (transport: string): ListenerInfo => standIn.listeners.find((l) => l.transport === transport)!;

/** The rows of a metadata operation, read the way the connector reads them: poll, fetch all, JSON. */
async function rowsOf(connection: Connection, call: Promise<Operation>, what: string): Promise<Record<string, unknown>[]> {
  const operation = await connection.bounded(call, what);
  await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
  await connection.bounded(connection.utils.fetchAll(operation), 'fetchAll');
  const rows = connection.utils.getResult(operation).getValue() as Record<string, unknown>[];
  await connection.bounded(operation.close(), 'CloseOperation');
  return rows;
}

describe.each(['binary', 'http'])('over %s', (transport) => {
  let connection: Connection;
  let session: Session;

  beforeAll(async () => {
    connection = await connect(listener(transport));
    session = await openSession(connection);
  });

  afterAll(async () => {
    await connection?.bounded(session.close(), 'CloseSession');
    connection?.close();
  });

  const schemas = async (schemaName?: string) =>
    (await rowsOf(connection, session.getSchemas(schemaName === undefined ? {} : { schemaName }), 'GetSchemas')).map((r) => r.TABLE_SCHEM);
  const tables = async (request: Parameters<Session['getTables']>[0]) =>
    (await rowsOf(connection, session.getTables(request), 'GetTables')).map((r) => `${String(r.TABLE_SCHEM)}.${String(r.TABLE_NAME)}`);

  it("GetSchemas lists Hive's databases, default included, and none of DuckDB's own schemas", async () => {
    const rows = await rowsOf(connection, session.getSchemas({}), 'GetSchemas');
    expect(rows).toEqual([
      { TABLE_SCHEM: 'default', TABLE_CATALOG: '' },
      { TABLE_SCHEM: 'enos', TABLE_CATALOG: '' },
      { TABLE_SCHEM: 'enos1other', TABLE_CATALOG: '' },
      { TABLE_SCHEM: 'enos_other', TABLE_CATALOG: '' },
    ]);
  });

  it('GetSchemas matches JDBC patterns as the metastore does', async () => {
    expect(await schemas('')).toEqual(['default', 'enos', 'enos1other', 'enos_other']);
    expect(await schemas('ENOS')).toEqual(['enos']); // case-insensitive
    expect(await schemas('enos%')).toEqual(['enos', 'enos1other', 'enos_other']);
    expect(await schemas('enos_other')).toEqual(['enos1other', 'enos_other']); // `_` is one character
    expect(await schemas('enos\\_other')).toEqual(['enos_other']); // unless escaped
    expect(await schemas('%other')).toEqual(['enos1other', 'enos_other']);
    expect(await schemas('enos|default')).toEqual(['default', 'enos']); // the metastore's alternatives
    expect(await schemas('no_such_db')).toEqual([]);
    expect(await schemas('information_schema')).toEqual([]);
    expect(await schemas('main')).toEqual([]);
  });

  it("GetTables returns Hive's ten columns for the tables and views of a database", async () => {
    const rows = await rowsOf(connection, session.getTables({ schemaName: 'enos' }), 'GetTables');
    const nulls = { TYPE_CAT: null, TYPE_SCHEM: null, TYPE_NAME: null, SELF_REFERENCING_COL_NAME: null, REF_GENERATION: null };
    expect(rows).toEqual([
      { TABLE_CAT: '', TABLE_SCHEM: 'enos', TABLE_NAME: 'asset', TABLE_TYPE: 'TABLE', REMARKS: null, ...nulls },
      { TABLE_CAT: '', TABLE_SCHEM: 'enos', TABLE_NAME: 'asset_view', TABLE_TYPE: 'VIEW', REMARKS: null, ...nulls },
      { TABLE_CAT: '', TABLE_SCHEM: 'enos', TABLE_NAME: 'measurement', TABLE_TYPE: 'TABLE', REMARKS: null, ...nulls },
      { TABLE_CAT: '', TABLE_SCHEM: 'enos', TABLE_NAME: 'measurement_daily', TABLE_TYPE: 'TABLE', REMARKS: null, ...nulls },
      { TABLE_CAT: '', TABLE_SCHEM: 'enos', TABLE_NAME: 'power_load', TABLE_TYPE: 'TABLE', REMARKS: 'Hourly load per region', ...nulls },
      { TABLE_CAT: '', TABLE_SCHEM: 'enos', TABLE_NAME: 'type_probe', TABLE_TYPE: 'TABLE', REMARKS: null, ...nulls },
    ]);
    // schemaName is a pattern: `enos_other` matches enos1other too; a caller meaning one database escapes the `_`.
    expect(await tables({ schemaName: 'enos_other' })).toEqual(['enos1other.site_copy', 'enos_other.site']);
    expect(await tables({ schemaName: 'enos\\_other' })).toEqual(['enos_other.site']);
  });

  it("lists every database's tables without DuckDB's catalog or the stand-in's marker table", async () => {
    const all = await tables({});
    expect(all).toEqual([
      'enos.asset', 'enos.asset_view', 'enos.measurement', 'enos.measurement_daily', 'enos.power_load', 'enos.type_probe', 'enos1other.site_copy',
      'enos_other.site',
    ]);
    expect(await tables({ schemaName: 'default' })).toEqual([]);
    expect(await tables({ schemaName: '', tableName: 'stand_in_seed' })).toEqual([]);
    expect(await tables({ tableName: 'tables' })).toEqual([]); // information_schema.tables
  });

  it('GetTables filters by table name pattern and table type', async () => {
    expect(await tables({ schemaName: 'enos', tableName: 'asset' })).toEqual(['enos.asset']);
    expect(await tables({ schemaName: 'enos', tableName: 'ASSET%' })).toEqual(['enos.asset', 'enos.asset_view']);
    expect(await tables({ schemaName: 'enos', tableName: 'power_loa_' })).toEqual(['enos.power_load']);
    expect(await tables({ tableName: 'site%' })).toEqual(['enos1other.site_copy', 'enos_other.site']);
    expect(await tables({ schemaName: 'enos', tableName: '' })).toEqual([]); // unlike schemaName, '' is not a wildcard
    expect(await tables({ schemaName: 'enos', tableTypes: ['VIEW'] })).toEqual(['enos.asset_view']);
    expect(await tables({ schemaName: 'enos', tableTypes: [' table '] })).toEqual(['enos.asset', 'enos.measurement', 'enos.measurement_daily', 'enos.power_load', 'enos.type_probe']);
    expect(await tables({ schemaName: 'enos', tableTypes: ['TABLE', 'VIEW'] })).toHaveLength(6);
    expect(await tables({ schemaName: 'enos', tableTypes: [] })).toHaveLength(6);
    expect(await tables({ schemaName: 'enos', tableTypes: ['SYNONYM'] })).toEqual([]);
  });

  it('GetCatalogs has no rows and GetTableTypes lists the CLASSIC mapping of every Hive table type', async () => {
    const catalogs = await connection.bounded(session.getCatalogs(), 'GetCatalogs');
    await connection.bounded(connection.utils.waitUntilReady(catalogs, false, () => undefined), 'waitUntilReady');
    await connection.bounded(connection.utils.fetchAll(catalogs), 'fetchAll');
    expect(catalogs.getSchema()?.columns.map((c) => c.columnName)).toEqual(['TABLE_CAT']);
    expect(connection.utils.getResult(catalogs).getValue()).toEqual([]);
    await connection.bounded(catalogs.close(), 'CloseOperation');

    const types = await rowsOf(connection, session.getTableTypes(), 'GetTableTypes');
    expect(types).toEqual([{ TABLE_TYPE: 'TABLE' }, { TABLE_TYPE: 'TABLE' }, { TABLE_TYPE: 'VIEW' }, { TABLE_TYPE: 'MATERIALIZED_VIEW' }]);
  });
});

describe('metadata operations as operations', () => {
  let connection: Connection;
  let session: Session;

  beforeAll(async () => {
    connection = await connect(listener('binary'));
    session = await openSession(connection);
  });

  afterAll(async () => {
    await connection?.bounded(session.close(), 'CloseSession');
    connection?.close();
  });

  it('answers with a FINISHED operation of the right type, its schema, and columnar batches', async () => {
    const response = await connection.bounded(connection.driver.getTables({ sessionHandle: sessionHandleOf(session), schemaName: 'enos' }), 'GetTables');
    expect(response.status).toMatchObject({ statusCode: TStatusCode.SUCCESS_STATUS });
    const operationHandle = response.operationHandle!;
    expect(operationHandle).toMatchObject({ operationType: TOperationType.GET_TABLES, hasResultSet: true });

    const status = await connection.bounded(connection.driver.getOperationStatus({ operationHandle }), 'GetOperationStatus');
    expect(status).toMatchObject({ operationState: TOperationState.FINISHED_STATE, hasResultSet: true });

    const metadata = await connection.bounded(connection.driver.getResultSetMetadata({ operationHandle }), 'GetResultSetMetadata');
    const columns = metadata.schema!.columns;
    expect(columns.map((c) => c.columnName)).toEqual([
      'TABLE_CAT', 'TABLE_SCHEM', 'TABLE_NAME', 'TABLE_TYPE', 'REMARKS', 'TYPE_CAT', 'TYPE_SCHEM', 'TYPE_NAME', 'SELF_REFERENCING_COL_NAME', 'REF_GENERATION',
    ]);
    expect(columns.map((c) => c.typeDesc.types[0]!.primitiveEntry!.type)).toEqual(Array(10).fill(TTypeId.STRING_TYPE));
    expect(columns.map((c) => c.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(columns[2]).toMatchObject({ comment: 'Table name.' });

    const fetch = (orientation: number) => connection.bounded(connection.driver.fetchResults({ operationHandle, orientation, maxRows: 2 }), 'FetchResults');
    const first = await fetch(0);
    const names = (r: typeof first) => columnValues(r.results!, 2);
    expect(names(first)).toMatchObject({ kind: 'stringVal', values: ['asset', 'asset_view'] });
    const remarks = columnValues(first.results!, 4);
    expect(remarks.values).toEqual(['', '']); // Hive's default in null slots
    expect([isNull(remarks.nulls, 0), isNull(remarks.nulls, 1)]).toEqual([true, true]);
    expect(columnValues(first.results!, 0)).toMatchObject({ values: ['', ''] });
    expect(isNull(columnValues(first.results!, 0).nulls, 0)).toBe(false); // TABLE_CAT is '', not NULL

    expect(names(await fetch(0)).values).toEqual(['measurement', 'measurement_daily']);
    expect(names(await fetch(0)).values).toEqual(['power_load', 'type_probe']);
    expect(names(await fetch(0)).values).toEqual([]);
    expect(names(await fetch(4)).values).toEqual(['asset', 'asset_view']); // FETCH_FIRST starts again

    const closed = await connection.bounded(connection.driver.closeOperation({ operationHandle }), 'CloseOperation');
    expect(closed.status).toMatchObject({ statusCode: TStatusCode.SUCCESS_STATUS });
    const after = await fetch(0);
    expect(after.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: expect.stringContaining('Invalid OperationHandle') });
  });

  it('GetSchemas and GetTableTypes hand back handles of their own operation types', async () => {
    const sessionHandle = sessionHandleOf(session);
    const schemas = await connection.bounded(connection.driver.getSchemas({ sessionHandle }), 'GetSchemas');
    expect(schemas.operationHandle).toMatchObject({ operationType: TOperationType.GET_SCHEMAS, hasResultSet: true });
    const types = await connection.bounded(connection.driver.getTableTypes({ sessionHandle }), 'GetTableTypes');
    expect(types.operationHandle).toMatchObject({ operationType: TOperationType.GET_TABLE_TYPES });
    for (const operationHandle of [schemas.operationHandle!, types.operationHandle!]) {
      await connection.bounded(connection.driver.closeOperation({ operationHandle }), 'CloseOperation');
    }
  });

  it('shows up in inspection with what it was asked', async () => {
    await rowsOf(connection, session.getTables({ schemaName: 'enos_other', tableTypes: ['TABLE'] }), 'GetTables');
    expect(standIn.operations().at(-1)).toMatchObject({
      statement: 'GetTables schemaName=enos_other tableName=null tableTypes=TABLE',
      state: 'CLOSED',
      duckdb: 'done',
    });
  });

  it('answers a fault, a bad pattern and an unknown session with an error status', async () => {
    const fault = standIn.faults.add({ kind: 'fail', match: /^GetTables schemaName=enos_other /, message: 'injected: metastore unavailable', sqlState: '08S01', times: 1 });
    try {
      await expect(connection.bounded(session.getTables({ schemaName: 'enos_other' }), 'GetTables')).rejects.toMatchObject({
        message: 'injected: metastore unavailable',
      });
      expect(fault.hits).toBe(1);
      expect(standIn.operations().at(-1)).toMatchObject({ state: 'CLOSED', error: 'injected: metastore unavailable' });
    } finally {
      fault.remove();
    }
    await expect(connection.bounded(session.getTables({ schemaName: 'enos(' }), 'GetTables')).rejects.toMatchObject({
      message: expect.stringMatching(/^MetaException\(message:.*missing \)/),
    });

    const gone = await openSession(connection);
    const handle = sessionHandleOf(gone);
    await connection.bounded(gone.close(), 'CloseSession');
    const response = await connection.bounded(connection.driver.getSchemas({ sessionHandle: handle }), 'GetSchemas');
    expect(response.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: expect.stringContaining('Invalid SessionHandle') });
  });

  it("needs the client's status poll before hive-driver fetches, as with a real HiveServer2", async () => {
    // hive-driver keeps its own operation state, INITIALIZED until GetOperationStatus says
    // otherwise, and fetch() returns nothing before that, whatever the server's state.
    const operation = await connection.bounded(session.getTables({ schemaName: 'enos' }), 'GetTables');
    await connection.bounded(connection.utils.fetchAll(operation), 'fetchAll');
    expect(operation.getSchema()).toBeNull();
    await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
    await connection.bounded(connection.utils.fetchAll(operation), 'fetchAll');
    const rows = connection.utils.getResult(operation).getValue() as { TABLE_NAME: string }[];
    expect(rows.map((r) => r.TABLE_NAME)).toContain('measurement');
    await connection.bounded(operation.close(), 'CloseOperation');
  });
});
