/**
 * HiveServer2's metadata operations (GetCatalogs, GetSchemas, GetTables, GetTableTypes) as
 * parameterised DuckDB queries over information_schema, so they run, stream and encode like any
 * statement (GetColumns, which needs Hive's type descriptors, is in get-columns.ts). What they return follows Hive 3's MetadataOperation subclasses and the metastore
 * (ObjectStore) they ask:
 * - result columns, their upper-case names and comments as Hive's RESULT_SET_SCHEMA declares them;
 * - the catalog is always '' (DEFAULT_HIVE_CATALOG), and GetCatalogs has no rows;
 * - Hive databases are the DuckDB schemas of the seeded database; DuckDB's `main` is Hive's
 *   `default`, and the stand-in's marker table stays hidden;
 * - JDBC patterns become the metastore's regexes (see `metastorePatterns`);
 * - table types use hive.server2.table.type.mapping=CLASSIC: a table is 'TABLE', a view 'VIEW'.
 */
import { MARKER_TABLE } from './hive-database.js';

export interface ResultColumn {
  name: string;
  comment: string;
}

export interface MetadataQuery {
  /** What faults match and inspection shows, e.g. `GetTables schemaName=enos tableName=null tableTypes=null`. */
  description: string;
  sql: string;
  /**
   * Every parameter is a list of strings (or NULL; its items may be NULL too), written
   * `$name::VARCHAR[]` in the SQL: with the cast DuckDB knows the result's column types when it
   * prepares, before anything is bound.
   */
  params: Record<string, readonly (string | null)[] | null>;
  /** One per query column, in order: the names and comments the client sees. */
  columns: ResultColumn[];
}

/** catalogName is not here: Hive has one catalog and its metadata operations ignore the argument. */
export interface GetSchemasArgs {
  schemaName?: string | undefined;
}

export interface GetTablesArgs extends GetSchemasArgs {
  tableName?: string | undefined;
  tableTypes?: string[] | undefined;
}

/** DuckDB schemas of the seeded database as Hive databases; temp and system catalogs are DuckDB's own. */
const HIVE_DATABASES = `
  SELECT CASE schema_name WHEN 'main' THEN 'default' ELSE schema_name END AS db
  FROM information_schema.schemata
  WHERE catalog_name = current_database()`;

const [MARKER_SCHEMA, MARKER_NAME] = MARKER_TABLE.split('.') as [string, string];

export const HIVE_TABLES = `
  SELECT CASE table_schema WHEN 'main' THEN 'default' ELSE table_schema END AS db,
         table_name AS name,
         CASE table_type WHEN 'VIEW' THEN 'VIEW' ELSE 'TABLE' END AS type,
         TABLE_COMMENT AS remarks
  FROM information_schema.tables
  WHERE table_catalog = current_database()
    AND table_type IN ('BASE TABLE', 'VIEW')
    AND NOT (table_schema = '${MARKER_SCHEMA}' AND table_name = '${MARKER_NAME}')`;

/** Whether `column` fully matches one of the regexes in the list parameter `param`. */
export const matchesAny = (column: string, param: string) => `list_bool_or(list_transform($${param}::VARCHAR[], p -> regexp_full_match(${column}, p)))`;

export const show = (value: string | string[] | undefined) => (value === undefined ? 'null' : Array.isArray(value) ? value.join(',') : value);

export function getCatalogsQuery(): MetadataQuery {
  return {
    description: 'GetCatalogs',
    sql: 'SELECT NULL::VARCHAR AS table_cat WHERE false',
    params: {},
    columns: [{ name: 'TABLE_CAT', comment: 'Catalog name. NULL if not applicable.' }],
  };
}

/** One row per Hive 3.1 TableType (MANAGED_TABLE, EXTERNAL_TABLE, VIRTUAL_VIEW, MATERIALIZED_VIEW), mapped, duplicates kept. */
export function getTableTypesQuery(): MetadataQuery {
  return {
    description: 'GetTableTypes',
    sql: "SELECT table_type FROM (VALUES (1, 'TABLE'), (2, 'TABLE'), (3, 'VIEW'), (4, 'MATERIALIZED_VIEW')) AS t(ord, table_type) ORDER BY ord",
    params: {},
    columns: [{ name: 'TABLE_TYPE', comment: 'Table type name.' }],
  };
}

/** GetSchemasOperation: every database whose name matches `schemaName` (null or '' = all), by name. */
export function getSchemasQuery(args: GetSchemasArgs): MetadataQuery {
  return {
    description: `GetSchemas schemaName=${show(args.schemaName)}`,
    sql: `SELECT db AS table_schem, '' AS table_catalog FROM (${HIVE_DATABASES}) WHERE ${matchesAny('db', 'schemas')} ORDER BY db`,
    params: { schemas: metastorePatterns(schemaPattern(args.schemaName)) },
    columns: [
      { name: 'TABLE_SCHEM', comment: 'Schema name.' },
      { name: 'TABLE_CATALOG', comment: 'Catalog name.' },
    ],
  };
}

/**
 * GetTablesOperation: tables of the matching databases (`schemaName` null or '' = all) whose
 * name matches `tableName` (null = all; '' matches nothing, as in Hive) and whose client type is
 * one of `tableTypes` (null or empty = all; trimmed and upper-cased as ClassicTableTypeMapping
 * does). Ordered by database and name. An unknown type matches nothing; Hive's ObjectStore
 * would ignore a filter made only of unknown types and list everything.
 */
export function getTablesQuery(args: GetTablesArgs): MetadataQuery {
  const types = args.tableTypes?.length ? args.tableTypes.map((t) => t.trim().toUpperCase()) : null;
  return {
    description: `GetTables schemaName=${show(args.schemaName)} tableName=${show(args.tableName)} tableTypes=${show(args.tableTypes)}`,
    sql: `
      SELECT '' AS table_cat, db AS table_schem, name AS table_name, type AS table_type, remarks,
             NULL::VARCHAR AS type_cat, NULL::VARCHAR AS type_schem, NULL::VARCHAR AS type_name,
             NULL::VARCHAR AS self_referencing_col_name, NULL::VARCHAR AS ref_generation
      FROM (${HIVE_TABLES})
      WHERE ${matchesAny('db', 'schemas')} AND ${matchesAny('name', 'tables')}
        AND ($types::VARCHAR[] IS NULL OR list_contains($types::VARCHAR[], type))
      ORDER BY db, name`,
    params: {
      schemas: metastorePatterns(schemaPattern(args.schemaName)),
      tables: metastorePatterns(args.tableName === undefined ? '*' : jdbcToMetastore(args.tableName)),
      types,
    },
    columns: [
      { name: 'TABLE_CAT', comment: 'Catalog name. NULL if not applicable.' },
      { name: 'TABLE_SCHEM', comment: 'Schema name.' },
      { name: 'TABLE_NAME', comment: 'Table name.' },
      { name: 'TABLE_TYPE', comment: 'The table type, e.g. "TABLE", "VIEW", etc.' },
      { name: 'REMARKS', comment: 'Comments about the table.' },
      { name: 'TYPE_CAT', comment: 'The types catalog.' },
      { name: 'TYPE_SCHEM', comment: 'The types schema.' },
      { name: 'TYPE_NAME', comment: 'Type name.' },
      { name: 'SELF_REFERENCING_COL_NAME', comment: 'Name of the designated "identifier" column of a typed table.' },
      { name: 'REF_GENERATION', comment: 'Specifies how values in SELF_REFERENCING_COL_NAME are created.' },
    ],
  };
}

/** MetadataOperation.convertSchemaPattern: the schema pattern treats '' as a wildcard too. */
export function schemaPattern(pattern: string | undefined): string {
  return pattern === undefined || pattern === '' ? '*' : jdbcToMetastore(pattern);
}

/**
 * MetadataOperation.convertPattern, step for step: unescaped `%` becomes `wildcard` (`*` for the
 * metastore, which widens it itself; `.*` for the column names GetColumns matches locally) and
 * `_` becomes `.`, `\%` and `\_` become the literal characters. Everything else passes through,
 * so other regex characters keep their regex meaning, as they do in Hive.
 */
export function jdbcToMetastore(pattern: string, wildcard: '*' | '.*' = '*'): string {
  return pattern
    .replace(/([^\\])%/g, `$1${wildcard}`).replace(/\\%/g, '%').replace(/^%/, wildcard)
    .replace(/([^\\])_/g, '$1.').replace(/\\_/g, '_').replace(/^_/, '.');
}

/**
 * How ObjectStore matches a name against a pattern: trimmed and lower-cased, split on `|` into
 * alternatives (Java's split: trailing empty parts dropped), each `*` widened to `.*`, matched
 * case-insensitively against the whole name. RE2 (DuckDB) reads these regexes as Java would for
 * everything a pattern is likely to hold.
 */
export function metastorePatterns(pattern: string): string[] {
  const parts = pattern.trim().toLowerCase().split('|');
  // "" stays [""] (matches only an empty name), but "a|" is ["a"] and "|" is [] (matches nothing).
  if (parts.length > 1) while (parts.at(-1) === '') parts.pop();
  return parts.map((part) => `(?i)${part.replaceAll('*', '.*')}`);
}
