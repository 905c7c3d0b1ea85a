/**
 * Schedules in the connector's SQLite file. The columns are what queries and conditions need
 * (owner, link, status, next run, claim expiry, version); the rest is one JSON column. A replace
 * is one `UPDATE … WHERE id = ? AND version = ?`: SQLite runs it atomically, whichever process
 * or connection competes for the same row.
 */
import { AppError } from '../errors.js';
import { migrateSchema, openSqliteFile, type SqliteSchema } from '../jobs/sqlite-migrations.js';
import { dataOf, decodeData, encodeData } from './schedule-json.js';
import type { Schedule } from './schedule.js';
import type { ScheduleStore } from './schedule-store.js';

const SCHEMA: SqliteSchema = {
  ledger: 'schedules_schema_migrations',
  what: 'schedule store',
  migrations: [
    {
      version: 1,
      description: 'export_schedules with a unique stable link and a version for conditional writes',
      sql: `
        CREATE TABLE export_schedules (
          id           TEXT    NOT NULL PRIMARY KEY,
          owner_id     TEXT    NOT NULL,
          link_id      TEXT    NOT NULL UNIQUE,
          sql          TEXT    NOT NULL,
          status       TEXT    NOT NULL,
          next_run_at  INTEGER,
          claim_until  INTEGER,
          version      INTEGER NOT NULL,
          data         TEXT    NOT NULL
        ) STRICT;
        CREATE INDEX export_schedules_owner ON export_schedules (owner_id);
        CREATE INDEX export_schedules_due ON export_schedules (status, next_run_at);
        CREATE INDEX export_schedules_claims ON export_schedules (claim_until) WHERE claim_until IS NOT NULL;
      `,
    },
  ],
};

interface Row {
  id: string;
  owner_id: string;
  link_id: string;
  sql: string;
  status: string;
  next_run_at: number | null;
  claim_until: number | null;
  version: number;
  data: string;
}

function fromRow(row: Row): Schedule {
  const schedule: Schedule = {
    id: row.id,
    ownerId: row.owner_id,
    linkId: row.link_id,
    sql: row.sql,
    status: row.status === 'paused' ? 'paused' : 'active',
    version: String(row.version),
    ...decodeData(row.data, row.id),
  };
  if (row.next_run_at !== null) schedule.nextRunAt = new Date(row.next_run_at);
  return schedule;
}

function columns(schedule: Omit<Schedule, 'version'>) {
  return {
    id: schedule.id,
    owner_id: schedule.ownerId,
    link_id: schedule.linkId,
    sql: schedule.sql,
    status: schedule.status,
    next_run_at: schedule.nextRunAt?.getTime() ?? null,
    claim_until: schedule.claim?.until.getTime() ?? null,
    data: encodeData(dataOf(schedule)),
  };
}

export function createSqliteScheduleStore(options: { file: string }): ScheduleStore {
  const db = openSqliteFile(options.file);
  try {
    migrateSchema(db, SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }
  const insert = db.prepare<[ReturnType<typeof columns>], Row>(`
    INSERT INTO export_schedules (id, owner_id, link_id, sql, status, next_run_at, claim_until, version, data)
    VALUES (@id, @owner_id, @link_id, @sql, @status, @next_run_at, @claim_until, 1, @data) RETURNING *`);
  const selectOne = db.prepare<[string, string], Row>('SELECT * FROM export_schedules WHERE owner_id = ? AND id = ?');
  const selectByLink = db.prepare<[string], Row>('SELECT * FROM export_schedules WHERE link_id = ?');
  const selectByOwner = db.prepare<[string], Row>('SELECT * FROM export_schedules WHERE owner_id = ?');
  const selectDue = db.prepare<[number, number, number], Row>(`
    SELECT * FROM export_schedules
    WHERE (status = 'active' AND next_run_at <= ?) OR claim_until <= ?
    ORDER BY coalesce(next_run_at, claim_until) LIMIT ?`);
  // The conditional write: it matches only the version the caller read.
  const update = db.prepare<[ReturnType<typeof columns> & { version: number }], Row>(`
    UPDATE export_schedules SET link_id = @link_id, sql = @sql, status = @status, next_run_at = @next_run_at,
      claim_until = @claim_until, data = @data, version = version + 1
    WHERE id = @id AND owner_id = @owner_id AND version = @version RETURNING *`);
  const remove = db.prepare<[string, string]>('DELETE FROM export_schedules WHERE owner_id = ? AND id = ?');

  const guarded = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(new AppError('storage_error', 503, 'Schedules cannot be read or written right now.', { cause: error, retryAfterSeconds: 5 }));
    }
  };

  return {
    create: (schedule) => guarded(() => fromRow(insert.get(columns(schedule))!)),
    get: (ownerId, id) =>
      guarded(() => {
        const row = selectOne.get(ownerId, id);
        return row && fromRow(row);
      }),
    getByLinkId: (linkId) =>
      guarded(() => {
        const row = selectByLink.get(linkId);
        return row && fromRow(row);
      }),
    listByOwner: (ownerId) => guarded(() => selectByOwner.all(ownerId).map(fromRow).sort(newestFirst)),
    listDue: (now, limit) => guarded(() => selectDue.all(now.getTime(), now.getTime(), limit).map(fromRow)),
    replace: (next) =>
      guarded(() => {
        const row = update.get({ ...columns(next), version: Number(next.version) });
        return row && fromRow(row);
      }),
    delete: (ownerId, id) => guarded(() => remove.run(ownerId, id).changes > 0),
    async checkReady() {
      try {
        db.prepare('SELECT 1 FROM export_schedules LIMIT 1').get();
      } catch (error) {
        throw new AppError('not_ready', 503, 'The schedule store cannot be reached.', { cause: error });
      }
    },
    async close() {
      db.close();
    },
  };
}

export const newestFirst = (a: Schedule, b: Schedule): number => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id);
