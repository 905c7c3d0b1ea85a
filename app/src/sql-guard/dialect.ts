/**
 * Rewrites a HiveQL statement into text node-sql-parser's Hive grammar understands, without
 * moving a single character: every edit has the length of what it replaces, so the parser's
 * error offsets are offsets into the caller's SQL. The rewritten text only feeds the parser; Hive
 * receives the caller's statement unchanged.
 *
 * - comments and hints become spaces, so the parser cannot disagree with Hive about where they end
 *   (it also treats '#' as a comment, which Hive does not; the lexer refuses '#');
 * - strings keep their delimiters but, if they hold quotes or backslashes, their content becomes
 *   '?', so the parser cannot disagree with Hive about where they end either;
 * - Hive-only clauses that cannot name a table are blanked: LATERAL VIEW (table functions on an
 *   allow-list), TABLESAMPLE, DISTRIBUTE/SORT/CLUSTER BY, GROUPING SETS, WITH ROLLUP/CUBE,
 *   NULLS FIRST/LAST, WINDOW definitions, and SEMI/ANTI in LEFT SEMI JOIN. Blanking is safe
 *   because a table can only enter a Hive query through SELECT/FROM/JOIN, and a blanked region
 *   holding any of those words is refused instead;
 * - operators the parser lacks get a same-length stand-in with the same operands: REGEXP becomes
 *   RLIKE, <=> becomes =, DIV becomes /, INTERSECT/EXCEPT/MINUS become UNION, a RANGE window frame
 *   becomes ROWS (set and frame semantics do not matter for finding tables);
 * - Hive's keyword arguments are blanked down to the expression: EXTRACT(unit FROM x) and
 *   FLOOR(x TO unit) become extract(x) and floor(x), a UDTF's column aliases
 *   `stack(…) AS (k, v)` and WITHIN GROUP (ORDER BY …) disappear. The unit and alias words can
 *   name nothing, and a WITHIN GROUP holding a query word is refused like the clauses above;
 * - a byte order mark at the start becomes a space.
 */
import { describePosition, excerpt, sqlRejected } from './rejection.js';
import { BYTE_ORDER_MARK, identifierName, isSymbol, isWord, type Token } from './lexer.js';
import type { Statement } from './rules.js';
import { tableGeneratingFunctions, type HiveVersion } from './functions.js';

/** HiveParser's timeQualifiers (EXTRACT) and floorDateQualifiers (FLOOR … TO), as HiveLexer spells them. */
const EXTRACT_UNITS = ['YEAR', 'YEARS', 'QUARTER', 'MONTH', 'MONTHS', 'WEEK', 'WEEKS', 'DAY', 'DAYS', 'DAYOFWEEK', 'HOUR', 'HOURS', 'MINUTE', 'MINUTES', 'SECOND', 'SECONDS'];
const FLOOR_UNITS = EXTRACT_UNITS.filter((unit) => unit !== 'DAYOFWEEK');

/** Words that would bring a table (or a query that reads one) into a blanked region. */
const QUERY_WORDS = ['SELECT', 'FROM', 'JOIN', 'UNIQUEJOIN', 'TABLE', 'VALUES'];

/** Words that end a DISTRIBUTE/SORT/CLUSTER BY clause at its own nesting level. */
const AFTER_SORT_CLAUSE = ['DISTRIBUTE', 'SORT', 'CLUSTER', 'ORDER', 'LIMIT', 'UNION', 'INTERSECT', 'EXCEPT', 'MINUS', 'WINDOW'];

const SET_OPERATORS = ['INTERSECT', 'EXCEPT', 'MINUS'];

export function toParserDialect(
  sql: string,
  allTokens: readonly Token[],
  statement: Statement,
  closing: ReadonlyMap<number, number>,
  versions: readonly HiveVersion[],
): string {
  const text = new Rewriter(sql.slice(0, statement.end));
  for (const token of allTokens) {
    if (token.start >= statement.end) break;
    const byteOrderMark = token.kind === 'space' && token.text === BYTE_ORDER_MARK;
    if (token.kind === 'lineComment' || token.kind === 'blockComment' || token.kind === 'hint' || byteOrderMark) {
      text.blank(token.start, token.end);
    } else if (token.kind === 'string' && /['"\\]/.test(token.text.slice(1, -1))) {
      text.replace(token.start + 1, '?'.repeat(token.text.length - 2));
    }
  }
  new ClauseRewrites(sql, statement.tokens, closing, text, tableGeneratingFunctions(versions)).apply();
  return text.toString();
}

class Rewriter {
  private readonly units: string[];

  constructor(text: string) {
    this.units = text.split('');
  }

  /** Spaces over [start, end), keeping line breaks so the parser's line count stays right. */
  blank(start: number, end: number): void {
    for (let index = start; index < end; index += 1) {
      if (this.units[index] !== '\n') this.units[index] = ' ';
    }
  }

  replace(start: number, replacement: string): void {
    for (let index = 0; index < replacement.length; index += 1) this.units[start + index] = replacement[index] as string;
  }

  toString(): string {
    return this.units.join('');
  }
}

class ClauseRewrites {
  constructor(
    private readonly sql: string,
    private readonly tokens: readonly Token[],
    private readonly closing: ReadonlyMap<number, number>,
    private readonly text: Rewriter,
    private readonly lateralViewFunctions: ReadonlySet<string>,
  ) {}

  apply(): void {
    for (let index = 0; index < this.tokens.length; index += 1) {
      index = this.rewriteAt(index);
    }
  }

  /** Rewrites the construct starting at `index`, if any; returns the index of its last token. */
  private rewriteAt(index: number): number {
    const token = this.at(index);
    const next = this.tokens[index + 1];
    if (isSymbol(token, '<=>')) {
      this.text.replace(token.start, ' = ');
      return index;
    }
    if (token.kind !== 'word') return index;

    switch (token.text.toUpperCase()) {
      case 'LATERAL':
        return this.lateralView(index);
      case 'TABLESAMPLE':
        return isSymbol(next, '(') ? this.blankGroup(index, index + 1, 'TABLESAMPLE') : index;
      case 'DISTRIBUTE':
      case 'SORT':
      case 'CLUSTER':
        return isWord(next, 'BY') ? this.sortClause(index) : index;
      case 'GROUPING':
        return isWord(next, 'SETS') && isSymbol(this.tokens[index + 2], '(') ? this.blankGroup(index, index + 2, 'GROUPING SETS') : index;
      case 'WITH':
        return isWord(next, 'ROLLUP', 'CUBE') ? this.blankRange(index, index + 1) : index;
      case 'NULLS':
        return isWord(next, 'FIRST', 'LAST') ? this.blankRange(index, index + 1) : index;
      case 'SEMI':
      case 'ANTI':
        return isWord(this.tokens[index - 1], 'LEFT') && isWord(next, 'JOIN') ? this.blankRange(index, index) : index;
      case 'WINDOW':
        return this.windowClause(index);
      case 'REGEXP':
        if (!isSymbol(next, '(')) this.text.replace(token.start, ' RLIKE');
        return index;
      case 'DIV':
        // DIV is an operator token to Hive's lexer, never a name.
        this.text.replace(token.start, ' / ');
        return index;
      case 'EXTRACT':
        return isSymbol(next, '(') ? this.extract(index) : index;
      case 'FLOOR':
        return isSymbol(next, '(') ? this.floorTo(index) : index;
      case 'AS':
        return this.columnAliases(index);
      case 'WITHIN':
        return isWord(next, 'GROUP') && isSymbol(this.tokens[index + 2], '(') ? this.blankGroup(index, index + 2, 'WITHIN GROUP') : index;
      case 'RANGE':
        if (isWord(next, 'BETWEEN', 'UNBOUNDED', 'CURRENT')) this.text.replace(token.start, 'ROWS ');
        return index;
      default:
        if (SET_OPERATORS.includes(token.text.toUpperCase()) && (isWord(next, 'SELECT', 'ALL', 'DISTINCT') || isSymbol(next, '('))) {
          this.text.replace(token.start, 'UNION'.padEnd(token.text.length));
        }
        return index;
    }
  }

  /** EXTRACT(unit FROM expression): the unit and FROM are blanked, leaving extract(expression). */
  private extract(index: number): number {
    const unit = this.tokens[index + 2];
    if (!isWord(unit, ...EXTRACT_UNITS) || !isWord(this.tokens[index + 3], 'FROM')) {
      throw this.syntaxError(index + 2, `EXTRACT needs a unit (${EXTRACT_UNITS.join(', ').toLowerCase()}) and FROM`);
    }
    this.blankRange(index + 2, index + 3);
    return index + 3;
  }

  /** FLOOR(expression TO unit): TO and the unit are blanked, leaving floor(expression). */
  private floorTo(index: number): number {
    const close = this.closing.get(index + 1);
    if (close === undefined || !isWord(this.tokens[close - 2], 'TO')) return index;
    if (!isWord(this.tokens[close - 1], ...FLOOR_UNITS)) {
      throw this.syntaxError(close - 1, `FLOOR … TO needs a unit (${FLOOR_UNITS.join(', ').toLowerCase()})`);
    }
    this.blankRange(close - 2, close - 1);
    return index;
  }

  /**
   * `udtf(…) AS (alias, …)`, HiveParser's selectItem alias list: AS right after a call's ')' and
   * before a group of names only. A CTE `name (cols) AS (query)` has a query in its group.
   */
  private columnAliases(index: number): number {
    const open = index + 1;
    const close = isSymbol(this.tokens[index - 1], ')') && isSymbol(this.tokens[open], '(') ? this.closing.get(open) : undefined;
    if (close === undefined || close === open + 1) return index;
    for (let cursor = open + 1; cursor < close; cursor += 1) {
      const isName = (cursor - open) % 2 === 1;
      if (isName ? !this.isAlias(cursor) : !isSymbol(this.tokens[cursor], ',')) return index;
    }
    if ((close - open) % 2 !== 0) return index;
    return this.blankRange(index, close);
  }

  /** LATERAL VIEW [OUTER] udtf(args) tableAlias [AS columnAlias (, columnAlias)*] */
  private lateralView(index: number): number {
    const lateral = this.at(index);
    if (!isWord(this.tokens[index + 1], 'VIEW')) {
      throw sqlRejected(`LATERAL is only supported as LATERAL VIEW (at ${describePosition(this.sql, lateral.start)})`, this.sql, lateral.start);
    }
    let cursor = index + 2;
    if (isWord(this.tokens[cursor], 'OUTER')) cursor += 1;
    const udtf = this.tokens[cursor];
    const name = udtf === undefined ? undefined : identifierName(udtf)?.toLowerCase();
    if (udtf === undefined || name === undefined || !this.lateralViewFunctions.has(name)) {
      const found = udtf === undefined ? 'nothing' : `"${excerpt(udtf.text)}"`;
      throw sqlRejected(
        `LATERAL VIEW needs one of Hive's table-generating functions (${[...this.lateralViewFunctions].join(', ')}); found ${found}`,
        this.sql,
        udtf?.start ?? lateral.start,
      );
    }
    if (!isSymbol(this.tokens[cursor + 1], '(')) throw this.syntaxError(cursor + 1);
    cursor = this.groupEnd(cursor + 1, 'LATERAL VIEW') + 1;

    if (!this.isAlias(cursor)) throw this.syntaxError(cursor, 'LATERAL VIEW needs a table alias');
    if (!isWord(this.tokens[cursor + 1], 'AS')) return this.blankRange(index, cursor);
    cursor += 2;
    if (!this.isAlias(cursor)) throw this.syntaxError(cursor, 'LATERAL VIEW … AS needs a column alias');
    // Like Hive's ((COMMA)=> COMMA identifier)*, a comma followed by a name continues the alias
    // list. A dotted name cannot be an alias, so the comma stays for the parser as a join.
    while (isSymbol(this.tokens[cursor + 1], ',') && this.isAlias(cursor + 2) && !isSymbol(this.tokens[cursor + 3], '.')) {
      cursor += 2;
    }
    return this.blankRange(index, cursor);
  }

  private sortClause(index: number): number {
    let cursor = index + 2;
    let depth = 0;
    for (; cursor < this.tokens.length; cursor += 1) {
      const token = this.at(cursor);
      if (isSymbol(token, '(')) depth += 1;
      else if (isSymbol(token, ')')) {
        if (depth === 0) break;
        depth -= 1;
      } else if (depth === 0 && isWord(token, ...AFTER_SORT_CLAUSE)) break;
    }
    const last = cursor - 1;
    const clause = `${this.at(index).text.toUpperCase()} BY`;
    if (last < index + 2) throw this.syntaxError(cursor, `${clause} needs at least one expression`);
    this.refuseQueryWords(index + 2, last, clause);
    return this.blankRange(index, last);
  }

  /** WINDOW name AS (spec) [, name AS (spec)]* */
  private windowClause(index: number): number {
    let last = index;
    while (this.isAlias(last + 1) && isWord(this.tokens[last + 2], 'AS') && isSymbol(this.tokens[last + 3], '(')) {
      last = this.groupEnd(last + 3, 'WINDOW');
      if (!isSymbol(this.tokens[last + 1], ',')) break;
      last += 1;
    }
    if (last === index) return index;
    if (isSymbol(this.tokens[last], ',')) last -= 1;
    return this.blankRange(index, last);
  }

  /** Blanks from `index` through the ')' matching the '(' at `open`. */
  private blankGroup(index: number, open: number, clause: string): number {
    return this.blankRange(index, this.groupEnd(open, clause));
  }

  private groupEnd(open: number, clause: string): number {
    const close = this.closing.get(open);
    if (close === undefined) throw this.syntaxError(open);
    this.refuseQueryWords(open + 1, close - 1, clause);
    return close;
  }

  private refuseQueryWords(first: number, last: number, clause: string): void {
    for (let index = first; index <= last; index += 1) {
      const token = this.at(index);
      if (isWord(token, ...QUERY_WORDS)) {
        throw sqlRejected(`Subqueries and table references are not supported inside ${clause}`, this.sql, token.start);
      }
    }
  }

  private blankRange(first: number, last: number): number {
    this.text.blank(this.at(first).start, this.at(last).end);
    return last;
  }

  private isAlias(index: number): boolean {
    const token = this.tokens[index];
    return token !== undefined && identifierName(token) !== undefined && !isWord(token, 'AS', ...QUERY_WORDS);
  }

  private at(index: number): Token {
    const token = this.tokens[index];
    if (token === undefined) throw new RangeError(`token ${index} is past the end of the statement (${this.tokens.length} tokens)`);
    return token;
  }

  private syntaxError(index: number, what?: string): Error {
    const token = this.tokens[index];
    const offset = token?.start ?? this.at(this.tokens.length - 1).end;
    const found = token === undefined ? 'end of query' : `"${excerpt(token.text)}"`;
    const reason = what === undefined ? `unexpected ${found}` : `${what}; found ${found}`;
    return sqlRejected(`Syntax error near ${describePosition(this.sql, offset)}: ${reason}`, this.sql, offset);
  }
}
