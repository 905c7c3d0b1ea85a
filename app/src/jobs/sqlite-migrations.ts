/**
 * Schema of the SQLite job store, as an append-only list of migrations. Each runs once, in its
 * own transaction, and is recorded in `schema_migrations`; to change the schema, append a new
 * version and never edit a released one. A database written by a newer connector is refused
 * rather than silently misread.
 *
 * Dates are epoch milliseconds (INTEGER): they sort and compare natively and round-trip a JS Date
 * exactly. `error` and `result` are JSON text.
 */
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
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** Brings the database up to the latest schema; safe to run on every start, from every process. */
export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
  ) STRICT`);
  const currentVersion = db.prepare<[], number>('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck();
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)',
  );

  // IMMEDIATE takes the write lock before reading the version, so two processes starting on the
  // same file cannot both decide to apply the same migration.
  db.transaction(() => {
    const current = currentVersion.get() ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new Error(
        `The job database has schema version ${current}; this connector knows up to ${LATEST_SCHEMA_VERSION}. ` +
          'It was written by a newer connector; upgrade this one instead of opening the file.',
      );
    }
    for (const migration of MIGRATIONS.filter((m) => m.version > current)) {
      db.exec(migration.sql);
      record.run(migration.version, migration.description, Date.now());
    }
  }).immediate();
}
