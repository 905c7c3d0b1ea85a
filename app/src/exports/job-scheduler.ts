/**
 * Runs this instance's queued exports, at most `maxConcurrent` at a time, and keeps job states
 * truthful whatever happens:
 * - a job is claimed with a conditional queued → running update, so it runs once;
 * - it ends with a conditional running → final update; if that fails (cancelled or deleted in
 *   the meantime) the just-committed file is deleted, so nothing outlives its record;
 * - on start, jobs this instance had queued or running when it died are marked `interrupted`;
 * - a heartbeat touches every job this instance holds; the sweep of any instance marks jobs
 *   nobody touched for `staleAfterMs` `interrupted` (their instance is gone for good, e.g. a
 *   replaced scale-set VM, which never starts again under its old id);
 * - a sweeper deletes expired exports and marks their jobs expired.
 * Cancellation from another instance arrives as `cancelRequested`, read at each progress update
 * and each heartbeat (so also while the query still runs on Hive).
 *
 * Every wait of a run has a deadline of its own (the query's time limit, each Hive, storage and
 * job store call). The heartbeat is also a watchdog for the hang no deadline covers: a job whose
 * pipeline showed no progress for longer than those deadlines allow is aborted and recorded
 * failed with code `stalled`, and the run stops waiting for the step that hangs.
 */
import { AppError, isAppError } from '../errors.js';
import type { ExportJob, JobError, JobPatch, JobStage, JobStore } from '../jobs/job-store.js';
import type { Logger } from '../logger.js';
import type { HiveStatus, QueryRunner, RunningQuery } from '../hive/query-runner.js';
import type { CommittedExport, ExportStore, ExportWriter } from '../storage/export-store.js';
import type { EncodePool } from './encode-pool.js';
import { streamExport, type ExportLimits } from './export-pipeline.js';
import { targetOf, type Scheduler } from './export-service.js';
import { inExportSpan } from '../telemetry/export-telemetry.js';

export interface SchedulerOptions {
  jobs: JobStore;
  store: ExportStore;
  runner: QueryRunner;
  /** Where row sets are decoded and encoded (encode-pool.ts). */
  encoders: EncodePool;
  limits: ExportLimits;
  instanceId: string;
  maxConcurrent: number;
  sweepIntervalMs: number;
  /** How often progress is written to the job store. @default 1000 */
  progressIntervalMs?: number;
  logger: Logger;
  clock?: () => Date;
  /** Extra housekeeping run with each sweep (e.g. the local store's orphan files). */
  onSweep?: (now: Date) => Promise<void>;
  /** After the job store failed to hand out queued work, look again this much later. @default 5000 */
  retryDelayMs?: number;
  /** How often this instance touches the jobs it holds. @default 60000 */
  heartbeatIntervalMs?: number;
  /**
   * An active job untouched this long belongs to no live instance. Many heartbeats long, so a
   * slow store or clocks a little apart between instances never condemn a live job. @default 600000
   */
  staleAfterMs?: number;
  /**
   * The watchdog's limits: how long a running job may show no progress before it is stopped as
   * `stalled`. `starting`: from the claim until the query runs and rows can flow (the query's
   * time limit plus the Hive calls around it); `streaming`: between two signs of progress after
   * that (the file opening, a batch of rows accepted by the store, the commit), i.e. one Hive
   * fetch and one storage call. Set each longer than the deadlines allow, so that only a wait
   * no deadline covers trips it.
   */
  stallLimits: StallLimits;
  /** Called at start with the ids of the jobs it marked interrupted, e.g. to remove their temp files. */
  onInterrupted?: (jobIds: string[]) => Promise<void>;
}

export interface StallLimits {
  starting: number;
  streaming: number;
}

type Phase = keyof StallLimits;

interface RunningJob {
  job: ExportJob;
  /** Cancel, shutdown or the watchdog: the steps of the run are asked to stop. */
  controller: AbortController;
  /** The watchdog only: the run stops waiting for a step that ignores the ask. */
  giveUp: AbortController;
  phase: Phase;
  /** Clock time (ms) of the last sign of progress. */
  lastProgress: number;
}

/** The watchdog's abort reason: the run records the job `stalled`. */
class StalledExport extends Error {
  constructor(readonly idleMs: number) {
    super(`The export made no progress for ${Math.round(idleMs / 60_000)} min and was stopped; run it again`);
  }
}

/** Expired exports the sweep handles per query. */
const SWEEP_PAGE = 100;
/** More than any instance queues (its queue is bounded by configuration to far fewer). */
const QUEUED_TOUCH_LIMIT = 1_000;

const shuttingDown = (): AppError => new AppError('internal', 503, 'The connector is shutting down');

function stageOf(status: HiveStatus): JobStage {
  if (status.stage === 'pending') return { phase: 'hive_pending' };
  return {
    phase: 'hive_running',
    ...(status.percent !== undefined ? { hivePercent: status.percent } : {}),
    ...(status.summary !== undefined ? { hiveSummary: status.summary } : {}),
  };
}

/**
 * `work`, or the abort's reason as soon as `signal` aborts: a step that hangs cannot hold its
 * job. Whatever `work` yields after that goes to `late`, so nothing it opened leaks.
 */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal, late: (value: T) => void): Promise<T> {
  if (signal.aborted) {
    void work.then(late, () => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    const onAbort = () => {
      abandoned = true;
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) late(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/** What the job keeps of a committed export: the port's fields only, whatever else an adapter's answer carries. */
function storedResultOf({ method, location, bytes, sha256, parts }: CommittedExport): CommittedExport {
  return {
    method,
    location,
    bytes,
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(parts ? { parts: parts.map((part) => ({ location: part.location, rows: part.rows, bytes: part.bytes, sha256: part.sha256 })) } : {}),
  };
}

/** What a user reads in `error`: AppError messages are written for them; anything else is not. */
export function jobErrorOf(error: unknown): JobError {
  if (isAppError(error)) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'The export failed because of an internal error' };
}

export class JobScheduler implements Scheduler {
  private readonly running = new Map<string, RunningJob>();
  private pumping = false;
  private pumpAgain = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly options: SchedulerOptions) {}

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  async start(): Promise<void> {
    const interrupted = await this.options.jobs.markInterrupted(this.options.instanceId, this.now());
    if (interrupted.length > 0) {
      this.options.logger.warn({ interrupted: interrupted.length }, 'marked jobs of a previous run as interrupted');
      // Their runs died without cleaning up; what they left behind goes now, not a day later.
      await this.options.onInterrupted?.(interrupted).catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'could not remove what the interrupted jobs left behind'),
      );
    }
    this.sweepTimer = setInterval(() => void this.sweep().catch((error: unknown) => this.options.logger.error({ err: error }, 'sweep failed')), this.options.sweepIntervalMs);
    this.sweepTimer.unref();
    this.heartbeatTimer = setInterval(
      () => void this.heartbeat().catch((error: unknown) => this.options.logger.error({ err: error }, 'heartbeat failed')),
      this.options.heartbeatIntervalMs ?? 60_000,
    );
    this.heartbeatTimer.unref();
    this.kick();
  }

  /** Stops taking work and stops what runs; those jobs end `failed` with code `interrupted`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.retryTimer);
    for (const { controller } of this.running.values()) controller.abort(shuttingDown());
    await this.whenIdle();
  }

  whenIdle(): Promise<void> {
    if (this.running.size === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  get activeCount(): number {
    return this.running.size;
  }

  abortLocal(jobId: string): boolean {
    const entry = this.running.get(jobId);
    entry?.controller.abort();
    return entry !== undefined;
  }

  /**
   * Touches every job this instance holds, so the sweep can tell them from jobs of an instance
   * that is gone. A running job whose record asks for a cancel (taken by another instance) or is
   * no longer running (deleted, or given up as stale) is stopped here, and so is one that made
   * no progress for longer than its stall limit (before any store call, which might hang too).
   */
  async heartbeat(): Promise<void> {
    const { jobs, instanceId } = this.options;
    const now = this.now();
    this.stopStalled(now);
    for (const [id, { job, controller }] of this.running) {
      const current = await jobs.update(job.ownerId, id, {}, now, ['running']);
      if (!current || current.cancelRequested) controller.abort();
    }
    for (const job of await jobs.listQueued(instanceId, QUEUED_TOUCH_LIMIT)) {
      await jobs.update(job.ownerId, job.id, {}, now, ['queued']);
    }
  }

  private stopStalled(now: Date): void {
    for (const [id, entry] of this.running) {
      const idleMs = now.getTime() - entry.lastProgress;
      if (idleMs <= this.options.stallLimits[entry.phase] || entry.giveUp.signal.aborted) continue;
      this.options.logger.warn({ jobId: id, phase: entry.phase, idleMs }, 'export made no progress for longer than its deadlines allow; stopping it');
      const reason = new StalledExport(idleMs);
      // Asked to stop first (unless a cancel or shutdown already asked), then no longer waited for.
      entry.controller.abort(reason);
      entry.giveUp.abort(reason);
    }
  }

  /** A sign of progress of a running job; `phase` moves it on to the next stall limit. */
  private progressed(id: string, phase?: Phase): void {
    const entry = this.running.get(id);
    if (!entry) return;
    entry.lastProgress = this.now().getTime();
    if (phase) entry.phase = phase;
  }

  kick(): void {
    if (this.stopped) return;
    void this.pump().catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'job scheduling failed');
      // Queued jobs wait for a kick (a submit, a job ending); on an idle instance none may come.
      this.retryLater();
    });
  }

  private retryLater(): void {
    if (this.retryTimer !== undefined || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.options.retryDelayMs ?? 5_000);
    this.retryTimer.unref();
  }

  private settleIdle(): void {
    if (this.running.size === 0 && !this.pumping) for (const resolve of this.idle) resolve();
    if (this.running.size === 0 && !this.pumping) this.idle.clear();
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const free = this.options.maxConcurrent - this.running.size;
        if (free <= 0 || this.stopped) break;
        const queued = await this.options.jobs.listQueued(this.options.instanceId, free);
        for (const job of queued) {
          if (this.running.size >= this.options.maxConcurrent || this.stopped) break;
          if (this.running.has(job.id)) continue;
          const now = this.now();
          const claimed = await this.options.jobs.update(job.ownerId, job.id, { status: 'running', startedAt: now }, now, ['queued']);
          if (!claimed) {
            // Cancelled or deleted since the list was read: its slot is free for the next one.
            this.pumpAgain = true;
            continue;
          }
          const controller = new AbortController();
          // stop() may have run while the claim was in flight; the job ends as interrupted at once.
          if (this.stopped) controller.abort(shuttingDown());
          const giveUp = new AbortController();
          this.running.set(job.id, { job: claimed, controller, giveUp, phase: 'starting', lastProgress: this.now().getTime() });
          void inExportSpan(claimed, () => this.run(claimed, controller, giveUp.signal))
            // run() records every failure on the job; this only keeps a bug in it from ending the process.
            .catch((error: unknown) => this.options.logger.error({ err: error, jobId: job.id }, 'export run failed unexpectedly'))
            .finally(() => {
              this.running.delete(job.id);
              this.kick();
              this.settleIdle();
            });
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
      this.settleIdle();
    }
  }

  private async run(job: ExportJob, controller: AbortController, givenUp: AbortSignal): Promise<void> {
    const { jobs, store, runner, logger } = this.options;
    const log = logger.child({ jobId: job.id });
    let query: RunningQuery | undefined;
    let writer: ExportWriter | undefined;
    let committed: CommittedExport | undefined;
    let lastProgress = 0;
    const progressEvery = this.options.progressIntervalMs ?? 1_000;
    let pendingProgress: Promise<unknown> = Promise.resolve();
    let latestProgress: { rows: number; bytes: number } | undefined;
    let trailingProgress: NodeJS.Timeout | undefined;
    let streamingDone = false;
    const recordLatest = () => {
      clearTimeout(trailingProgress);
      trailingProgress = undefined;
      if (streamingDone || !latestProgress) return;
      const now = this.now();
      lastProgress = now.getTime();
      record(latestProgress, now);
    };

    // Progress, stage and schema writes go one at a time, in order; each doubles as the
    // cross-instance cancel check. Nobody awaits the chain until the end, so it must never
    // reject: a rejection would be unhandled (fatal to a Node 20 process) and would stop every
    // later write.
    const record = (patch: JobPatch, now: Date) => {
      pendingProgress = pendingProgress
        .then(async () => {
          const current = await jobs.update(job.ownerId, job.id, patch, now, ['running']);
          if (!current || current.cancelRequested) controller.abort();
        })
        .catch((error: unknown) => log.warn({ err: error }, 'could not record export progress'));
    };

    const { signal } = controller;
    try {
      log.info('export started');
      const started = runner.start(job.sql, {
        signal,
        identity: { exportId: job.id, userName: job.ownerName },
        onHiveStatus: (status) => record({ stage: stageOf(status) }, this.now()),
      });
      query = await unlessAborted(started, givenUp, (late) => void late.close().catch(() => undefined));
      this.progressed(job.id, 'streaming');
      record({ stage: { phase: 'writing' }, schema: query.columns.map(({ name, type, nullable }) => ({ name, type, nullable })) }, this.now());
      const expiresAt = new Date(this.now().getTime() + job.ttlMinutes * 60_000);
      writer = await unlessAborted(store.begin(targetOf(job, expiresAt)), givenUp, (late) => void late.abort().catch(() => undefined));
      this.progressed(job.id);
      const streaming = streamExport({
        query,
        encoders: this.options.encoders,
        writer,
        format: job.format,
        limits: this.options.limits,
        signal,
        onProgress: (progress) => {
          this.progressed(job.id);
          latestProgress = progress;
          const wait = lastProgress + progressEvery - this.now().getTime();
          if (wait <= 0) recordLatest();
          // Throttled, but never dropped: the last count before a pause (Hive holding its next
          // row set) is recorded when the interval ends, not only at the next row set.
          else trailingProgress ??= setTimeout(recordLatest, wait).unref();
        },
      });
      // A file committed after the run gave up belongs to no job: it goes at once.
      const outcome = await unlessAborted(streaming, givenUp, (late) => void store.delete(late.committed).catch(() => undefined)).finally(() => {
        streamingDone = true;
        clearTimeout(trailingProgress);
      });
      committed = outcome.committed;
      await pendingProgress.catch(() => undefined);
      if (controller.signal.aborted) {
        // Cancelled while the file was being committed: it must not outlive the cancellation.
        await store.delete(outcome.committed);
        throw new AppError('conflict', 409, 'The export was cancelled');
      }
      const finishedAt = this.now();
      const done = await jobs.update(
        job.ownerId,
        job.id,
        {
          status: 'succeeded',
          finishedAt,
          expiresAt,
          rows: outcome.rows,
          bytes: outcome.committed.bytes,
          truncated: outcome.truncated,
          result: storedResultOf(outcome.committed),
        },
        finishedAt,
        ['running'],
      );
      if (!done) {
        // Cancelled or deleted while we committed: the file must not outlive its record.
        await store.delete(outcome.committed);
        await this.finish(job, 'cancelled');
        log.info('export cancelled at commit; file removed');
        return;
      }
      if (done.cancelRequested) {
        // A cancel (or a delete, which cancels first) was accepted after our last look but before
        // this write: honour it. Record first, then remove the file, so the job never claims a
        // file that is gone; a delete racing this reads the result from the record and removes it too.
        const cancelledAt = this.now();
        await jobs.update(job.ownerId, job.id, { status: 'cancelled', finishedAt: cancelledAt }, cancelledAt, ['succeeded']);
        await store.delete(outcome.committed);
        log.info('export cancelled as it finished; file removed');
        return;
      }
      log.info({ rows: outcome.rows, bytes: outcome.committed.bytes, parts: outcome.committed.parts?.length ?? 1, truncated: outcome.truncated }, 'export succeeded');
    } catch (error) {
      await pendingProgress.catch(() => undefined);
      const stalled = givenUp.aborted;
      // A stalled run's writer may hang as its upload did: its abort runs in the background.
      if (writer && stalled) void writer.abort().catch(() => undefined);
      else if (writer) await writer.abort().catch(() => undefined);
      let ended: ExportJob | undefined;
      if (controller.signal.aborted) {
        const reason: unknown = controller.signal.reason;
        if (reason instanceof StalledExport) {
          ended = await this.finish(job, 'failed', { code: 'stalled', message: reason.message });
        } else if (isAppError(reason) && reason.status === 503) {
          ended = await this.finish(job, 'failed', { code: 'interrupted', message: 'The connector stopped while the export was running; run it again' });
        } else {
          ended = await this.finish(job, 'cancelled');
        }
        log.info({ reason: stalled ? 'stalled' : isAppError(reason) ? reason.code : 'cancelled' }, 'export stopped');
      } else {
        const jobError = jobErrorOf(error);
        if (!isAppError(error) || error.status >= 500) log.error({ err: isAppError(error) ? (error.cause ?? error) : error }, 'export failed');
        else log.info({ code: jobError.code, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'export failed');
        ended = await this.finish(job, 'failed', jobError);
      }
      // A file committed before the failure (e.g. the success could not be recorded) belongs to
      // no job once this one is recorded as ended; while that is unknown, it stays (the job might
      // yet read succeeded) and its expiry removes it.
      if (ended && committed) {
        await store.delete(committed).catch((failure: unknown) => log.error({ err: failure }, 'could not delete the file of a failed export'));
      }
    } finally {
      const closing = query?.close().catch(() => undefined);
      if (!givenUp.aborted) await closing;
    }
  }

  /** The ended job, or undefined when it was no longer running or the store could not be reached. */
  private async finish(job: ExportJob, status: 'failed' | 'cancelled', error?: JobError): Promise<ExportJob | undefined> {
    const now = this.now();
    return this.options.jobs
      .update(job.ownerId, job.id, { status, finishedAt: now, ...(error ? { error } : {}) }, now, ['running'])
      .catch((failure: unknown) => {
        // The job stays `running` on record; untouched from now on, the sweep ends it as stale.
        this.options.logger.error({ err: failure, jobId: job.id }, 'could not record the end of a job');
        return undefined;
      });
  }

  /**
   * Deletes expired exports and marks their jobs expired; safe to run on every instance. One
   * export that cannot be deleted is logged and skipped, never a reason to stop sweeping.
   */
  async sweep(): Promise<number> {
    const now = this.now();
    const stale = await this.options.jobs.markStale(new Date(now.getTime() - (this.options.staleAfterMs ?? 600_000)), now);
    if (stale > 0) this.options.logger.warn({ stale }, 'marked jobs no instance was looking after as interrupted');
    let swept = 0;
    for (;;) {
      const expired = await this.options.jobs.listExpired(now, SWEEP_PAGE);
      let handled = 0;
      for (const job of expired) {
        try {
          if (await this.expire(job, now)) swept++;
          handled++;
        } catch (error) {
          this.options.logger.error({ err: error, jobId: job.id }, 'could not delete an expired export');
        }
      }
      // A page of nothing but failures would come back unchanged: leave it to the next sweep.
      if (expired.length < SWEEP_PAGE || handled === 0) break;
    }
    await this.options.onSweep?.(now);
    if (swept > 0) this.options.logger.info({ swept }, 'expired exports deleted');
    return swept;
  }

  private async expire(listed: ExportJob, now: Date): Promise<boolean> {
    const { jobs, store } = this.options;
    // The list may be stale: another instance may have renewed the link since. The record decides.
    const current = await jobs.get(listed.ownerId, listed.id);
    if (current?.status !== 'succeeded' || current.expiresAt === undefined || current.expiresAt >= now) return false;
    // Record first: from here on a renewal fails (409) rather than hand out a URL to a file about
    // to go. Should the delete then fail, the blob's expiresAt tag (cleanup function) or the
    // sidecar (local sweeper) still ends the file.
    const marked = await jobs.update(current.ownerId, current.id, { status: 'expired' }, now, ['succeeded']);
    if (!marked) return false;
    if (marked.result) await store.delete(marked.result);
    return true;
  }
}
