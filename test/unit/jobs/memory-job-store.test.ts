import { describe, expect, it } from 'vitest';
import { createMemoryJobStore } from '../../../app/src/jobs/memory-job-store.js';
import { describeJobStoreContract } from '../../integration/jobs/job-store.contract.js';

describeJobStoreContract('in-memory', {
  async open() {
    const store = createMemoryJobStore();
    return { store, dispose: () => store.close() };
  },
  async openLosable() {
    const store = createMemoryJobStore();
    return { store, loseBackend: () => store.close(), dispose: () => store.close() };
  },
});

describe('in-memory job store', () => {
  it('hands out copies, so mutating a returned job cannot change the store', async () => {
    const store = createMemoryJobStore();
    const { job } = await store.create(
      { id: 'j1', ownerId: 'o', ownerName: 'O', organizationId: 'org', sql: 'SELECT 1', format: 'csv', ttlMinutes: 5, instanceId: 'i' },
      new Date('2026-01-01T00:00:00Z'),
    );
    job.status = 'succeeded';
    job.createdAt.setFullYear(2000);

    expect(await store.get('o', 'j1')).toMatchObject({ status: 'queued', createdAt: new Date('2026-01-01T00:00:00Z') });
  });
});
