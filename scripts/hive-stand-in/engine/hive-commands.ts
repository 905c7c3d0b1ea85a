/**
 * Which statements HiveServer2 hands to a command processor instead of the SQL driver, ported
 * from Hive 3.1: ExecuteStatementOperation.newExecuteStatementOperation strips comments with
 * HiveStringUtils.removeComments, trims, splits on whitespace and asks
 * CommandProcessorFactory.getForHiveCommand, which asks HiveCommand.find and then checks
 * hive.security.command.whitelist. Only a statement this says is SQL reaches the SQL parser.
 *
 * The point of porting it exactly: HiveServer2's comment stripping is not its SQL lexer's. It
 * ends a `--` comment only at a line feed (and drops whole lines that start with `#`), while the
 * parser also ends one at a carriage return; text that a SQL reader sees as one SELECT can be a
 * `dfs` command here.
 */
import { HiveError } from './hive-errors.js';

/** HiveCommand's values that HiveServer2 serves (CRYPTO is test-only, so `crypto …` is SQL). */
export type HiveCommand = 'set' | 'reset' | 'dfs' | 'add' | 'list' | 'llap_cluster' | 'llap_cache' | 'reload' | 'delete' | 'compile';

const COMMANDS = new Set<string>(['set', 'reset', 'dfs', 'add', 'list', 'llap_cluster', 'llap_cache', 'reload', 'delete', 'compile']);

/** Java's `String.trim()`: removes every code unit up to U+0020 at both ends. */
function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}
/** Java's regex `\s`: space, \t, \n, vertical tab, \f, \r (not Unicode spaces). */
const JAVA_WHITESPACE = /[ \t\n\v\f\r]+/;

/**
 * HiveStringUtils.removeComments: line by line (split on `\n` only, empty lines dropped), a line
 * whose trimmed text starts with `--` or `#` outside a quoted string is dropped, and `--` outside
 * quotes drops the rest of the line. Quotes are `'` and `"`, a quote preceded by a backslash does
 * not open or close one, and an open quote carries over to the next line.
 */
export function removeComments(statement: string): string {
  const lines = statement.split('\n').filter((line) => line !== '');
  let quote: string | undefined;
  let out = '';
  lines.forEach((line, index) => {
    let kept = '';
    const trimmed = javaTrim(line);
    if (quote !== undefined || !(trimmed.startsWith('--') || trimmed.startsWith('#'))) {
      for (let i = 0; i < line.length; i++) {
        const c = line[i]!;
        if (quote === undefined && c === '-' && line[i + 1] === '-') break; // the rest of the line (no `\n` is left in it)
        const escaped = i > 0 && line[i - 1] === '\\';
        if (quote === c && !escaped) quote = undefined;
        else if (quote === undefined && (c === "'" || c === '"') && !escaped) quote = c;
        kept += c;
      }
      kept = javaTrim(kept);
    }
    out += kept;
    if (index < lines.length - 1 && kept !== '') out += '\n';
  });
  return out;
}

/** HiveCommand.find (not the test-only commands). */
function findCommand(tokens: string[]): HiveCommand | undefined {
  const first = tokens[0];
  if (first === undefined) return undefined;
  const second = tokens[1]?.toLowerCase();
  if (second === 'role') return undefined; // SET ROLE r1 is SQL
  if (second === 'from') return undefined; // DELETE FROM t is SQL
  if (first.toLowerCase() === 'set' && second === 'autocommit') return undefined;
  if (first.toLowerCase() === 'llap' && second !== undefined) {
    return second === 'cluster' ? 'llap_cluster' : second === 'cache' ? 'llap_cache' : undefined;
  }
  const name = javaTrim(first).toLowerCase();
  return COMMANDS.has(name) ? (name as HiveCommand) : undefined;
}

export type ProcessorChoice =
  | { kind: 'sql' }
  /** A command processor: `args` is what HiveCommandOperation passes it (the statement without its first word). */
  | { kind: 'command'; command: HiveCommand; cleanStatement: string; args: string; allowed: boolean };

/**
 * The choice newExecuteStatementOperation makes. `allowed` is false when the first word is not
 * in `whitelist` (hive.security.command.whitelist): HiveServer2 then fails the ExecuteStatement
 * with {@link notWhitelisted}. `reload function` is SQL, but only once `reload` passed the
 * whitelist, as in CommandProcessorFactory.
 */
export function chooseProcessor(statement: string, whitelist: ReadonlySet<string>): ProcessorChoice {
  const cleanStatement = javaTrim(removeComments(statement));
  const tokens = cleanStatement.split(JAVA_WHITESPACE);
  const command = findCommand(tokens);
  const first = tokens[0] ?? '';
  if (command === undefined || javaTrim(first) === '') return { kind: 'sql' };
  const allowed = whitelist.has(javaTrim(first).toLowerCase());
  if (allowed && command === 'reload' && tokens[1]?.toLowerCase() === 'function') return { kind: 'sql' };
  return { kind: 'command', command, cleanStatement, args: javaTrim(cleanStatement.slice(first.length)), allowed };
}

/** CommandProcessorFactory's refusal, which HiveServer2 returns as the ExecuteStatement status. */
export function notWhitelisted(cleanStatement: string): HiveError {
  const first = cleanStatement.split(JAVA_WHITESPACE)[0] ?? '';
  return new HiveError(`Insufficient privileges to execute ${first}`, '42000', 0);
}
