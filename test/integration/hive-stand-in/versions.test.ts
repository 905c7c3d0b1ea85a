/**
 * What differs between the Hive versions the stand-in can be (service/cluster.ts PROFILES),
 * each against the fact it models (README "Real HiveServer2 behaviour").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHiveStandIn, type HiveStandIn, type HiveVersion } from '../../../scripts/hive-stand-in/index.js';
import { TGetInfoType, TOperationState, columnValues, connect, fetchRowSets, isNull, openSession, operationHandleOf, rowSetRows, type Connection, type Session } from './hive-client.js';

const standIns = new Map<HiveVersion, HiveStandIn>();

beforeAll(async () => {
  for (const version of ['2.3', '3.1', '4.0'] as const) {
    standIns.set(version, await startHiveStandIn({ hiveVersion: version, seedRows: 2_000, listeners: [{ transport: 'binary', auth: 'PLAIN' }] }));
  }
});
afterAll(async () => {
  await Promise.all([...standIns.values()].map((standIn) => standIn.close()));
});

async function sessionOn(version: HiveVersion, configuration?: Record<string, string>): Promise<{ connection: Connection; session: Session }> {
  const connection = await connect(standIns.get(version)!.listeners[0]!);
  return { connection, session: await openSession(connection, configuration) };
}

const cells = (rowSets: Awaited<ReturnType<typeof fetchRowSets>>['rowSets'], column: number) =>
  rowSets.flatMap((rowSet) => {
    if (rowSetRows(rowSet) === 0) return [];
    const { values, nulls } = columnValues(rowSet, column);
    return values.map((value, row) => (isNull(nulls, row) ? null : value));
  });

describe.each([
  ['2.3', 9, '2.3.9', '1970-01-01 00:00:00.0', '_u1.asset_id'],
  ['3.1', 10, '3.1.3', '1970-01-01 00:00:00', '_u1.asset_id'],
  ['4.0', 10, '4.0.1', '1970-01-01 00:00:00', 'asset_id'],
] as const)('Hive %s', (version, maxProtocol, dbmsVersion, wholeSecond, unionName) => {
  let connection: Connection;
  let session: Session;
  beforeAll(async () => ({ connection, session } = await sessionOn(version)));
  afterAll(() => connection?.close());

  it(`speaks up to protocol index ${maxProtocol} and reports CLI_DBMS_VER ${dbmsVersion}`, async () => {
    const response = await connection.bounded(connection.driver.openSession({ client_protocol: 10 }), 'OpenSession');
    expect(response.serverProtocolVersion).toBe(maxProtocol);
    expect((await connection.bounded(session.getInfo(TGetInfoType.CLI_DBMS_VER!), 'GetInfo')).getValue()).toBe(dbmsVersion);
  });

  it(`writes a whole-second TIMESTAMP as ${wholeSecond}, and a nested one without .0`, async () => {
    const { rowSets } = await fetchRowSets(connection, session, 'SELECT c_timestamp, c_struct FROM enos.type_probe WHERE id IN (3, 7) ORDER BY id');
    expect(cells(rowSets, 0)).toEqual([wholeSecond, '1899-12-31 23:59:59' + (version === '2.3' ? '.0' : '')]);
    expect(cells(rowSets, 1)[1]).toContain('"ts":"1899-12-31 23:59:59"');
  });

  it(`names a top-level UNION's columns ${unionName}`, async () => {
    const { schema } = await fetchRowSets(connection, session, 'SELECT asset_id FROM enos.asset WHERE asset_id = \'WTG-00003\' UNION ALL SELECT asset_id FROM enos.asset WHERE asset_id = \'INV-00001\'');
    expect(schema.columns.map((c) => c.columnName)).toEqual([unionName]);
  });

  it('refuses an unfiltered scan of a partitioned table with its version\'s text', async () => {
    const refused = await connection.bounded(session.executeStatement('SELECT * FROM enos.measurement_daily'), 'ExecuteStatement').catch((e: { message: string; response?: unknown }) => e);
    expect((refused as { message: string }).message).toMatch(
      version === '2.3'
        ? /^Error while compiling statement: FAILED: SemanticException Queries against partitioned tables .* please sethive\.strict\.checks\.large\.query .* No partition predicate for Alias "measurement_daily" Table "measurement_daily"$/
        : /^Error while compiling statement: FAILED: SemanticException \[Error 10056\]: Queries .* please set hive\.strict\.checks\.no\.partition\.filter .* No partition predicate for Alias "enos\.measurement_daily" Table "measurement_daily"$/,
    );
  });

  it('refuses a restricted setting at OpenSession with its version\'s text', async () => {
    await expect(openSession(connection, { 'set:hiveconf:hive.security.authorization.enabled': 'false' })).rejects.toMatchObject({
      message:
        version === '2.3'
          ? "Failed to open new session: java.lang.IllegalArgumentException: Cannot modify hive.security.authorization.enabled at runtime. It is in the list of parameters that can't be modified at runtime"
          : "Failed to open new session: java.lang.IllegalArgumentException: Cannot modify hive.security.authorization.enabled at runtime. It is in the list of parameters that can't be modified at runtime or is prefixed by a restricted variable",
    });
  });

  it(`${version === '4.0' ? 'accepts' : 'refuses'} hive.query.tag`, async () => {
    const opened = openSession(connection, { 'set:hiveconf:hive.query.tag': 'x' });
    if (version === '4.0') await expect(opened).resolves.toBeDefined();
    else await expect(opened).rejects.toMatchObject({ message: 'Failed to open new session: java.lang.IllegalArgumentException: hive configuration hive.query.tag does not exists.' });
  });

  it('reports an async failure as its version does', async () => {
    const fault = standIns.get(version)!.faults.add({ kind: 'fail', match: 'version_fail', message: 'Error while processing statement: FAILED: Execution Error, return code 2 from x' });
    try {
      const operation = await connection.bounded(session.executeStatement('SELECT count(*) AS version_fail FROM enos.asset', { runAsync: true }), 'ExecuteStatement');
      const status = await connection.bounded(operation.status(false), 'GetOperationStatus');
      expect(status.operationState).toBe(TOperationState.ERROR_STATE);
      if (version === '2.3') expect(status.errorMessage).toMatch(/^org\.apache\.hive\.service\.cli\.HiveSQLException: Error while processing statement: .*\n\tat org\.apache/);
      else if (version === '3.1') expect(status.errorMessage).toBe('Error while processing statement: FAILED: Execution Error, return code 2 from x');
      else expect(status.errorMessage).toBe('Error while compiling statement: FAILED: Execution Error, return code 2 from x');
    } finally {
      fault.remove();
    }
  });

  it('keeps the operation log of a job: INFO lines in one operation_log column', async () => {
    const operation = await connection.bounded(session.executeStatement('SELECT count(*) AS logged FROM enos.asset', { runAsync: true }), 'ExecuteStatement');
    await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
    const log = await connection.bounded(connection.driver.fetchResults({ operationHandle: operationHandleOf(operation), orientation: 0, maxRows: 100, fetchType: 1 }), 'FetchResults');
    const lines = columnValues(log.results!, 0).values as string[];
    expect(lines[0]).toMatch(/^INFO {2}: Compiling command\(queryId=hive_\d{14}_[0-9a-f-]{36}\): SELECT count/);
    expect(lines).toContain('INFO  : Status: Running (Executing on YARN cluster with App id application_1700000000000_0042)');
  });
});

it('Hive 4.0 reads a fetch task\'s result while RUNNING (hive.fetch.task.caching); 3.1 in the first FetchResults', async () => {
  for (const version of ['3.1', '4.0'] as const) {
    const fault = standIns.get(version)!.faults.add({ kind: 'delay', match: 'caching_probe', ms: 800 });
    const { connection, session } = await sessionOn(version);
    try {
      const operation = await connection.bounded(session.executeStatement("SELECT 'caching_probe' AS x", { runAsync: true }), 'ExecuteStatement');
      const first = await connection.bounded(operation.status(false), 'GetOperationStatus');
      expect(first.operationState, version).toBe(version === '4.0' ? TOperationState.RUNNING_STATE : TOperationState.FINISHED_STATE);
    } finally {
      fault.remove();
      connection.close();
    }
  }
});
