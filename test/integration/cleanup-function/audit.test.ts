/**
 * Cleanup deletions in the audit trail: each export the cleanup deletes is logged as
 * `export.cleanup_deleted`, and with AUDIT_TABLE_NAME appended to the connector's audit table in
 * the connector's own layout — kept under the organization its job names, readable through the
 * connector's audit store (so GET /api/v1/audit shows it). Deleting removes data, never records.
 */
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTableAuditStore } from '../../../app/src/audit/table-audit-store.js';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { createContainer, DAY, memoryLog, names, runtimeFor, seed } from './fixtures.js';

const azurite = inject('azurite');
const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

describe('cleanup deletions in the audit trail', () => {
  const jobsTable = table(`jobs${randomUUID().replaceAll('-', '').slice(0, 12)}`);
  const auditTable = table(`audit${randomUUID().replaceAll('-', '').slice(0, 12)}`);
  beforeAll(async () => {
    await jobsTable.createTable();
  });
  afterAll(async () => {
    await jobsTable.deleteTable();
    await auditTable.deleteTable().catch(() => undefined);
  });

  it("records every deleted export under its job's organization, once", async () => {
    const container = await createContainer(azurite.connectionString, 'audit');
    const expired = new Date(Date.now() - DAY).toISOString();
    const jobIds = [randomUUID(), randomUUID(), randomUUID()];
    const known = jobIds.map((id) => ({ name: `owner-a/${id}/enos-export.csv`, tag: expired }));
    const orphan = { name: `owner-b/${randomUUID()}/enos-export.csv`, tag: expired };
    const live = { name: `owner-a/${randomUUID()}/enos-export.csv`, tag: new Date(Date.now() + DAY).toISOString() };
    await seed(container, [...known, orphan, live]);
    for (const id of jobIds) {
      await jobsTable.createEntity({ partitionKey: 'owner-a', rowKey: id, status: 'succeeded', organizationId: 'demo-org', ownerName: 'demo', expiresAt: new Date(expired) });
    }

    const runtime = runtimeFor(azurite.connectionString, container, {}, jobsTable.tableName);
    const log = memoryLog();
    const summary = await runCleanup({ ...runtime.deps, audit: auditTable, log }, runtime.options);
    expect(summary).toMatchObject({ deleted: 4, audited: 4, errors: [] });
    expect(await names(container)).toEqual(new Set([live.name]));

    const store = createTableAuditStore({ client: auditTable });
    const inOrg = await store.query({ organizationId: 'demo-org', limit: 10 });
    expect(inOrg.map((event) => event.exportId).sort()).toEqual([...jobIds].sort());
    for (const event of inOrg) {
      expect(event).toMatchObject({ type: 'export.cleanup_deleted', via: 'system', outcome: 'success', ownerId: 'owner-a', userName: 'demo' });
      expect(event.detail).toContain(event.exportId!);
    }
    const [unattributed] = await store.query({ organizationId: '', limit: 10 });
    expect(unattributed).toMatchObject({ type: 'export.cleanup_deleted', ownerId: 'owner-b', exportId: orphan.name.split('/')[1] });
    // Logged too, one line per deletion, whether or not an audit table is configured.
    expect(log.lines.filter((line) => line.text.startsWith('audit export.cleanup_deleted'))).toHaveLength(4);

    const again = await runCleanup({ ...runtime.deps, audit: auditTable, log: memoryLog() }, runtime.options);
    expect(again).toMatchObject({ deleted: 0, audited: 0 });
    expect(await store.query({ organizationId: 'demo-org', limit: 10 })).toHaveLength(3);
    await container.delete();
  });
});
