/**
 * A refreshing export: a query its owner's schedule runs again and again, whose latest good
 * result is always behind one stable URL (`/l/{linkId}`) — so an Azure ML data asset registered
 * once keeps working while the data under it is renewed.
 *
 * Time is UTC. A schedule's cron has 5 fields (minute first) or 6 (seconds first), read by croner,
 * the same parser the cleanup schedule uses. Each run belongs to one *slot* (the instant the cron
 * named); the export job of a slot has an id derived from the schedule and the slot, so however
 * many instances reach a slot, at most one job can exist for it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import { AppError } from '../errors.js';
import type { ExportFormat } from '../storage/export-store.js';

export interface ScheduleRun {
  slot: Date;
  /** The export job of this run; absent when the run failed before a job existed (the guard refused the SQL). */
  jobId?: string;
  error?: { code: string; message: string };
}

export interface ScheduleClaim {
  slot: Date;
  jobId: string;
  /** The instance that claimed the slot, and until when its claim holds. */
  by: string;
  until: Date;
}

export interface Schedule {
  id: string;
  /** The unguessable part of the stable URL; no user credential is in it. */
  linkId: string;
  ownerId: string;
  ownerName: string;
  userId: string;
  organizationId: string;
  name: string;
  sql: string;
  format: ExportFormat;
  cron: string;
  /** Results kept; older ones are deleted as newer ones succeed. */
  keepLast: number;
  status: 'active' | 'paused';
  pausedReason?: 'owner' | 'account_inactive';
  /** The next slot to run; set while active. */
  nextRunAt?: Date;
  linkExpiresAt: Date;
  linkRevokedAt?: Date;
  /** Newest first, at most HISTORY_LENGTH. */
  runs: ScheduleRun[];
  claim?: ScheduleClaim;
  createdAt: Date;
  updatedAt: Date;
  /** The store's concurrency token (a counter in SQLite, the ETag in Table Storage). */
  version: string;
}

export type NewSchedule = Omit<Schedule, 'version'>;

export const HISTORY_LENGTH = 20;
/** 32 random bytes, base64url. */
export const LINK_ID = /^[A-Za-z0-9_-]{43}$/;

export const newLinkId = (): string => randomBytes(32).toString('base64url');

/**
 * The export job id of a slot: a UUID (version 4 layout, as every export id) made from a hash of
 * the schedule and the slot, so a second instance reaching the same slot makes the same id and
 * the job store's unique key refuses it.
 */
export function slotJobId(scheduleId: string, slot: Date): string {
  const hex = createHash('sha256').update(`${scheduleId}\n${slot.toISOString()}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function cronOf(expression: string): Cron {
  try {
    return new Cron(expression.trim(), { paused: true, timezone: 'UTC', mode: '5-or-6-parts' });
  } catch (error) {
    throw new AppError('validation_failed', 400, `cron: ${(error as Error).message.replace(/^CronPattern: /, '')} (got ${JSON.stringify(expression)})`);
  }
}

/** The first slot after `after`, or undefined when the cron never fires again. */
export function nextRunAfter(expression: string, after: Date): Date | undefined {
  const cron = cronOf(expression);
  try {
    return cron.nextRun(after) ?? undefined;
  } finally {
    cron.stop();
  }
}

/** How many coming slots are sampled to judge a cron's spacing. */
const SAMPLED_RUNS = 60;

/**
 * Checks a cron for a refreshing export: it must fire, no two runs may be closer than
 * `minIntervalSeconds` (Hive is shared), and none further apart than `maxGapMinutes` — the
 * lifetime of a result, past which the stable URL would have nothing to serve. Returns the cron
 * trimmed; throws AppError 400 naming what is wrong.
 */
export function checkCron(expression: string, rules: { minIntervalSeconds: number; maxGapMinutes: number }, now: Date): string {
  const trimmed = expression.trim();
  const cron = cronOf(trimmed);
  try {
    const runs = cron.nextRuns(SAMPLED_RUNS, now);
    if (runs.length === 0) throw new AppError('validation_failed', 400, `cron: ${JSON.stringify(trimmed)} never runs`);
    for (let i = 1; i < runs.length; i++) {
      const gapMs = runs[i]!.getTime() - runs[i - 1]!.getTime();
      if (gapMs < rules.minIntervalSeconds * 1000) {
        throw new AppError('validation_failed', 400, `cron: runs ${gapMs / 1000} s apart (${runs[i - 1]!.toISOString()}, ${runs[i]!.toISOString()}); the minimum interval is ${rules.minIntervalSeconds} s`);
      }
      if (gapMs > rules.maxGapMinutes * 60_000) {
        throw new AppError('validation_failed', 400, `cron: runs ${Math.round(gapMs / 60_000)} minutes apart; a result lives ${rules.maxGapMinutes} minutes, so the link would go dark between runs`);
      }
    }
    return trimmed;
  } finally {
    cron.stop();
  }
}
