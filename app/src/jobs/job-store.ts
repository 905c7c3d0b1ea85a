/**
 * The port for export jobs. Two adapters: SQLite (better-sqlite3, the embedded default for one
 * instance) and Azure Table Storage (several instances behind a load balancer). Both pass the
 * contract suite in test/integration/jobs/job-store.contract.ts.
 *
 * Jobs are partitioned by owner: every read a user makes names the owner, so one user can never
 * reach another's job by id, and the Table adapter can use point reads.
 */
import type { CommittedExport, ExportFormat } from '../storage/export-store.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';
export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running'];
export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export interface JobError {
  /** An ErrorCode-like string, e.g. `hive_error`, `interrupted`, `timeout`. */
  code: string;
  /** Readable by the user who owns the job; no internals. */
  message: string;
}

/** Where a running export is: waiting on Hive, running on Hive (with its progress), writing rows. */
export interface JobStage {
  phase: 'hive_pending' | 'hive_running' | 'writing';
  /** 0–100, from Hive's in-place progress while it runs the query (Tez reports it). */
  hivePercent?: number;
  /** Hive's own progress line, e.g. `VERTICES: 01/02 [==>>--] 50% ELAPSED TIME: 3.21 s`. */
  hiveSummary?: string;
}

/** One column of the result, once Hive has compiled the query. */
export interface JobColumn {
  name: string;
  /** Hive's type text, e.g. `decimal(38,6)`. */
  type: string;
  nullable: boolean;
}

export interface ExportJob {
  id: string;
  ownerId: string;
  ownerName: string;
  organizationId: string;
  sql: string;
  format: ExportFormat;
  ttlMinutes: number;
  status: JobStatus;
  /** The connector instance that accepted and runs the job (for interrupted-job recovery). */
  instanceId: string;
  idempotencyKey?: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** When the download stops working; set on success, moved by `POST …/link`. */
  expiresAt?: Date;
  rows: number;
  bytes: number;
  truncated: boolean;
  cancelRequested: boolean;
  error?: JobError;
  result?: CommittedExport;
  stage?: JobStage;
  schema?: JobColumn[];
}

export type NewExportJob = Omit<
  ExportJob,
  'status' | 'createdAt' | 'updatedAt' | 'rows' | 'bytes' | 'truncated' | 'cancelRequested'
>;

export type JobPatch = Partial<
  Pick<
    ExportJob,
    | 'status'
    | 'startedAt'
    | 'finishedAt'
    | 'expiresAt'
    | 'rows'
    | 'bytes'
    | 'truncated'
    | 'cancelRequested'
    | 'error'
    | 'result'
    | 'stage'
    | 'schema'
  >
>;

export interface JobStore {
  /**
   * Inserts a queued job. With an idempotency key already used by this owner, inserts nothing
   * and returns the earlier job with `created: false` (atomically: two racing creates with the
   * same key yield one job).
   */
  create(job: NewExportJob, now: Date): Promise<{ job: ExportJob; created: boolean }>;
  get(ownerId: string, id: string): Promise<ExportJob | undefined>;
  /** The owner's job created with this idempotency key, if any (one indexed lookup). */
  findByIdempotencyKey(ownerId: string, key: string): Promise<ExportJob | undefined>;
  /** Newest first. */
  listByOwner(ownerId: string, options?: { limit?: number }): Promise<ExportJob[]>;
  /**
   * Applies `patch` only if the job's status is one of `onlyIf` (when given); returns the
   * updated job, or undefined when the job is missing or the condition failed. This is how
   * state transitions stay truthful under races (cancel vs. finish, two instances).
   */
  update(ownerId: string, id: string, patch: JobPatch, now: Date, onlyIf?: readonly JobStatus[]): Promise<ExportJob | undefined>;
  delete(ownerId: string, id: string): Promise<boolean>;
  /** Queued + running jobs, for the concurrency limits and the bounded queue. */
  countActive(filter: { ownerId?: string; instanceId?: string }): Promise<number>;
  /** Oldest first: what this instance should start next. */
  listQueued(instanceId: string, limit: number): Promise<ExportJob[]>;
  /**
   * At start-up: every job of `instanceId` still queued or running is marked failed with error
   * code `interrupted`. Returns their ids (the caller removes what their runs left behind).
   */
  markInterrupted(instanceId: string, now: Date): Promise<string[]>;
  /**
   * Every queued or running job, of any instance, whose `updatedAt` is before `updatedBefore` is
   * marked failed with error code `interrupted`; returns how many. Instances touch their active
   * jobs regularly, so such a job belongs to an instance that is gone for good (a replaced
   * scale-set VM never starts again under its old id) or that lost track of it. Conditional per
   * job: one touched meanwhile is left alone.
   */
  markStale(updatedBefore: Date, now: Date): Promise<number>;
  /** Succeeded jobs whose `expiresAt` is before `now`, for the sweeper (oldest first). */
  listExpired(now: Date, limit: number): Promise<ExportJob[]>;
  /** Throws AppError `not_ready` when the store cannot be reached. */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
