/**
 * Schema of the SQLite job store, as an append-only list of migrations. Each runs once, in its
 * own transaction, and is recorded in `schema_migrations`; to change the schema, append a new
 * version and never edit a released one. A database written by a newer connector is refused
 * rather than silently misread.
 *
 * Dates are epoch milliseconds (INTEGER): they sort and compare natively and round-trip a JS Date
 * exactly. `error`, `result` and `parts` are JSON text (jobs/job-json.ts).
 */
import DatabaseConstructor from 'better-sqlite3';
import type Database from 'better-sqlite3';

interface Migration {
  version: number;
  description: string;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'export_jobs with idempotency and the indexes behind the port queries',
    sql: `
      CREATE TABLE export_jobs (
        id               TEXT    NOT NULL PRIMARY KEY,
        owner_id         TEXT    NOT NULL,
        owner_name       TEXT    NOT NULL,
        organization_id  TEXT    NOT NULL,
        sql              TEXT    NOT NULL,
        format           TEXT    NOT NULL,
        ttl_minutes      INTEGER NOT NULL,
        status           TEXT    NOT NULL,
        instance_id      TEXT    NOT NULL,
        idempotency_key  TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        started_at       INTEGER,
        finished_at      INTEGER,
        expires_at       INTEGER,
        rows             INTEGER NOT NULL,
        bytes            INTEGER NOT NULL,
        truncated        INTEGER NOT NULL,
        cancel_requested INTEGER NOT NULL,
        error            TEXT,
        result           TEXT
      ) STRICT;
      -- Racing creates with one key collide here, whichever process or connection they come from.
      CREATE UNIQUE INDEX export_jobs_idempotency ON export_jobs (owner_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
      CREATE INDEX export_jobs_owner_created ON export_jobs (owner_id, created_at);
      CREATE INDEX export_jobs_instance_status ON export_jobs (instance_id, status, created_at);
      CREATE INDEX export_jobs_status_expires ON export_jobs (status, expires_at);
    `,
  },
  {
    version: 2,
    description: 'export_jobs.stage (Hive progress of a running export) and export_jobs.schema (result columns)',
    sql: `
      ALTER TABLE export_jobs ADD COLUMN stage TEXT;
      ALTER TABLE export_jobs ADD COLUMN schema TEXT;
    `,
  },
  {
    version: 3,
    description: 'export_jobs.parts (the files of a multi-part result)',
    sql: `
      ALTER TABLE export_jobs ADD COLUMN parts TEXT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** Brings the database up to the latest schema; safe to run on every start, from every process. */
export function migrate(db: Database.Database): void {
  migrateSchema(db, JOB_SCHEMA);
}

export interface SqliteSchema {
  /** The table that records which of `migrations` ran, e.g. `schema_migrations`. */
  ledger: string;
  /** What the schema holds, for the refusal message, e.g. "job database". */
  what: string;
  migrations: readonly Migration[];
}

export type { Migration as SqliteMigration };

/** The job store's schema; the ledger keeps its original name. */
const JOB_SCHEMA: SqliteSchema = { ledger: 'schema_migrations', what: 'job database', migrations: MIGRATIONS };

/**
 * Applies the migrations of one schema that have not run yet. Concerns that keep their tables
 * beside the jobs (access tokens, schedules, the audit trail) each have their own schema and
 * ledger, so each grows by appending its own versions without renumbering anyone else's.
 */
export function migrateSchema(db: Database.Database, schema: SqliteSchema): void {
  if (!/^[a-z_]+$/.test(schema.ledger)) throw new Error(`SQLite ledger table ${JSON.stringify(schema.ledger)} is not a plain name`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${schema.ledger} (
    version     INTEGER NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
  ) STRICT`);
  const latest = schema.migrations.at(-1)?.version ?? 0;
  const currentVersion = db.prepare<[], number>(`SELECT coalesce(max(version), 0) FROM ${schema.ledger}`).pluck();
  const record = db.prepare<[number, string, number]>(`INSERT INTO ${schema.ledger} (version, description, applied_at) VALUES (?, ?, ?)`);

  // IMMEDIATE takes the write lock before reading the version, so two processes starting on the
  // same file cannot both decide to apply the same migration.
  db.transaction(() => {
    const current = currentVersion.get() ?? 0;
    if (current > latest) {
      throw new Error(
        `The ${schema.what} has schema version ${current}; this connector knows up to ${latest}. ` +
          'It was written by a newer connector; upgrade this one instead of opening the file.',
      );
    }
    for (const migration of schema.migrations.filter((m) => m.version > current)) {
      db.exec(migration.sql);
      record.run(migration.version, migration.description, Date.now());
    }
  }).immediate();
}

/**
 * Opens (creating if missing) a SQLite file the way every store here uses it: WAL, so readers
 * never wait for the writer, and a busy timeout, so a write waits for another connection's lock
 * instead of failing at once.
 */
export function openSqliteFile(file: string, busyTimeoutMs = 5000): Database.Database {
  const db = new DatabaseConstructor(file, { timeout: busyTimeoutMs });
  try {
    // `:memory:` keeps its own journal mode.
    if (file !== ':memory:') {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`SQLite kept journal_mode ${String(mode)} for ${file}; expected wal`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
