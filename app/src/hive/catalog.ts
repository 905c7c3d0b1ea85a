/**
 * What the web page lists beside the query editor: the databases an organization may read
 * (configuration) and their tables — from configuration when it names tables, otherwise from
 * Hive's own metadata call (GetTables) — and, when a table is opened, its columns and types
 * (GetColumns). Both are cached for a few minutes so page loads don't open Hive sessions.
 */
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { startDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import { openHiveConnection, type HiveConnection } from './hive-connection.js';
import { waitForOperation } from './query-runner.js';

const { TCLIService_types } = hive.thrift;
const utils = new hive.HiveUtils(TCLIService_types);

/** How long a metadata answer is reused. */
const METADATA_TTL_MS = 5 * 60_000;

export interface TableAccess {
  databases: string[];
  tables?: string[];
}

export interface CatalogEntry {
  name: string;
  /** null when Hive could not be asked; the page then shows the database alone. */
  tables: string[] | null;
}

export interface CatalogColumn {
  name: string;
  /** Hive's type text, as the job schema writes it: `bigint`, `decimal(10,2)`, `varchar(20)`, `array<int>`. */
  type: string;
  /** The column's comment in the metastore, when it has one. */
  comment?: string;
}

export type TableLister = (database: string) => Promise<string[]>;
/** A table's columns in order (partition keys last, as Hive lists them); empty when Hive knows no such table. */
export type ColumnLister = (database: string, table: string) => Promise<CatalogColumn[]>;

/** JDBC patterns (GetTables, GetColumns): escape `\`, `_` and `%` so that `enos_other` means that name only. */
const literalPattern = (name: string) => name.replace(/[\\_%]/g, (c) => `\\${c}`);

type HiveOperation = Awaited<ReturnType<HiveConnection['session']['getTables']>>;

/**
 * Runs one metadata call on a fresh session and returns its rows as hive-driver's JSON objects;
 * `purpose` says what it was for when Hive does not finish in time ("list the tables of enos").
 */
async function metadataRows<Row>(
  config: HiveConfig,
  what: 'GetTables' | 'GetColumns',
  purpose: string,
  call: (connection: HiveConnection) => Promise<HiveOperation>,
): Promise<Row[]> {
  const connection = await openHiveConnection(config);
  try {
    const operation = await connection.call(what, () => call(connection));
    // hive-driver's fetch returns nothing until GetOperationStatus has said FINISHED.
    const deadline = startDeadline(config.callTimeoutMs);
    await waitForOperation(connection, operation, {
      pollIntervalMs: config.pollIntervalMs,
      signal: deadline.signal,
      abortError: () => new AppError('hive_unavailable', 503, `Hive did not ${purpose} in time`),
    }).finally(() => deadline.clear());
    await connection.call('FetchResults', () => utils.fetchAll(operation));
    const rows = (utils.getResult(operation).getValue() ?? []) as Row[];
    await connection.call('CloseOperation', () => operation.close()).catch(() => undefined);
    return rows;
  } finally {
    await connection.close();
  }
}

export function createHiveTableLister(config: HiveConfig): TableLister {
  return async (database) => {
    const rows = await metadataRows<{ TABLE_SCHEM?: string; TABLE_NAME?: string }>(config, 'GetTables', `list the tables of ${database}`, (connection) =>
      connection.session.getTables({ schemaName: literalPattern(database) }),
    );
    return rows
      .filter((row) => row.TABLE_SCHEM?.toLowerCase() === database.toLowerCase())
      .map((row) => String(row.TABLE_NAME ?? ''))
      .filter(Boolean)
      .sort();
  };
}

/** The GetColumns fields the connector reads (GetColumnsOperation's RESULT_SET_SCHEMA). */
interface GetColumnsRow {
  TABLE_SCHEM?: string | null;
  TABLE_NAME?: string | null;
  COLUMN_NAME?: string | null;
  TYPE_NAME?: string | null;
  COLUMN_SIZE?: number | null;
  DECIMAL_DIGITS?: number | null;
  ORDINAL_POSITION?: number | null;
  REMARKS?: string | null;
}

/**
 * Hive's type text again from what GetColumns says of it: TypeDescriptor gives a qualified type's
 * bare name (`DECIMAL`, `VARCHAR`) with its precision or length in COLUMN_SIZE and its scale in
 * DECIMAL_DIGITS, a complex type's whole text (`array<int>`), and upper-case names otherwise.
 */
export function hiveTypeOfColumn(row: Pick<GetColumnsRow, 'TYPE_NAME' | 'COLUMN_SIZE' | 'DECIMAL_DIGITS'>): string {
  const name = String(row.TYPE_NAME ?? 'string');
  const upper = name.toUpperCase();
  if (upper === 'DECIMAL' && row.COLUMN_SIZE != null) return `decimal(${row.COLUMN_SIZE},${row.DECIMAL_DIGITS ?? 0})`;
  if ((upper === 'CHAR' || upper === 'VARCHAR') && row.COLUMN_SIZE != null) return `${name.toLowerCase()}(${row.COLUMN_SIZE})`;
  return name.includes('<') ? name : name.toLowerCase();
}

export function createHiveColumnLister(config: HiveConfig): ColumnLister {
  return async (database, table) => {
    const rows = await metadataRows<GetColumnsRow>(config, 'GetColumns', `list the columns of ${database}.${table}`, (connection) =>
      connection.session.getColumns({ schemaName: literalPattern(database), tableName: literalPattern(table) }),
    ).catch((error: unknown) => {
      if (error instanceof AppError) throw error;
      // A refused call (hive-driver's StatusError): the metastore's reason is the cluster's business.
      throw new AppError('hive_unavailable', 503, `Hive could not list the columns of ${database}.${table}; try again shortly`, { cause: error });
    });
    return rows
      .filter((row) => row.TABLE_SCHEM?.toLowerCase() === database.toLowerCase() && row.TABLE_NAME?.toLowerCase() === table.toLowerCase())
      .sort((a, b) => (a.ORDINAL_POSITION ?? 0) - (b.ORDINAL_POSITION ?? 0))
      .map((row) => ({ name: String(row.COLUMN_NAME ?? ''), type: hiveTypeOfColumn(row), ...(row.REMARKS ? { comment: row.REMARKS } : {}) }));
  };
}

export interface CacheOptions {
  /** @default 5 minutes */
  ttlMs?: number;
  clock?: () => number;
}

/** Answers reused for `ttlMs` per key; a failed lookup is forgotten at once, so the next call asks again. */
function cached<T>(lookup: (key: string) => Promise<T>, options: CacheOptions): (key: string) => Promise<T> {
  const ttl = options.ttlMs ?? METADATA_TTL_MS;
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<T> }>();
  return (key) => {
    const hit = cache.get(key);
    if (hit && clock() - hit.at < ttl) return hit.value;
    const value = lookup(key);
    cache.set(key, { at: clock(), value });
    value.catch(() => cache.delete(key));
    return value;
  };
}

export function createCatalog(lister: TableLister, options: CacheOptions = {}) {
  const tablesOf = cached(lister, options);
  return async (access: TableAccess): Promise<CatalogEntry[]> =>
    Promise.all(
      access.databases.map(async (database) => {
        if (access.tables) {
          const prefix = `${database.toLowerCase()}.`;
          const tables = access.tables.filter((t) => t.toLowerCase().startsWith(prefix)).map((t) => t.slice(prefix.length));
          return { name: database, tables };
        }
        const tables = await tablesOf(database).catch(() => null);
        return { name: database, tables };
      }),
    );
}

/**
 * A table's columns, cached per table. Whether the caller may see the table is not decided here
 * (the route asks the SQL guard's access rule first); Hive failures reach the caller.
 */
export function createColumnCatalog(lister: ColumnLister, options: CacheOptions = {}): ColumnLister {
  const columnsOf = cached((key) => {
    const [database, table] = key.split('.') as [string, string];
    return lister(database, table);
  }, options);
  return (database, table) => columnsOf(`${database}.${table}`.toLowerCase());
}
