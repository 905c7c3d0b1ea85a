/**
 * What every pass of one run shares: the run's fixed "now" (so every judgement in a run agrees),
 * the counters, the retry layer, the delete queue and the time budget.
 */
import type { BatchDeleter } from './batch-delete.js';
import type { CleanupLog } from './log.js';
import type { Retrier } from './retry.js';
import type { CleanupSummary } from './summary.js';

export interface PassContext {
  now: Date;
  clock: () => Date;
  summary: CleanupSummary;
  retrier: Retrier;
  deleter: BatchDeleter;
  log: CleanupLog;
  /** Page size for queries and listings (the service caps it at 5,000). */
  pageSize: number;
  /** True once the run's time budget is spent: passes stop before their next page. */
  outOfTime(): boolean;
}

/** Records that a pass stopped before its end for lack of time; the next run continues. */
export function stopForTime(ctx: PassContext, pass: string): void {
  ctx.summary.complete = false;
  ctx.log.warn(`cleanup: time budget spent during the ${pass}; the next run picks up the rest`);
}

/** The first page of a paged SDK listing, or undefined when the listing has none. */
export async function firstPage<T>(pages: AsyncIterableIterator<T>): Promise<T | undefined> {
  const result = await pages.next();
  return result.done ? undefined : result.value;
}

export function statusOf(error: unknown): number | undefined {
  const status = typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  return typeof status === 'number' ? status : undefined;
}
