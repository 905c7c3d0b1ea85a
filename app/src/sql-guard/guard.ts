/**
 * The SQL guard: only a single read-only SELECT over tables the organization may read reaches
 * Hive. It runs before Hive sees anything and fails closed: what it cannot analyse is refused.
 *
 * How: a lexer with Hive's token boundaries (lexer.ts) → one statement, no forbidden
 * statement or word (rules.ts) → every function call a Hive built-in (functions.ts, with the list
 * generated from Hive's FunctionRegistry in hive-functions.ts) → a same-length rewrite into
 * node-sql-parser's Hive dialect (dialect.ts) → its parser must see one SELECT (parse.ts) → every
 * table from the AST, the parser's table list and the tokens must be readable (tables.ts).
 *
 * Decisions:
 * - Allowed: SELECT and WITH … SELECT with joins (ON or USING), subqueries,
 *   UNION/INTERSECT/EXCEPT, Hive's built-in scalar, aggregate and window functions, hints, and
 *   the Hive forms LATERAL VIEW and SELECT udtf(…) AS (a, b) with a built-in table-generating
 *   function, EXTRACT(unit FROM x), FLOOR(x TO unit), DIV, WITHIN GROUP, TABLESAMPLE,
 *   DISTRIBUTE/SORT/CLUSTER BY, GROUPING SETS, WITH ROLLUP/CUBE — none of them can name a table,
 *   and their text is checked for query words. Hive syntax node-sql-parser does not know beyond
 *   those is refused as a syntax error.
 * - Refused as statements: everything not starting with SELECT, WITH or '(' — DDL, DML,
 *   SET/RESET/ADD/DFS/LIST/SOURCE/COMPILE, '!', EXPLAIN, SHOW/DESCRIBE (not data exports),
 *   and Hive's FROM … SELECT / FROM … INSERT forms (the parser cannot read them).
 * - Refused anywhere: INSERT, TRANSFORM/MAP/REDUCE … USING 'script', SELECT … INTO; any call of
 *   a function that is not one of Hive's built-ins, qualified (default.f) or not (f): Hive
 *   resolves both to the same permanent UDF, which is arbitrary code; the built-ins that run Java
 *   or queries, read files or are table functions (functions.ts says which and why); ${…}
 *   anywhere, even in a string or comment, because HiveServer2 substitutes variables before it
 *   parses.
 * - Text: one trailing ';' and trailing comments are allowed (and removed from the SQL sent to
 *   Hive), and so is a byte order mark before the statement (removed too); line comments ended by a lone CR (HiveServer2 would pick a command processor from text
 *   its parser reads as code), nested block comments, backslashes in "…" strings, doubled backticks and characters
 *   outside Hive's ASCII grammar (look-alike letters, full-width ';', zero-width spaces) are
 *   refused, because Hive versions or modes disagree on where such tokens end.
 * - Tables: unqualified names resolve against `defaultDatabase` (refused without one); CTE names
 *   are not tables within their scope; names must be ASCII letters, digits and underscores, as
 *   Hive's metastore requires. Views are checked by name like tables: what a view reads is the
 *   cluster's authorization, not the guard's.
 */
import { lexHive } from './lexer.js';
import { describePosition, sqlRejected } from './rejection.js';
import { checkStatementKind, matchParentheses, singleStatement } from './rules.js';
import { HIVE_VERSIONS, checkFunctionCalls, versionsFor, type HiveVersion } from './functions.js';
import { toParserDialect } from './dialect.js';
import { parseSelect } from './parse.js';
import { authorizeTables, tablesFromAst, tablesFromTableList, tablesFromTokens, type TableAccess } from './tables.js';

export { accessProblem, isHiveName } from './tables.js';

export type { HiveVersion, TableAccess };

export interface GuardedQuery {
  /** What to send to Hive: the caller's statement, trimmed, without the trailing ';' and comments. */
  sql: string;
  /** Every table the statement reads, as 'db.table', lowercase, sorted. */
  tables: string[];
}

/** The guard's version for a configured cluster version (`3.1`, `3.1.3`, `3.1.3000.7.1.7.0-551`), if it knows one. */
export function supportedHiveVersion(serverVersion: string | undefined): HiveVersion | undefined {
  const majorMinor = /^(\d+\.\d+)/.exec(serverVersion ?? '')?.[1];
  return (HIVE_VERSIONS as readonly string[]).includes(majorMinor ?? '') ? (majorMinor as HiveVersion) : undefined;
}

export interface GuardOptions {
  /** The Hive session's current database, used for unqualified table names. */
  defaultDatabase?: string;
  /** Longest accepted query, in UTF-16 code units. @default DEFAULT_MAX_SQL_LENGTH */
  maxLength?: number;
  /**
   * The cluster's Hive version: function calls are checked against that version's built-ins.
   * @default - any supported version's built-ins (2.3, 3.1 or 4.0). A name that is built in only
   * elsewhere then passes, and on this cluster Hive would look it up among the permanent functions.
   */
  hiveVersion?: HiveVersion;
}

/**
 * 50 000 characters: far beyond hand-written queries (an IN list of 2 000 ids is ~20 000), and
 * node-sql-parser parses ~4 µs per character on the event loop, so the worst case stays ~0.2 s.
 */
export const DEFAULT_MAX_SQL_LENGTH = 50_000;

/**
 * Returns the statement to run when it is a single read-only SELECT over readable tables;
 * otherwise throws AppError `sql_rejected` (400, with `details.position` where known) or
 * `table_forbidden` (403).
 */
export function guardSql(sql: string, access: TableAccess, options: GuardOptions = {}): GuardedQuery {
  if (typeof sql !== 'string') throw sqlRejected(`The query must be a string; got ${typeof sql}`);
  const maxLength = options.maxLength ?? DEFAULT_MAX_SQL_LENGTH;
  if (sql.length > maxLength) throw sqlRejected(`The query is ${sql.length} characters long; the limit is ${maxLength}`);

  const { tokens, problem } = lexHive(sql, (offset) => describePosition(sql, offset));
  const statement = singleStatement(sql, tokens);
  checkStatementKind(sql, statement.tokens);
  const variable = sql.indexOf('${');
  if (variable !== -1) {
    throw sqlRejected(`Variable substitution (\${…}) is not allowed, not even in strings or comments (at ${describePosition(sql, variable)})`, sql, variable);
  }
  const nul = sql.indexOf('\u0000');
  if (nul !== -1) throw sqlRejected(`NUL characters are not allowed (at ${describePosition(sql, nul)})`, sql, nul);
  if (problem !== undefined) throw sqlRejected(problem.message, sql, problem.offset);

  const closing = matchParentheses(sql, statement.tokens);
  const versions = versionsFor(options.hiveVersion);
  checkFunctionCalls(sql, statement.tokens, closing, versions);
  const parserText = toParserDialect(sql, tokens, statement, closing, versions);
  const { ast, tableList } = parseSelect(sql, parserText, statement.tokens);

  const { tables, cteNames } = tablesFromAst(ast);
  const references = [...tables, ...tablesFromTableList(tableList, cteNames), ...tablesFromTokens(statement.tokens, cteNames)];
  const readable = authorizeTables(sql, statement.tokens, references, access, options.defaultDatabase?.toLowerCase());
  // JavaScript's trim() also drops the byte order mark, which Hive's lexer would not accept.
  return { sql: sql.slice(0, statement.end).trim(), tables: readable };
}
