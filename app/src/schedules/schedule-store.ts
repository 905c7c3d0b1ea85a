/**
 * The port of the schedule store. Every change is a conditional replace against the version read
 * (SQLite: `UPDATE … WHERE version = ?`; Table Storage: `If-Match: <ETag>`): that is how two
 * instances reaching the same due schedule decide, without a lock, which one runs it — the loser's
 * write matches nothing. Both adapters pass test/integration/schedules/schedule-store.test.ts.
 */
import type { NewSchedule, Schedule } from './schedule.js';

export interface ScheduleStore {
  create(schedule: NewSchedule): Promise<Schedule>;
  /** The owner's schedule; another owner's id is not found. */
  get(ownerId: string, id: string): Promise<Schedule | undefined>;
  getByLinkId(linkId: string): Promise<Schedule | undefined>;
  /** Newest first. */
  listByOwner(ownerId: string): Promise<Schedule[]>;
  /** Active schedules whose next run is due, and schedules whose claim has lapsed (its instance died mid-claim). */
  listDue(now: Date, limit: number): Promise<Schedule[]>;
  /**
   * Writes `next` only if the stored schedule still has `next.version`; returns it with its new
   * version, or undefined when someone else wrote first (or it was deleted). `next.linkId` may
   * differ from the stored one (a new link): the old link stops resolving in the same write.
   */
  replace(next: Schedule): Promise<Schedule | undefined>;
  /** Deletes the owner's schedule (and its link); false when there was none. */
  delete(ownerId: string, id: string): Promise<boolean>;
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
