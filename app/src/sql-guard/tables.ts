/**
 * Finds every table a statement reads and checks it against what the organization may read.
 * Three independent readings are combined, and a table must pass in all of them:
 * - the AST, walked with WITH scopes (a CTE name hides a table only inside its own query);
 * - node-sql-parser's own tableList (unscoped, so unqualified names of any CTE are skipped);
 * - the tokens: the name after every FROM/JOIN of a query (a FROM inside trim()/extract() has no
 *   SELECT before it at its level and is not a table), which catches a parser that drops a table.
 */
import { AppError } from '../errors.js';
import { excerpt, positionAt, sqlRejected } from './rejection.js';
import { identifierName, isSymbol, isWord, type Token } from './lexer.js';

export interface TableAccess {
  databases: string[];
  /** 'db.table' entries; when given, only these tables (within the databases). */
  tables?: string[];
}

interface TableReference {
  database: string | undefined;
  table: string;
}

const NAME = /^[A-Za-z0-9_]+$/;

/** A name Hive's metastore could hold for a database or table: letters, digits and underscores. */
export const isHiveName = (name: string): boolean => NAME.test(name);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Tables named in FROM/JOIN of the AST, with CTE references left out; also every CTE name seen.
 * Iterative: a long OR chain is a left-deep tree thousands of levels deep.
 */
export function tablesFromAst(ast: unknown): { tables: TableReference[]; cteNames: Set<string> } {
  const tables: TableReference[] = [];
  const cteNames = new Set<string>();
  const pending: { node: unknown; scope: ReadonlySet<string> }[] = [{ node: ast, scope: new Set() }];

  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { node, scope } = item;
    if (Array.isArray(node)) {
      for (const child of node) pending.push({ node: child, scope });
      continue;
    }
    if (!isRecord(node)) continue;

    let inner = scope;
    if (node.type === 'select' && Array.isArray(node.with)) {
      const local = new Set(scope);
      for (const cte of node.with) {
        // A CTE's body sees the CTEs before it, not itself: Hive has no recursive CTEs.
        pending.push({ node: isRecord(cte) ? cte.stmt : cte, scope: new Set(local) });
        const name = isRecord(cte) ? cteName(cte.name) : undefined;
        if (name === undefined) throw unreadable();
        local.add(name);
        cteNames.add(name);
      }
      inner = local;
    }

    for (const [key, value] of Object.entries(node)) {
      if (key === 'with' && node.type === 'select') continue;
      if (key === 'from' && Array.isArray(value)) {
        for (const entry of value) {
          const reference = fromEntry(entry);
          if (reference !== undefined && !(reference.database === undefined && inner.has(reference.table.toLowerCase()))) {
            tables.push(reference);
          }
        }
      }
      pending.push({ node: value, scope: inner });
    }
  }
  return { tables, cteNames };
}

function cteName(name: unknown): string | undefined {
  const value = isRecord(name) ? name.value : name;
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}

function fromEntry(entry: unknown): TableReference | undefined {
  if (!isRecord(entry) || !('table' in entry) || entry.expr !== undefined) return undefined;
  const { db, table } = entry;
  if (typeof table !== 'string' || (db !== null && db !== undefined && typeof db !== 'string')) throw unreadable();
  return { database: typeof db === 'string' ? db : undefined, table };
}

const unreadable = (): AppError => sqlRejected('The query uses a table reference the guard cannot analyse');

/** node-sql-parser's "select::db::table" entries, CTE names left out. */
export function tablesFromTableList(tableList: readonly string[], cteNames: ReadonlySet<string>): TableReference[] {
  return tableList.flatMap((entry) => {
    const [, database, table] = entry.split('::');
    if (database === undefined || table === undefined) throw unreadable();
    if (database === 'null' && cteNames.has(table.toLowerCase())) return [];
    return [{ database: database === 'null' ? undefined : database, table }];
  });
}

/** The dotted name after each query's FROM and JOIN keywords (comma joins are the parser's job). */
export function tablesFromTokens(tokens: readonly Token[], cteNames: ReadonlySet<string>): TableReference[] {
  const tables: TableReference[] = [];
  // One entry per open parenthesis: has this level seen a SELECT, so that FROM starts its FROM clause?
  const levels: boolean[] = [false];
  tokens.forEach((token, index) => {
    if (isSymbol(token, '(')) levels.push(false);
    else if (isSymbol(token, ')')) levels.pop();
    else if (isWord(token, 'SELECT')) levels[levels.length - 1] = true;
    else if (isWord(token, 'FROM', 'JOIN') && levels[levels.length - 1] === true) {
      const parts = dottedName(tokens, index + 1);
      if (parts.length === 0) return;
      const table = parts[parts.length - 1] as string;
      const database = parts.length > 1 ? parts.slice(0, -1).join('.') : undefined;
      if (database === undefined && cteNames.has(table.toLowerCase())) return;
      tables.push({ database, table });
    }
  });
  return tables;
}

function dottedName(tokens: readonly Token[], start: number): string[] {
  const parts: string[] = [];
  for (let index = start; index < tokens.length; index += 2) {
    const token = tokens[index] as Token;
    const name = identifierName(token);
    if (name === undefined) break;
    parts.push(name);
    if (!isSymbol(tokens[index + 1], '.')) break;
  }
  return parts;
}

/**
 * Qualifies every reference ('db.table', lowercase), refuses names Hive could not have (so
 * look-alike letters and case tricks cannot pass for an allowed name), and checks access.
 * Returns the distinct tables, sorted.
 */
export function authorizeTables(
  sql: string,
  tokens: readonly Token[],
  references: readonly TableReference[],
  access: TableAccess,
  defaultDatabase: string | undefined,
): string[] {
  const qualified = new Set<string>();

  for (const reference of references) {
    let { database, table } = reference;
    const written = database === undefined ? table : `${database}.${table}`;
    // `enos.asset` in one pair of backticks: Hive reads it as database.table.
    if (database === undefined && table.includes('.')) [database, table] = table.split('.', 2) as [string, string];
    if (!NAME.test(table) || (database !== undefined && !NAME.test(database)) || written.split('.').length > 2) {
      throw sqlRejected(
        `Table name "${excerpt(written)}" is not valid: database and table names contain only letters, digits and underscores`,
        sql,
        offsetOf(tokens, written),
      );
    }
    if (database === undefined) {
      if (defaultDatabase === undefined) {
        throw sqlRejected(`Table "${table}" must be qualified with its database, as in database.${table}`, sql, offsetOf(tokens, table));
      }
      database = defaultDatabase;
    }
    const name = `${database}.${table}`.toLowerCase();
    const refused = accessProblem(access, database, table);
    if (refused === 'database') {
      throw forbidden(`Table ${name} is not in a database your organization may read`, sql, offsetOf(tokens, written));
    }
    if (refused === 'table') {
      throw forbidden(`Table ${name} is not among the tables your organization may read`, sql, offsetOf(tokens, written));
    }
    qualified.add(name);
  }
  return [...qualified].sort();
}

/**
 * Why the organization may not read `database.table`, or undefined when it may: its database is
 * not one of the organization's, or the organization is limited to named tables and this is not
 * one. Names compare case-insensitively, as Hive's do. The catalog's column lookup asks the same.
 */
export function accessProblem(access: TableAccess, database: string, table: string): 'database' | 'table' | undefined {
  if (!access.databases.some((allowed) => allowed.toLowerCase() === database.toLowerCase())) return 'database';
  const name = `${database}.${table}`.toLowerCase();
  if (access.tables !== undefined && !access.tables.some((allowed) => allowed.toLowerCase() === name)) return 'table';
  return undefined;
}

function forbidden(message: string, sql: string, offset: number | undefined): AppError {
  const details = offset === undefined ? undefined : { position: positionAt(sql, offset) };
  return new AppError('table_forbidden', 403, message, { details });
}

/** Where the reference is written: the first identifier (or dotted run of them) spelling it. */
function offsetOf(tokens: readonly Token[], written: string): number | undefined {
  const wanted = written.toLowerCase();
  for (let index = 0; index < tokens.length; index += 1) {
    const parts = dottedName(tokens, index);
    for (let count = parts.length; count > 0; count -= 1) {
      if (parts.slice(0, count).join('.').toLowerCase() === wanted) return (tokens[index] as Token).start;
    }
  }
  return undefined;
}
