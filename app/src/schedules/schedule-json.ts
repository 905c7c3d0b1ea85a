/**
 * How a schedule's parts that no query filters on are written as JSON (SQLite's `data` column,
 * Table Storage's `data` property), and read back with their dates restored and their shape
 * checked, so a record written by another version fails loudly instead of misleading.
 */
import { z } from 'zod';
import { EXPORT_FORMATS } from '../storage/export-store.js';
import type { Schedule, ScheduleClaim, ScheduleRun } from './schedule.js';

/** What is stored as JSON: everything except the fields kept in their own columns/properties. */
export type ScheduleData = Pick<Schedule, 'name' | 'format' | 'cron' | 'keepLast' | 'pausedReason' | 'linkRevokedAt' | 'runs' | 'userId' | 'ownerName' | 'organizationId'> & {
  linkExpiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
  claim?: ScheduleClaim;
};

const date = z.iso.datetime().transform((value) => new Date(value));
const runSchema = z.object({
  slot: date,
  jobId: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
const dataSchema = z.object({
  name: z.string(),
  format: z.enum(EXPORT_FORMATS),
  cron: z.string(),
  keepLast: z.number().int().positive(),
  pausedReason: z.enum(['owner', 'account_inactive']).optional(),
  linkRevokedAt: date.optional(),
  runs: z.array(runSchema),
  userId: z.string(),
  ownerName: z.string(),
  organizationId: z.string(),
  linkExpiresAt: date,
  createdAt: date,
  updatedAt: date,
  claim: z.object({ slot: date, jobId: z.string(), by: z.string(), until: date }).optional(),
});

export function dataOf(schedule: Schedule | Omit<Schedule, 'version'>): ScheduleData {
  const data: ScheduleData = {
    name: schedule.name,
    format: schedule.format,
    cron: schedule.cron,
    keepLast: schedule.keepLast,
    runs: schedule.runs,
    userId: schedule.userId,
    ownerName: schedule.ownerName,
    organizationId: schedule.organizationId,
    linkExpiresAt: schedule.linkExpiresAt,
    createdAt: schedule.createdAt,
    updatedAt: schedule.updatedAt,
  };
  if (schedule.pausedReason) data.pausedReason = schedule.pausedReason;
  if (schedule.linkRevokedAt) data.linkRevokedAt = schedule.linkRevokedAt;
  if (schedule.claim) data.claim = schedule.claim;
  return data;
}

export function encodeData(data: ScheduleData): string {
  return JSON.stringify(data);
}

export function decodeData(json: string, id: string): ScheduleData {
  const parsed = dataSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`Stored schedule ${id} has unreadable data: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { runs, ...rest } = parsed.data;
  const data: ScheduleData = { ...withoutUndefined(rest), runs: runs.map((run) => withoutUndefined(run) as ScheduleRun) } as ScheduleData;
  return data;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
