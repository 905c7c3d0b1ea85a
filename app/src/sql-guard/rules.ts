/**
 * Lexical rules of the SQL guard: they run on Hive's own token boundaries (see lexer.ts),
 * before and independently of node-sql-parser, so that they hold even where that parser is more
 * lenient than Hive or does not know a Hive construct.
 */
import { describePosition, excerpt, sqlRejected } from './rejection.js';
import { isSymbol, isTrivia, isWord, type Token } from './lexer.js';

export interface Statement {
  /** The statement's tokens without whitespace and comments. */
  tokens: Token[];
  /** Offset just after its last token: what follows is a ';' and/or comments only. */
  end: number;
}

/** Deeper nesting is no real export query, and could exhaust the parser's stack. */
export const MAX_PARENTHESIS_DEPTH = 64;

const SCRIPT_MESSAGE = 'TRANSFORM … USING scripts are not allowed';
const NOT_AN_EXPORT = 'only a SELECT that returns data can be exported';

/** First words Hive (or HiveServer2's command processors) treat as something other than a query. */
const STATEMENT_MESSAGES: Record<string, string> = {
  INSERT: 'INSERT statements are not allowed',
  UPDATE: 'UPDATE statements are not allowed',
  DELETE: 'DELETE statements are not allowed',
  MERGE: 'MERGE statements are not allowed',
  DROP: 'DROP statements are not allowed',
  ALTER: 'ALTER statements are not allowed',
  TRUNCATE: 'TRUNCATE statements are not allowed',
  LOAD: 'LOAD statements are not allowed',
  EXPORT: 'EXPORT statements are not allowed',
  IMPORT: 'IMPORT statements are not allowed',
  GRANT: 'GRANT statements are not allowed',
  REVOKE: 'REVOKE statements are not allowed',
  MSCK: 'MSCK statements are not allowed',
  ANALYZE: 'ANALYZE statements are not allowed',
  USE: 'USE statements are not allowed',
  LOCK: 'LOCK statements are not allowed',
  UNLOCK: 'UNLOCK statements are not allowed',
  KILL: 'KILL statements are not allowed',
  ABORT: 'ABORT statements are not allowed',
  REPL: 'REPL statements are not allowed',
  START: 'Transaction statements are not allowed',
  COMMIT: 'Transaction statements are not allowed',
  ROLLBACK: 'Transaction statements are not allowed',
  PREPARE: 'PREPARE statements are not allowed',
  EXECUTE: 'EXECUTE statements are not allowed',
  SET: 'SET commands are not allowed',
  RESET: 'RESET commands are not allowed',
  ADD: 'ADD JAR/FILE/ARCHIVE commands are not allowed',
  LIST: 'LIST commands are not allowed',
  RELOAD: 'RELOAD commands are not allowed',
  DFS: 'DFS commands are not allowed',
  CRYPTO: 'CRYPTO commands are not allowed',
  SOURCE: 'SOURCE commands are not allowed',
  COMPILE: 'COMPILE commands are not allowed',
  EXPLAIN: `EXPLAIN is not allowed: ${NOT_AN_EXPORT}`,
  SHOW: `SHOW statements are not allowed: ${NOT_AN_EXPORT}`,
  DESCRIBE: `DESCRIBE statements are not allowed: ${NOT_AN_EXPORT}`,
  DESC: `DESCRIBE statements are not allowed: ${NOT_AN_EXPORT}`,
  MAP: SCRIPT_MESSAGE,
  REDUCE: SCRIPT_MESSAGE,
  VALUES: `VALUES statements are not allowed: ${NOT_AN_EXPORT}`,
};

/** Words that never belong in a read-only SELECT, wherever they appear (Hive reserves them). */
const FORBIDDEN_WORDS: Record<string, string> = {
  INSERT: 'INSERT statements are not allowed',
  TRANSFORM: SCRIPT_MESSAGE,
  REDUCE: SCRIPT_MESSAGE,
  INTO: 'SELECT … INTO is not allowed',
};

/**
 * Splits at ';' and insists on exactly one statement, optionally followed by one ';' and
 * comments. Works on every token, so a ';' inside a string or comment never counts.
 */
export function singleStatement(sql: string, tokens: readonly Token[]): Statement {
  const statements: Token[][] = [[]];
  const semicolons: Token[] = [];
  for (const token of tokens) {
    if (isSymbol(token, ';')) {
      semicolons.push(token);
      statements.push([]);
    } else if (!isTrivia(token)) {
      (statements[statements.length - 1] as Token[]).push(token);
    }
  }
  const nonEmpty = statements.filter((statement) => statement.length > 0);
  const [statement, second] = nonEmpty;
  if (statement === undefined) throw sqlRejected('The query is empty');
  if (second !== undefined) {
    const start = (second[0] as Token).start;
    throw sqlRejected(`Only a single SELECT statement is allowed; found ${nonEmpty.length} statements`, sql, start);
  }
  const end = (statement[statement.length - 1] as Token).end;
  const misplaced = semicolons.find((semicolon, index) => index > 0 || semicolon.start < end);
  if (misplaced !== undefined) {
    throw sqlRejected(`Only one ';', at the end of the query, is allowed (found one at ${describePosition(sql, misplaced.start)})`, sql, misplaced.start);
  }
  return { tokens: statement, end };
}

/** Refuses everything that is not a query before looking at the query's parts. */
export function checkStatementKind(sql: string, tokens: readonly Token[]): void {
  const first = tokens[0] as Token;
  const firstWord = first.kind === 'word' ? first.text.toUpperCase() : undefined;
  if (firstWord === 'CREATE') {
    const kind = tokens.slice(1, 4).find((token) => isWord(token, 'FUNCTION', 'MACRO'));
    const message = kind ? `CREATE ${kind.text.toUpperCase()} statements are not allowed` : 'CREATE statements are not allowed';
    throw sqlRejected(message, sql, first.start);
  }
  const statementMessage = firstWord === undefined ? undefined : STATEMENT_MESSAGES[firstWord];
  if (statementMessage !== undefined) throw sqlRejected(statementMessage, sql, first.start);
  if (isSymbol(first, '!')) throw sqlRejected('Shell commands (!) are not allowed', sql, first.start);

  checkForbiddenWords(sql, tokens);

  if (firstWord === 'FROM') {
    throw sqlRejected("Queries that start with FROM (Hive's FROM … SELECT form) are not supported; write SELECT … FROM …", sql, first.start);
  }
  if (!isWord(first, 'SELECT', 'WITH') && !isSymbol(first, '(') && first.kind !== 'invalid') {
    throw sqlRejected(`Only a single SELECT statement is allowed; the query starts with "${excerpt(first.text)}"`, sql, first.start);
  }
}

function checkForbiddenWords(sql: string, tokens: readonly Token[]): void {
  tokens.forEach((token, index) => {
    const word = token.kind === 'word' ? FORBIDDEN_WORDS[token.text.toUpperCase()] : undefined;
    if (word !== undefined) throw sqlRejected(word, sql, token.start);
    const next = tokens[index + 1];
    // Scripts name their command as a string: `MAP a USING 'cat'` (HiveParser's trfmClause takes
    // KW_USING StringLiteral), while a join names its columns: `JOIN t USING (id)`.
    if (isWord(token, 'USING') && !isSymbol(next, '(')) throw sqlRejected(SCRIPT_MESSAGE, sql, token.start);
    // MAP is also the map() constructor and map<…> type; unquoted and followed by anything else it
    // can only be the script clause (MAP is reserved: a column named map needs backticks).
    if (isWord(token, 'MAP') && !isSymbol(next, '(', '<')) throw sqlRejected(SCRIPT_MESSAGE, sql, token.start);
  });
}

/**
 * Pairs every '(' with its ')' (indexes into `tokens`), so clause rewrites can skip a balanced
 * group, and caps the nesting depth.
 */
export function matchParentheses(sql: string, tokens: readonly Token[]): Map<number, number> {
  const closing = new Map<number, number>();
  const open: number[] = [];
  tokens.forEach((token, index) => {
    if (isSymbol(token, '(')) {
      open.push(index);
      if (open.length > MAX_PARENTHESIS_DEPTH) {
        throw sqlRejected(`Parentheses are nested more than ${MAX_PARENTHESIS_DEPTH} levels deep`, sql, token.start);
      }
    } else if (isSymbol(token, ')')) {
      const opener = open.pop();
      if (opener === undefined) {
        throw sqlRejected(`Syntax error near ${describePosition(sql, token.start)}: unmatched ")"`, sql, token.start);
      }
      closing.set(opener, index);
    }
  });
  const unclosed = open.pop();
  if (unclosed !== undefined) {
    const start = (tokens[unclosed] as Token).start;
    throw sqlRejected(`Syntax error near ${describePosition(sql, start)}: "(" is never closed`, sql, start);
  }
  return closing;
}
