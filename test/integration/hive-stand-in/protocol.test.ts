import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import {
  TGetInfoType, TStatusCode, TTypeId, columnValues, connect, fetchJsonRows, fetchRowSets, int64, isNull, openSession, rowSetRows,
  sessionHandleOf, type Connection, type Session,
} from './hive-client.js';

const PROBE_COLUMNS = [
  'id', 'c_boolean', 'c_tinyint', 'c_smallint', 'c_int', 'c_bigint', 'c_float', 'c_double', 'c_decimal', 'c_decimal_wide', 'c_string',
  'c_long_string', 'c_date', 'c_timestamp', 'c_binary', 'c_char', 'c_varchar', 'c_array', 'c_map', 'c_struct', 'c_union', 'c_interval_ym',
  'c_interval_dt', 'c_tslocal',
];

// The TCLIService calls over every transport, with hive-driver as the client, and the type probe
// checked cell by cell against DuckDB: values, defaults in null slots and Hive's null bitmaps.
let standIn: HiveStandIn;

beforeAll(async () => {
  standIn = await startHiveStandIn({
    seedRows: 5_000,
    listeners: [{ transport: 'binary', auth: 'PLAIN' }, { transport: 'binary', auth: 'NOSASL' }, { transport: 'http', auth: 'PLAIN' }],
  });
});

afterAll(async () => {
  await standIn?.close();
});

const listener = (transport: string, auth: string): ListenerInfo => standIn.listeners.find((l) => l.transport === transport && l.auth === auth)!;

describe.each([
  ['binary', 'PLAIN'],
  ['binary', 'NOSASL'],
  ['http', 'PLAIN'],
])('over %s %s', (transport, auth) => {
  let connection: Connection;
  let session: Session;

  beforeAll(async () => {
    connection = await connect(listener(transport, auth));
    // Columnar row sets: the encoder under test (serialized ones are checked on their own below).
    session = await openSession(connection, { 'set:hiveconf:hive.server2.thrift.resultset.serialize.in.tasks': 'false' });
  });

  afterAll(async () => {
    await connection?.bounded(session.close(), 'CloseSession');
    connection?.close();
  });

  it('answers GetInfo as HiveServer2 does', async () => {
    const info = async (type: string) => (await connection.bounded(session.getInfo(TGetInfoType[type]!), 'GetInfo')).getValue();
    expect(await info('CLI_DBMS_NAME')).toBe('Apache Hive');
    expect(await info('CLI_SERVER_NAME')).toBe('Hive');
    expect(await info('CLI_DBMS_VER')).toMatch(/^\d+\.\d+\.\d+$/);
    await expect(connection.bounded(session.getInfo(TGetInfoType.CLI_TXN_CAPABLE!), 'GetInfo')).rejects.toMatchObject({
      message: expect.stringContaining('Unrecognized GetInfoType value'),
    });
  });

  it('runs a query and returns its rows and schema', async () => {
    const rows = await fetchJsonRows(connection, session, "SELECT asset_id, asset_type, capacity_kw FROM enos.asset WHERE asset_id IN ('WTG-00003', 'MTR-00002') ORDER BY asset_id");
    const expected = await standIn.query("SELECT asset_id, asset_type, capacity_kw FROM enos.asset WHERE asset_id IN ('WTG-00003', 'MTR-00002') ORDER BY asset_id");
    expect(rows).toEqual(expected.rows.map((r) => ({ ...r, capacity_kw: r.capacity_kw === null ? null : Number(r.capacity_kw) })));
    expect(rows.map((r) => r.asset_type)).toEqual(['meter', 'wind_turbine']);
  });

  it('reports bad SQL as an error status with an SQLSTATE', async () => {
    const failure = await connection.bounded(session.executeStatement('SELEC 1', { runAsync: true }), 'ExecuteStatement').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ name: 'Status Error', message: expect.stringMatching(/^Error while compiling statement: FAILED: ParseException line 1:\d+ /) });
  });

  it('serves the type probe cell by cell, with Hive null bitmaps', async () => {
    const { schema, rowSets } = await fetchRowSets(connection, session, 'SELECT * FROM enos.type_probe ORDER BY id');
    const expected = (await standIn.query('SELECT *, hex(c_binary) AS binary_hex FROM enos.type_probe ORDER BY id')).rows;
    const rowSet = rowSets[0]!;
    expect(rowSets.slice(1).every((r) => rowSetRows(r) === 0)).toBe(true); // then the empty end
    // SELECT * keeps the table alias (hive.resultset.use.unique.column.names, on by default).
    const qualified = schema.columns.map((c) => c.columnName);
    expect(qualified).toEqual(PROBE_COLUMNS.map((name) => `type_probe.${name}`));
    const names = qualified.map((name) => name.slice('type_probe.'.length)).slice(0, 15);

    const wire: Record<string, [string, number]> = {
      id: ['i32Val', TTypeId.INT_TYPE!], c_boolean: ['boolVal', TTypeId.BOOLEAN_TYPE!], c_tinyint: ['byteVal', TTypeId.TINYINT_TYPE!],
      c_smallint: ['i16Val', TTypeId.SMALLINT_TYPE!], c_int: ['i32Val', TTypeId.INT_TYPE!], c_bigint: ['i64Val', TTypeId.BIGINT_TYPE!],
      c_float: ['doubleVal', TTypeId.FLOAT_TYPE!], c_double: ['doubleVal', TTypeId.DOUBLE_TYPE!], c_decimal: ['stringVal', TTypeId.DECIMAL_TYPE!],
      c_decimal_wide: ['stringVal', TTypeId.DECIMAL_TYPE!], c_string: ['stringVal', TTypeId.STRING_TYPE!], c_long_string: ['stringVal', TTypeId.STRING_TYPE!],
      c_date: ['stringVal', TTypeId.DATE_TYPE!], c_timestamp: ['stringVal', TTypeId.TIMESTAMP_TYPE!], c_binary: ['binaryVal', TTypeId.BINARY_TYPE!],
    };
    const decimal = schema.columns[8]!.typeDesc.types[0]!.primitiveEntry.typeQualifiers!.qualifiers as unknown as Record<string, { i32Value: number }>;
    expect([decimal.precision!.i32Value, decimal.scale!.i32Value]).toEqual([10, 2]);

    names.forEach((name, c) => {
      const { kind, values, nulls } = columnValues(rowSet, c);
      expect([kind, schema.columns[c]!.typeDesc.types[0]!.primitiveEntry.type], name).toEqual(wire[name]);
      expect(values, name).toHaveLength(expected.length);
      let highestNull = -1;
      expected.forEach((row, r) => {
        const want = row[name];
        const got = values[r];
        expect(isNull(nulls, r), `${name}[${r}] null bit`).toBe(want === null);
        if (want === null) {
          highestNull = r;
          // Hive's ColumnBuffer puts defaults in null slots: false→true for booleans, 0, "".
          const fill = kind === 'boolVal' ? true : kind === 'stringVal' ? '' : kind === 'binaryVal' ? Buffer.alloc(0) : kind === 'i64Val' ? 0n : 0;
          expect(kind === 'i64Val' ? int64(got) : got, `${name}[${r}] null fill`).toEqual(fill);
          return;
        }
        if (kind === 'i64Val') expect(int64(got), `${name}[${r}]`).toBe(BigInt(want as string));
        else if (kind === 'binaryVal') expect((got as Buffer).toString('hex').toUpperCase(), `${name}[${r}]`).toBe(row.binary_hex);
        else if (name === 'c_float') expect(Math.fround(got as number), `${name}[${r}]`).toBe(Math.fround(want as number));
        else expect(got, `${name}[${r}]`).toEqual(want);
      });
      expect(nulls.length, `${name} null bitmap length`).toBe(1 + ((highestNull + 1) >> 3));
    });

    // Hive's own text forms and number forms, independent of DuckDB's JSON.
    const cell = (name: string, id: number) => columnValues(rowSet, PROBE_COLUMNS.indexOf(name)).values[id - 1];
    expect(int64(cell('c_bigint', 1))).toBe(9007199254740993n);
    expect(int64(cell('c_bigint', 3))).toBe(-9223372036854775808n);
    expect(int64(cell('c_bigint', 4))).toBe(9223372036854775807n);
    expect(cell('c_float', 4)).toBe(3.4e38);
    expect([cell('c_decimal', 1), cell('c_decimal', 3), cell('c_decimal', 7)]).toEqual(['12.50', '-0.05', '0.00']);
    expect(cell('c_decimal_wide', 3)).toBe('-12345678901234567890123456789012.123456');
    expect([cell('c_timestamp', 1), cell('c_timestamp', 3), cell('c_timestamp', 6), cell('c_timestamp', 7), cell('c_timestamp', 11)]).toEqual([
      '2024-02-29 23:59:59.123', '1970-01-01 00:00:00', '2000-01-01 12:00:00.5', '1899-12-31 23:59:59', '2024-01-11 11:11:11.000011',
    ]);
    expect([cell('c_date', 1), cell('c_date', 4)]).toEqual(['2024-02-29', '9999-12-31']);
    expect(cell('c_string', 4)).toBe('Zürich ⚡ 風力');
  });

  it('sends what Hive has no typed column for as text: CHAR padded, complex types as JSON, intervals, local-time-zone timestamps', async () => {
    const { schema, rowSets } = await fetchRowSets(connection, session, 'SELECT * FROM enos.type_probe WHERE id IN (1, 2, 3, 4, 7) ORDER BY id');
    const at = (name: string) => PROBE_COLUMNS.indexOf(name);
    const type = (name: string) => schema.columns[at(name)]!.typeDesc.types[0]!.primitiveEntry;
    expect(['c_char', 'c_varchar', 'c_array', 'c_map', 'c_struct', 'c_union', 'c_interval_ym', 'c_interval_dt', 'c_tslocal'].map((name) => type(name).type)).toEqual([
      TTypeId.CHAR_TYPE, TTypeId.VARCHAR_TYPE, TTypeId.ARRAY_TYPE, TTypeId.MAP_TYPE, TTypeId.STRUCT_TYPE, TTypeId.UNION_TYPE,
      TTypeId.INTERVAL_YEAR_MONTH_TYPE, TTypeId.INTERVAL_DAY_TIME_TYPE,
      // This client asked for V10; TIMESTAMPLOCALTZ needs V11, so the column is described as a string.
      TTypeId.STRING_TYPE,
    ]);
    const length = (name: string) => (type(name).typeQualifiers!.qualifiers as unknown as Record<string, { i32Value: number }>).characterMaximumLength!.i32Value;
    expect([length('c_char'), length('c_varchar')]).toEqual([10, 20]);
    const column = (name: string) => {
      const { kind, values, nulls } = columnValues(rowSets[0]!, at(name));
      expect(kind, name).toBe('stringVal');
      return values.map((value, row) => (isNull(nulls, row) ? null : value));
    };
    expect(column('c_char')).toEqual(['ab        ', null, '          ', 'Zü⚡       ', 'seven     ']);
    expect(column('c_varchar')).toEqual(['varchar one', null, '', 'Zürich ⚡ 風力', 'seven']);
    expect(column('c_array')).toEqual(['[1,2,3]', null, '[]', '[null,-2147483648]', '[7]']);
    expect(column('c_map')).toEqual(['{"a":1.5,"b":null}', null, '{}', '{"k\\n":1.0E300}', '{"seven":7.0}']);
    expect(column('c_struct')).toEqual([
      '{"name":"x\\"y","ts":"2024-01-01 00:00:00","amount":12.5}',
      null,
      '{"name":"","ts":null,"amount":-0.05}',
      '{"name":"Ünï","ts":"2038-01-19 03:14:07.999999","amount":99999999.99}',
      '{"name":"seven","ts":"1899-12-31 23:59:59","amount":7}',
    ]);
    expect(column('c_union')).toEqual(['{0:7}', null, '{1:"tab\\tq\\""}', '{1:"Zürich"}', '{0:-7}']);
    expect(column('c_interval_ym')).toEqual(['1-2', null, '-0-3', '0-0', '100-0']);
    expect(column('c_interval_dt')).toEqual(['1 02:03:04.500000000', null, '-1 00:00:00.000000000', '0 00:00:00.000000000', '1 12:00:00.000000000']);
    expect(column('c_tslocal')).toEqual(['2024-02-29 23:59:59.123 UTC', null, '1970-01-01 00:00:00.0 UTC', '2038-01-19 03:14:07.999999 UTC', '2000-01-01 12:00:00.5 UTC']);
  });

  it('serializes a job\'s result in the tasks when the cluster says so: the same values, decimals not padded', async () => {
    const serialized = await openSession(connection);
    try {
      const sql = 'SELECT id, c_bigint, c_decimal, c_string, c_timestamp, c_binary FROM enos.type_probe ORDER BY id';
      const blob = await fetchRowSets(connection, serialized, sql);
      const columnar = await fetchRowSets(connection, session, sql);
      expect(standIn.operations().at(-2)).toMatchObject({ serialized: true, fetchTask: false });
      expect(standIn.operations().at(-1)).toMatchObject({ serialized: false });
      const cells = (rowSets: typeof blob.rowSets, c: number) => rowSets.flatMap((r) => (rowSetRows(r) === 0 ? [] : columnValues(r, c).values));
      for (const c of [0, 1, 3, 4, 5]) expect(cells(blob.rowSets, c)).toEqual(cells(columnar.rowSets, c));
      // ThriftJDBCBinarySerDe formats without ColumnBasedSet's padding: HiveDecimal.toString.
      expect(cells(blob.rowSets, 2).slice(0, 3)).toEqual(['12.5', '', '-0.05']);
      expect(cells(columnar.rowSets, 2).slice(0, 3)).toEqual(['12.50', '', '-0.05']);
    } finally {
      await connection.bounded(serialized.close(), 'CloseSession');
    }
  });

  it('types a bare NULL as Hive\'s NULL type with every value null', async () => {
    const { schema, rowSets } = await fetchRowSets(connection, session, 'SELECT NULL, 1 AS one');
    expect(schema.columns.map((c) => [c.columnName, c.typeDesc.types[0]!.primitiveEntry.type])).toEqual([['_c0', TTypeId.NULL_TYPE], ['one', TTypeId.INT_TYPE]]);
    const { kind, nulls } = columnValues(rowSets[0]!, 0);
    expect([kind, isNull(nulls, 0)]).toEqual(['stringVal', true]);
  });

  it('honours maxRows and ends with an empty row set', async () => {
    const { rowSets } = await fetchRowSets(connection, session, 'SELECT asset_id, ts FROM enos.measurement LIMIT 2500', 1_000);
    expect(rowSets.map((r) => rowSetRows(r))).toEqual([1000, 1000, 500, 0]);
    expect(rowSets.map((r) => Number(int64(r.startRowOffset)))).toEqual([0, 1000, 2000, 2500]);
  });
});

describe('sessions', () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = await connect(listener('binary', 'PLAIN'));
  });

  afterAll(() => connection?.close());

  it('negotiates the protocol down to what the client speaks (Hive 3.1 speaks up to V11)', async () => {
    for (const [asked, answered] of [[11, 10], [10, 10], [9, 9], [7, 7]] as const) {
      const response = await connection.bounded(connection.driver.openSession({ client_protocol: asked }), 'OpenSession');
      expect(response.status.statusCode).toBe(TStatusCode.SUCCESS_STATUS);
      expect(response.serverProtocolVersion).toBe(answered);
      await connection.bounded(connection.driver.closeSession({ sessionHandle: response.sessionHandle }), 'CloseSession');
    }
  });

  it('keeps use:database and set:hiveconf from the session configuration', async () => {
    const session = await openSession(connection, { 'use:database': 'enos', 'set:hiveconf:hive.exec.parallel': 'true' });
    expect(await fetchJsonRows(connection, session, 'SELECT count(*) AS n FROM asset')).toEqual([{ n: 1000 }]);
    expect(await fetchJsonRows(connection, session, 'SET hive.exec.parallel')).toEqual([{ set: 'hive.exec.parallel=true' }]);
    await connection.bounded(session.executeStatement('SET hive.exec.parallel=false'), 'SET');
    expect(await fetchJsonRows(connection, session, 'SET hive.exec.parallel')).toEqual([{ set: 'hive.exec.parallel=false' }]);
    await connection.bounded(session.executeStatement('USE enos_other'), 'USE');
    expect(await fetchJsonRows(connection, session, 'SELECT count(*) AS n FROM site')).toEqual([{ n: 7 }]);
    await connection.bounded(session.close(), 'CloseSession');
  });

  it('refuses a session on a database that does not exist, as HiveSessionImpl.configureSession does', async () => {
    await expect(openSession(connection, { 'use:database': 'no_such_db' })).rejects.toMatchObject({
      message: 'Failed to open new session: Database no_such_db does not exist',
    });
  });

  it('answers unknown session and operation handles with an error status', async () => {
    const session = await openSession(connection);
    const handle = sessionHandleOf(session);
    await connection.bounded(session.close(), 'CloseSession');
    const closed = await connection.bounded(connection.driver.executeStatement({ sessionHandle: handle, statement: 'SELECT 1' }), 'ExecuteStatement');
    expect(closed.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: expect.stringContaining('Invalid SessionHandle') });
    const fake = { operationId: { guid: Buffer.alloc(16, 7), secret: Buffer.alloc(16, 7) }, operationType: 0, hasResultSet: true };
    const status = await connection.bounded(connection.driver.getOperationStatus({ operationHandle: fake }), 'GetOperationStatus');
    expect(status.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: expect.stringContaining('Invalid OperationHandle') });
  });

  it('answers metadata calls it does not implement with a clear not-supported status', async () => {
    const session = await openSession(connection);
    await expect(connection.bounded(session.getFunctions({ functionName: 'upper' }), 'GetFunctions')).rejects.toMatchObject({
      message: expect.stringContaining('GetFunctions is not supported by the HiveServer2 stand-in'),
    });
    await connection.bounded(session.close(), 'CloseSession');
  });
});

describe('HiveQL and errors', () => {
  let connection: Connection;
  let session: Session;

  beforeAll(async () => {
    connection = await connect(listener('binary', 'NOSASL'));
    session = await openSession(connection);
  });

  afterAll(() => connection?.close());

  it('runs HiveQL as written: backticks, double-quoted strings, Hive functions, SORT BY', async () => {
    const rows = await fetchJsonRows(
      connection,
      session,
      "SELECT `a`.`asset_id`, \"it's\" AS quote, nvl(`a`.capacity_kw, 0) AS cap, pmod(-7, 3) AS m FROM `enos`.`asset` `a` WHERE a.asset_type = \"meter\" SORT BY `a`.`asset_id` LIMIT 2",
    );
    expect(rows).toEqual([
      { asset_id: 'MTR-00002', quote: "it's", cap: 0, m: 2 },
      { asset_id: 'MTR-00005', quote: "it's", cap: 0, m: 2 },
    ]);
  });

  it('names unaliased expressions _c<n> and lower-cases names, as Hive does', async () => {
    const { schema } = await fetchRowSets(connection, session, 'SELECT count(*), max(asset_id) AS LastAsset FROM enos.asset');
    expect(schema.columns.map((c) => c.columnName)).toEqual(['_c0', 'lastasset']);
  });

  it('reports a missing table with SQLSTATE 42S02 and Hive error 10001', async () => {
    const response = await connection.bounded(
      connection.driver.executeStatement({ sessionHandle: sessionHandleOf(session), statement: 'SELECT * FROM enos.nope', runAsync: true }),
      'ExecuteStatement',
    );
    expect(response.status).toMatchObject({
      statusCode: TStatusCode.ERROR_STATUS,
      sqlState: '42S02',
      errorCode: 10001,
      errorMessage: expect.stringMatching(/^Error while compiling statement: FAILED: SemanticException \[Error 10001\]: .*nope/),
    });
  });

  it('reports a run-time failure of an async query through the operation state', async () => {
    const operation = await connection.bounded(session.executeStatement('SELECT count(CAST(asset_id AS INT)) FROM enos.asset', { runAsync: true }), 'ExecuteStatement');
    const failure = await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady').then(
      () => undefined,
      (error: unknown) => error as { message: string; response: { errorMessage: string; sqlState: string } },
    );
    expect(failure?.message).toBe('The operation failed due to an error');
    expect(failure?.response).toMatchObject({ sqlState: '08S01', errorMessage: expect.stringContaining('Error while processing statement: FAILED: Execution Error') });
  });
});
