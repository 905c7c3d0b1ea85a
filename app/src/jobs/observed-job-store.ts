/**
 * A JobStore that tells listeners about every status a job reaches through `update`, after the
 * store accepted it: the audit trail records outcomes (succeeded, failed, expired) and telemetry
 * counts them, without the scheduler or the sweeper knowing either exists. Only writes that took
 * effect are reported; a conditional update that lost its race reports nothing.
 */
import type { ExportJob, JobPatch, JobStatus, JobStore } from './job-store.js';

export interface JobTransition {
  /** The job as stored after the update. */
  job: ExportJob;
  status: JobStatus;
  patch: JobPatch;
  now: Date;
}

export type JobTransitionListener = (transition: JobTransition) => void;

export function observeJobStore(inner: JobStore, listeners: readonly JobTransitionListener[]): JobStore {
  return {
    create: (job, now) => inner.create(job, now),
    get: (ownerId, id) => inner.get(ownerId, id),
    findByIdempotencyKey: (ownerId, key) => inner.findByIdempotencyKey(ownerId, key),
    listByOwner: (ownerId, options) => inner.listByOwner(ownerId, options),
    delete: (ownerId, id) => inner.delete(ownerId, id),
    countActive: (filter) => inner.countActive(filter),
    listQueued: (instanceId, limit) => inner.listQueued(instanceId, limit),
    markInterrupted: (instanceId, now) => inner.markInterrupted(instanceId, now),
    markStale: (updatedBefore, now) => inner.markStale(updatedBefore, now),
    listExpired: (now, limit) => inner.listExpired(now, limit),
    checkReady: () => inner.checkReady(),
    close: () => inner.close(),
    async update(ownerId, id, patch, now, onlyIf) {
      const updated = await inner.update(ownerId, id, patch, now, onlyIf);
      if (updated && patch.status !== undefined) {
        for (const listener of listeners) listener({ job: updated, status: patch.status, patch, now });
      }
      return updated;
    },
  };
}
