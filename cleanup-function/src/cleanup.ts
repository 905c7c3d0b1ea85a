/**
 * One cleanup run: the plain function behind the timer, the CLI and the local stack's schedule.
 * It takes its clients, clock and options as arguments, so tests call it against Azurite.
 *
 * Order: the tag query (exports with an `expiresAt` tag before now) and its batch deletes, the
 * bounded fallback listing (blobs without the tag) and its deletes, then, with a Table job
 * store, the jobs.
 * Each pass that fails is recorded and the next one still runs; nothing is deleted without a
 * condition that re-checks, on the blob itself, that it is still expired. Running it again right
 * after finds nothing: every run is idempotent.
 */
import type { TableClient } from '@azure/data-tables';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { BatchDeleter, MAX_BATCH_SIZE } from './batch-delete.js';
import { recordDeletions } from './audit-trail.js';
import { deleteExpiredUntagged } from './fallback-pass.js';
import { markExpiredJobs } from './job-expiry.js';
import type { CleanupLog } from './log.js';
import type { PassContext } from './pass-context.js';
import { describeError, realSleep, Retrier, type RetryPolicy, type Sleep } from './retry.js';
import { emptySummary, type CleanupSummary } from './summary.js';
import { deleteExpiredByTag, type TagQueryScope } from './tag-query.js';

export interface CleanupDeps {
  /** The exports container. */
  container: ContainerClient;
  /** Only for `tagQueryScope: 'account'`. */
  service?: BlobServiceClient;
  /** The connector's Table job store; when given, expired jobs are marked `expired`. */
  jobs?: TableClient;
  /** The connector's Table audit trail; when given, each deletion is appended to it. */
  audit?: TableClient;
  clock: () => Date;
  log: CleanupLog;
  /** @default - a real timer; tests may pass a shorter one */
  sleep?: Sleep;
}

export interface CleanupOptions {
  tagQueryScope: TagQueryScope;
  /** Entries per query/listing page; the service returns at most 5,000. */
  pageSize: number;
  /** Deletes per batch request, at most 256. */
  batchSize: number;
  /** Batch requests (and job updates) in flight at once. */
  concurrency: number;
  retry: RetryPolicy;
  /** Per HTTP request; a request that takes longer is aborted and counts as transient. */
  requestTimeoutMs: number;
  /** The connector's maximum export lifetime, for untagged blobs without expiry metadata. */
  maxLifetimeMs: number;
  /** Blobs the fallback pass lists per run; 0 turns it off. */
  fallbackMaxBlobs: number;
  /** Passes stop starting new pages after this long; queued deletes still finish. */
  timeBudgetMs: number;
}

export const DEFAULT_CLEANUP_OPTIONS: CleanupOptions = {
  tagQueryScope: 'container',
  pageSize: 5000,
  batchSize: MAX_BATCH_SIZE,
  concurrency: 8,
  retry: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 },
  requestTimeoutMs: 30_000,
  maxLifetimeMs: 7 * 24 * 3600 * 1000,
  fallbackMaxBlobs: 100_000,
  // Functions on the Consumption plan stop at 10 minutes; leave room to finish and report.
  timeBudgetMs: 9 * 60 * 1000,
};

export async function runCleanup(deps: CleanupDeps, options: CleanupOptions = DEFAULT_CLEANUP_OPTIONS): Promise<CleanupSummary> {
  const started = performance.now();
  const now = deps.clock();
  const summary = emptySummary();
  const retrier = new Retrier(options.retry, options.requestTimeoutMs, deps.sleep ?? realSleep);
  const deleted: string[] = [];
  const ctx: PassContext = {
    now,
    clock: deps.clock,
    summary,
    retrier,
    deleter: new BatchDeleter(deps.container, options, retrier, summary, deps.log, deleted),
    log: deps.log,
    pageSize: options.pageSize,
    outOfTime: () => performance.now() - started > options.timeBudgetMs,
  };
  deps.log.log(
    `cleanup: deleting exports in container "${deps.container.containerName}" that expired before ${now.toISOString()} ` +
      `(tag query scope ${options.tagQueryScope}, fallback listing up to ${options.fallbackMaxBlobs} blobs` +
      `${deps.jobs ? `, marking jobs in table "${deps.jobs.tableName}"` : ''}${deps.audit ? `, recording deletions in table "${deps.audit.tableName}"` : ''})`,
  );

  await runPass(ctx, 'tag query', () =>
    deleteExpiredByTag(ctx, { scope: options.tagQueryScope, container: deps.container, service: deps.service }),
  );
  // Finish the tag pass's deletes first: the listing then walks a container without them.
  await runPass(ctx, 'batch deletes', () => ctx.deleter.drain());
  await runPass(ctx, 'fallback listing', () =>
    deleteExpiredUntagged(ctx, deps.container, { maxBlobs: options.fallbackMaxBlobs, maxLifetimeMs: options.maxLifetimeMs }),
  );
  await runPass(ctx, 'batch deletes', () => ctx.deleter.drain());
  // Before the jobs are marked: the audit events read each job's organization.
  await runPass(ctx, 'audit trail', () => recordDeletions(ctx, { audit: deps.audit, jobs: deps.jobs }, deleted, options.concurrency));
  const jobs = deps.jobs;
  if (jobs) await runPass(ctx, 'job marking', () => markExpiredJobs(ctx, jobs, options.concurrency));

  summary.retries = retrier.retries;
  summary.durationMs = performance.now() - started;
  return summary;
}

async function runPass(ctx: PassContext, name: string, pass: () => Promise<void>): Promise<void> {
  try {
    await pass();
  } catch (error) {
    const message = `${name} stopped: ${describeError(error)}`;
    ctx.summary.errors.push(message);
    ctx.summary.complete = false;
    ctx.log.error(`cleanup: ${message}`);
  }
}
