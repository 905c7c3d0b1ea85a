/**
 * The one DuckDB database behind a stand-in instance, shared by all its listeners. Opens it (in
 * memory, or a file that is re-used when it already holds the same seed), seeds it, installs the
 * Hive function macros, and hands out one connection per operation so each can be interrupted on
 * its own.
 */
import { DuckDBConnection, DuckDBInstance, type Json } from '@duckdb/node-api';
import { HIVE_FUNCTION_MACROS } from './hive-functions.js';
import { SEED_VERSION, seedStatements } from './seed.js';

export interface HiveDatabaseOptions {
  /** Rows of `enos.measurement`. */
  seedRows: number;
  /** Persist to this DuckDB file; an existing file seeded with the same rows is re-used. @default - in memory */
  dbFile?: string;
}

export interface QueryResult {
  columns: { name: string; type: string }[];
  /** DuckDB's JSON conversion: BIGINT/DECIMAL as strings, DATE/TIMESTAMP as 'YYYY-MM-DD[ HH:MM:SS[.f]]'. */
  rows: Record<string, Json>[];
}

/** Records which seed a database file holds; not a Hive table, so metadata calls hide it. */
export const MARKER_TABLE = 'main.stand_in_seed';

export class HiveDatabase {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly seeded: { rows: number; reused: boolean },
  ) {}

  static async open(options: HiveDatabaseOptions): Promise<HiveDatabase> {
    const instance = await DuckDBInstance.create(options.dbFile ?? ':memory:');
    const connection = await instance.connect();
    try {
      const reused = options.dbFile !== undefined && (await seedMatches(connection, options.seedRows));
      if (!reused) {
        for (const statement of seedStatements(options.seedRows)) await connection.run(statement);
        await connection.run(`CREATE OR REPLACE TABLE ${MARKER_TABLE} AS SELECT ${options.seedRows}::BIGINT AS seed_rows, ${SEED_VERSION} AS seed_version`);
      }
      for (const macro of HIVE_FUNCTION_MACROS) await connection.run(macro);
      if (options.dbFile !== undefined) await connection.run('CHECKPOINT');
      return new HiveDatabase(instance, { rows: options.seedRows, reused });
    } catch (error) {
      instance.closeSync();
      throw error;
    } finally {
      connection.closeSync();
    }
  }

  /** A fresh connection whose default schema is the session's current Hive database. */
  async connect(database: string): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    try {
      await connection.run(`USE ${quoteIdentifier(database)}`);
      return connection;
    } catch (error) {
      connection.closeSync();
      throw error;
    }
  }

  async databaseExists(name: string): Promise<boolean> {
    const result = await this.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = '${name.replaceAll("'", "''")}'`);
    return result.rows.length > 0;
  }

  /** Runs SQL directly on DuckDB (no HiveQL translation), for tests to compare against. */
  async query(sql: string): Promise<QueryResult> {
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql);
      const names = reader.columnNames();
      const types = reader.columnTypes();
      return {
        columns: names.map((name, i) => ({ name, type: String(types[i]) })),
        rows: reader.getRowObjectsJson(),
      };
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** Hive's default database is `default`; DuckDB's is `main`. */
export function duckdbSchemaFor(database: string): string {
  return database.toLowerCase() === 'default' ? 'main' : database;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function seedMatches(connection: DuckDBConnection, seedRows: number): Promise<boolean> {
  try {
    const reader = await connection.runAndReadAll(`SELECT seed_rows, seed_version FROM ${MARKER_TABLE}`);
    const row = reader.getRowsJson()[0];
    return row !== undefined && String(row[0]) === String(seedRows) && Number(row[1]) === SEED_VERSION;
  } catch {
    return false; // no marker: a new or foreign file
  }
}
