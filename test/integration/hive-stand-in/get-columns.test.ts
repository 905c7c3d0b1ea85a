import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import { TCLIService_types, TStatusCode, TTypeId, connect, openSession, sessionHandleOf, type Connection, type Session } from './hive-client.js';

// GetColumns as HiveServer2 answers it (service/.../cli/operation/GetColumnsOperation.java, with
// TypeDescriptor.java and serde2/thrift/Type.java for the type columns), read through hive-driver
// the way a JDBC/ODBC client or the connector reads it.
const TOperationType = TCLIService_types.TOperationType as Record<string, number>;

let standIn: HiveStandIn;

beforeAll(async () => {
  standIn = await startHiveStandIn({
    seedRows: 1_000,
    listeners: [{ transport: 'binary', auth: 'PLAIN' }, { transport: 'http', auth: 'PLAIN' }],
  });
  await standIn.query('CREATE VIEW enos.asset_view AS SELECT asset_id, name FROM enos.asset');
  await standIn.query("COMMENT ON COLUMN enos.asset.capacity_kw IS 'Rated power in kW'");
  await standIn.query('CREATE SCHEMA enos1other');
  await standIn.query('CREATE TABLE enos1other.site_copy AS SELECT site_id, name FROM enos_other.site');
});

afterAll(async () => {
  await standIn?.close();
});

const listener = (transport: string): ListenerInfo => standIn.listeners.find((l) => l.transport === transport)!;

type Row = Record<string, unknown>;

/** What every GetColumns row holds besides the per-column fields (no primary keys: nullable). */
const CONSTANT = {
  TABLE_CAT: null, BUFFER_LENGTH: null, NULLABLE: 1, COLUMN_DEF: null, SQL_DATA_TYPE: null, SQL_DATETIME_SUB: null, CHAR_OCTET_LENGTH: null,
  IS_NULLABLE: 'YES', SCOPE_CATALOG: null, SCOPE_SCHEMA: null, SCOPE_TABLE: null, SOURCE_DATA_TYPE: null, IS_AUTO_INCREMENT: 'NO',
};

/** One expected row: [column, DATA_TYPE, TYPE_NAME, COLUMN_SIZE, DECIMAL_DIGITS, NUM_PREC_RADIX]. */
type Expected = [string, number, string, number | null, number | null, number | null];

const row = (db: string, table: string, position: number, [name, dataType, typeName, size, digits, radix]: Expected, remarks: string | null = null): Row => ({
  ...CONSTANT,
  TABLE_SCHEM: db,
  TABLE_NAME: table,
  COLUMN_NAME: name,
  DATA_TYPE: dataType,
  TYPE_NAME: typeName,
  COLUMN_SIZE: size,
  DECIMAL_DIGITS: digits,
  NUM_PREC_RADIX: radix,
  REMARKS: remarks,
  ORDINAL_POSITION: position,
});

const MAX_INT = 2_147_483_647;

// java.sql.Types per Type.java; sizes and digits per TypeDescriptor: numeric precision, STRING and
// BINARY Integer.MAX_VALUE, CHAR/VARCHAR their length, DATE 10, TIMESTAMP 29 (9 digits), TIMESTAMP
// WITH LOCAL TIME ZONE 31; only complex types keep their whole text as TYPE_NAME.
const TYPE_PROBE: Expected[] = [
  ['id', 4, 'INT', 10, 0, 10],
  ['c_boolean', 16, 'BOOLEAN', null, 0, null],
  ['c_tinyint', -6, 'TINYINT', 3, 0, 10],
  ['c_smallint', 5, 'SMALLINT', 5, 0, 10],
  ['c_int', 4, 'INT', 10, 0, 10],
  ['c_bigint', -5, 'BIGINT', 19, 0, 10],
  ['c_float', 6, 'FLOAT', 7, 7, 10],
  ['c_double', 8, 'DOUBLE', 15, 15, 10],
  ['c_decimal', 3, 'DECIMAL', 10, 2, 10],
  ['c_decimal_wide', 3, 'DECIMAL', 38, 6, 10],
  ['c_string', 12, 'STRING', MAX_INT, null, null],
  ['c_long_string', 12, 'STRING', MAX_INT, null, null],
  ['c_date', 91, 'DATE', 10, null, null],
  ['c_timestamp', 93, 'TIMESTAMP', 29, 9, null],
  ['c_binary', -2, 'BINARY', MAX_INT, null, null],
  ['c_char', 1, 'CHAR', 10, null, null],
  ['c_varchar', 12, 'VARCHAR', 20, null, null],
  ['c_array', 2003, 'array<int>', null, null, null],
  ['c_map', 2000, 'map<string,double>', null, null, null],
  ['c_struct', 2002, 'struct<name:string,ts:timestamp,amount:decimal(10,2)>', null, null, null],
  ['c_union', 1111, 'uniontype<int,string>', null, null, null],
  ['c_interval_ym', 1111, 'INTERVAL_YEAR_MONTH', null, null, null],
  ['c_interval_dt', 1111, 'INTERVAL_DAY_TIME', null, null, null],
  ['c_tslocal', 1111, 'TIMESTAMP WITH LOCAL TIME ZONE', 31, null, null],
];

describe.each(['binary', 'http'])('GetColumns over %s', (transport) => {
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

  /** The rows as hive-driver's JSON result gives them: poll, fetch all, close. */
  const columns = async (request: Parameters<Session['getColumns']>[0]): Promise<Row[]> => {
    const operation = await connection.bounded(session.getColumns(request), 'GetColumns');
    await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
    await connection.bounded(connection.utils.fetchAll(operation), 'fetchAll');
    const rows = connection.utils.getResult(operation).getValue() as Row[];
    await connection.bounded(operation.close(), 'CloseOperation');
    return rows;
  };
  const names = async (request: Parameters<Session['getColumns']>[0]) => (await columns(request)).map((r) => `${String(r.TABLE_SCHEM)}.${String(r.TABLE_NAME)}.${String(r.COLUMN_NAME)}`);

  it("describes every type of the probe table as Hive's TypeDescriptor does, in column order", async () => {
    const rows = await columns({ schemaName: 'enos', tableName: 'type_probe' });
    expect(rows).toEqual(TYPE_PROBE.map((expected, i) => row('enos', 'type_probe', i + 1, expected)));
  });

  it('lists partition keys after the data columns, numbered on from them, and column comments as REMARKS', async () => {
    expect(await columns({ schemaName: 'enos', tableName: 'measurement_daily' })).toEqual([
      row('enos', 'measurement_daily', 1, ['asset_id', 12, 'STRING', MAX_INT, null, null]),
      row('enos', 'measurement_daily', 2, ['ts', 93, 'TIMESTAMP', 29, 9, null]),
      row('enos', 'measurement_daily', 3, ['point', 12, 'STRING', MAX_INT, null, null]),
      row('enos', 'measurement_daily', 4, ['value', 8, 'DOUBLE', 15, 15, 10]),
      row('enos', 'measurement_daily', 5, ['quality', 4, 'INT', 10, 0, 10]),
      row('enos', 'measurement_daily', 6, ['dt', 12, 'STRING', MAX_INT, null, null]),
    ]);
    const capacity = (await columns({ schemaName: 'enos', tableName: 'asset', columnName: 'capacity_kw' }))[0];
    expect(capacity).toEqual(row('enos', 'asset', 5, ['capacity_kw', 3, 'DECIMAL', 10, 2, 10], 'Rated power in kW'));
  });

  it('matches schema and table names as the metastore does, views included', async () => {
    expect(await names({ schemaName: 'ENOS', tableName: 'asset_view' })).toEqual(['enos.asset_view.asset_id', 'enos.asset_view.name']);
    expect(new Set((await columns({ schemaName: 'enos', tableName: 'asset%' })).map((r) => r.TABLE_NAME))).toEqual(new Set(['asset', 'asset_view']));
    expect(await names({ schemaName: 'enos', tableName: 'power\\_load', columnName: 'region' })).toEqual(['enos.power_load.region']);
    expect(await names({ schemaName: 'enos', tableName: '' })).toEqual([]); // '' is no table, as in GetTables
    expect(await names({ schemaName: '', tableName: 'power_load', columnName: 'region' })).toEqual(['enos.power_load.region']); // '' is every schema
    expect(await names({ tableName: 'power_load', columnName: 'region' })).toEqual(['enos.power_load.region']);
  });

  it('goes database by database in the order of the HashMap Hive collects them in, tables by name within', async () => {
    // String.hashCode: enos_other -1931523938 → bucket 1 of 16, enos1other 1046502412 → bucket 12;
    // so enos_other comes first although it sorts after enos1other.
    expect(await names({ tableName: 'site%', columnName: 'name' })).toEqual(['enos_other.site.name', 'enos1other.site_copy.name']);
    // `_` in the schema pattern is any one character, as in GetTables.
    expect(await names({ schemaName: 'enos_other', columnName: 'site_id' })).toEqual(['enos_other.site.site_id', 'enos1other.site_copy.site_id']);
    expect(await names({ schemaName: 'enos\\_other', columnName: 'site_id' })).toEqual(['enos_other.site.site_id']);
  });

  it('matches column names with a case-sensitive Java regex of the JDBC pattern', async () => {
    expect(await names({ schemaName: 'enos', tableName: 'type_probe', columnName: 'c%int' })).toEqual([
      'enos.type_probe.c_tinyint', 'enos.type_probe.c_smallint', 'enos.type_probe.c_int', 'enos.type_probe.c_bigint',
    ]);
    expect(await names({ schemaName: 'enos', tableName: 'type_probe', columnName: 'c_int' })).toEqual(['enos.type_probe.c_int']);
    expect(await names({ schemaName: 'enos', tableName: 'type_probe', columnName: 'C_INT' })).toEqual([]);
    expect(await names({ schemaName: 'enos', tableName: 'type_probe', columnName: 'c_(int|date)' })).toEqual(['enos.type_probe.c_int', 'enos.type_probe.c_date']);
    expect(await names({ schemaName: 'enos', tableName: 'type_probe', columnName: '' })).toEqual([]);
  });

  it('answers a table or database that does not exist with no rows, not an error', async () => {
    expect(await columns({ schemaName: 'enos', tableName: 'no_such_table' })).toEqual([]);
    expect(await columns({ schemaName: 'no_such_db', tableName: 'asset' })).toEqual([]);
  });
});

describe('GetColumns as an operation', () => {
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

  it("hands back a FINISHED GET_COLUMNS handle whose result set has Hive's 23 columns, types and comments", async () => {
    const response = await connection.bounded(
      connection.driver.getColumns({ sessionHandle: sessionHandleOf(session), schemaName: 'enos', tableName: 'asset' }),
      'GetColumns',
    );
    expect(response.status).toMatchObject({ statusCode: TStatusCode.SUCCESS_STATUS });
    const operationHandle = response.operationHandle!;
    expect(operationHandle).toMatchObject({ operationType: TOperationType.GET_COLUMNS, hasResultSet: true });
    const metadata = await connection.bounded(connection.driver.getResultSetMetadata({ operationHandle }), 'GetResultSetMetadata');
    const described = metadata.schema!.columns.map((c) => [c.columnName, c.typeDesc.types[0]!.primitiveEntry!.type, c.position]);
    const { STRING_TYPE: S, INT_TYPE: I, TINYINT_TYPE: T, SMALLINT_TYPE: SM } = TTypeId as Record<string, number>;
    expect(described).toEqual(
      [
        ['TABLE_CAT', S], ['TABLE_SCHEM', S], ['TABLE_NAME', S], ['COLUMN_NAME', S], ['DATA_TYPE', I], ['TYPE_NAME', S], ['COLUMN_SIZE', I],
        ['BUFFER_LENGTH', T], ['DECIMAL_DIGITS', I], ['NUM_PREC_RADIX', I], ['NULLABLE', I], ['REMARKS', S], ['COLUMN_DEF', S], ['SQL_DATA_TYPE', I],
        ['SQL_DATETIME_SUB', I], ['CHAR_OCTET_LENGTH', I], ['ORDINAL_POSITION', I], ['IS_NULLABLE', S], ['SCOPE_CATALOG', S], ['SCOPE_SCHEMA', S],
        ['SCOPE_TABLE', S], ['SOURCE_DATA_TYPE', SM], ['IS_AUTO_INCREMENT', S],
      ].map(([name, type], i) => [name, type, i + 1]),
    );
    expect(metadata.schema!.columns[6]).toMatchObject({ comment: 'Column size. For char or date types this is the maximum number of characters, for numeric or decimal types this is precision.' });

    const status = await connection.bounded(connection.driver.getOperationStatus({ operationHandle }), 'GetOperationStatus');
    expect(status).toMatchObject({ operationState: TCLIService_types.TOperationState.FINISHED_STATE });
    const fetch = (orientation: number) => connection.bounded(connection.driver.fetchResults({ operationHandle, orientation, maxRows: 3 }), 'FetchResults');
    const firstNames = (reply: Awaited<ReturnType<typeof fetch>>) => (reply.results!.columns![3]!.stringVal!.values as string[]);
    expect(firstNames(await fetch(0))).toEqual(['asset_id', 'name', 'asset_type']);
    expect(firstNames(await fetch(0))).toEqual(['site_id', 'capacity_kw', 'org_id']);
    expect(firstNames(await fetch(0))).toEqual(['commissioned']);
    expect(firstNames(await fetch(0))).toEqual([]);
    expect(firstNames(await fetch(4))).toEqual(['asset_id', 'name', 'asset_type']); // FETCH_FIRST
    await connection.bounded(connection.driver.closeOperation({ operationHandle }), 'CloseOperation');
    expect(standIn.operations().at(-1)).toMatchObject({ statement: 'GetColumns schemaName=enos tableName=asset columnName=null', state: 'CLOSED' });
  });

  it('fails the call on a column pattern Java cannot compile, a bad schema pattern, or an injected fault', async () => {
    await expect(connection.bounded(session.getColumns({ schemaName: 'enos', tableName: 'asset', columnName: 'c(' }), 'GetColumns')).rejects.toMatchObject({
      message: expect.stringMatching(/^java\.util\.regex\.PatternSyntaxException: /),
    });
    await expect(connection.bounded(session.getColumns({ schemaName: 'enos(', tableName: 'asset' }), 'GetColumns')).rejects.toMatchObject({
      message: expect.stringMatching(/^MetaException\(message:/),
    });
    const fault = standIn.faults.add({ kind: 'fail', match: /^GetColumns schemaName=enos tableName=power_load /, message: 'injected: metastore unavailable', times: 1 });
    try {
      await expect(connection.bounded(session.getColumns({ schemaName: 'enos', tableName: 'power_load' }), 'GetColumns')).rejects.toMatchObject({
        message: 'injected: metastore unavailable',
      });
      expect(fault.hits).toBe(1);
    } finally {
      fault.remove();
    }
  });
});
