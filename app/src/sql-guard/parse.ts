/**
 * node-sql-parser, Hive grammar only. `node-sql-parser/build/hive.js` is a CommonJS webpack
 * bundle without an "exports" map: Node's ESM loader needs the `.js` extension, and its named
 * exports are invisible to Node's CJS export detection, so the default import is the one that loads.
 */
import nodeSqlParserHive from 'node-sql-parser/build/hive.js';
import { describePosition, excerpt, sqlRejected } from './rejection.js';
import { isTrivia, type Token } from './lexer.js';

export interface ParsedSelect {
  /** The statement's AST, left untyped: its shape is walked defensively by tables.ts. */
  ast: unknown;
  /** node-sql-parser's own table list, "type::db::table" with "null" for no database. */
  tableList: string[];
}

const parser = new nodeSqlParserHive.Parser();

/** pegjs SyntaxError's location, the only field of it we read. */
interface PegLocation {
  start: { offset: number };
}

const pegLocation = (error: unknown): PegLocation | undefined => {
  const location = (error as { location?: { start?: { offset?: unknown } } } | null)?.location;
  return typeof location?.start?.offset === 'number' ? (location as PegLocation) : undefined;
};

/**
 * Parses the rewritten statement (see dialect.ts) and insists on one SELECT. Error
 * positions point into `sql`, the caller's text, whose offsets the rewrite preserves.
 */
export function parseSelect(sql: string, parserText: string, tokens: readonly Token[]): ParsedSelect {
  let parsed;
  try {
    // trimQuery: false, or the parser trims leading blanks and its offsets drift from ours.
    parsed = parser.parse(parserText, { database: 'hive', trimQuery: false });
  } catch (error) {
    if (error instanceof RangeError) throw sqlRejected('The query is too deeply nested to analyse', undefined, undefined, error);
    const location = pegLocation(error);
    if (location === undefined) throw sqlRejected('Syntax error: the query could not be parsed', undefined, undefined, error);
    const offset = location.start.offset;
    const found = tokens.find((token) => token.end > offset && !isTrivia(token));
    const what = found === undefined || offset >= parserText.length ? 'end of query' : `"${excerpt(found.text)}"`;
    const at = found !== undefined && offset < parserText.length ? Math.max(offset, found.start) : offset;
    throw sqlRejected(`Syntax error near ${describePosition(sql, at)}: unexpected ${what}`, sql, at, error);
  }

  const statements = Array.isArray(parsed.ast) ? parsed.ast : [parsed.ast];
  if (statements.length !== 1) {
    throw sqlRejected(`Only a single SELECT statement is allowed; found ${statements.length} statements`);
  }
  const [ast] = statements;
  const type = (ast as { type?: unknown }).type;
  if (type !== 'select') {
    throw sqlRejected(`Only SELECT statements are allowed; found ${typeof type === 'string' ? excerpt(type.toUpperCase()) : 'another statement'}`);
  }
  const other = parsed.tableList.find((entry) => !entry.startsWith('select::'));
  if (other !== undefined) {
    throw sqlRejected(`Only SELECT statements are allowed; found ${excerpt((other.split('::')[0] ?? '').toUpperCase())}`);
  }
  return { ast, tableList: parsed.tableList };
}
