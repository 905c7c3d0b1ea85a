/**
 * The export use cases behind the API: submit, read, list, cancel, new link, delete. Every call
 * names the caller, and jobs are looked up under the caller's owner id, so another user's id
 * is simply not found (404, never 403: ids don't leak). Running jobs is the scheduler's work;
 * this module only records intent and asks the scheduler to act.
 */
import { randomUUID } from 'node:crypto';
import type { AuditTrail } from '../audit/audit-trail.js';
import { actorFields } from '../audit/audit-trail.js';
import { noteGuardRefusal } from '../audit/refusals.js';
import { actorOf, ownerIdOf, type Principal } from '../auth/principal.js';
import type { SessionUser } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import type { ExportJob, JobStore } from '../jobs/job-store.js';
import type { Logger } from '../logger.js';
import { partsOf, type CommittedExport, type ExportFormat, type ExportStore, type ExportTarget } from '../storage/export-store.js';
import { downloadFileName, partFileName } from '../storage/export-naming.js';
import { snippetsFor, type Snippets } from '../snippets/snippets.js';

export interface ExportPolicy {
  defaultTtlMinutes: number;
  maxTtlMinutes: number;
  maxPerUser: number;
  /** Queued + running jobs this instance accepts before answering 429. */
  maxActivePerInstance: number;
}

export interface SubmitRequest {
  sql: string;
  ttlMinutes?: number;
  format?: ExportFormat;
  idempotencyKey?: string;
}

/**
 * Where an export is, in words a user can trust: `queued` (waiting for a slot here),
 * `hive_pending` (Hive accepted it and waits for the cluster), `hive_running` (Hive runs it;
 * `hive` carries its own progress when the engine reports it), `writing` (rows stream into the
 * file), `done` once it ended.
 */
export interface ExportProgressView {
  phase: 'queued' | 'hive_pending' | 'hive_running' | 'writing' | 'done';
  rows: number;
  bytes: number;
  hive: { percent: number | null; summary: string | null } | null;
}

function progressOf(job: ExportJob): ExportProgressView {
  const phase = job.status === 'queued' ? 'queued' : job.status === 'running' ? (job.stage?.phase ?? 'hive_pending') : 'done';
  const hive =
    phase === 'hive_running' && job.stage ? { percent: job.stage.hivePercent ?? null, summary: job.stage.hiveSummary ?? null } : null;
  return { phase, rows: job.rows, bytes: job.bytes, hive };
}

/** What the API shows for a job. */
export interface ExportView {
  id: string;
  status: ExportJob['status'];
  format: ExportFormat;
  sql: string;
  ttlMinutes: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
  progress: ExportProgressView;
  /** The result's columns once Hive has compiled the query; null before. */
  schema: { name: string; type: string; nullable: boolean }[] | null;
  truncated: boolean;
  cancelRequested: boolean;
  error: { code: string; message: string } | null;
  fileName: string;
  /** Every file of a succeeded export, in order: its one file, or each of its parts; empty otherwise. */
  files: ExportFileView[];
  /** The one file's URL (= files[0].url); null with several parts, or until the export succeeded. */
  downloadUrl: string | null;
  /** With several parts, the URL of the MLTable that names them all; null otherwise. */
  mltableUrl: string | null;
  /** Code that reads the result in pandas and in Azure ML, typed from `schema`; null until it succeeded. */
  snippets: Snippets | null;
}

/** One file of an export as the API shows it: a complete file of its own. */
export interface ExportFileView {
  url: string;
  /** The name a download saves it as, e.g. `enos-export-20261127-2110-1a2b3c4d-part-00002.csv`. */
  name: string;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the bytes the URL returns. */
  sha256: string;
}

export interface Scheduler {
  /** Something changed: look for queued work. */
  kick(): void;
  /** Stops the job if this instance runs it; returns whether it did. */
  abortLocal(jobId: string): boolean;
}

export { ownerIdOf };

export function fileNameOf(job: Pick<ExportJob, 'id' | 'createdAt'>): string {
  const stamp = job.createdAt.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `enos-export-${stamp}-${job.id.slice(0, 8)}`;
}

export function targetOf(job: ExportJob, expiresAt: Date): ExportTarget {
  return { jobId: job.id, ownerId: job.ownerId, fileName: fileNameOf(job), format: job.format, expiresAt };
}

const iso = (date: Date | undefined) => (date ? date.toISOString() : null);

export class ExportService {
  constructor(
    private readonly deps: {
      jobs: JobStore;
      store: ExportStore;
      scheduler: Scheduler;
      /** Throws the SQL guard's AppError for anything but an allowed single SELECT; names the tables it reads. */
      guard: (sql: string, user: SessionUser) => { sql: string; tables?: string[] };
      policy: ExportPolicy;
      instanceId: string;
      logger: Logger;
      clock?: () => Date;
      /** Where submissions, refusals, renewals, cancels and deletes are recorded. @default none (unit tests) */
      audit?: AuditTrail;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  async submit(user: Principal, request: SubmitRequest): Promise<{ job: ExportJob; created: boolean }> {
    const { policy, jobs } = this.deps;
    const ttlMinutes = request.ttlMinutes ?? policy.defaultTtlMinutes;
    if (ttlMinutes > policy.maxTtlMinutes) {
      throw new AppError('validation_failed', 400, `ttlMinutes must be at most ${policy.maxTtlMinutes} (got ${ttlMinutes})`);
    }
    let guarded: { sql: string; tables?: string[] };
    try {
      guarded = this.deps.guard(request.sql, user);
    } catch (error) {
      await noteGuardRefusal(this.deps.audit, actorOf(user), request.sql, error);
      throw error;
    }
    const ownerId = ownerIdOf(user);
    const asked = { sql: guarded.sql, format: request.format ?? 'csv', ttlMinutes };

    if (request.idempotencyKey) {
      // A retried request must not hit the limits a second time: answer with the first job.
      const earlier = await this.deps.jobs.findByIdempotencyKey(ownerId, request.idempotencyKey);
      if (earlier) return this.replay(earlier, asked);
    }
    const [mine, here] = await Promise.all([jobs.countActive({ ownerId }), jobs.countActive({ instanceId: this.deps.instanceId })]);
    if (mine >= policy.maxPerUser) {
      throw new AppError('rate_limited', 429, `You already have ${mine} exports queued or running; wait for one to finish`, { retryAfterSeconds: 30 });
    }
    if (here >= policy.maxActivePerInstance) {
      throw new AppError('queue_full', 429, 'The export queue is full; try again shortly', { retryAfterSeconds: 60 });
    }
    const id = randomUUID();
    // Recorded before the job exists (fail closed): there is no export the trail does not know of.
    const submitted = await this.deps.audit?.record({
      type: 'export.submitted',
      ...actorFields(actorOf(user)),
      exportId: id,
      sql: guarded.sql,
      ...(guarded.tables ? { tables: guarded.tables } : {}),
      format: asked.format,
      detail: `ttlMinutes=${ttlMinutes}`,
    });
    let result: { job: ExportJob; created: boolean };
    try {
      result = await jobs.create(
        {
          id,
          ownerId,
          ownerName: user.userName,
          organizationId: user.organizationId,
          ...asked,
          instanceId: this.deps.instanceId,
          ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
        },
        this.now(),
      );
    } catch (error) {
      if (submitted) await this.deps.audit?.note({ ...submitted, type: 'export.failed', outcome: 'failure', reason: 'not_created', detail: 'The job could not be stored' });
      throw error;
    }
    if (!result.created) {
      // A racing retry with the same Idempotency-Key won: this id never became an export.
      if (submitted) await this.deps.audit?.note({ ...submitted, type: 'export.failed', outcome: 'failure', reason: 'idempotent_replay', detail: `answered by export ${result.job.id}` });
      return this.replay(result.job, asked);
    }
    this.deps.logger.info({ jobId: result.job.id, org: user.organizationId }, 'export queued');
    this.deps.scheduler.kick();
    return result;
  }

  /** The earlier job answers a retry only if it is what this request asks for. */
  private replay(job: ExportJob, asked: Pick<ExportJob, 'sql' | 'format' | 'ttlMinutes'>): { job: ExportJob; created: boolean } {
    if (job.sql !== asked.sql || job.format !== asked.format || job.ttlMinutes !== asked.ttlMinutes) {
      throw new AppError('conflict', 422, 'This Idempotency-Key was already used for a different request');
    }
    return { job, created: false };
  }

  async get(user: SessionUser, id: string): Promise<ExportJob> {
    const job = await this.deps.jobs.get(ownerIdOf(user), id);
    if (!job) throw new AppError('not_found', 404, 'No export with this id');
    return job;
  }

  list(user: SessionUser, limit = 100): Promise<ExportJob[]> {
    return this.deps.jobs.listByOwner(ownerIdOf(user), { limit });
  }

  async cancel(user: Principal, id: string): Promise<ExportJob> {
    const job = await this.get(user, id);
    const now = this.now();
    const noteCancel = () => this.deps.audit?.note({ type: 'export.cancelled', ...actorFields(actorOf(user)), exportId: id });
    if (job.status === 'queued') {
      const cancelled = await this.deps.jobs.update(job.ownerId, id, { status: 'cancelled', finishedAt: now, cancelRequested: true }, now, ['queued']);
      if (cancelled) {
        await noteCancel();
        return cancelled;
      }
    }
    const requested = await this.deps.jobs.update(job.ownerId, id, { cancelRequested: true }, now, ['running']);
    if (requested) {
      // Runs here: stop it now. Runs elsewhere: that instance sees cancelRequested at its next progress update.
      this.deps.scheduler.abortLocal(id);
      await noteCancel();
      return requested;
    }
    const current = await this.get(user, id);
    throw new AppError('conflict', 409, `The export is already ${current.status} and cannot be cancelled`);
  }

  async newLink(user: Principal, id: string, ttlMinutes?: number): Promise<ExportJob> {
    const job = await this.get(user, id);
    const now = this.now();
    if (job.status === 'expired' || (job.status === 'succeeded' && job.expiresAt && job.expiresAt <= now)) {
      // Past its expiry the cleanup may delete the file at any moment: never hand out a URL to it.
      throw new AppError('gone', 410, 'This export has expired; run it again for a new file');
    }
    if (job.status !== 'succeeded' || !job.result) {
      throw new AppError('conflict', 409, `Only a finished export has a download link (this one is ${job.status})`);
    }
    // The storage lifecycle policy deletes exports older than the maximum lifetime, so a link
    // can never outlive creation + maximum lifetime, whatever was asked.
    const limit = job.createdAt.getTime() + this.deps.policy.maxTtlMinutes * 60_000;
    const wanted = now.getTime() + (ttlMinutes ?? job.ttlMinutes) * 60_000;
    if (ttlMinutes !== undefined && ttlMinutes > this.deps.policy.maxTtlMinutes) {
      throw new AppError('validation_failed', 400, `ttlMinutes must be at most ${this.deps.policy.maxTtlMinutes} (got ${ttlMinutes})`);
    }
    const expiresAt = new Date(Math.min(wanted, limit));
    if (expiresAt.getTime() <= now.getTime() + 60_000) {
      throw new AppError('gone', 410, 'This export has reached its maximum lifetime; run it again for a new file');
    }
    // A new link is a new grant: recorded first (fail closed).
    await this.deps.audit?.record({ type: 'export.link_renewed', ...actorFields(actorOf(user)), exportId: id, detail: `expiresAt=${expiresAt.toISOString()}` });
    await this.deps.store.extendExpiry(job.result, targetOf(job, expiresAt));
    const updated = await this.deps.jobs.update(job.ownerId, id, { expiresAt }, now, ['succeeded']);
    if (!updated) throw new AppError('conflict', 409, 'The export changed while the link was being made; try again');
    return updated;
  }

  async remove(user: Principal, id: string): Promise<void> {
    let job = await this.get(user, id);
    const now = this.now();
    if (job.status === 'queued' || job.status === 'running') {
      const requested = await this.deps.jobs.update(job.ownerId, id, { cancelRequested: true }, now, ['queued', 'running']);
      this.deps.scheduler.abortLocal(id);
      // Still active: its runner sees the request at its final write and removes its own file.
      // No longer active: it finished since we read it, and its file is on the record now.
      job = requested ?? (await this.deps.jobs.get(job.ownerId, id)) ?? job;
    }
    // Data first: if deleting the record failed after, the user can retry; the reverse would
    // leave an unreachable file behind until the sweeper finds it.
    if (job.result) await this.deps.store.delete(job.result);
    await this.deps.jobs.delete(job.ownerId, id);
    this.deps.logger.info({ jobId: id }, 'export deleted');
    // The data is gone; its audit events stay.
    await this.deps.audit?.note({ type: 'export.deleted', ...actorFields(actorOf(user)), exportId: id, ...(job.result ? { detail: `deleted ${job.result.method}:${job.result.location}${job.result.parts ? ` and its ${job.result.parts.length} parts` : ''}` } : {}) });
  }

  /** Renders a job for its owner; the download URLs only while they really work. */
  async view(job: ExportJob): Promise<ExportView> {
    const now = this.now();
    const expired = job.status === 'expired' || (job.status === 'succeeded' && job.expiresAt !== undefined && job.expiresAt <= now);
    const status = expired ? 'expired' : job.status;
    const urls = status === 'succeeded' && job.result && job.expiresAt ? await this.urlsOf(job, job.result, job.expiresAt) : undefined;
    const view: Omit<ExportView, 'snippets'> = {
      id: job.id,
      status,
      format: job.format,
      sql: job.sql,
      ttlMinutes: job.ttlMinutes,
      createdAt: job.createdAt.toISOString(),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
      expiresAt: iso(job.expiresAt),
      progress: progressOf(job),
      schema: job.schema ?? null,
      truncated: job.truncated,
      cancelRequested: job.cancelRequested,
      error: job.error ?? null,
      fileName: fileNameOf(job),
      files: urls?.files ?? [],
      downloadUrl: urls?.downloadUrl ?? null,
      mltableUrl: urls?.mltableUrl ?? null,
    };
    return { ...view, snippets: snippetsFor(view) };
  }

  /** URLs minted for this answer, each until the export's expiry. */
  private async urlsOf(job: ExportJob, result: CommittedExport, expiresAt: Date): Promise<Pick<ExportView, 'files' | 'downloadUrl' | 'mltableUrl'>> {
    const target = targetOf(job, expiresAt);
    const parts = partsOf(result, job.rows);
    const [entry, partUrls] = await Promise.all([this.deps.store.downloadUrl(result, target), result.parts ? this.deps.store.partUrls(result, target) : undefined]);
    const files = parts.map((part, index) => ({
      url: partUrls?.[index] ?? entry,
      name: downloadFileName(result.parts ? partFileName(target.fileName, index + 1) : target.fileName, job.format),
      rows: part.rows,
      bytes: part.bytes,
      sha256: part.sha256,
    }));
    return result.parts ? { files, downloadUrl: null, mltableUrl: entry } : { files, downloadUrl: entry, mltableUrl: null };
  }
}
