/**
 * Runs refreshing exports on time, exactly once per slot across every instance, and survives
 * restarts (the schedule, its next slot and any claim are in the store, not in memory).
 *
 * Every instance ticks; a tick reads the due schedules and, for each, tries to *claim* its slot
 * with one conditional replace (see schedule-store.ts) that at the same time moves `nextRunAt` to
 * the following slot and records the claim (slot, job id, instance, lease). Only one writer's
 * replace can match the version they all read; the others lose and move on. The winner then
 * creates the slot's export job — whose id is derived from the schedule and the slot, so even a
 * second claimant (after a lapsed lease) cannot create a second job — hands it to the local job
 * scheduler, and clears its claim. An instance that dies between the claim and the job leaves a
 * claim whose lease runs out; any instance then takes the claim over and completes the same slot.
 *
 * Before a run the owner's account is checked with EnOS: a disabled or deleted account pauses
 * the schedule (and its stable link stops serving) until the owner resumes it. The SQL is
 * checked by the guard again at every run, with the organization's access as configured then.
 * Missed slots (the connector was down) are not made up one by one: the next tick runs once and
 * the schedule continues at its next slot.
 */
import type { AuditTrail } from '../audit/audit-trail.js';
import { noteGuardRefusal } from '../audit/refusals.js';
import type { AccountStatusChecker } from '../auth/account-status.js';
import type { SessionUser } from '../auth/session-tokens.js';
import { AppError, isAppError } from '../errors.js';
import type { ExportJob, JobStore } from '../jobs/job-store.js';
import type { JobTransition } from '../jobs/observed-job-store.js';
import type { Logger } from '../logger.js';
import type { ExportStore } from '../storage/export-store.js';
import { HISTORY_LENGTH, nextRunAfter, slotJobId, type Schedule, type ScheduleRun } from './schedule.js';
import type { ScheduleStore } from './schedule-store.js';

export interface ScheduleRunnerOptions {
  store: ScheduleStore;
  jobs: JobStore;
  exportStore: ExportStore;
  /** The SQL guard with the organization's access, as for any export. */
  guard: (sql: string, user: SessionUser) => { sql: string; tables?: string[] };
  accounts: AccountStatusChecker;
  audit: AuditTrail;
  /** Wakes the local job scheduler for the job just queued. */
  kick: () => void;
  instanceId: string;
  /** Lifetime of each result (the maximum export lifetime, so the link has something to serve longest). */
  resultTtlMinutes: number;
  tickMs: number;
  /** How long a claim holds before another instance may take it over. @default 120000 */
  leaseMs?: number;
  logger: Logger;
  clock?: () => Date;
}

export interface TickResult {
  /** Slots this instance claimed and ran. */
  ran: number;
  /** Claims another instance won first. */
  lost: number;
  paused: number;
}

const DUE_PAGE = 50;

export class ScheduleRunner {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<TickResult> | undefined;
  private stopped = false;

  constructor(private readonly options: ScheduleRunnerOptions) {}

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.tickMs);
    this.timer.unref();
    this.kick();
  }

  stop(): Promise<unknown> {
    this.stopped = true;
    clearInterval(this.timer);
    return this.ticking ?? Promise.resolve();
  }

  /** A tick soon (e.g. a schedule was just created); never two at once on this instance. */
  kick(): void {
    if (this.stopped || this.ticking) return;
    void this.tick().catch((error: unknown) => this.options.logger.error({ err: error }, 'schedule tick failed'));
  }

  /** One pass over the due schedules. Tests call it directly, on several instances at once. */
  tick(now: Date = this.now()): Promise<TickResult> {
    if (this.ticking) return this.ticking;
    this.ticking = this.runTick(now).finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async runTick(now: Date): Promise<TickResult> {
    const result: TickResult = { ran: 0, lost: 0, paused: 0 };
    for (const schedule of await this.options.store.listDue(now, DUE_PAGE)) {
      if (this.stopped) break;
      try {
        const outcome = await this.handle(schedule, now);
        if (outcome) result[outcome]++;
      } catch (error) {
        // One schedule's trouble (the store, EnOS) must not hold up the others; its claim lapses and is retried.
        this.options.logger.error({ err: error, scheduleId: schedule.id }, 'refreshing export could not be run');
      }
    }
    return result;
  }

  private async handle(schedule: Schedule, now: Date): Promise<keyof TickResult | undefined> {
    const { store, instanceId } = this.options;
    const leaseUntil = new Date(now.getTime() + (this.options.leaseMs ?? 120_000));
    if (schedule.claim) {
      if (schedule.claim.until > now) return undefined;
      // Its instance died mid-claim: take the same slot over (the job id is the same, so no second job).
      const taken = await store.replace({ ...schedule, claim: { ...schedule.claim, by: instanceId, until: leaseUntil }, updatedAt: now });
      if (!taken) return 'lost';
      await this.complete(taken, now);
      return 'ran';
    }
    if (schedule.status !== 'active' || !schedule.nextRunAt || schedule.nextRunAt > now) return undefined;

    const account = await this.options.accounts.check(schedule.organizationId, schedule.userId);
    if (account !== 'active') {
      const paused = await store.replace({ ...schedule, status: 'paused', pausedReason: 'account_inactive', nextRunAt: undefined, updatedAt: now });
      if (!paused) return 'lost';
      await this.options.audit.note({
        type: 'schedule.paused',
        organizationId: schedule.organizationId,
        ownerId: schedule.ownerId,
        userName: schedule.ownerName,
        via: 'system',
        scheduleId: schedule.id,
        reason: `account_${account}`,
        detail: "EnOS says the owner's account is " + account,
      });
      return 'paused';
    }

    const slot = schedule.nextRunAt;
    const next = nextRunAfter(schedule.cron, now);
    const claimed = await store.replace({
      ...schedule,
      nextRunAt: next,
      claim: { slot, jobId: slotJobId(schedule.id, slot), by: instanceId, until: leaseUntil },
      updatedAt: now,
    });
    if (!claimed) return 'lost';
    await this.complete(claimed, now);
    return 'ran';
  }

  /** Makes the claimed slot's job (once), then records the run and releases the claim. */
  private async complete(schedule: Schedule, now: Date): Promise<void> {
    const claim = schedule.claim!;
    const owner: SessionUser = { userId: schedule.userId, userName: schedule.ownerName, organizationId: schedule.organizationId };
    const actor = { organizationId: schedule.organizationId, ownerId: schedule.ownerId, userId: schedule.userId, userName: schedule.ownerName, via: 'schedule' as const };
    let run: ScheduleRun;
    let guarded: { sql: string; tables?: string[] } | undefined;
    try {
      guarded = this.options.guard(schedule.sql, owner);
    } catch (error) {
      if (!isAppError(error)) throw error;
      // A refused statement never becomes a job: the run is recorded as failed on the schedule.
      await noteGuardRefusal(this.options.audit, actor, schedule.sql, error, schedule.id);
      run = { slot: claim.slot, error: { code: error.code, message: error.message } };
    }
    if (guarded) {
      // Recorded before the job exists (fail closed), as every submission; via `schedule`.
      await this.options.audit.record({
        type: 'export.submitted',
        ...actor,
        scheduleId: schedule.id,
        exportId: claim.jobId,
        sql: guarded.sql,
        ...(guarded.tables ? { tables: guarded.tables } : {}),
        format: schedule.format,
        detail: `slot ${claim.slot.toISOString()} on ${this.options.instanceId}`,
      });
      try {
        await this.options.jobs.create(
          {
            id: claim.jobId,
            ownerId: schedule.ownerId,
            ownerName: schedule.ownerName,
            organizationId: schedule.organizationId,
            sql: guarded.sql,
            format: schedule.format,
            ttlMinutes: this.options.resultTtlMinutes,
            instanceId: this.options.instanceId,
          },
          now,
        );
        this.options.kick();
      } catch (error) {
        // 409: the slot's job exists already (a previous claimant made it before it died).
        if (!(error instanceof AppError && error.status === 409)) throw error;
      }
      run = { slot: claim.slot, jobId: claim.jobId };
    }
    await this.release(schedule, run!, now);
    this.options.logger.info({ scheduleId: schedule.id, slot: claim.slot, jobId: run!.jobId }, 'refreshing export run');
  }

  /**
   * A job reached a final state (from the observed job store, on the instance that ran it): when
   * it is a schedule's run that succeeded, older results beyond `keepLast` go now — not at the
   * next run, which may fail and must leave the last good result in place.
   */
  onJobTransition(transition: JobTransition): void {
    if (transition.status !== 'succeeded') return;
    void this.pruneAfterSuccess(transition.job).catch((error: unknown) =>
      this.options.logger.error({ err: error, jobId: transition.job.id }, 'could not prune the results of a refreshing export'),
    );
  }

  private async pruneAfterSuccess(job: ExportJob): Promise<void> {
    for (const schedule of await this.options.store.listByOwner(job.ownerId)) {
      if (!schedule.runs.some((run) => run.jobId === job.id)) continue;
      let current: Schedule | undefined = schedule;
      for (let attempt = 0; current && attempt < 5; attempt++) {
        const kept = await this.prune(current, current.runs);
        if (kept.length === current.runs.length) return;
        if (await this.options.store.replace({ ...current, runs: kept, updatedAt: this.now() })) return;
        current = await this.options.store.get(schedule.ownerId, schedule.id);
      }
    }
  }

  /** Records the run and drops the claim; a concurrent owner change (pause, new link) is merged, not lost. */
  private async release(schedule: Schedule, run: ScheduleRun, now: Date): Promise<void> {
    let current: Schedule | undefined = schedule;
    for (let attempt = 0; current && attempt < 5; attempt++) {
      const runs = [run, ...current.runs.filter((existing) => existing.slot.getTime() !== run.slot.getTime())];
      const kept = await this.prune(current, runs);
      const written = await this.options.store.replace({ ...current, runs: kept.slice(0, HISTORY_LENGTH), claim: undefined, updatedAt: now });
      if (written) return;
      current = await this.options.store.get(schedule.ownerId, schedule.id);
    }
    // Deleted meanwhile, or kept changing: the job stands on its own; the lapsed claim is harmless.
  }

  /**
   * Keeps the newest `keepLast` successful results and deletes older ones (file and job; their
   * audit events stay). Runs whose job is gone are dropped from the history.
   */
  private async prune(schedule: Schedule, runs: ScheduleRun[]): Promise<ScheduleRun[]> {
    const kept: ScheduleRun[] = [];
    let successes = 0;
    for (const run of runs) {
      if (!run.jobId) {
        kept.push(run);
        continue;
      }
      const job = await this.options.jobs.get(schedule.ownerId, run.jobId);
      if (!job) continue;
      if (job.status === 'succeeded' && ++successes > schedule.keepLast) {
        await deleteResult(this.options.jobs, this.options.exportStore, job);
        await this.options.audit.note({
          type: 'export.pruned',
          organizationId: schedule.organizationId,
          ownerId: schedule.ownerId,
          userName: schedule.ownerName,
          via: 'system',
          scheduleId: schedule.id,
          exportId: job.id,
          detail: `older than the ${schedule.keepLast} newest results kept`,
        });
        continue;
      }
      kept.push(run);
    }
    return kept;
  }
}

/** Removes an export's file, then its job; the audit trail keeps what happened. */
export async function deleteResult(jobs: JobStore, store: ExportStore, job: ExportJob): Promise<void> {
  if (job.result) await store.delete(job.result);
  await jobs.delete(job.ownerId, job.id);
}
