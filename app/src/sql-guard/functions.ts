/**
 * Function calls: every call in the statement must name one of Hive's built-in functions
 * (hive-functions.ts, generated from FunctionRegistry.java of each supported Hive version), and
 * not one of the few built-ins refused below.
 *
 * Why an allow-list: Hive resolves a name it does not find among its built-ins against the
 * current database's permanent functions (FunctionRegistry.getFunctionInfo, then the metastore),
 * so `myudf(1)` and `default.myudf(1)` run the same user-supplied jar. Only names the system
 * registry holds are Hive's own code.
 *
 * A call is an identifier (a word, or a name in backticks) right before '('. Hive's reserved
 * words that take a parenthesised group without calling anything (IN (…), OVER (…), AS (k, v),
 * CAST(… AS …), USING (…) …) are not calls; they are listed below only if all of 2.3, 3.1 and 4.0
 * reserve them (HiveLexer.g, and absent from `nonReserved` in IdentifiersParser.g), because an
 * unreserved word before '(' is a function name to Hive. The rest is decided by context: a CTE's
 * column list, GROUPING SETS (…), WITHIN GROUP (…).
 */
import { describePosition, excerpt, sqlRejected } from './rejection.js';
import { identifierName, isSymbol, isWord, type Token } from './lexer.js';
import { HIVE_BUILT_IN_FUNCTIONS, HIVE_VERSIONS, type HiveVersion } from './hive-functions.js';

export { HIVE_VERSIONS, type HiveVersion };

const RUNS_CODE = 'it calls any Java method named in its arguments';
const XML_ENTITIES = 'its XML parser let Hive releases before 2.3.3 read local files through external entities (HIVE-18879)';
/**
 * Built-ins refused by name, with the reason found in their source (ql/src/java/org/apache/hadoop/
 * hive/ql/udf/…). Everything else built in only computes on the values it is given.
 */
export const REFUSED_BUILT_INS: Readonly<Record<string, string>> = {
  // GenericUDFReflect: Class.forName(arg0).getMethod(arg1).invoke(…).
  reflect: RUNS_CODE,
  java_method: RUNS_CODE,
  // GenericUDFReflect2: invokes the method named by arg1 on the value's Java object.
  reflect2: 'it calls a Java method, named in its arguments, on a value',
  // GenericUDFInFile: opens the path in arg1 on the node that runs the task.
  in_file: 'it reads a file on the cluster',
  // GenericUDTFGetSplits(2): compiles the query in arg0 and hands out its splits and LLAP tokens,
  // a query the guard's table checks never see.
  get_splits: 'it runs a query given as a string',
  get_llap_splits: 'it runs a query given as a string',
  // GenericUDTFGetSQLSchema: compiles the query in arg0 and returns its schema.
  get_sql_schema: 'it compiles a query given as a string',
  // UDFXPath*/GenericUDFXPath via UDFXPathUtil.
  xpath: XML_ENTITIES,
  xpath_string: XML_ENTITIES,
  xpath_boolean: XML_ENTITIES,
  xpath_number: XML_ENTITIES,
  xpath_double: XML_ENTITIES,
  xpath_float: XML_ENTITIES,
  xpath_long: XML_ENTITIES,
  xpath_int: XML_ENTITIES,
  xpath_short: XML_ENTITIES,
};

/** Why a built-in is refused; own keys only, so `constructor` is no built-in. */
function refusedReason(name: string): string | undefined {
  return Object.hasOwn(REFUSED_BUILT_INS, name) ? REFUSED_BUILT_INS[name] : undefined;
}

/** Reserved in Hive 2.3, 3.1 and 4.0, and followed by '(' without being a call. */
const NOT_CALLS = new Set([
  'ALL', 'AND', 'AS', 'BETWEEN', 'BY', 'CASE', 'CAST', 'CUBE', 'DISTINCT', 'ELSE', 'EXCEPT', 'EXISTS', 'EXTRACT',
  'FROM', 'HAVING', 'IN', 'INTERSECT', 'INTERVAL', 'JOIN', 'LIKE', 'MINUS', 'NOT', 'ON', 'OR', 'OVER', 'REGEXP',
  'RLIKE', 'ROLLUP', 'SELECT', 'TABLESAMPLE', 'THEN', 'UNION', 'USING', 'WHEN', 'WHERE',
]);

/** The versions whose built-ins a statement may call: one, or (version unknown) any supported. */
export function versionsFor(hiveVersion: HiveVersion | undefined): readonly HiveVersion[] {
  return hiveVersion === undefined ? HIVE_VERSIONS : [hiveVersion];
}

/** A Map, so that a name like `constructor` finds nothing. */
const BUILT_INS = new Map(Object.entries(HIVE_BUILT_IN_FUNCTIONS));

function builtIn(name: string, versions: readonly HiveVersion[]) {
  const entry = BUILT_INS.get(name);
  if (entry === undefined) return undefined;
  const [kinds, since] = entry;
  return { kinds, versions: since, available: since.some((version) => versions.includes(version)) };
}

const udtfsByVersions = new Map<string, ReadonlySet<string>>();

/** Built-in table-generating functions (UDTFs) callable in LATERAL VIEW, sorted; computed once. */
export function tableGeneratingFunctions(versions: readonly HiveVersion[]): ReadonlySet<string> {
  const key = versions.join();
  let udtfs = udtfsByVersions.get(key);
  if (udtfs === undefined) {
    const names = [...BUILT_INS.keys()].filter((name) => {
      const known = builtIn(name, versions);
      return refusedReason(name) === undefined && known?.available === true && known.kinds.includes('table-generating');
    });
    udtfs = new Set(names.sort());
    udtfsByVersions.set(key, udtfs);
  }
  return udtfs;
}

export function checkFunctionCalls(
  sql: string,
  tokens: readonly Token[],
  closing: ReadonlyMap<number, number>,
  versions: readonly HiveVersion[],
): void {
  const notCalls = groupsThatAreNotCalls(tokens, closing);
  tokens.forEach((token, index) => {
    if (!isSymbol(token, '(') || notCalls.has(index)) return;
    const callee = tokens[index - 1];
    const name = callee === undefined ? undefined : calleeName(callee);
    if (callee === undefined || name === undefined) return;
    if (callee.kind === 'word' && NOT_CALLS.has(name.toUpperCase())) return;
    const at = describePosition(sql, callee.start);

    // `default.f` or `default`.`f`, and `default.f` in one pair of backticks, which Hive also
    // reads as database.function.
    const dotted = isSymbol(tokens[index - 2], '.');
    if (dotted || name.includes('.')) {
      const qualifier = dotted ? tokens[index - 3] : undefined;
      const qualified = dotted ? `${qualifier === undefined ? '' : (calleeName(qualifier) ?? '')}.${name}` : name;
      const start = qualifier?.start ?? callee.start;
      throw sqlRejected(
        `Database-qualified functions such as ${excerpt(qualified)}() are not allowed: they may be user-defined code (at ${describePosition(sql, start)})`,
        sql,
        start,
      );
    }
    // Java lowercases function names by the server's locale (a Turkish 'İ' becomes 'i'), so
    // only ASCII names can be compared with Hive's list reliably.
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      throw sqlRejected(`Function names must be ASCII letters, digits and underscores (at ${at})`, sql, callee.start);
    }
    const lower = name.toLowerCase();
    const refused = refusedReason(lower);
    if (refused !== undefined) throw sqlRejected(`Function ${lower}() is not allowed: ${refused} (at ${at})`, sql, callee.start);

    const known = builtIn(lower, versions);
    if (known === undefined) {
      const hint = ['any', 'some'].includes(lower) ? '; quantified comparisons such as = ANY (…) are not supported' : '';
      throw sqlRejected(
        `Function ${lower}() at ${at} is not a Hive built-in function; user-defined functions are not allowed${hint}`,
        sql,
        callee.start,
      );
    }
    if (!known.available) {
      throw sqlRejected(`Function ${lower}() at ${at} is not built into Hive ${versions.join(', ')}, only into Hive ${known.versions.join(', ')}`, sql, callee.start);
    }
    if (known.kinds.includes('table')) {
      // A PTF reads the table in its ON clause (noop(ON enos.asset …)), which the guard's table
      // readings do not see; none is meant for end users.
      throw sqlRejected(`Function ${lower}() is not allowed: it is a table function (PTF) over a table the guard cannot check (at ${at})`, sql, callee.start);
    }
  });
}

/**
 * The name a token gives a call: a word, a `quoted identifier`, or a "double-quoted" one, which
 * Hive 4 reads as an identifier under hive.support.quoted.identifiers=standard (in the default
 * mode a string before '(' is a syntax error to Hive, so treating it as a name refuses nothing
 * Hive would run).
 */
function calleeName(token: Token): string | undefined {
  if (token.kind === 'string' && token.text.startsWith('"')) return token.text.slice(1, -1);
  return identifierName(token);
}

/**
 * Indexes of '(' that follow an identifier without opening a call: a CTE's column list
 * (Hive 4: WITH name (a, b) AS (…)), GROUPING SETS (…) (SETS is not reserved) and
 * WITHIN GROUP (ORDER BY …).
 */
function groupsThatAreNotCalls(tokens: readonly Token[], closing: ReadonlyMap<number, number>): Set<number> {
  const groups = new Set<number>();
  tokens.forEach((token, index) => {
    const next = tokens[index + 1];
    if (isWord(token, 'GROUPING') && isWord(next, 'SETS') && isSymbol(tokens[index + 2], '(')) groups.add(index + 2);
    if (isWord(token, 'WITHIN') && isWord(next, 'GROUP') && isSymbol(tokens[index + 2], '(')) groups.add(index + 2);
    if (isWord(token, 'WITH') && !isWord(next, 'ROLLUP', 'CUBE')) {
      for (const open of cteColumnLists(tokens, closing, index + 1)) groups.add(open);
    }
  });
  return groups;
}

/** WITH name [(col, …)] AS (query) [, name [(col, …)] AS (query)]*: the '(' of each column list. */
function cteColumnLists(tokens: readonly Token[], closing: ReadonlyMap<number, number>, first: number): number[] {
  const lists: number[] = [];
  for (let cursor = first; ; ) {
    const name = tokens[cursor];
    if (name === undefined || identifierName(name) === undefined) return lists;
    cursor += 1;
    if (isSymbol(tokens[cursor], '(')) {
      const close = closing.get(cursor);
      if (close === undefined || !isIdentifierList(tokens, cursor + 1, close)) return lists;
      lists.push(cursor);
      cursor = close + 1;
    }
    if (!isWord(tokens[cursor], 'AS') || !isSymbol(tokens[cursor + 1], '(')) return lists;
    const body = closing.get(cursor + 1);
    if (body === undefined) return lists;
    cursor = body + 1;
    if (!isSymbol(tokens[cursor], ',')) return lists;
    cursor += 1;
  }
}

/** name (, name)* exactly filling tokens[first, end). */
function isIdentifierList(tokens: readonly Token[], first: number, end: number): boolean {
  if (end <= first) return false;
  for (let index = first; index < end; index += 1) {
    const token = tokens[index] as Token;
    const expectName = (index - first) % 2 === 0;
    if (expectName ? identifierName(token) === undefined : !isSymbol(token, ',')) return false;
  }
  return (end - first) % 2 === 1;
}
