/**
 * GetColumns as HiveServer2 answers it: a port of
 * `service/src/java/org/apache/hive/service/cli/operation/GetColumnsOperation.java` (Hive
 * 2.3–4.0 alike) over the stand-in's DuckDB catalog.
 *
 * What Hive does, and so what this does:
 *  - databases are those `getDatabases(convertSchemaPattern(schemaName))` lists (null or '' = all),
 *    tables those `getTables(db, convertIdentifierPattern(tableName, true))` lists (null = all,
 *    '' = none) — the metastore's pattern matching, as GetTables uses it (metadata-queries.ts);
 *    views are tables here too;
 *  - a table's columns are `IMetaStoreClient.getSchema`: its columns, then its partition keys
 *    (hive_metastore.thrift: "describing both the columns and the partition keys"), numbered
 *    from 1 in that order (TableSchema(List<FieldSchema>)) — ORDINAL_POSITION;
 *  - `columnName` becomes a Java regex (convertIdentifierPattern(columnName, false): `%` is `.*`)
 *    that must match the whole, lower-case column name, case-sensitively; null = all columns;
 *    one that does not compile fails the call (HiveSQLException of the PatternSyntaxException);
 *  - 23 columns in RESULT_SET_SCHEMA's order and types; TABLE_CAT is NULL (unlike GetTables'
 *    ''), DATA_TYPE/TYPE_NAME/COLUMN_SIZE/DECIMAL_DIGITS/NUM_PREC_RADIX from TypeDescriptor
 *    (hive-types.ts), NULLABLE 1 and IS_NULLABLE 'YES' (no primary keys here), REMARKS the
 *    column comment, IS_AUTO_INCREMENT 'NO', everything else NULL;
 *  - rows go database by database in the order of the HashMap Hive collects them in
 *    (`javaHashMapOrder`), tables in name order within a database (Hive's order is whatever
 *    the metastore's getTableObjectsByName query returns; the stand-in sorts), columns by
 *    position;
 *  - a table or database that does not exist is no rows, not an error.
 *
 * The rows are worked out here, then served by a query over list parameters, so the operation
 * streams, encodes and fetches (FETCH_FIRST included) like every other.
 */
import { LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { hiveColumnType, partitionKeys } from './hive-catalog.js';
import { duckdbSchemaFor, type HiveDatabase } from './hive-database.js';
import { HiveError, metadataError } from './hive-errors.js';
import { describeHiveType, hiveTypeText } from './hive-types.js';
import { HIVE_TABLES, jdbcToMetastore, matchesAny, metastorePatterns, schemaPattern, show, type MetadataQuery } from './metadata-queries.js';

export interface GetColumnsArgs {
  schemaName?: string | undefined;
  tableName?: string | undefined;
  columnName?: string | undefined;
}

/** RESULT_SET_SCHEMA of GetColumnsOperation: name, the DuckDB type that encodes as Hive's, comment. */
const RESULT_COLUMNS = [
  ['TABLE_CAT', 'VARCHAR', 'Catalog name. NULL if not applicable'],
  ['TABLE_SCHEM', 'VARCHAR', 'Schema name'],
  ['TABLE_NAME', 'VARCHAR', 'Table name'],
  ['COLUMN_NAME', 'VARCHAR', 'Column name'],
  ['DATA_TYPE', 'INTEGER', 'SQL type from java.sql.Types'],
  ['TYPE_NAME', 'VARCHAR', 'Data source dependent type name, for a UDT the type name is fully qualified'],
  ['COLUMN_SIZE', 'INTEGER', 'Column size. For char or date types this is the maximum number of characters, for numeric or decimal types this is precision.'],
  ['BUFFER_LENGTH', 'TINYINT', 'Unused'],
  ['DECIMAL_DIGITS', 'INTEGER', 'The number of fractional digits'],
  ['NUM_PREC_RADIX', 'INTEGER', 'Radix (typically either 10 or 2)'],
  ['NULLABLE', 'INTEGER', 'Is NULL allowed'],
  ['REMARKS', 'VARCHAR', 'Comment describing column (may be null)'],
  ['COLUMN_DEF', 'VARCHAR', 'Default value (may be null)'],
  ['SQL_DATA_TYPE', 'INTEGER', 'Unused'],
  ['SQL_DATETIME_SUB', 'INTEGER', 'Unused'],
  ['CHAR_OCTET_LENGTH', 'INTEGER', 'For char types the maximum number of bytes in the column'],
  ['ORDINAL_POSITION', 'INTEGER', 'Index of column in table (starting at 1)'],
  ['IS_NULLABLE', 'VARCHAR', '"NO" means column definitely does not allow NULL values; "YES" means the column might allow NULL values. An empty string means nobody knows.'],
  ['SCOPE_CATALOG', 'VARCHAR', "Catalog of table that is the scope of a reference attribute (null if DATA_TYPE isn't REF)"],
  ['SCOPE_SCHEMA', 'VARCHAR', "Schema of table that is the scope of a reference attribute (null if the DATA_TYPE isn't REF)"],
  ['SCOPE_TABLE', 'VARCHAR', "Table name that this the scope of a reference attribute (null if the DATA_TYPE isn't REF)"],
  ['SOURCE_DATA_TYPE', 'SMALLINT', "Source type of a distinct type or user-generated Ref type, SQL type from java.sql.Types (null if DATA_TYPE isn't DISTINCT or user-generated REF)"],
  ['IS_AUTO_INCREMENT', 'VARCHAR', 'Indicates whether this column is auto incremented.'],
] as const;

/** The columns that vary per row; the others are the same constant in every row. */
const VARYING = ['TABLE_SCHEM', 'TABLE_NAME', 'COLUMN_NAME', 'DATA_TYPE', 'TYPE_NAME', 'COLUMN_SIZE', 'DECIMAL_DIGITS', 'NUM_PREC_RADIX', 'REMARKS', 'ORDINAL_POSITION'] as const;
type Varying = (typeof VARYING)[number];
const CONSTANT: Partial<Record<(typeof RESULT_COLUMNS)[number][0], string>> = {
  NULLABLE: '1', // DatabaseMetaData.columnNullable
  IS_NULLABLE: "'YES'",
  IS_AUTO_INCREMENT: "'NO'",
};

/** String.hashCode: 31·h + each UTF-16 unit, in 32 bits. */
function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The order a `new HashMap<>()` iterates keys put in this order: by bucket (the spread hash
 * `h ^ h>>>16` masked to the table size, 16 doubling whenever the map is over three quarters
 * full), then by insertion within a bucket (resizing keeps that order). Bins large enough to
 * turn into trees (8 keys in one bucket) are not modelled.
 */
export function javaHashMapOrder(keys: readonly string[]): string[] {
  let capacity = 16;
  while (keys.length > capacity * 0.75) capacity *= 2;
  const bucket = (key: string) => {
    const h = javaStringHash(key);
    return ((h ^ (h >>> 16)) & (capacity - 1)) >>> 0;
  };
  return keys.map((key, index) => ({ key, index, bucket: bucket(key) })).sort((a, b) => a.bucket - b.bucket || a.index - b.index).map((e) => e.key);
}

/** Java's String.compareTo, which Collections.sort uses: UTF-16 code units, not locale order. */
const javaCompare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Pattern.compile(convertIdentifierPattern(columnName, false)) with Matcher.matches(). */
function columnMatcher(columnName: string | undefined): (name: string) => boolean {
  if (columnName === undefined) return () => true;
  const source = jdbcToMetastore(columnName, '.*');
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${source})$`);
  } catch (error) {
    // GetColumnsOperation wraps the exception in a HiveSQLException, whose message is its toString.
    throw new HiveError(`java.util.regex.PatternSyntaxException: ${(error as Error).message}`, '', 0);
  }
  return (name) => regex.test(name);
}

async function matchingTables(connection: DuckDBConnection, args: GetColumnsArgs): Promise<{ db: string; name: string }[]> {
  const prepared = await connection.prepare(`SELECT db, name FROM (${HIVE_TABLES}) WHERE ${matchesAny('db', 'schemas')} AND ${matchesAny('name', 'tables')}`);
  const schemas = metastorePatterns(schemaPattern(args.schemaName));
  const tables = metastorePatterns(args.tableName === undefined ? '*' : jdbcToMetastore(args.tableName));
  prepared.bind({ schemas: listValue(schemas), tables: listValue(tables) }, { schemas: LIST(VARCHAR), tables: LIST(VARCHAR) });
  const reader = await prepared.runAndReadAll();
  return reader.getRowObjectsJson().map((row) => ({ db: String(row.db), name: String(row.name) }));
}

interface TableColumn {
  name: string;
  type: string;
  comment: string | null;
}

/** getSchema: the data columns, then the partition keys, with their metastore types and comments. */
async function schemaOf(connection: DuckDBConnection, db: string, table: string): Promise<TableColumn[]> {
  const schema = duckdbSchemaFor(db);
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const prepared = await connection.prepare(`SELECT * FROM ${quote(schema)}.${quote(table)}`);
  const comments = await connection.prepare('SELECT column_name AS name, column_comment AS remarks FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = $schema AND table_name = $table');
  comments.bind({ schema, table });
  const commentOf = new Map((await comments.runAndReadAll()).getRowObjectsJson().map((row) => [String(row.name), row.remarks === null ? null : String(row.remarks)]));
  const columns: TableColumn[] = [];
  for (let i = 0; i < prepared.columnCount; i++) {
    const duckName = prepared.columnName(i);
    // The metastore keeps names in lower case.
    const name = duckName.toLowerCase();
    columns.push({ name, type: hiveColumnType(db, table, name) ?? hiveTypeText(prepared.columnType(i)), comment: commentOf.get(duckName) ?? null });
  }
  const keys = partitionKeys(db, table);
  return [...columns.filter((c) => !keys.includes(c.name)), ...keys.map((key) => columns.find((c) => c.name === key)!).filter(Boolean)];
}

/** The GetColumns operation's query; throws HiveError as the call's error status. */
export async function getColumnsQuery(database: HiveDatabase, args: GetColumnsArgs): Promise<MetadataQuery> {
  const matches = columnMatcher(args.columnName);
  const values: Record<Varying, (string | null)[]> = Object.fromEntries(VARYING.map((name) => [name, []])) as unknown as Record<Varying, (string | null)[]>;
  const connection = await database.connect(duckdbSchemaFor('default')).catch((error: unknown) => {
    throw metadataError(error);
  });
  try {
    let found: { db: string; name: string }[];
    try {
      found = await matchingTables(connection, args);
    } catch (error) {
      throw metadataError(error);
    }
    const byDatabase = new Map<string, string[]>();
    for (const db of [...new Set(found.map((t) => t.db))].sort(javaCompare)) {
      byDatabase.set(db, found.filter((t) => t.db === db).map((t) => t.name).sort(javaCompare));
    }
    for (const db of javaHashMapOrder([...byDatabase.keys()])) {
      for (const table of byDatabase.get(db)!) {
        const schema = await schemaOf(connection, db, table).catch((error: unknown) => {
          throw metadataError(error);
        });
        schema.forEach((column, index) => {
          if (!matches(column.name)) return;
          const described = describeHiveType(column.type);
          const text = (n: number | null) => (n === null ? null : String(n));
          values.TABLE_SCHEM.push(db);
          values.TABLE_NAME.push(table);
          values.COLUMN_NAME.push(column.name);
          values.DATA_TYPE.push(String(described.dataType));
          values.TYPE_NAME.push(described.typeName);
          values.COLUMN_SIZE.push(text(described.columnSize));
          values.DECIMAL_DIGITS.push(text(described.decimalDigits));
          values.NUM_PREC_RADIX.push(text(described.numPrecRadix));
          values.REMARKS.push(column.comment);
          values.ORDINAL_POSITION.push(String(index + 1));
        });
      }
    }
  } finally {
    connection.closeSync();
  }
  const rows = values.TABLE_SCHEM.length;
  const select = RESULT_COLUMNS.map(([name, type]) => {
    const lower = name.toLowerCase();
    if ((VARYING as readonly string[]).includes(name)) return `CAST(($${lower}::VARCHAR[])[i + 1] AS ${type}) AS ${lower}`;
    return `CAST(${CONSTANT[name] ?? 'NULL'} AS ${type}) AS ${lower}`;
  });
  return {
    description: `GetColumns schemaName=${show(args.schemaName)} tableName=${show(args.tableName)} columnName=${show(args.columnName)}`,
    sql: `SELECT ${select.join(', ')} FROM range(${rows}) AS r(i) ORDER BY i`,
    params: Object.fromEntries(VARYING.map((name) => [name.toLowerCase(), values[name]])),
    columns: RESULT_COLUMNS.map(([name, , comment]) => ({ name, comment })),
  };
}
