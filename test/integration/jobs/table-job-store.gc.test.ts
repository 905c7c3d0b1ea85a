/**
 * The Table job store against a Table endpoint that says the table exists and then never answers
 * again, with full garbage collections forced while each deadline is pending: every kind of call
 * (point read, conditional update, create, listing, count, the start-up recovery, the readiness
 * probe) fails once its deadline passes, instead of holding a request or a job for good.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import type { JobStore } from '../../../app/src/jobs/job-store.js';
import { createTableJobStore } from '../../../app/src/jobs/table-job-store.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { withSilentTableStore } from '../../support/silent-server.js';

const DEADLINE_MS = 1_000;
const GIVE_UP_MS = 20_000;
const ownerId = 'owner-gc';

async function expectFailureWithin(boundMs: number, call: () => Promise<unknown>, code: string) {
  const settled = await settleUnderGc(call, { giveUpAfterMs: GIVE_UP_MS });
  expect(settled.outcome, `still pending ${GIVE_UP_MS} ms after a ${boundMs} ms deadline`).toBe('rejected');
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === code);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(boundMs * 0.9);
}

const withSilentJobStore = (use: (store: JobStore) => Promise<void>, client: { losesAborts?: boolean } = {}) =>
  withSilentTableStore('exportjobs', (table) => createTableJobStore({ client: table, operationTimeoutMs: DEADLINE_MS, readyTimeoutMs: DEADLINE_MS }), use, client);

describe('table job store deadlines under garbage collection', () => {
  it('fails point reads, updates and creates that never get an answer', async () => {
    await withSilentJobStore(async (store) => {
      await expectFailureWithin(DEADLINE_MS, () => store.get(ownerId, randomUUID()), 'storage_error');
      await expectFailureWithin(DEADLINE_MS, () => store.update(ownerId, randomUUID(), { rows: 1 }, new Date(), ['running']), 'storage_error');
      const job = { id: randomUUID(), ownerId, ownerName: 'GC', organizationId: 'org', sql: 'SELECT 1', format: 'csv' as const, ttlMinutes: 60, instanceId: 'gc' };
      await expectFailureWithin(DEADLINE_MS, () => store.create(job, new Date()), 'storage_error');
      await expectFailureWithin(DEADLINE_MS, () => store.create({ ...job, id: randomUUID(), idempotencyKey: 'k-1' }, new Date()), 'storage_error');
    });
  });

  it('fails listings, counts and the start-up recovery within four call deadlines', async () => {
    await withSilentJobStore(async (store) => {
      await expectFailureWithin(4 * DEADLINE_MS, () => store.listQueued('gc', 10), 'storage_error');
      await expectFailureWithin(4 * DEADLINE_MS, () => store.countActive({ ownerId }), 'storage_error');
      await expectFailureWithin(4 * DEADLINE_MS, () => store.markInterrupted('gc', new Date()), 'storage_error');
    });
  });

  it('fails a listing at its deadline even when the SDK loses the abort signal', async () => {
    await withSilentJobStore(
      async (store) => {
        await expectFailureWithin(4 * DEADLINE_MS, () => store.listQueued('gc', 10), 'storage_error');
        await expectFailureWithin(DEADLINE_MS, () => store.get(ownerId, randomUUID()), 'storage_error');
      },
      { losesAborts: true },
    );
  });

  it('answers not ready when the readiness probe gets no answer', async () => {
    await withSilentJobStore(async (store) => {
      await expectFailureWithin(DEADLINE_MS, () => store.checkReady(), 'not_ready');
    });
  });
});
