/**
 * The export use cases' own rules, over the in-memory job store (the scheduler's suite covers
 * how jobs run): here, what an Idempotency-Key replay must match.
 */
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import { ExportService } from '../../../app/src/exports/export-service.js';
import { createMemoryJobStore } from '../../../app/src/jobs/memory-job-store.js';
import { createLogger } from '../../../app/src/logger.js';
import type { ExportStore } from '../../../app/src/storage/export-store.js';

const user = { userId: 'u-1', userName: 'Demo', organizationId: 'org-1' };

function service() {
  const unused = async (): Promise<never> => {
    throw new Error('not used by these tests');
  };
  const store: ExportStore = { method: 'blob', checkReady: unused, begin: unused, downloadUrl: unused, partUrls: unused, extendExpiry: unused, delete: unused };
  return new ExportService({
    jobs: createMemoryJobStore(),
    store,
    scheduler: { kick: () => {}, abortLocal: () => false },
    guard: (sql) => ({ sql }),
    policy: { defaultTtlMinutes: 60, maxTtlMinutes: 600, maxPerUser: 5, maxActivePerInstance: 10 },
    instanceId: 'i-1',
    logger: createLogger('silent'),
  });
}

const isConflict = (error: unknown) => isAppError(error) && error.status === 422 && error.code === 'conflict';

describe('export service: Idempotency-Key', () => {
  it('replays the first job for the same request, the default lifetime spelled out or not', async () => {
    const exports = service();
    const first = await exports.submit(user, { sql: 'SELECT 1', idempotencyKey: 'k' });
    const again = await exports.submit(user, { sql: 'SELECT 1', format: 'csv', ttlMinutes: 60, idempotencyKey: 'k' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, job: { id: first.job.id } });
  });

  // A replay must answer the request that was sent: a csv.gz or a longer-lived export asked for
  // under a reused key was answered with the earlier, different job.
  it('refuses a request under a used key that differs in format or lifetime', async () => {
    const exports = service();
    await exports.submit(user, { sql: 'SELECT 1', idempotencyKey: 'k' });
    await expect(exports.submit(user, { sql: 'SELECT 1', format: 'csv.gz', idempotencyKey: 'k' })).rejects.toSatisfy(isConflict);
    await expect(exports.submit(user, { sql: 'SELECT 1', ttlMinutes: 120, idempotencyKey: 'k' })).rejects.toSatisfy(isConflict);
    await expect(exports.submit(user, { sql: 'SELECT 2', idempotencyKey: 'k' })).rejects.toSatisfy(isConflict);
  });
});
