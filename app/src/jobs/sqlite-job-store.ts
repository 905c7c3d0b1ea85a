/**
 * JobStore on SQLite (better-sqlite3): the embedded default for a single connector instance.
 * better-sqlite3 is synchronous, so each method is one statement or one IMMEDIATE transaction
 * and cannot interleave with another call in this process; the unique idempotency index and
 * the conditional WHERE clauses keep it correct when other processes share the file.
 */
import Database from 'better-sqlite3';
import { ACTIVE_STATUSES, type ExportJob, type JobPatch, type JobStore, type NewExportJob } from './job-store.js';
import { interruptedPatch, newJobRecord, stalePatch } from './job-records.js';
import { decodeCommittedExport, decodeFormat, decodeJobError, decodeJobSchema, decodeJobStage, decodeStatus, encodeJson, encodeResult } from './job-json.js';
import { jobIdTaken, jobStoreFailed, jobStoreNotReady } from './job-store-errors.js';
import { migrate, openSqliteFile } from './sqlite-migrations.js';

export interface SqliteJobStoreOptions {
  /** Database file, created if missing, or `:memory:` for a private throwaway database. */
  file: string;
  /** How long a statement waits for another process's write lock. @default 5000 */
  busyTimeoutMs?: number;
}

interface JobRow {
  id: string;
  owner_id: string;
  owner_name: string;
  organization_id: string;
  sql: string;
  format: string;
  ttl_minutes: number;
  status: string;
  instance_id: string;
  idempotency_key: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  expires_at: number | null;
  rows: number;
  bytes: number;
  truncated: number;
  cancel_requested: number;
  error: string | null;
  result: string | null;
  stage: string | null;
  schema: string | null;
  parts: string | null;
}

/** Named parameters of the patch statement: null means "leave the column as it is". */
type PatchParams = {
  status: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  expiresAt: number | null;
  rows: number | null;
  bytes: number | null;
  truncated: number | null;
  cancelRequested: number | null;
  error: string | null;
  result: string | null;
  stage: string | null;
  schema: string | null;
  parts: string | null;
  updatedAt: number;
};

const ACTIVE = `('${ACTIVE_STATUSES.join("', '")}')`;

export function createSqliteJobStore(options: SqliteJobStoreOptions): JobStore {
  const db = openDatabase(options);
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const insert = db.prepare<[JobRow], JobRow>(`
    INSERT INTO export_jobs (id, owner_id, owner_name, organization_id, sql, format, ttl_minutes, status,
      instance_id, idempotency_key, created_at, updated_at, started_at, finished_at, expires_at, rows, bytes,
      truncated, cancel_requested, error, result, stage, schema, parts)
    VALUES (@id, @owner_id, @owner_name, @organization_id, @sql, @format, @ttl_minutes, @status,
      @instance_id, @idempotency_key, @created_at, @updated_at, @started_at, @finished_at, @expires_at, @rows, @bytes,
      @truncated, @cancel_requested, @error, @result, @stage, @schema, @parts)
    RETURNING *`);
  const selectByKey = db.prepare<[string, string], JobRow>(
    'SELECT * FROM export_jobs WHERE owner_id = ? AND idempotency_key = ?',
  );
  const selectOne = db.prepare<[string, string], JobRow>('SELECT * FROM export_jobs WHERE owner_id = ? AND id = ?');
  const selectByOwner = db.prepare<[string, number], JobRow>(
    'SELECT * FROM export_jobs WHERE owner_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
  );
  // One statement: the status check and the write cannot be split by another writer.
  const patchOne = db.prepare<[PatchParams & { ownerId: string; id: string; onlyIf: string | null }], JobRow>(`
    UPDATE export_jobs SET
      status           = coalesce(@status, status),
      started_at       = coalesce(@startedAt, started_at),
      finished_at      = coalesce(@finishedAt, finished_at),
      expires_at       = coalesce(@expiresAt, expires_at),
      rows             = coalesce(@rows, rows),
      bytes            = coalesce(@bytes, bytes),
      truncated        = coalesce(@truncated, truncated),
      cancel_requested = coalesce(@cancelRequested, cancel_requested),
      error            = coalesce(@error, error),
      result           = coalesce(@result, result),
      stage            = coalesce(@stage, stage),
      schema           = coalesce(@schema, schema),
      parts            = coalesce(@parts, parts),
      updated_at       = @updatedAt
    WHERE owner_id = @ownerId AND id = @id
      AND (@onlyIf IS NULL OR status IN (SELECT value FROM json_each(@onlyIf)))
    RETURNING *`);
  const patchInterrupted = db.prepare<[PatchParams & { instanceId: string }], string>(`
    UPDATE export_jobs SET status = @status, finished_at = @finishedAt, error = @error, updated_at = @updatedAt
    WHERE instance_id = @instanceId AND status IN ${ACTIVE}
    RETURNING id`).pluck();
  // One statement: a job touched after the cutoff no longer matches, whoever touched it.
  const patchStale = db.prepare<[PatchParams & { updatedBefore: number }]>(`
    UPDATE export_jobs SET status = @status, finished_at = @finishedAt, error = @error, updated_at = @updatedAt
    WHERE status IN ${ACTIVE} AND updated_at < @updatedBefore`);
  const deleteOne = db.prepare<[string, string]>('DELETE FROM export_jobs WHERE owner_id = ? AND id = ?');
  const countActive = db.prepare<[{ ownerId: string | null; instanceId: string | null }], number>(`
    SELECT count(*) FROM export_jobs
    WHERE status IN ${ACTIVE}
      AND (@ownerId IS NULL OR owner_id = @ownerId)
      AND (@instanceId IS NULL OR instance_id = @instanceId)`).pluck();
  const selectQueued = db.prepare<[string, number], JobRow>(
    "SELECT * FROM export_jobs WHERE instance_id = ? AND status = 'queued' ORDER BY created_at, id LIMIT ?",
  );
  const selectExpired = db.prepare<[number, number], JobRow>(
    "SELECT * FROM export_jobs WHERE status = 'succeeded' AND expires_at < ? ORDER BY expires_at, id LIMIT ?",
  );

  const createInTransaction = db.transaction((input: NewExportJob, now: Date) => {
    const earlier = input.idempotencyKey === undefined ? undefined : selectByKey.get(input.ownerId, input.idempotencyKey);
    if (earlier) return { job: fromRow(earlier), created: false };
    const inserted = insert.get(toRow(newJobRecord(input, now)));
    if (!inserted) throw new Error(`INSERT … RETURNING gave no row for job ${input.id}`);
    return { job: fromRow(inserted), created: true };
  });

  // Every method runs inside this guard: driver errors become AppErrors at the boundary.
  const guarded = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(jobStoreFailed(error));
    }
  };

  return {
    create: (input, now) =>
      guarded(() => {
        try {
          // IMMEDIATE: the key lookup and the insert hold the write lock together.
          return createInTransaction.immediate(input, now);
        } catch (error) {
          throw isPrimaryKeyViolation(error) ? jobIdTaken(input.id, error) : error;
        }
      }),

    get: (ownerId, id) =>
      guarded(() => {
        const row = selectOne.get(ownerId, id);
        return row && fromRow(row);
      }),

    findByIdempotencyKey: (ownerId, key) =>
      guarded(() => {
        const row = selectByKey.get(ownerId, key);
        return row && fromRow(row);
      }),

    listByOwner: (ownerId, listOptions = {}) =>
      // LIMIT -1 is SQLite for "no limit".
      guarded(() => selectByOwner.all(ownerId, listOptions.limit ?? -1).map(fromRow)),

    update: (ownerId, id, patch, now, onlyIf) =>
      guarded(() => {
        const row = patchOne.get({ ...patchParams(patch, now), ownerId, id, onlyIf: onlyIf ? JSON.stringify(onlyIf) : null });
        return row && fromRow(row);
      }),

    delete: (ownerId, id) => guarded(() => deleteOne.run(ownerId, id).changes > 0),

    countActive: (filter) =>
      guarded(() => countActive.get({ ownerId: filter.ownerId ?? null, instanceId: filter.instanceId ?? null }) ?? 0),

    listQueued: (instanceId, limit) => guarded(() => selectQueued.all(instanceId, limit).map(fromRow)),

    markInterrupted: (instanceId, now) =>
      guarded(() => patchInterrupted.all({ ...patchParams(interruptedPatch(now), now), instanceId })),

    markStale: (updatedBefore, now) =>
      guarded(() => patchStale.run({ ...patchParams(stalePatch(now), now), updatedBefore: updatedBefore.getTime() }).changes),

    listExpired: (now, limit) => guarded(() => selectExpired.all(now.getTime(), limit).map(fromRow)),

    async checkReady() {
      try {
        db.prepare('SELECT count(*) FROM schema_migrations').get();
      } catch (error) {
        throw jobStoreNotReady(error);
      }
    },

    async close() {
      db.close();
    },
  };
}

const openDatabase = (options: SqliteJobStoreOptions): Database.Database => openSqliteFile(options.file, options.busyTimeoutMs);

function isPrimaryKeyViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const epochMs = (date: Date | undefined): number | null => (date === undefined ? null : date.getTime());
const flag = (value: boolean | undefined): number | null => (value === undefined ? null : value ? 1 : 0);
const dateOrUndefined = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

function patchParams(patch: JobPatch, now: Date): PatchParams {
  const result = encodeResult(patch.result);
  return {
    status: patch.status ?? null,
    startedAt: epochMs(patch.startedAt),
    finishedAt: epochMs(patch.finishedAt),
    expiresAt: epochMs(patch.expiresAt),
    rows: patch.rows ?? null,
    bytes: patch.bytes ?? null,
    truncated: flag(patch.truncated),
    cancelRequested: flag(patch.cancelRequested),
    error: encodeJson(patch.error) ?? null,
    result: result.result ?? null,
    stage: encodeJson(patch.stage) ?? null,
    schema: encodeJson(patch.schema) ?? null,
    parts: result.parts ?? null,
    updatedAt: now.getTime(),
  };
}

function toRow(job: ExportJob): JobRow {
  const result = encodeResult(job.result);
  return {
    id: job.id,
    owner_id: job.ownerId,
    owner_name: job.ownerName,
    organization_id: job.organizationId,
    sql: job.sql,
    format: job.format,
    ttl_minutes: job.ttlMinutes,
    status: job.status,
    instance_id: job.instanceId,
    idempotency_key: job.idempotencyKey ?? null,
    created_at: job.createdAt.getTime(),
    updated_at: job.updatedAt.getTime(),
    started_at: epochMs(job.startedAt),
    finished_at: epochMs(job.finishedAt),
    expires_at: epochMs(job.expiresAt),
    rows: job.rows,
    bytes: job.bytes,
    truncated: job.truncated ? 1 : 0,
    cancel_requested: job.cancelRequested ? 1 : 0,
    error: encodeJson(job.error) ?? null,
    result: result.result ?? null,
    stage: encodeJson(job.stage) ?? null,
    schema: encodeJson(job.schema) ?? null,
    parts: result.parts ?? null,
  };
}

function fromRow(row: JobRow): ExportJob {
  const job: ExportJob = {
    id: row.id,
    ownerId: row.owner_id,
    ownerName: row.owner_name,
    organizationId: row.organization_id,
    sql: row.sql,
    format: decodeFormat(row.format),
    ttlMinutes: row.ttl_minutes,
    status: decodeStatus(row.status),
    instanceId: row.instance_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    rows: row.rows,
    bytes: row.bytes,
    truncated: row.truncated === 1,
    cancelRequested: row.cancel_requested === 1,
  };
  // Optional fields are left out rather than set to undefined, like every other adapter.
  if (row.idempotency_key !== null) job.idempotencyKey = row.idempotency_key;
  const startedAt = dateOrUndefined(row.started_at);
  if (startedAt) job.startedAt = startedAt;
  const finishedAt = dateOrUndefined(row.finished_at);
  if (finishedAt) job.finishedAt = finishedAt;
  const expiresAt = dateOrUndefined(row.expires_at);
  if (expiresAt) job.expiresAt = expiresAt;
  if (row.error !== null) job.error = decodeJobError(row.error);
  if (row.result !== null) job.result = decodeCommittedExport(row.result, row.parts ?? undefined);
  if (row.stage !== null) job.stage = decodeJobStage(row.stage);
  if (row.schema !== null) job.schema = decodeJobSchema(row.schema);
  return job;
}
