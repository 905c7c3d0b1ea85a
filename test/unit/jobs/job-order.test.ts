import { describe, expect, it } from 'vitest';
import type { ExportJob } from '../../../app/src/jobs/job-store.js';
import { newestFirst, oldestFirst, soonestExpiryFirst, takeFirst } from '../../../app/src/jobs/job-order.js';

const job = (id: string, createdAtMs: number, expiresAtMs?: number): ExportJob => ({
  id,
  ownerId: 'o',
  ownerName: 'O',
  organizationId: 'org',
  sql: 'SELECT 1',
  format: 'csv',
  ttlMinutes: 5,
  status: 'succeeded',
  instanceId: 'i',
  createdAt: new Date(createdAtMs),
  updatedAt: new Date(createdAtMs),
  ...(expiresAtMs === undefined ? {} : { expiresAt: new Date(expiresAtMs) }),
  rows: 0,
  bytes: 0,
  truncated: false,
  cancelRequested: false,
});

async function* streamOf(jobs: ExportJob[]): AsyncIterable<ExportJob> {
  yield* jobs;
}

/** A fixed shuffle (multiplicative stepping through a prime count), so failures reproduce. */
function shuffled<T>(items: T[]): T[] {
  return items.map((_, i) => items[(i * 389) % items.length]!);
}

describe('job order', () => {
  it('breaks ties on the creation instant by id, the same way in both directions', () => {
    const [a, b, c] = [job('a', 1000), job('b', 1000), job('c', 999)];
    expect([c, a, b].sort(newestFirst).map((j) => j.id)).toEqual(['b', 'a', 'c']);
    expect([b, a, c].sort(oldestFirst).map((j) => j.id)).toEqual(['c', 'a', 'b']);
  });

  it('puts jobs without an expiry after every job with one', () => {
    const jobs = [job('none', 0), job('late', 0, 2000), job('early', 0, 1000)];
    expect(jobs.sort(soonestExpiryFirst).map((j) => j.id)).toEqual(['early', 'late', 'none']);
  });

  it('takes the first few of a long unordered stream exactly as a full sort would', async () => {
    const jobs = shuffled(Array.from({ length: 997 }, (_, i) => job(`j${String(i).padStart(4, '0')}`, (i % 50) * 1000)));
    const fullSort = [...jobs].sort(newestFirst);

    expect(await takeFirst(streamOf(jobs), newestFirst, 5)).toEqual(fullSort.slice(0, 5));
    expect(await takeFirst(streamOf(jobs), newestFirst, 100)).toEqual(fullSort.slice(0, 100));
    expect(await takeFirst(streamOf(jobs), newestFirst, Infinity)).toEqual(fullSort);
    expect(await takeFirst(streamOf([]), newestFirst, 5)).toEqual([]);
  });
});
