/**
 * What HiveServer2's compiler knows about a SELECT that DuckDB's prepared statement does not
 * tell: the name Hive gives each result column, the Hive type of columns DuckDB cannot type
 * (CHAR/VARCHAR lengths, intervals, a bare NULL), whether Hive would run it as a fetch task
 * (no job), and which partitioned tables it scans without a partition filter.
 *
 * The statement is parsed by DuckDB itself (`json_serialize_sql`), and every relation of the
 * top-level FROM is expanded by preparing `SELECT <alias>.* FROM <the same FROM>`, so stars,
 * CTEs, subqueries and joins bind exactly as DuckDB binds the real statement.
 *
 * Naming follows SemanticAnalyzer.getColAlias and convertRowSchemaToResultSetSchema (Hive 2.3–4):
 * with hive.resultset.use.unique.column.names=true a column that keeps a table alias is named
 * `alias.column` — every column of `SELECT *` / `t.*`, and `t.col` written with its alias — while
 * `col`, aliased expressions (`x AS y`) and unaliased expressions (`_c<position in the select
 * list>`) carry no alias; names are lower-cased. A top-level set operation takes its left
 * branch's names, qualified `_u1.` in 2.3/3.1 (the alias the parser gives the union's
 * subquery); 4.0 names that alias `__u1` and leaves it out.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { hiveColumnType, partitionKeys } from './hive-catalog.js';

type Json = Record<string, unknown>;

export interface ResultColumn {
  name: string;
  /** Hive type text when DuckDB's type is not the Hive one (`char(10)`, `void`, `interval_day_time`). */
  hiveType?: string;
}

export interface UnfilteredScan {
  alias: string;
  database: string;
  table: string;
}

export interface StatementShape {
  /** Undefined when the select list could not be matched column for column (Hive-unlike SQL). */
  columns: ResultColumn[] | undefined;
  /** hive.fetch.task.conversion=more would run it without a job (SimpleFetchOptimizer). */
  fetchTaskEligible: boolean;
  /** Partitioned tables read with no predicate on a partition key. */
  unfilteredPartitionScans: UnfilteredScan[];
}

interface Relation {
  alias: string;
  database?: string;
  table?: string;
  columns: string[];
}

const AGGREGATES = new Set([
  'count', 'count_star', 'sum', 'avg', 'min', 'max', 'list', 'array_agg', 'string_agg', 'stddev', 'stddev_pop', 'stddev_samp', 'variance',
  'var_pop', 'var_samp', 'collect_list', 'collect_set', 'percentile', 'percentile_approx', 'corr', 'covar_pop', 'covar_samp', 'histogram',
  'first', 'last', 'any_value', 'bool_and', 'bool_or', 'approx_count_distinct', 'median', 'mode', 'quantile', 'quantile_cont', 'quantile_disc',
]);

export async function describeStatement(
  connection: DuckDBConnection,
  sql: string,
  options: { database: string; uniqueNames: boolean; columnCount: number; unionQualifier: string | undefined },
): Promise<StatementShape | undefined> {
  const root = await parse(connection, sql);
  if (!root) return undefined;
  const unfilteredPartitionScans = findUnfilteredScans(root, options.database);
  if (root.type === 'SET_OPERATION_NODE') {
    const left = leftmostSelect(root);
    const qualifier = options.uniqueNames ? options.unionQualifier : undefined;
    const columns = left ? await namesOf(connection, left, { ...options, uniqueNames: qualifier !== undefined, qualifier }) : undefined;
    return { columns, fetchTaskEligible: false, unfilteredPartitionScans };
  }
  if (root.type !== 'SELECT_NODE') return undefined;
  const columns = await namesOf(connection, root, { ...options, qualifier: undefined });
  return { columns, fetchTaskEligible: fetchTaskEligible(root), unfilteredPartitionScans };
}

async function parse(connection: DuckDBConnection, sql: string): Promise<Json | undefined> {
  try {
    const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${quote(sql)})`);
    const parsed = JSON.parse(String(reader.getRows()[0]?.[0])) as { error?: boolean; statements?: { node: Json }[] };
    if (parsed.error || parsed.statements?.length !== 1) return undefined;
    return parsed.statements[0]!.node;
  } catch {
    return undefined;
  }
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const lower = (text: string) => text.toLowerCase();

function leftmostSelect(node: Json): Json | undefined {
  let current: Json | undefined = node;
  while (current?.type === 'SET_OPERATION_NODE') current = current.left as Json | undefined;
  return current?.type === 'SELECT_NODE' ? current : undefined;
}

/** The relations of a FROM clause, left to right, with the alias Hive would qualify columns with. */
function relationsOf(from: Json | undefined, ctes: ReadonlySet<string>, database: string): Omit<Relation, 'columns'>[] {
  if (!from) return [];
  switch (from.type) {
    case 'JOIN':
      return [...relationsOf(from.left as Json, ctes, database), ...relationsOf(from.right as Json, ctes, database)];
    case 'BASE_TABLE': {
      const table = String(from.table_name);
      const alias = String(from.alias || table);
      const isCte = !from.schema_name && ctes.has(lower(table));
      return [{ alias, ...(isCte ? {} : { database: String(from.schema_name || database), table }) }];
    }
    case 'EMPTY':
      return [];
    default:
      return [{ alias: String(from.alias ?? '') }];
  }
}

function cteNames(node: Json): Set<string> {
  const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map ?? [];
  return new Set(map.map((entry) => lower(entry.key)));
}

/** Columns of one relation, as DuckDB binds `SELECT alias.* FROM <from>`. */
async function relationColumns(connection: DuckDBConnection, select: Json, alias: string): Promise<string[] | undefined> {
  const probe: Json = {
    ...select,
    modifiers: [],
    select_list: [{ class: 'STAR', type: 'STAR', alias: '', relation_name: alias, exclude_list: [], replace_list: [], columns: false, expr: null, qualified_exclude_list: [], rename_list: [] }],
    where_clause: null,
    group_expressions: [],
    group_sets: [],
    having: null,
    qualify: null,
  };
  try {
    const text = await connection.runAndReadAll(`SELECT json_deserialize_sql(${quote(JSON.stringify({ error: false, statements: [{ node: probe, named_param_map: [] }] }))})`);
    const prepared = await connection.prepare(String(text.getRows()[0]?.[0]));
    return Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i));
  } catch {
    return undefined;
  }
}

async function namesOf(
  connection: DuckDBConnection,
  select: Json,
  options: { database: string; uniqueNames: boolean; columnCount: number; qualifier: string | undefined },
): Promise<ResultColumn[] | undefined> {
  const relations: Relation[] = [];
  for (const relation of relationsOf(select.from_table as Json | undefined, cteNames(select), options.database)) {
    const columns = await relationColumns(connection, select, relation.alias);
    if (!columns) return undefined;
    relations.push({ ...relation, columns });
  }
  const qualify = (alias: string, column: string) => lower(options.uniqueNames ? `${options.qualifier ?? alias}.${column}` : column);
  const typeOf = (relation: Relation | undefined, column: string) =>
    relation?.database && relation.table ? hiveColumnType(relation.database, relation.table, column) : undefined;
  const withType = (name: string, hiveType: string | undefined): ResultColumn => (hiveType ? { name, hiveType } : { name });

  const out: ResultColumn[] = [];
  const items = (select.select_list as Json[] | undefined) ?? [];
  for (const [position, item] of items.entries()) {
    const alias = String(item.alias ?? '');
    if (item.class === 'STAR') {
      const only = String(item.relation_name ?? '');
      for (const relation of relations) {
        if (only && lower(relation.alias) !== lower(only)) continue;
        for (const column of relation.columns) out.push(withType(qualify(relation.alias, column), typeOf(relation, column)));
      }
      continue;
    }
    if (item.class === 'COLUMN_REF') {
      const parts = (item.column_names as string[]).map(String);
      const column = parts.at(-1)!;
      const owner = parts.length >= 2 ? relations.find((r) => lower(r.alias) === lower(parts.at(-2)!)) : relations.find((r) => r.columns.some((c) => lower(c) === lower(column)));
      const hiveType = typeOf(owner, column);
      if (alias) out.push(withType(lower(alias), hiveType));
      else if (parts.length >= 2 && owner) out.push(withType(qualify(owner.alias, column), hiveType));
      else out.push(withType(options.qualifier && options.uniqueNames ? qualify('', column) : lower(column), hiveType));
      continue;
    }
    const isNull = item.class === 'CONSTANT' && (item.value as { is_null?: boolean } | undefined)?.is_null === true;
    const name = alias ? lower(alias) : options.qualifier && options.uniqueNames ? qualify('', `_c${position}`) : `_c${position}`;
    out.push(withType(name, isNull ? 'void' : undefined));
  }
  return out.length === options.columnCount ? out : undefined;
}

function hasAggregate(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasAggregate);
  if (!value || typeof value !== 'object') return false;
  const node = value as Json;
  if (node.class === 'WINDOW' || node.class === 'SUBQUERY') return true;
  if (node.class === 'FUNCTION' && AGGREGATES.has(lower(String(node.function_name)))) return true;
  return Object.values(node).some(hasAggregate);
}

/**
 * SimpleFetchOptimizer with hive.fetch.task.conversion=more: a SELECT with filters, projections
 * and a LIMIT over one table runs inside FetchResults, with no job. Aggregation, joins,
 * ordering, DISTINCT, windows and subqueries need a job.
 */
function fetchTaskEligible(select: Json): boolean {
  const from = select.from_table as Json | undefined;
  // No FROM reads Hive's one-row dummy table, itself a simple scan.
  if ((from?.type !== 'BASE_TABLE' && from?.type !== 'EMPTY') || cteNames(select).size > 0) return false;
  if ((select.group_expressions as unknown[]).length > 0 || select.having || select.qualify) return false;
  const modifiers = (select.modifiers as Json[]) ?? [];
  if (modifiers.some((m) => m.type !== 'LIMIT_MODIFIER')) return false;
  return !hasAggregate(select.select_list) && !hasAggregate(select.where_clause);
}

function referencedColumns(value: unknown, into: string[][] = []): string[][] {
  if (Array.isArray(value)) {
    for (const entry of value) referencedColumns(entry, into);
  } else if (value && typeof value === 'object') {
    const node = value as Json;
    if (node.class === 'COLUMN_REF') into.push((node.column_names as string[]).map(lower));
    for (const child of Object.values(node)) referencedColumns(child, into);
  }
  return into;
}

/**
 * Partitioned tables a SELECT reads without a predicate on a partition key in the WHERE clause
 * of the same SELECT (what Hive's partition pruner needs), for every SELECT in the statement.
 */
function findUnfilteredScans(root: Json, database: string): UnfilteredScan[] {
  const found: UnfilteredScan[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    const node = value as Json;
    if (node.type === 'SELECT_NODE') {
      const predicates = referencedColumns(node.where_clause);
      for (const relation of relationsOf(node.from_table as Json | undefined, cteNames(node), database)) {
        if (!relation.table) continue;
        const keys = partitionKeys(relation.database!, relation.table);
        if (keys.length === 0) continue;
        const filtered = predicates.some((parts) => keys.includes(parts.at(-1)!) && (parts.length === 1 || parts.at(-2) === lower(relation.alias)));
        if (!filtered) found.push({ alias: relation.alias, database: relation.database!, table: relation.table });
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(root);
  return found;
}
