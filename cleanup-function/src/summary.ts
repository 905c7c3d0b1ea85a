/**
 * What one run did, as counts, and the one line it logs at the end. The line is `key=value`
 * pairs so a log query can split it (App Insights: `parse_kv`) and a person can read it.
 */
export interface CleanupSummary {
  /** Exports judged expired: tag-query hits plus untagged blobs the fallback pass judged. */
  found: number;
  deleted: number;
  /** Deleted by someone else between finding and deleting: counts as done. */
  alreadyGone: number;
  /** Still there after the retries (or refused); the next run finds them again. */
  failed: number;
  /** Found but not deleted because the blob turned out not to be expired (its tag or ETag moved). */
  skipped: number;
  /** Retries of transient failures (429, 5xx, timeouts) across every request of the run. */
  retries: number;
  /** Blobs the fallback pass listed this run (bounded by its budget). */
  fallbackListed: number;
  jobsExpired: number;
  /** Jobs that matched the query but were changed meanwhile and, re-read, are not expired. */
  jobsSkipped: number;
  jobsFailed: number;
  /** Deletions recorded in the audit table (when there is one; every deletion is logged either way). */
  audited: number;
  /** False when a pass stopped early (time budget, or a query that kept failing). */
  complete: boolean;
  /** Pass-level failures, already logged; the handler fails the invocation when there are any. */
  errors: string[];
  durationMs: number;
}

export function emptySummary(): CleanupSummary {
  return {
    found: 0, deleted: 0, alreadyGone: 0, failed: 0, skipped: 0, retries: 0, fallbackListed: 0,
    jobsExpired: 0, jobsSkipped: 0, jobsFailed: 0, audited: 0, complete: true, errors: [], durationMs: 0,
  };
}

export function formatSummary(summary: CleanupSummary): string {
  const fields: Array<[string, number | boolean]> = [
    ['found', summary.found],
    ['deleted', summary.deleted],
    ['alreadyGone', summary.alreadyGone],
    ['failed', summary.failed],
    ['skipped', summary.skipped],
    ['retries', summary.retries],
    ['fallbackListed', summary.fallbackListed],
    ['jobsExpired', summary.jobsExpired],
    ['jobsSkipped', summary.jobsSkipped],
    ['jobsFailed', summary.jobsFailed],
    ['audited', summary.audited],
    ['errors', summary.errors.length],
    ['complete', summary.complete],
    ['durationMs', Math.round(summary.durationMs)],
  ];
  return `cleanup summary: ${fields.map(([key, value]) => `${key}=${value}`).join(' ')}`;
}

/** A run that leaves work behind because something failed (not merely because time ran out). */
export function hasFailures(summary: CleanupSummary): boolean {
  return summary.failed > 0 || summary.jobsFailed > 0 || summary.errors.length > 0;
}
