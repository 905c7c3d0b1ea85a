/**
 * When the connector keeps its jobs in Azure Table Storage, the run also marks the jobs whose
 * download has expired, so users see `expired` rather than a dead link.
 *
 * Only a `succeeded` job whose `expiresAt` is before now becomes `expired`, by a merge update
 * guarded by the ETag it was read with. A 412 means the job changed meanwhile (its link extended,
 * it was deleted and recreated...): it is read again and judged again, never overwritten.
 * Idempotency entities share the table (RowKey `idem:…`) and are left alone.
 */
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { CappedWarnings } from './log.js';
import { firstPage, statusOf, stopForTime, type PassContext } from './pass-context.js';
import { BoundedPool } from './pool.js';
import { describeError } from './retry.js';

const IDEMPOTENCY_ROW_PREFIX = 'idem:';
/** Re-reads after 412 before giving up on a job that keeps changing (the next run tries again). */
const MAX_CONFLICTS = 3;
/** The Table service returns at most 1,000 entities per page. */
const TABLE_PAGE_SIZE = 1000;

interface JobEntity {
  status?: string;
  expiresAt?: Date | string;
}

type JobRow = TableEntityResult<JobEntity>;

export function isExpiredSucceededJob(job: JobEntity, now: Date): boolean {
  if (job.status !== 'succeeded' || job.expiresAt === undefined) return false;
  const expiresAt = job.expiresAt instanceof Date ? job.expiresAt : new Date(job.expiresAt);
  return !Number.isNaN(expiresAt.getTime()) && expiresAt < now;
}

export async function markExpiredJobs(ctx: PassContext, jobs: TableClient, concurrency: number): Promise<void> {
  const filter = odata`status eq 'succeeded' and expiresAt lt ${ctx.now}`;
  const pool = new BoundedPool(concurrency);
  const warnings = new CappedWarnings(ctx.log, 'job updates');
  let marker: string | undefined;
  try {
    do {
      if (ctx.outOfTime()) return stopForTime(ctx, 'job marking');
      const page = await ctx.retrier.run((abortSignal) =>
        firstPage(jobs.listEntities<JobEntity>({ queryOptions: { filter }, abortSignal }).byPage({ continuationToken: marker, maxPageSize: TABLE_PAGE_SIZE })),
      );
      for (const row of page ?? []) {
        const { partitionKey, rowKey } = row;
        if (partitionKey === undefined || rowKey === undefined || rowKey.startsWith(IDEMPOTENCY_ROW_PREFIX)) continue;
        await pool.submit(() => markOne(ctx, jobs, { partitionKey, rowKey }, row, warnings));
      }
      marker = page?.continuationToken;
    } while (marker);
  } finally {
    await pool.drain();
  }
}

interface JobKey {
  partitionKey: string;
  rowKey: string;
}

async function markOne(ctx: PassContext, jobs: TableClient, key: JobKey, found: JobRow, warnings: CappedWarnings): Promise<void> {
  const { partitionKey, rowKey } = key;
  let row: JobRow = found;
  for (let conflicts = 0; conflicts <= MAX_CONFLICTS; conflicts++) {
    if (!isExpiredSucceededJob(row, ctx.now)) {
      ctx.summary.jobsSkipped++;
      return;
    }
    try {
      const etag = row.etag;
      await ctx.retrier.run((abortSignal) =>
        jobs.updateEntity({ partitionKey, rowKey, status: 'expired', updatedAt: ctx.clock() }, 'Merge', { etag, abortSignal }),
      );
      ctx.summary.jobsExpired++;
      return;
    } catch (error) {
      if (statusOf(error) === 404) return skipGone(ctx);
      if (statusOf(error) !== 412) return failJob(ctx, warnings, key, describeError(error));
    }
    try {
      row = await ctx.retrier.run((abortSignal) => jobs.getEntity<JobEntity>(partitionKey, rowKey, { abortSignal }));
    } catch (error) {
      if (statusOf(error) === 404) return skipGone(ctx);
      return failJob(ctx, warnings, key, describeError(error));
    }
  }
  failJob(ctx, warnings, key, `it changed ${MAX_CONFLICTS + 1} times while being marked`);
}

/** Deleted since the query: nothing left to mark. */
function skipGone(ctx: PassContext): void {
  ctx.summary.jobsSkipped++;
}

function failJob(ctx: PassContext, warnings: CappedWarnings, key: JobKey, reason: string): void {
  ctx.summary.jobsFailed++;
  warnings.warn(`cleanup: could not mark job ${key.partitionKey}/${key.rowKey} expired (${reason}); the next run will try again`);
}
