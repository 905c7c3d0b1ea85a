/**
 * The use cases of refreshing exports behind the API — create, read, list, pause, resume, new
 * stable link, revoke the link, delete — and the stable link itself: `resolveLink` turns
 * `/l/{linkId}` into a freshly minted, short-lived download URL of the latest good result.
 * Every call names the caller; another user's schedule is not found (404), as for exports.
 */
import { randomUUID } from 'node:crypto';
import { actorFields, type AuditTrail } from '../audit/audit-trail.js';
import { noteGuardRefusal } from '../audit/refusals.js';
import type { AccountStatusChecker } from '../auth/account-status.js';
import { actorOf, ownerIdOf, type Principal } from '../auth/principal.js';
import type { SessionUser } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import { targetOf } from '../exports/export-service.js';
import type { ExportJob, JobStore } from '../jobs/job-store.js';
import type { ExportFormat, ExportStore } from '../storage/export-store.js';
import { checkCron, nextRunAfter, newLinkId, type Schedule } from './schedule.js';
import { deleteResult } from './schedule-runner.js';
import type { ScheduleStore } from './schedule-store.js';

export interface SchedulePolicy {
  minIntervalSeconds: number;
  /** A result's lifetime (the maximum export lifetime): no two runs may be further apart. */
  resultTtlMinutes: number;
  maxPerUser: number;
  maxKeep: number;
  linkMaxDays: number;
  /** Lifetime of the download URL each visit of the stable link mints. */
  redirectMinutes: number;
}

export interface NewScheduleRequest {
  name: string;
  sql: string;
  format?: ExportFormat;
  cron: string;
  keepLast?: number;
  linkTtlDays?: number;
}

export const DEFAULT_LINK_DAYS = 90;
export const DEFAULT_KEEP_LAST = 3;

export interface RunView {
  slot: Date;
  exportId: string | null;
  status: ExportJob['status'] | 'failed';
  finishedAt: Date | null;
  rows: number | null;
  error: { code: string; message: string } | null;
}

export interface ScheduleDetails {
  schedule: Schedule;
  runs: RunView[];
  /** The run the stable link serves now, if any. */
  serving: RunView | undefined;
}

export class ScheduleService {
  constructor(
    private readonly deps: {
      store: ScheduleStore;
      jobs: JobStore;
      exportStore: ExportStore;
      guard: (sql: string, user: SessionUser) => { sql: string; tables?: string[] };
      accounts: AccountStatusChecker;
      audit: AuditTrail;
      policy: SchedulePolicy;
      /** Wakes the schedule runner (a new schedule runs its first slot at once). */
      kick: () => void;
      clock?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  async create(user: Principal, request: NewScheduleRequest): Promise<Schedule> {
    const { policy } = this.deps;
    const now = this.now();
    const cron = checkCron(request.cron, { minIntervalSeconds: policy.minIntervalSeconds, maxGapMinutes: policy.resultTtlMinutes }, now);
    const keepLast = request.keepLast ?? Math.min(DEFAULT_KEEP_LAST, policy.maxKeep);
    if (keepLast > policy.maxKeep) throw new AppError('validation_failed', 400, `keepLast: at most ${policy.maxKeep} (got ${keepLast})`);
    const linkDays = request.linkTtlDays ?? Math.min(DEFAULT_LINK_DAYS, policy.linkMaxDays);
    if (linkDays > policy.linkMaxDays) throw new AppError('validation_failed', 400, `linkTtlDays: at most ${policy.linkMaxDays} (got ${linkDays})`);
    let guarded: { sql: string; tables?: string[] };
    try {
      guarded = this.deps.guard(request.sql, user);
    } catch (error) {
      await noteGuardRefusal(this.deps.audit, actorOf(user), request.sql, error);
      throw error;
    }
    const ownerId = ownerIdOf(user);
    const existing = await this.deps.store.listByOwner(ownerId);
    if (existing.length >= policy.maxPerUser) {
      throw new AppError('conflict', 409, `You already have ${existing.length} refreshing exports, the most allowed; delete one first.`);
    }
    const schedule = {
      id: randomUUID(),
      linkId: newLinkId(),
      ownerId,
      ownerName: user.userName,
      userId: user.userId,
      organizationId: user.organizationId,
      name: request.name,
      sql: guarded.sql,
      format: request.format ?? 'csv',
      cron,
      keepLast,
      status: 'active' as const,
      // The first run is now, so the stable link has something to serve soon.
      nextRunAt: now,
      linkExpiresAt: new Date(now.getTime() + linkDays * 86_400_000),
      runs: [],
      createdAt: now,
      updatedAt: now,
    };
    // A long-lived link is a grant: recorded before it exists (fail closed).
    await this.deps.audit.record({
      type: 'schedule.created',
      ...actorFields(actorOf(user)),
      scheduleId: schedule.id,
      sql: schedule.sql,
      ...(guarded.tables ? { tables: guarded.tables } : {}),
      format: schedule.format,
      detail: `cron=${JSON.stringify(cron)} keepLast=${keepLast} linkExpiresAt=${schedule.linkExpiresAt.toISOString()}`,
    });
    const created = await this.deps.store.create(schedule);
    this.deps.kick();
    return created;
  }

  async get(user: Principal, id: string): Promise<Schedule> {
    const schedule = await this.deps.store.get(ownerIdOf(user), id);
    if (!schedule) throw new AppError('not_found', 404, 'No refreshing export with this id');
    return schedule;
  }

  list(user: Principal): Promise<Schedule[]> {
    return this.deps.store.listByOwner(ownerIdOf(user));
  }

  /** The schedule with each run's outcome (from its export job) and the run the link serves. */
  async details(schedule: Schedule): Promise<ScheduleDetails> {
    const now = this.now();
    const runs: RunView[] = [];
    let serving: RunView | undefined;
    for (const run of schedule.runs) {
      const job = run.jobId ? await this.deps.jobs.get(schedule.ownerId, run.jobId) : undefined;
      const view: RunView = {
        slot: run.slot,
        exportId: run.jobId ?? null,
        status: job?.status ?? 'failed',
        finishedAt: job?.finishedAt ?? null,
        rows: job ? job.rows : null,
        error: run.error ?? job?.error ?? (run.jobId && !job ? { code: 'gone', message: 'The result was deleted' } : null),
      };
      runs.push(view);
      if (!serving && job && isServable(job, now)) serving = view;
    }
    return { schedule, runs, serving };
  }

  /** Changes the owner's schedule with a conditional replace, re-reading on a lost race. */
  private async change(user: Principal, id: string, apply: (schedule: Schedule, now: Date) => Schedule): Promise<Schedule> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(user, id);
      const written = await this.deps.store.replace({ ...apply(current, this.now()), updatedAt: this.now() });
      if (written) return written;
    }
    throw new AppError('conflict', 409, 'The refreshing export kept changing; try again.', { retryAfterSeconds: 1 });
  }

  async pause(user: Principal, id: string): Promise<Schedule> {
    const paused = await this.change(user, id, (schedule) => ({ ...schedule, status: 'paused', pausedReason: 'owner', nextRunAt: undefined }));
    await this.deps.audit.note({ type: 'schedule.paused', ...actorFields(actorOf(user)), scheduleId: id, reason: 'owner' });
    return paused;
  }

  async resume(user: Principal, id: string): Promise<Schedule> {
    // A schedule paused because the account was disabled resumes only once EnOS says it is active again.
    const account = await this.deps.accounts.check(user.organizationId, user.userId);
    if (account !== 'active') throw new AppError('account_inactive', 403, 'Your EnOS account is not active; the refreshing export stays paused.');
    const resumed = await this.change(user, id, (schedule, now) => {
      const { pausedReason: _reason, ...rest } = schedule;
      return { ...rest, status: 'active', nextRunAt: nextRunAfter(schedule.cron, now) };
    });
    await this.deps.audit.note({ type: 'schedule.resumed', ...actorFields(actorOf(user)), scheduleId: id, detail: `next run ${resumed.nextRunAt?.toISOString() ?? 'never'}` });
    return resumed;
  }

  /** A new stable URL (the old one dies in the same write), with a new expiry. */
  async newLink(user: Principal, id: string, linkTtlDays?: number): Promise<Schedule> {
    const days = linkTtlDays ?? Math.min(DEFAULT_LINK_DAYS, this.deps.policy.linkMaxDays);
    if (days > this.deps.policy.linkMaxDays) throw new AppError('validation_failed', 400, `linkTtlDays: at most ${this.deps.policy.linkMaxDays} (got ${days})`);
    const linkId = newLinkId();
    const now = this.now();
    const linkExpiresAt = new Date(now.getTime() + days * 86_400_000);
    await this.deps.audit.record({ type: 'schedule.link_renewed', ...actorFields(actorOf(user)), scheduleId: id, detail: `linkExpiresAt=${linkExpiresAt.toISOString()}` });
    return this.change(user, id, (schedule) => {
      const { linkRevokedAt: _revoked, ...rest } = schedule;
      return { ...rest, linkId, linkExpiresAt };
    });
  }

  async revokeLink(user: Principal, id: string): Promise<Schedule> {
    const revoked = await this.change(user, id, (schedule, now) => ({ ...schedule, linkRevokedAt: schedule.linkRevokedAt ?? now }));
    await this.deps.audit.note({ type: 'schedule.link_revoked', ...actorFields(actorOf(user)), scheduleId: id });
    return revoked;
  }

  /** Deletes the schedule (its link dies with it) and its results; the audit trail keeps all of it. */
  async remove(user: Principal, id: string): Promise<void> {
    const schedule = await this.get(user, id);
    if (!(await this.deps.store.delete(schedule.ownerId, id))) throw new AppError('not_found', 404, 'No refreshing export with this id');
    for (const run of schedule.runs) {
      const job = run.jobId ? await this.deps.jobs.get(schedule.ownerId, run.jobId) : undefined;
      if (!job) continue;
      if (job.status === 'queued' || job.status === 'running') {
        await this.deps.jobs.update(job.ownerId, job.id, { cancelRequested: true }, this.now(), ['queued', 'running']);
        continue;
      }
      await deleteResult(this.deps.jobs, this.deps.exportStore, job);
    }
    await this.deps.audit.note({ type: 'schedule.deleted', ...actorFields(actorOf(user)), scheduleId: id, detail: `${schedule.runs.length} runs' results deleted` });
  }

  /**
   * The stable link: the latest good result's download URL (its MLTable's, with several parts: see
   * ExportStore.downloadUrl), minted now for `redirectMinutes`
   * (never past the result's own expiry). Throws 404 for an unknown link, 410 for a revoked or
   * expired link or a paused owner account, 503 while no run has succeeded yet.
   */
  async resolveLink(linkId: string, visit: { clientAddress?: string; requestId?: string }): Promise<string> {
    const schedule = await this.deps.store.getByLinkId(linkId);
    if (!schedule) throw new AppError('not_found', 404, 'No data set at this link');
    const now = this.now();
    if (schedule.linkRevokedAt) throw new AppError('gone', 410, 'This link was revoked by its owner');
    if (schedule.linkExpiresAt <= now) throw new AppError('gone', 410, 'This link has expired; its owner can make a new one');
    if (schedule.pausedReason === 'account_inactive') throw new AppError('gone', 410, "This link's owner account is no longer active");
    // Newest first; the first good result is the one to serve (one read in the usual case).
    let job: ExportJob | undefined;
    for (const run of schedule.runs) {
      const candidate = run.jobId ? await this.deps.jobs.get(schedule.ownerId, run.jobId) : undefined;
      if (candidate && isServable(candidate, now)) {
        job = candidate;
        break;
      }
    }
    if (!job?.result || !job.expiresAt) {
      throw new AppError('not_ready', 503, 'No refresh of this data set has finished yet; try again later', { retryAfterSeconds: 60 });
    }
    const expiresAt = new Date(Math.min(job.expiresAt.getTime(), now.getTime() + this.deps.policy.redirectMinutes * 60_000));
    // Each visit mints a grant: recorded before the URL leaves (fail closed).
    await this.deps.audit.record({
      type: 'schedule.link_served',
      organizationId: schedule.organizationId,
      ownerId: schedule.ownerId,
      userName: schedule.ownerName,
      via: 'stable_link',
      ...(visit.clientAddress ? { clientAddress: visit.clientAddress } : {}),
      ...(visit.requestId ? { requestId: visit.requestId } : {}),
      scheduleId: schedule.id,
      exportId: job.id,
      detail: `download URL until ${expiresAt.toISOString()}`,
    });
    return this.deps.exportStore.downloadUrl(job.result, targetOf(job, expiresAt));
  }
}

/** A result worth serving: succeeded, with a file, and more than a minute of life left. */
function isServable(job: ExportJob, now: Date): boolean {
  return job.status === 'succeeded' && job.result !== undefined && job.expiresAt !== undefined && job.expiresAt.getTime() > now.getTime() + 60_000;
}
