/**
 * What the web page lists beside the query editor: the databases an organization may read
 * (configuration) and their tables — from configuration when it names tables, otherwise from
 * Hive's own metadata call (GetTables), cached for a few minutes so page loads don't open Hive
 * sessions.
 */
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { startDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import { openHiveConnection } from './hive-connection.js';
import { waitForOperation } from './query-runner.js';

const { TCLIService_types } = hive.thrift;
const utils = new hive.HiveUtils(TCLIService_types);

export interface TableAccess {
  databases: string[];
  tables?: string[];
}

export interface CatalogEntry {
  name: string;
  /** null when Hive could not be asked; the page then shows the database alone. */
  tables: string[] | null;
}

export type TableLister = (database: string) => Promise<string[]>;

export function createHiveTableLister(config: HiveConfig): TableLister {
  return async (database) => {
    const connection = await openHiveConnection(config);
    try {
      // schemaName is a JDBC pattern: escape `\`, `_` and `%` so that `enos_other` means that database only.
      const schemaName = database.replace(/[\\_%]/g, (c) => `\\${c}`);
      const operation = await connection.call('GetTables', () => connection.session.getTables({ schemaName }));
      // hive-driver's fetch returns nothing until GetOperationStatus has said FINISHED.
      const deadline = startDeadline(config.callTimeoutMs);
      await waitForOperation(connection, operation, {
        pollIntervalMs: config.pollIntervalMs,
        signal: deadline.signal,
        abortError: () => new AppError('hive_unavailable', 503, `Hive did not list the tables of ${database} in time`),
      }).finally(() => deadline.clear());
      await connection.call('FetchResults', () => utils.fetchAll(operation));
      const rows = (utils.getResult(operation).getValue() ?? []) as { TABLE_SCHEM?: string; TABLE_NAME?: string }[];
      await connection.call('CloseOperation', () => operation.close()).catch(() => undefined);
      return rows
        .filter((row) => row.TABLE_SCHEM?.toLowerCase() === database.toLowerCase())
        .map((row) => String(row.TABLE_NAME ?? ''))
        .filter(Boolean)
        .sort();
    } finally {
      await connection.close();
    }
  };
}

export function createCatalog(lister: TableLister, options: { ttlMs?: number; clock?: () => number } = {}) {
  const ttl = options.ttlMs ?? 5 * 60_000;
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { at: number; tables: Promise<string[]> }>();

  const tablesOf = (database: string): Promise<string[]> => {
    const hit = cache.get(database);
    if (hit && clock() - hit.at < ttl) return hit.tables;
    const tables = lister(database);
    cache.set(database, { at: clock(), tables });
    tables.catch(() => cache.delete(database));
    return tables;
  };

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
