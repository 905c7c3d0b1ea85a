/**
 * The rules every job store adapter shares, so that SQLite, Table Storage and the in-memory store
 * cannot drift apart on what a new job looks like or how a patch lands.
 */
import type { ExportJob, JobPatch, NewExportJob } from './job-store.js';

/** A freshly accepted job: queued, no progress yet, created and updated `now`. */
export function newJobRecord(job: NewExportJob, now: Date): ExportJob {
  return withoutUndefined({
    id: job.id,
    ownerId: job.ownerId,
    ownerName: job.ownerName,
    organizationId: job.organizationId,
    sql: job.sql,
    format: job.format,
    ttlMinutes: job.ttlMinutes,
    status: 'queued',
    instanceId: job.instanceId,
    idempotencyKey: job.idempotencyKey,
    createdAt: now,
    updatedAt: now,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    expiresAt: job.expiresAt,
    rows: 0,
    bytes: 0,
    truncated: false,
    cancelRequested: false,
    error: job.error,
    result: job.result,
  });
}

/**
 * Applies the fields `patch` sets. A field given as `undefined` leaves the stored value alone:
 * no transition ever clears a field, and treating undefined as "unchanged" is what lets the SQL
 * and Table adapters express an update as a single merge.
 */
export function applyPatch(job: ExportJob, patch: JobPatch, now: Date): ExportJob {
  return { ...job, ...withoutUndefined(patch), updatedAt: now };
}

/** What start-up recovery writes onto a job its instance was running when it died. */
export function interruptedPatch(now: Date): JobPatch {
  return {
    status: 'failed',
    finishedAt: now,
    error: {
      code: 'interrupted',
      message: 'The connector restarted before this export finished. Please submit it again.',
    },
  };
}

/** What the sweep writes onto an active job no instance has touched for too long. */
export function stalePatch(now: Date): JobPatch {
  return {
    status: 'failed',
    finishedAt: now,
    error: {
      code: 'interrupted',
      message: 'The connector instance running this export stopped before it finished. Please submit it again.',
    },
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
