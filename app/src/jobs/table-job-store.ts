/**
 * JobStore on Azure Table Storage (@azure/data-tables), for several connector instances behind
 * a load balancer. Jobs are partitioned by owner (see table-job-entity.ts for the layout the
 * cleanup function relies on), so every user-facing read is a point read.
 *
 * Atomicity comes from the service, not from this process: a job and its idempotency entity
 * are created in one entity-group transaction (the second racing create conflicts and reads the
 * winner back), and conditional updates are read–check–merge with If-Match on the ETag.
 */
import { odata, RestError, type TableClient } from '@azure/data-tables';
import { deadlinePerCall, startDeadline, unlessAborted, withDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import { tableCalls } from '../table-calls.js';
import {
  ACTIVE_STATUSES,
  type ExportJob,
  type JobPatch,
  type JobStatus,
  type JobStore,
  type NewExportJob,
} from './job-store.js';
import { applyPatch, interruptedPatch, newJobRecord, stalePatch } from './job-records.js';
import { newestFirst, oldestFirst, soonestExpiryFirst, takeFirst } from './job-order.js';
import { jobIdTaken, jobKeptChanging, jobStoreFailed, jobStoreNotReady } from './job-store-errors.js';
import {
  EXCLUDE_IDEMPOTENCY_ROWS,
  fromJobEntity,
  idempotencyRowKey,
  isJobKey,
  isJobRowKey,
  jobIdOf,
  toJobEntity,
  type IdempotencyEntity,
} from './table-job-entity.js';

export const DEFAULT_JOB_TABLE_NAME = 'exportjobs';

export interface TableJobStoreOptions {
  /** A client for the jobs table; the store creates the table on first use. */
  client: TableClient;
  /**
   * The table the store expects `client` to target; a mismatch is a wiring mistake and throws.
   * @default 'exportjobs' (the table the cleanup function reads)
   */
  tableName?: string;
  /** How long `checkReady` waits for the service before answering not ready. @default 5000 */
  readyTimeoutMs?: number;
  /** Read–check–merge rounds before an update that keeps losing to other writers gives up. @default 5 */
  maxUpdateAttempts?: number;
  /**
   * Deadline of each Table call (a listing gets four times as long). The SDK sets no client-side
   * timeout, so without it an endpoint that stopped answering would hold a request or a job.
   * @default 15000
   */
  operationTimeoutMs?: number;
}

/** Rounds of "create conflicted, but the winner vanished before we could read it". */
const MAX_CREATE_ATTEMPTS = 3;

const ACTIVE_FILTER = `(${ACTIVE_STATUSES.map((status) => odata`status eq ${status}`).join(' or ')})`;

type Entity = Record<string, unknown>;

export function createTableJobStore(options: TableJobStoreOptions): JobStore {
  const { client } = options;
  const tableName = options.tableName ?? DEFAULT_JOB_TABLE_NAME;
  if (client.tableName !== tableName) {
    throw new Error(`The job store's TableClient targets table ${JSON.stringify(client.tableName)}; expected ${JSON.stringify(tableName)}`);
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 5000;
  const maxUpdateAttempts = options.maxUpdateAttempts ?? 5;
  const operationTimeoutMs = options.operationTimeoutMs ?? 15_000;
  /** One Table call under its deadline. */
  const timed = deadlinePerCall(operationTimeoutMs);

  /** Every method runs inside `guarded`: SDK errors become AppErrors at the boundary. */
  const { guarded, probe } = tableCalls(client, timed, jobStoreFailed);

  async function readJob(ownerId: string, id: string): Promise<{ job: ExportJob; etag: string } | undefined> {
    // An id that cannot be a job's key names no job; asking the service would only earn a 400.
    if (!isJobKey(ownerId) || !isJobRowKey(id)) return undefined;
    const entity = await ifFound(timed((options) => client.getEntity<Entity>(ownerId, id, options)));
    return entity && { job: fromJobEntity(entity), etag: entity.etag };
  }

  /**
   * A listing, all its pages, under one deadline four times a single call's. Each step is raced
   * against the deadline too: an SDK that lost the abort would otherwise hold the listing.
   */
  async function* queryJobs(filter: string): AsyncIterable<ExportJob> {
    const deadline = startDeadline(operationTimeoutMs * 4);
    const entities: AsyncIterator<Entity> = client.listEntities<Entity>({ queryOptions: { filter }, abortSignal: deadline.signal })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const read = await unlessAborted(entities.next(), deadline.signal);
        if (read.done) return;
        yield fromJobEntity(read.value);
      }
    } finally {
      deadline.clear();
      void entities.return?.(undefined).catch(() => undefined);
    }
  }

  /**
   * The job that holds the key (two point reads). An idempotency entity whose job is gone
   * (deleted by hand or by another tool) is removed so that the key works again.
   */
  async function jobHoldingKey(ownerId: string, key: string): Promise<ExportJob | undefined> {
    const rowKey = idempotencyRowKey(key);
    const holder = await ifFound(timed((options) => client.getEntity<Entity>(ownerId, rowKey, options)));
    if (!holder) return undefined;
    const job = await readJob(ownerId, jobIdOf(holder));
    if (!job) await ifFound(timed((options) => client.deleteEntity(ownerId, rowKey, { etag: holder.etag, ...options })), [404, 412]);
    return job?.job;
  }

  async function create(input: NewExportJob, now: Date): Promise<{ job: ExportJob; created: boolean }> {
    const job = newJobRecord(input, now);
    if (!isJobKey(job.ownerId) || !isJobRowKey(job.id)) {
      throw new AppError('internal', 500, `Job ${JSON.stringify(job.id)} of owner ${JSON.stringify(job.ownerId)} cannot be a Table Storage key.`);
    }
    const key = job.idempotencyKey;
    if (key === undefined) {
      try {
        await timed((options) => client.createEntity(toJobEntity(job), options));
        return { job, created: true };
      } catch (error) {
        throw statusOf(error) === 409 ? jobIdTaken(job.id, error) : error;
      }
    }

    const holder: IdempotencyEntity = { partitionKey: job.ownerId, rowKey: idempotencyRowKey(key), jobId: job.id };
    for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
      try {
        await timed((options) =>
          client.submitTransaction(
            [
              ['create', toJobEntity(job)],
              ['create', holder],
            ],
            options,
          ),
        );
        return { job, created: true };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      const winner = await jobHoldingKey(job.ownerId, key);
      if (winner) return { job: winner, created: false };
      if (await readJob(job.ownerId, job.id)) throw jobIdTaken(job.id);
      // The key's holder vanished between our conflict and the read: the key is free again.
    }
    throw new AppError('conflict', 409, `Idempotency key kept changing hands while creating job ${job.id}; please retry.`);
  }

  async function update(
    ownerId: string,
    id: string,
    patch: JobPatch,
    now: Date,
    onlyIf?: readonly JobStatus[],
    alsoIf: (job: ExportJob) => boolean = () => true,
  ): Promise<ExportJob | undefined> {
    for (let attempt = 1; ; attempt++) {
      const current = await readJob(ownerId, id);
      if (!current || (onlyIf && !onlyIf.includes(current.job.status)) || !alsoIf(current.job)) return undefined;
      const updated = applyPatch(current.job, patch, now);
      try {
        await timed((options) => client.updateEntity(toJobEntity(updated), 'Merge', { etag: current.etag, ...options }));
        return updated;
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return undefined;
        // 412: someone wrote the job since we read it; decide again on what they wrote.
        if (status !== 412) throw error;
        if (attempt >= maxUpdateAttempts) throw jobKeptChanging(id, attempt);
      }
    }
  }

  return {
    create: (input, now) => guarded(() => create(input, now)),

    get: (ownerId, id) => guarded(async () => (await readJob(ownerId, id))?.job),
    findByIdempotencyKey: (ownerId, key) => guarded(() => jobHoldingKey(ownerId, key)),

    listByOwner: (ownerId, listOptions = {}) =>
      guarded(() =>
        // Table Storage returns RowKey (job id) order, so newest-first is sorted here.
        takeFirst(queryJobs(`${odata`PartitionKey eq ${ownerId}`} and ${EXCLUDE_IDEMPOTENCY_ROWS}`), newestFirst, listOptions.limit ?? Infinity),
      ),

    update: (ownerId, id, patch, now, onlyIf) => guarded(() => update(ownerId, id, patch, now, onlyIf)),

    delete: (ownerId, id) =>
      guarded(async () => {
        const current = await readJob(ownerId, id);
        if (!current) return false;
        const key = current.job.idempotencyKey;
        const deleteJob = () => ifFound(timed((options) => client.deleteEntity(ownerId, id, options)));
        if (key === undefined) return (await deleteJob()) !== undefined;
        // Together, so the key is freed exactly when its job goes. A 404 means either entity
        // was already gone; then the job alone decides the answer.
        const deleted = await ifFound(
          timed((options) =>
            client.submitTransaction(
              [
                ['delete', { partitionKey: ownerId, rowKey: id }],
                ['delete', { partitionKey: ownerId, rowKey: idempotencyRowKey(key) }],
              ],
              options,
            ),
          ),
        );
        return deleted !== undefined || (await deleteJob()) !== undefined;
      }),

    countActive: (filter) =>
      guarded(async () => {
        const clauses = [ACTIVE_FILTER];
        if (filter.ownerId !== undefined) clauses.push(odata`PartitionKey eq ${filter.ownerId}`);
        if (filter.instanceId !== undefined) clauses.push(odata`instanceId eq ${filter.instanceId}`);
        const query = { filter: clauses.join(' and '), select: ['RowKey'] };
        return withDeadline(operationTimeoutMs * 4, async (abortSignal) => {
          let count = 0;
          for await (const _entity of client.listEntities({ queryOptions: query, abortSignal })) count++;
          return count;
        });
      }),

    listQueued: (instanceId, limit) =>
      guarded(() => takeFirst(queryJobs(odata`status eq ${'queued'} and instanceId eq ${instanceId}`), oldestFirst, limit)),

    markInterrupted: (instanceId, now) =>
      guarded(async () => {
        const stranded: ExportJob[] = [];
        for await (const job of queryJobs(`${ACTIVE_FILTER} and ${odata`instanceId eq ${instanceId}`}`)) stranded.push(job);
        const marked: string[] = [];
        for (const job of stranded) {
          // Conditional, so a job another writer finished meanwhile keeps its real outcome.
          const updated = await update(job.ownerId, job.id, interruptedPatch(now), now, ACTIVE_STATUSES);
          if (updated) marked.push(job.id);
        }
        return marked;
      }),

    markStale: (updatedBefore, now) =>
      guarded(async () => {
        const stale: ExportJob[] = [];
        for await (const job of queryJobs(`${ACTIVE_FILTER} and ${odata`updatedAt lt ${updatedBefore}`}`)) stale.push(job);
        let marked = 0;
        for (const job of stale) {
          // Re-checked on the current entity under its ETag: a job touched since the query stays.
          const isStale = (current: ExportJob) => current.updatedAt < updatedBefore;
          const updated = await update(job.ownerId, job.id, stalePatch(now), now, ACTIVE_STATUSES, isStale);
          if (updated) marked++;
        }
        return marked;
      }),

    listExpired: (now, limit) =>
      guarded(() => takeFirst(queryJobs(odata`status eq ${'succeeded'} and expiresAt lt ${now}`), soonestExpiryFirst, limit)),

    async checkReady() {
      try {
        await withDeadline(readyTimeoutMs, (abortSignal) => probe(abortSignal));
      } catch (error) {
        throw jobStoreNotReady(error);
      }
    },

    // The TableClient belongs to the caller and holds no connection of ours to release.
    async close() {},
  };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : undefined;
}

/** The operation's result, or undefined when the service answers with one of `absentStatuses`. */
async function ifFound<T>(operation: Promise<T>, absentStatuses: readonly number[] = [404]): Promise<T | undefined> {
  try {
    return await operation;
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined && absentStatuses.includes(status)) return undefined;
    throw error;
  }
}
