/**
 * The orders the port promises, with the job id as tie-breaker so that every adapter returns
 * jobs created in the same millisecond in the same, deterministic order.
 */
import type { ExportJob } from './job-store.js';

export type JobOrder = (a: ExportJob, b: ExportJob) => number;

const byId = (a: ExportJob, b: ExportJob): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const newestFirst: JobOrder = (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || byId(b, a);

export const oldestFirst: JobOrder = (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || byId(a, b);

/** Jobs without an expiry sort last (only succeeded jobs have one). */
export const soonestExpiryFirst: JobOrder = (a, b) =>
  (a.expiresAt?.getTime() ?? Infinity) - (b.expiresAt?.getTime() ?? Infinity) || byId(a, b);

/**
 * The first `limit` jobs of an unordered stream (Table Storage returns key order only), holding
 * at most about twice `limit` in memory however many jobs the query matches.
 */
export async function takeFirst(jobs: AsyncIterable<ExportJob>, order: JobOrder, limit: number): Promise<ExportJob[]> {
  const kept: ExportJob[] = [];
  const trimAt = Math.max(2 * limit, 64);
  for await (const job of jobs) {
    kept.push(job);
    if (kept.length >= trimAt) kept.sort(order).splice(limit);
  }
  return kept.sort(order).slice(0, limit);
}
