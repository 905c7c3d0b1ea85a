import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chooseProcessor, removeComments, startHiveStandIn, type HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { TStatusCode, connect, fetchJsonRows, openSession, sessionHandleOf, type Connection, type Session } from './hive-client.js';

// HiveServer2's choice between the SQL driver and a command processor, as the stand-in makes it:
// comments stripped up to a line feed only, first word, whitelist. Command statements never reach
// DuckDB; they are recorded, SET and RESET work on the session, the rest is refused.

/** The reviewer's bypass: a SELECT to a SQL lexer (its `--` comments end at `\r`), `dfs` to HiveServer2. */
const BYPASS = "--\rselect '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\r' from enos.asset";
/** The same text with line feeds only: a SELECT for both. */
const SAME_WITH_LF = "--\nselect '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\n' from enos.asset";

describe('the command-processor choice, on its own', () => {
  const whitelist = new Set(['set', 'reset']);

  it.each([
    ['a -- line ends only at a line feed', BYPASS, 'dfs -cat /warehouse/enos_other.db/site/000000_0'],
    ['a quote opened on one line carries over', SAME_WITH_LF, "select '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\n' from enos.asset"],
    ['# lines are comments', '# note\n  set a=b', 'set a=b'],
    ['-- inside quotes is text', "select '--x' -- gone\nfrom t", "select '--x'\nfrom t"],
    ['an escaped quote does not close', "select 'a\\'--b' -- c", "select 'a\\'--b'"],
  ])('removeComments: %s', (_, statement, clean) => {
    expect(removeComments(statement).trim()).toBe(clean);
  });

  it.each([
    ['dfs -ls /', 'dfs'],
    ['  DFS\t-ls /', 'dfs'],
    [BYPASS, 'dfs'],
    ['--c\r\nadd jar /tmp/x.jar', 'add'],
    ['set hive.exec.mode.local.auto=true', 'set'],
    ['reset', 'reset'],
    ['list files', 'list'],
    ['delete jar x', 'delete'],
    ['compile `x` AS GROOVY NAMED y', 'compile'],
    ['reload', 'reload'],
    ['llap cluster -info', 'llap_cluster'],
  ])('routes %j to the %s processor', (statement, command) => {
    expect(chooseProcessor(statement, whitelist)).toMatchObject({ kind: 'command', command });
  });

  it.each([
    ['SELECT 1'],
    [SAME_WITH_LF],
    ['set role admin'],
    ['SET autocommit true'],
    ['delete from t where a = 1'],
    ['crypto create_key --keyName k'], // test-only in Hive
    ['!ls'], // a Beeline/CLI command, never sent as one
    ['llap status'],
    ['-- just a comment'],
  ])('leaves %j to the SQL driver', (statement) => {
    expect(chooseProcessor(statement, whitelist)).toEqual({ kind: 'sql' });
  });

  it('checks the whitelist before treating reload function as SQL, as CommandProcessorFactory does', () => {
    expect(chooseProcessor('reload function', whitelist)).toMatchObject({ kind: 'command', command: 'reload', allowed: false });
    expect(chooseProcessor('reload function', new Set(['reload']))).toEqual({ kind: 'sql' });
  });
});

describe('command statements over TCLIService', () => {
  let standIn: HiveStandIn;
  let connection: Connection;
  let session: Session;

  beforeAll(async () => {
    standIn = await startHiveStandIn({ seedRows: 1_000, adminPort: 0 });
    connection = await connect(standIn.listeners[0]!);
  });

  beforeEach(async () => {
    session = await openSession(connection, { 'set:hiveconf:hive.exec.parallel': 'true', 'set:hivevar:region': 'north' });
    return async () => {
      await connection.bounded(session.close(), 'CloseSession');
    };
  });

  afterAll(async () => {
    connection?.close();
    await standIn?.close();
  });

  const execute = (statement: string) =>
    connection.bounded(connection.driver.executeStatement({ sessionHandle: sessionHandleOf(session), statement, runAsync: true }), 'ExecuteStatement');

  it('sets, reads and resets session variables without DuckDB seeing the statements', async () => {
    const commandsBefore = standIn.commands().length;
    expect((await execute('set hive.exec.reducers.max = 7')).status.statusCode).toBe(TStatusCode.SUCCESS_STATUS);
    expect(await fetchJsonRows(connection, session, 'set hive.exec.reducers.max')).toEqual([{ set: 'hive.exec.reducers.max=7' }]);
    expect(await fetchJsonRows(connection, session, 'SET hivevar:region')).toEqual([{ set: 'hivevar:region=north' }]);
    expect(await fetchJsonRows(connection, session, 'set no.such.key')).toEqual([{ set: 'no.such.key is undefined' }]);
    expect(await fetchJsonRows(connection, session, '-- list them\nset')).toEqual([
      { set: 'hive.exec.parallel=true' },
      { set: 'hive.exec.reducers.max=7' },
      { set: 'hivevar:region=north' },
      { set: 'silent=off' },
    ]);

    const reset = await execute('reset');
    expect(reset.status.statusCode).toBe(TStatusCode.SUCCESS_STATUS);
    expect(reset.operationHandle?.hasResultSet).toBe(false);
    // RESET drops configuration overrides; hivevars stay, as in Hive.
    expect(await fetchJsonRows(connection, session, 'set')).toEqual([{ set: 'hivevar:region=north' }, { set: 'silent=off' }]);

    const recorded = standIn.commands().slice(commandsBefore);
    expect(recorded.map((c) => c.command)).toEqual(['set', 'set', 'set', 'set', 'set', 'reset', 'set']);
    expect(recorded[0]).toEqual({ command: 'set', statement: 'set hive.exec.reducers.max = 7', user: 'hive' });
    // The assignment and RESET never touched DuckDB (listings are served from constant rows).
    const untouched = standIn.operations().filter((o) => o.statement === 'reset' || o.statement === 'set hive.exec.reducers.max = 7');
    expect(untouched.map((o) => o.duckdb)).toEqual(['idle', 'idle']);
  });

  it('records a dfs statement and refuses it as HiveServer2 refuses a command outside the whitelist', async () => {
    const operationsBefore = standIn.operations().length;
    const response = await execute('dfs -ls /');
    expect(response.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, sqlState: '42000', errorMessage: 'Insufficient privileges to execute dfs' });
    expect(standIn.commands().at(-1)).toEqual({ command: 'dfs', statement: 'dfs -ls /', user: 'hive' });
    expect(standIn.operations()).toHaveLength(operationsBefore);

    const admin = await fetch(`${standIn.adminUrl}/commands`);
    expect(admin.status).toBe(200);
    expect((await admin.json()).at(-1)).toEqual({ command: 'dfs', statement: 'dfs -ls /', user: 'hive' });
  });

  it('routes the CR-comment bypass to the dfs processor, as HiveServer2 would', async () => {
    const operationsBefore = standIn.operations().length;
    const response = await execute(BYPASS);
    expect(response.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: 'Insufficient privileges to execute dfs' });
    expect(standIn.commands().at(-1)).toEqual({ command: 'dfs', statement: BYPASS, user: 'hive' });
    expect(standIn.operations()).toHaveLength(operationsBefore);
  });

  it('sends the same text with line feeds only to DuckDB as a SELECT', async () => {
    const commandsBefore = standIn.commands().length;
    const rows = await fetchJsonRows(connection, session, SAME_WITH_LF);
    expect(rows).toHaveLength(1_000);
    expect(rows[0]).toEqual({ _c0: '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\n' });
    expect(standIn.commands()).toHaveLength(commandsBefore);
    expect(standIn.operations().at(-1)).toMatchObject({ statement: SAME_WITH_LF, state: 'CLOSED', duckdb: 'done' });
  });

  it.each(['add jar /tmp/evil.jar', 'list jars', 'delete file /tmp/x', 'compile `1` AS GROOVY NAMED x.groovy', 'reload', 'llap cluster -info'])(
    'records and refuses %j',
    async (statement) => {
      const response = await execute(statement);
      expect(response.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, sqlState: '42000', errorMessage: expect.stringMatching(/^Insufficient privileges to execute /) });
      expect(standIn.commands().at(-1)).toMatchObject({ statement, user: 'hive' });
    },
  );
});
