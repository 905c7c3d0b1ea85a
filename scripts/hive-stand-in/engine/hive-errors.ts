/**
 * Turns DuckDB errors into the errors HiveServer2 reports: compile-time problems (syntax, unknown
 * table or column) as "Error while compiling statement: FAILED: ParseException/SemanticException"
 * with SQLSTATE 42000/42S02 and Hive's error codes, run-time problems as "Error while processing
 * statement: FAILED: Execution Error" with SQLSTATE 08S01. The DuckDB reason is kept in the
 * message, because it is what tells the user what to fix.
 */

export class HiveError extends Error {
  override readonly name = 'HiveError';
  constructor(
    message: string,
    readonly sqlState: string,
    readonly errorCode: number,
  ) {
    super(message);
  }
}

/** DuckDB: "<Kind> Error: <reason>\n\nLINE 1: <sql>\n          ^" */
function parseDuckDbError(error: unknown): { kind: string; reason: string; line?: number; column?: number } {
  const message = error instanceof Error ? error.message : String(error);
  const [head = '', ...rest] = message.split('\n');
  const match = /^([A-Za-z ]+?) Error: (.*)$/.exec(head);
  const kind = match?.[1] ?? 'Unknown';
  const reason = match?.[2] ?? head;
  const lineIndex = rest.findIndex((l) => /^LINE \d+: /.test(l));
  if (lineIndex >= 0) {
    const lineText = rest[lineIndex]!;
    const caret = rest[lineIndex + 1]?.indexOf('^') ?? -1;
    const prefix = /^LINE \d+: /.exec(lineText)![0].length;
    if (caret >= prefix) return { kind, reason, line: Number(/^LINE (\d+)/.exec(lineText)![1]), column: caret - prefix };
  }
  return { kind, reason };
}

export function compileError(error: unknown): HiveError {
  const { kind, reason, line, column } = parseDuckDbError(error);
  const at = line !== undefined ? `Line ${line}:${column} ` : '';
  if (kind === 'Parser') {
    return new HiveError(`Error while compiling statement: FAILED: ParseException line ${line ?? 1}:${column ?? 0} ${reason}`, '42000', 40000);
  }
  if (kind === 'Catalog' && /^Table with name .* does not exist/.test(reason)) {
    return new HiveError(`Error while compiling statement: FAILED: SemanticException [Error 10001]: ${at}Table not found: ${reason}`, '42S02', 10001);
  }
  if (kind === 'Binder' && /column/i.test(reason)) {
    return new HiveError(`Error while compiling statement: FAILED: SemanticException [Error 10004]: ${at}Invalid table alias or column reference: ${reason}`, '42000', 10004);
  }
  return new HiveError(`Error while compiling statement: FAILED: SemanticException ${at}${reason}`, '42000', 40000);
}

export function executionError(error: unknown): HiveError {
  const { reason } = parseDuckDbError(error);
  return new HiveError(`Error while processing statement: FAILED: Execution Error, return code 2 from org.apache.hadoop.hive.ql.exec.tez.TezTask. ${reason}`, '08S01', 2);
}

/**
 * A metadata call that fails: HiveServer2 wraps the metastore's exception, so the message is
 * its toString and there is no SQLSTATE.
 */
export function metadataError(error: unknown): HiveError {
  return new HiveError(`MetaException(message:${parseDuckDbError(error).reason})`, '', 0);
}

export function isInterrupt(error: unknown): boolean {
  return error instanceof Error && /^INTERRUPT Error/.test(error.message);
}

/**
 * A partitioned table read with no partition filter while the strict check is on
 * (PartitionPruner → HiveConf.StrictChecks.checkNoPartitionFilter). 3.1/4.0: ErrorMsg
 * NO_VALID_PARTN tags it [Error 10056] and the CBO path names the alias `db.table`; 2.3's text
 * (with its "please sethive" typo) matches no ErrorMsg, so it is a generic 40000.
 */
export function noPartitionPredicate(scan: { alias: string; database: string; table: string }, version: '2.3' | '3.1' | '4.0'): HiveError {
  if (version === '2.3') {
    return new HiveError(
      `Error while compiling statement: FAILED: SemanticException Queries against partitioned tables without a partition filter are disabled for safety reasons. If you know what you are doing, please sethive.strict.checks.large.query to false and that hive.mapred.mode is not set to 'strict' to proceed. Note that if you may get errors or incorrect results if you make a mistake while using some of the unsafe features. No partition predicate for Alias "${scan.alias}" Table "${scan.table}"`,
      '42000',
      40000,
    );
  }
  return new HiveError(
    `Error while compiling statement: FAILED: SemanticException [Error 10056]: Queries against partitioned tables without a partition filter are disabled for safety reasons. If you know what you are doing, please set hive.strict.checks.no.partition.filter to false and make sure that hive.mapred.mode is not set to 'strict' to proceed. Note that you may get errors or incorrect results if you make a mistake while using some of the unsafe features. No partition predicate for Alias "${scan.database}.${scan.table}" Table "${scan.table}"`,
    '42000',
    10056,
  );
}
