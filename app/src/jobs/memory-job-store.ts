/**
 * An in-memory JobStore for fast domain unit tests. It passes the same contract suite as the
 * real adapters, so tests written against it keep holding against SQLite and Table Storage.
 * Jobs are copied in and out, so a caller mutating a returned job cannot change the store.
 */
import { ACTIVE_STATUSES, type ExportJob, type JobStore } from './job-store.js';
import { applyPatch, interruptedPatch, newJobRecord, stalePatch } from './job-records.js';
import { newestFirst, oldestFirst, soonestExpiryFirst } from './job-order.js';
import { jobIdTaken, jobStoreNotReady } from './job-store-errors.js';

export function createMemoryJobStore(): JobStore {
  const jobs = new Map<string, ExportJob>();
  let closed = false;

  const ownedBy = (ownerId: string, id: string): ExportJob | undefined => {
    const job = jobs.get(id);
    return job?.ownerId === ownerId ? job : undefined;
  };
  const byIdempotencyKey = (ownerId: string, key: string): ExportJob | undefined =>
    [...jobs.values()].find((job) => job.ownerId === ownerId && job.idempotencyKey === key);
  const isActive = (job: ExportJob): boolean => ACTIVE_STATUSES.includes(job.status);
  const copies = (list: ExportJob[]): ExportJob[] => list.map((job) => structuredClone(job));
  const whileOpen = (): void => {
    if (closed) throw jobStoreNotReady(new Error('The in-memory job store is closed'));
  };

  return {
    async create(input, now) {
      whileOpen();
      const earlier = input.idempotencyKey === undefined ? undefined : byIdempotencyKey(input.ownerId, input.idempotencyKey);
      if (earlier) return { job: structuredClone(earlier), created: false };
      if (jobs.has(input.id)) throw jobIdTaken(input.id);
      const job = newJobRecord(structuredClone(input), now);
      jobs.set(job.id, job);
      return { job: structuredClone(job), created: true };
    },

    async get(ownerId, id) {
      whileOpen();
      const job = ownedBy(ownerId, id);
      return job && structuredClone(job);
    },

    async findByIdempotencyKey(ownerId, key) {
      whileOpen();
      const job = byIdempotencyKey(ownerId, key);
      return job && structuredClone(job);
    },

    async listByOwner(ownerId, options = {}) {
      whileOpen();
      const owned = [...jobs.values()].filter((job) => job.ownerId === ownerId).sort(newestFirst);
      return copies(owned.slice(0, options.limit));
    },

    async update(ownerId, id, patch, now, onlyIf) {
      whileOpen();
      const job = ownedBy(ownerId, id);
      if (!job || (onlyIf && !onlyIf.includes(job.status))) return undefined;
      const updated = applyPatch(job, structuredClone(patch), now);
      jobs.set(id, updated);
      return structuredClone(updated);
    },

    async delete(ownerId, id) {
      whileOpen();
      return ownedBy(ownerId, id) !== undefined && jobs.delete(id);
    },

    async countActive(filter) {
      whileOpen();
      return [...jobs.values()].filter(
        (job) =>
          isActive(job) &&
          (filter.ownerId === undefined || job.ownerId === filter.ownerId) &&
          (filter.instanceId === undefined || job.instanceId === filter.instanceId),
      ).length;
    },

    async listQueued(instanceId, limit) {
      whileOpen();
      const queued = [...jobs.values()].filter((job) => job.status === 'queued' && job.instanceId === instanceId);
      return copies(queued.sort(oldestFirst).slice(0, limit));
    },

    async markInterrupted(instanceId, now) {
      whileOpen();
      const stranded = [...jobs.values()].filter((job) => isActive(job) && job.instanceId === instanceId);
      for (const job of stranded) jobs.set(job.id, applyPatch(job, interruptedPatch(now), now));
      return stranded.map((job) => job.id);
    },

    async markStale(updatedBefore, now) {
      whileOpen();
      const stale = [...jobs.values()].filter((job) => isActive(job) && job.updatedAt < updatedBefore);
      for (const job of stale) jobs.set(job.id, applyPatch(job, stalePatch(now), now));
      return stale.length;
    },

    async listExpired(now, limit) {
      whileOpen();
      const expired = [...jobs.values()].filter(
        (job) => job.status === 'succeeded' && job.expiresAt !== undefined && job.expiresAt < now,
      );
      return copies(expired.sort(soonestExpiryFirst).slice(0, limit));
    },

    async checkReady() {
      whileOpen();
    },

    async close() {
      closed = true;
    },
  };
}
