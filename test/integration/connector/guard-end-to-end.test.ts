/**
 * The SQL guard end to end: statements that HiveServer2 would hand to a command processor (dfs,
 * set, reset, add …) instead of its SQL driver must be refused by the connector before they reach
 * Hive. The stand-in makes HiveServer2's choice (comments stripped up to a line feed only, first
 * word) and records every command statement it receives, so "nothing reached a command
 * processor" is checked on the Hive side, not only from the connector's answer.
 * Valid HiveQL must get through the same way, and a user-defined function must not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorStack, type ConnectorStack } from '../../support/connector-stack.js';

const ATTEMPTS: [string, string][] = [
  ['the reviewer\'s bypass: "--" ended by a lone CR', "--\rselect '\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\r' from enos.asset"],
  ['the same bypass with double quotes', '--\rselect "\ndfs -cat /warehouse/enos_other.db/site/000000_0\n--\r" from enos.asset'],
  ['a CR-ended comment hiding a SET', '--\rselect 1 from enos.asset\n--\r\nset hive.security.authorization.enabled=false'],
  ['set', 'set hive.exec.mode.local.auto=true'],
  ['SET in capitals', 'SET hive.exec.parallel=true'],
  ['set listing', 'set'],
  ['reset', 'reset'],
  ['a shell escape', '!ls'],
  ['dfs', 'dfs -ls /'],
  ['dfs after a line comment', '-- list the warehouse\ndfs -ls /warehouse'],
  ['dfs after a CRLF comment', '-- c\r\ndfs -ls /'],
  ['dfs after CR LF and spaces', '\r\n  DFS\t-cat /warehouse/enos_other.db/site/000000_0'],
  ['dfs after a # line', '# c\ndfs -ls /'],
  ['dfs after a block comment', '/* c */ dfs -ls /'],
  ['add jar', 'add jar hdfs:///tmp/evil.jar'],
  ['list', 'list jars'],
  ['delete', 'delete file /tmp/x'],
  ['compile', "compile `System.exit(1)` AS GROOVY NAMED x.groovy"],
  ['reload', 'reload'],
  ['llap', 'llap cluster -info'],
];

let stack: ConnectorStack;
let token: string;

beforeAll(async () => {
  stack = await startConnectorStack({ storage: 'blob', seedRows: 1_000 });
  token = await stack.signIn('demo');
});

afterAll(async () => stack?.stop());

describe('command smuggling, end to end', () => {
  it.each(ATTEMPTS)('refuses %s with 400 sql_rejected, and Hive sees no command', async (_, sql) => {
    const response = await stack.api(token, 'POST', '/api/v1/exports', { sql });
    // On failure this names what got through and what HiveServer2 (the stand-in) was asked to run.
    expect({ status: response.status, code: response.json?.error?.code, commands: stack.hive.commands() }).toEqual({ status: 400, code: 'sql_rejected', commands: [] });
    expect(stack.hive.operations().map((o) => o.statement)).not.toContain(sql);
  });

  it('still exports a plain SELECT, and Hive still saw no command', async () => {
    const created = await stack.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT asset_id, name FROM enos.asset ORDER BY asset_id LIMIT 5' });
    expect(created.status).toBe(202);
    const job = await stack.waitFor(token, created.json.id);
    expect(job).toMatchObject({ status: 'succeeded', progress: { rows: 5 } });
    const csv = await (await fetch(job.downloadUrl)).text();
    expect(csv.split('\r\n')[1]).toBe('INV-00001,PV Inverter 00001');
    expect(stack.hive.commands()).toEqual([]);
    // Only the plain SELECT created a job.
    expect((await stack.api(token, 'GET', '/api/v1/exports')).json.exports).toHaveLength(1);
  });
});

// Issue 9: valid HiveQL was refused with misleading messages, and a user-defined function let through.
describe('HiveQL and functions, end to end', () => {
  it('exports HiveQL the guard used to refuse: a byte order mark, JOIN … USING, EXTRACT … FROM', async () => {
    const statement = 'SELECT asset_id, extract(hour FROM ts) AS h FROM enos.measurement JOIN enos.asset USING (asset_id) ORDER BY ts, asset_id LIMIT 3';
    const created = await stack.api(token, 'POST', '/api/v1/exports', { sql: `\uFEFF${statement}` });
    expect(created.status).toBe(202);
    const job = await stack.waitFor(token, created.json.id);
    expect(job).toMatchObject({ status: 'succeeded', progress: { rows: 3 } });
    const csv = await (await fetch(job.downloadUrl)).text();
    expect(csv.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[1])).toEqual(['0', '0', '0']);
    // Hive's lexer knows no U+FEFF: the statement reached it without the mark.
    expect(stack.hive.operations().map((o) => o.statement).filter((sql) => sql.includes('USING (asset_id)'))).toEqual([statement]);
  });

  it('refuses an unqualified user-defined function with its name and position, before Hive sees it', async () => {
    const sql = 'SELECT asset_id,\n       my_udf(asset_id) FROM enos.asset';
    const response = await stack.api(token, 'POST', '/api/v1/exports', { sql });
    expect({ status: response.status, error: response.json?.error }).toEqual({
      status: 400,
      error: {
        code: 'sql_rejected',
        message: 'Function my_udf() at line 2 column 8 is not a Hive built-in function; user-defined functions are not allowed',
        position: { line: 2, column: 8 },
      },
    });
    expect(stack.hive.operations().map((o) => o.statement).filter((statement) => statement.includes('my_udf'))).toEqual([]);
  });
});
