/**
 * A multi-part export as the connector writes it — its parts and its MLTable, by the connector's
 * own Blob store, its job by the connector's own Table job store — expires: one cleanup run
 * deletes every blob of it (each carries the `expiresAt` tag), records one audit event for the
 * export, marks its job expired, and leaves a live export alone.
 */
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTableAuditStore } from '../../../app/src/audit/table-audit-store.js';
import { newJobRecord } from '../../../app/src/jobs/job-records.js';
import { createTableJobStore } from '../../../app/src/jobs/table-job-store.js';
import { createBlobExportStore } from '../../../app/src/storage/blob-export-store.js';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { commitSmall, csvOf, target, writeParts } from '../storage/export-store.contract.js';
import { createContainer, HOUR, memoryLog, names, runtimeFor } from './fixtures.js';

const azurite = inject('azurite');
const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

describe('the cleanup function and a multi-part export', () => {
  const jobsTable = table(`jobs${randomUUID().replaceAll('-', '').slice(0, 12)}`);
  const auditTable = table(`audit${randomUUID().replaceAll('-', '').slice(0, 12)}`);
  beforeAll(async () => {
    await jobsTable.createTable();
  });
  afterAll(async () => {
    await jobsTable.deleteTable();
    await auditTable.deleteTable().catch(() => undefined);
  });

  it('deletes every part and the MLTable of an expired export, records it once, and marks its job expired', async () => {
    const container = await createContainer(azurite.connectionString, 'multipart');
    const store = createBlobExportStore({ container: container.containerName, credential: { kind: 'connectionString', connectionString: azurite.connectionString } });
    const expiring = { ...target('parquet'), expiresAt: new Date(Math.ceil((Date.now() + HOUR) / 1000) * 1000) };
    const ref = await writeParts(await store.begin(expiring), [csvOf(900), csvOf(900), csvOf(9)]);
    const live = { ...target(), expiresAt: new Date(Math.ceil((Date.now() + 3 * HOUR) / 1000) * 1000) };
    const liveRef = await commitSmall(store, live);
    const expiringBlobs = [ref.location, ...ref.parts!.map((part) => part.location)];
    expect(await names(container)).toEqual(new Set([...expiringBlobs, liveRef.location]));

    const jobs = createTableJobStore({ client: jobsTable, tableName: jobsTable.tableName });
    const created = new Date();
    const record = newJobRecord(
      { id: expiring.jobId, ownerId: expiring.ownerId, ownerName: 'demo', organizationId: 'demo-org', sql: 'SELECT 1', format: 'parquet', ttlMinutes: 60, instanceId: 'i-1' },
      created,
    );
    await jobs.create(record, created);
    await jobs.update(record.ownerId, record.id, { status: 'succeeded', expiresAt: expiring.expiresAt, rows: 2_709, result: ref }, created);

    const runtime = runtimeFor(azurite.connectionString, container, {}, jobsTable.tableName);
    const later = new Date(expiring.expiresAt.getTime() + HOUR);
    const log = memoryLog();
    const summary = await runCleanup({ ...runtime.deps, clock: () => later, audit: auditTable, log }, runtime.options);
    expect(summary).toMatchObject({ found: 4, deleted: 4, failed: 0, audited: 1, jobsExpired: 1, errors: [] });
    expect(await names(container)).toEqual(new Set([liveRef.location]));

    const [event, ...others] = await createTableAuditStore({ client: auditTable }).query({ organizationId: 'demo-org', limit: 10 });
    expect(others).toEqual([]);
    expect(event).toMatchObject({ type: 'export.cleanup_deleted', ownerId: expiring.ownerId, exportId: expiring.jobId, userName: 'demo' });
    expect(event!.detail).toBe(
      `4 expired blobs of ${expiring.ownerId}/${expiring.jobId}/ deleted by the cleanup function: ${expiringBlobs
        .map((name) => name.slice(name.lastIndexOf('/') + 1))
        .sort()
        .join(', ')}`,
    );
    expect(log.lines.filter((line) => line.text.startsWith('audit export.cleanup_deleted'))).toHaveLength(1);
    expect((await jobs.get(record.ownerId, record.id))?.status).toBe('expired');

    const again = await runCleanup({ ...runtime.deps, clock: () => later, audit: auditTable, log: memoryLog() }, runtime.options);
    expect(again).toMatchObject({ found: 0, deleted: 0, audited: 0 });
    await container.delete();
  });
});
