/**
 * A tokenizer that draws token boundaries where HiveServer2's own lexer (HiveLexer.g) draws them,
 * so that a comment, string or quoted identifier can never hide text from the guard that Hive
 * would then read as code. Where Hive versions disagree on a boundary, the construct is reported
 * as a problem instead of guessed:
 * - strings: '…' and "…" with backslash escapes (Hive's StringLiteral). A backslash inside "…" is
 *   refused: with hive.support.quoted.identifiers=standard (Hive 4) "…" is an identifier without
 *   escapes, and the two readings would end the token at different quotes;
 * - line comments run from -- to \n or \r (not to U+2028 or other separators). One ended by a CR
 *   without an LF is refused: HiveServer2 3+ chooses between its SQL parser and its command
 *   processors (dfs, set, add, compile…) from the statement with `--` comments removed up to the
 *   next LF (HiveStringUtils.removeComments), so text after a lone CR is code to the parser and
 *   the guard but a comment to that choice: `--\rselect '\ndfs …\n--\r' from t` would run `dfs`;
 * - block comments end at the first *\/; Hive 4 nests them, Hive 2 has none, so a /* inside one
 *   is refused; a hint /*+ … *\/ may only hold names, commas and parentheses, which Hive 2 (no
 *   comments: the hint is parsed as tokens) and Hive 3+ read the same way;
 * - `quoted identifiers`: `` (Hive's escaped backtick) and control characters are refused;
 * - a word starting with `_` is, to Hive, a character set name that also takes `.`, `:` and `-`
 *   (CharSetName); one that would swallow a `--` is refused;
 * - outside those, only the ASCII characters Hive's grammar uses; anything else (look-alike
 *   letters, full-width ';', zero-width spaces, #, $, @, \) is reported as invalid;
 * - except a byte order mark (U+FEFF) as the very first character, which editors put at the start
 *   of files that users copy queries from: it is read as white space, and the guard sends Hive the
 *   statement without it (Hive's lexer knows no U+FEFF). Anywhere else it stays invalid.
 * The lexer never throws: it returns the tokens and the first problem, so the guard can first
 * name a forbidden statement ("DROP statements are not allowed") before complaining about bytes.
 */
import { excerpt } from './rejection.js';

export type TokenKind =
  | 'space'
  | 'lineComment'
  | 'blockComment'
  | 'hint'
  | 'string'
  | 'quotedIdentifier'
  | 'word'
  | 'symbol'
  | 'invalid';

export interface Token {
  kind: TokenKind;
  /** Offsets into the caller's SQL: `sql.slice(start, end)` is the token as written. */
  start: number;
  end: number;
  text: string;
}

export interface LexProblem {
  offset: number;
  message: string;
}

export interface LexResult {
  tokens: Token[];
  problem: LexProblem | undefined;
}

export const BYTE_ORDER_MARK = '\uFEFF';

const MULTI_CHAR_SYMBOLS = ['<=>', '<=', '>=', '<>', '!=', '==', '||'];
const SINGLE_CHAR_SYMBOLS = new Set('.,:;()[]{}=<>!/+-*%&~|^?');
const WORD_CHAR = /[A-Za-z0-9_]/;
const HINT_CONTENT = /^[A-Za-z0-9_,() \t\r\n]*$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_CHAR = /[\u0000-\u001f\u007f]/;
const SHOWABLE_CHAR = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

export const isTrivia = (token: Token): boolean =>
  token.kind === 'space' || token.kind === 'lineComment' || token.kind === 'blockComment' || token.kind === 'hint';

/** True when the token is the unquoted keyword/identifier `name` (case-insensitive). */
export const isWord = (token: Token | undefined, ...names: string[]): boolean =>
  token?.kind === 'word' && names.includes(token.text.toUpperCase());

export const isSymbol = (token: Token | undefined, ...symbols: string[]): boolean =>
  token?.kind === 'symbol' && symbols.includes(token.text);

/** The name an identifier token stands for: the word itself, or a quoted identifier's content. */
export function identifierName(token: Token): string | undefined {
  if (token.kind === 'word') return token.text;
  if (token.kind === 'quotedIdentifier') return token.text.slice(1, -1);
  return undefined;
}

/** "U+0455" plus the character itself when it is visible. */
export function describeChar(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  const code = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return SHOWABLE_CHAR.test(char) ? `"${char}" (${code})` : code;
}

export function lexHive(sql: string, describeAt: (offset: number) => string): LexResult {
  const tokens: Token[] = [];
  let problem: LexProblem | undefined;
  const report = (offset: number, message: string): void => {
    problem ??= { offset, message };
  };
  const push = (kind: TokenKind, start: number, end: number): void => {
    tokens.push({ kind, start, end, text: sql.slice(start, end) });
  };

  let index = 0;
  if (sql.startsWith(BYTE_ORDER_MARK)) {
    push('space', 0, 1);
    index = 1;
  }
  while (index < sql.length) {
    const start = index;
    const char = sql[index] as string;
    const next = sql[index + 1];

    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
      while (index < sql.length && ' \t\n\r'.includes(sql[index] as string)) index += 1;
      push('space', start, index);
    } else if (char === '-' && next === '-') {
      while (index < sql.length && sql[index] !== '\n' && sql[index] !== '\r') index += 1;
      if (sql[index] === '\r' && sql[index + 1] !== '\n') {
        report(index, `A line comment must end with a line feed (at ${describeAt(index)}): HiveServer2 would read the text after a lone carriage return as part of the comment`);
      }
      push('lineComment', start, index);
    } else if (char === '/' && next === '*') {
      const close = sql.indexOf('*/', start + 2);
      if (close === -1) {
        report(start, `Unterminated comment starting at ${describeAt(start)}`);
        push('invalid', start, sql.length);
        break;
      }
      index = close + 2;
      const isHint = sql[start + 2] === '+';
      const content = sql.slice(start + (isHint ? 3 : 2), close);
      const nested = content.indexOf('/*');
      if (nested !== -1) {
        const offset = start + (isHint ? 3 : 2) + nested;
        report(offset, `Nested block comments are not allowed (Hive versions disagree on where they end); found "/*" at ${describeAt(offset)}`);
      } else if (isHint && !HINT_CONTENT.test(content)) {
        report(start, `Query hints may only contain names, commas and parentheses (hint at ${describeAt(start)})`);
      }
      push(isHint ? 'hint' : 'blockComment', start, index);
    } else if (char === "'" || char === '"') {
      index += 1;
      let closed = false;
      while (index < sql.length) {
        const current = sql[index];
        if (current === '\\') {
          if (char === '"') report(index, `Backslashes are not allowed in double-quoted strings; use single quotes (at ${describeAt(index)})`);
          index += 2;
        } else if (current === char) {
          index += 1;
          closed = true;
          break;
        } else {
          index += 1;
        }
      }
      if (!closed) {
        report(start, `Unterminated string literal starting at ${describeAt(start)}`);
        push('invalid', start, sql.length);
        break;
      }
      push('string', start, index);
    } else if (char === '`') {
      const close = sql.indexOf('`', start + 1);
      if (close === -1) {
        report(start, `Unterminated quoted identifier starting at ${describeAt(start)}`);
        push('invalid', start, sql.length);
        break;
      }
      index = close + 1;
      if (sql[index] === '`' || close === start + 1) {
        report(start, `Empty quoted identifiers and doubled backticks are not allowed (at ${describeAt(start)})`);
      } else if (CONTROL_CHAR.test(sql.slice(start + 1, close))) {
        report(start, `Quoted identifiers may not contain control characters (at ${describeAt(start)})`);
      }
      push('quotedIdentifier', start, index);
    } else if (WORD_CHAR.test(char)) {
      while (index < sql.length && WORD_CHAR.test(sql[index] as string)) index += 1;
      if (char === '_') {
        // Hive reads `_` + [A-Za-z0-9_.:-]+ as one CharSetName token (as in _utf8'…'), so a `--`
        // inside it starts no comment there: Hive would read as code what we take for a comment.
        const charSetName = /^_[A-Za-z0-9_.:-]*/.exec(sql.slice(start))?.[0] ?? '';
        if (charSetName.includes('--')) {
          report(start, `"${excerpt(charSetName)}" at ${describeAt(start)} is one token to Hive (a character set name), so its "--" starts no comment; put a space before "--"`);
        }
      }
      push('word', start, index);
    } else {
      const multi = MULTI_CHAR_SYMBOLS.find((symbol) => sql.startsWith(symbol, start));
      if (multi !== undefined) {
        index += multi.length;
        push('symbol', start, index);
      } else if (SINGLE_CHAR_SYMBOLS.has(char)) {
        index += 1;
        push('symbol', start, index);
      } else {
        const codePoint = sql.codePointAt(start) ?? 0;
        const whole = String.fromCodePoint(codePoint);
        index += whole.length;
        report(start, `Character ${describeChar(whole)} at ${describeAt(start)} is not allowed outside quoted strings and identifiers`);
        push('invalid', start, index);
      }
    }
  }
  return { tokens, problem };
}
