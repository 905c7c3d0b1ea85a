import { createHash, randomUUID } from 'node:crypto';
import { odata, TableClient } from '@azure/data-tables';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startAzurite } from '../../../scripts/lib/azurite.js';
import { createTableJobStore } from '../../../app/src/jobs/table-job-store.js';
import type { JobStore, NewExportJob } from '../../../app/src/jobs/job-store.js';
import { MAX_EXPORT_PARTS } from '../../../app/src/storage/export-store.js';
import { describeJobStoreContract } from './job-store.contract.js';

const azurite = inject('azurite');

const uniqueTableName = (): string => `jobs${randomUUID().replaceAll('-', '')}`;

function tableClient(connectionString: string, tableName: string, maxRetries?: number): TableClient {
  return TableClient.fromConnectionString(connectionString, tableName, {
    allowInsecureConnection: true,
    ...(maxRetries === undefined ? {} : { retryOptions: { maxRetries } }),
  });
}

describeJobStoreContract('Azure Table Storage (Azurite)', {
  async open() {
    const tableName = uniqueTableName();
    const client = tableClient(azurite.connectionString, tableName);
    const store = createTableJobStore({ client, tableName });
    return {
      store,
      async dispose() {
        await store.close();
        await client.deleteTable();
      },
    };
  },
  async openLosable() {
    // Its own emulator, so stopping it takes nothing away from the other suites.
    const own = await startAzurite();
    const tableName = uniqueTableName();
    // No retries: a refused connection should answer at once, not after the SDK's back-off.
    const store = createTableJobStore({ client: tableClient(own.connectionString, tableName, 0), tableName });
    return {
      store,
      async loseBackend() {
        // Killed outright, like a crashed host: a polite stop waits out the client's keep-alive
        // connection for the full grace period.
        process.kill(own.pid, 'SIGKILL');
        await own.stop();
      },
      async dispose() {
        await store.close();
        await own.stop();
      },
    };
  },
});

describe('Table job store, entity layout and edges', () => {
  let tableName: string;
  let client: TableClient;
  let store: JobStore;
  const ownerId = 'owner-layout';
  const now = new Date('2026-05-01T12:00:00.250Z');
  const job = (overrides: Partial<NewExportJob> = {}): NewExportJob => ({
    id: randomUUID(),
    ownerId,
    ownerName: 'Layout Tester',
    organizationId: 'demo-org',
    sql: 'SELECT * FROM enos.asset',
    format: 'csv',
    ttlMinutes: 120,
    instanceId: 'instance-layout',
    ...overrides,
  });

  beforeEach(() => {
    tableName = uniqueTableName();
    client = tableClient(azurite.connectionString, tableName);
    store = createTableJobStore({ client, tableName });
  });

  afterEach(async () => {
    await store.close();
    await client.deleteTable();
  });

  it('writes the layout the cleanup function reads: keys, typed dates, storageLocation, idempotency entity', async () => {
    const { job: created } = await store.create(job({ idempotencyKey: 'click-1' }), now);
    const expiresAt = new Date('2026-05-02T12:00:00.250Z');
    const result = { method: 'blob' as const, location: `${ownerId}/${created.id}/export.csv`, bytes: 3_000_000_000, sha256: 'cd'.repeat(32) };
    await store.update(ownerId, created.id, { status: 'succeeded', expiresAt, rows: 42, bytes: 3_000_000_000, result }, now);

    // Read back untyped, as another program would see it on the wire.
    const raw = tableClient(azurite.connectionString, tableName);
    const entity = await raw.getEntity<Record<string, unknown>>(ownerId, created.id, { disableTypeConversion: true });
    expect(entity).toMatchObject({
      partitionKey: ownerId,
      rowKey: created.id,
      status: { type: 'String', value: 'succeeded' },
      expiresAt: { type: 'DateTime' },
      updatedAt: { type: 'DateTime' },
      createdAt: { type: 'DateTime' },
      storageLocation: { type: 'String', value: result.location },
      bytes: { type: 'Int64', value: '3000000000' },
      result: { type: 'String', value: JSON.stringify(result) },
    });
    // The service may widen the fraction to 7 digits; the instant is what must survive.
    const instant = (name: string): string => new Date((entity[name] as { value: string }).value).toISOString();
    expect([instant('createdAt'), instant('updatedAt'), instant('expiresAt')]).toEqual([
      now.toISOString(),
      now.toISOString(),
      expiresAt.toISOString(),
    ]);

    const keyHash = createHash('sha256').update('click-1').digest('hex');
    const holder = await raw.getEntity<{ jobId: string }>(ownerId, `idem:${keyHash}`);
    expect(holder.jobId).toBe(created.id);

    // The cleanup function's query finds it by status and Edm.DateTime comparison.
    const due: string[] = [];
    const filter = odata`status eq ${'succeeded'} and expiresAt lt ${new Date('2026-05-03T00:00:00Z')}`;
    for await (const found of raw.listEntities<{ storageLocation: string }>({ queryOptions: { filter } })) due.push(found.storageLocation);
    expect(due).toEqual([result.location]);
  });

  it('keeps the parts of a multi-part result in a property of their own, within its 64 KiB, and names the MLTable as storageLocation', async () => {
    const { job: created } = await store.create(job(), now);
    const folder = `${ownerId}/${created.id}/`;
    const parts = Array.from({ length: MAX_EXPORT_PARTS }, (_, index) => ({
      location: `${folder}enos-export-20261127-2110-1a2b3c4d-part-${String(index + 1).padStart(5, '0')}.parquet`,
      rows: 123_456_789,
      bytes: 268_435_456 + index,
      sha256: 'ef'.repeat(32),
    }));
    const result = { method: 'blob' as const, location: `${folder}MLTable`, bytes: 27_000_000_000, parts };
    await store.update(ownerId, created.id, { status: 'succeeded', result }, now);

    const raw = tableClient(azurite.connectionString, tableName);
    const entity = await raw.getEntity<Record<string, unknown>>(ownerId, created.id, { disableTypeConversion: true });
    expect(entity).toMatchObject({
      storageLocation: { type: 'String', value: result.location },
      result: { type: 'String', value: JSON.stringify({ method: 'blob', location: result.location, bytes: result.bytes }) },
      parts: { type: 'String', value: JSON.stringify(parts) },
    });
    // A String property holds 64 KiB of UTF-16.
    expect(JSON.stringify(parts).length * 2).toBeLessThan(64 * 1024);
    expect((await store.get(ownerId, created.id))?.result).toStrictEqual(result);
  });

  it('creates its table on first use, and a second store on the same table shares it', async () => {
    const before = await client.listEntities().byPage().next().then(() => 'exists', () => 'missing');
    expect(before).toBe('missing');

    const { job: created } = await store.create(job(), now);
    const second = createTableJobStore({ client: tableClient(azurite.connectionString, tableName), tableName });
    expect(await second.get(ownerId, created.id)).toStrictEqual(created);
    await second.checkReady();
  });

  it('answers "not found" for ids that cannot be keys or that name an idempotency entity', async () => {
    await store.create(job({ idempotencyKey: 'k' }), now);
    const holderKey = `idem:${createHash('sha256').update('k').digest('hex')}`;

    for (const id of [holderKey, 'a/b', 'a#b', 'a?b', 'a\\b', 'tab\there', '', 'x'.repeat(1025)]) {
      expect(await store.get(ownerId, id)).toBeUndefined();
      expect(await store.update(ownerId, id, { status: 'failed' }, now)).toBeUndefined();
      expect(await store.delete(ownerId, id)).toBe(false);
    }
    expect((await client.getEntity<{ jobId: string }>(ownerId, holderKey)).jobId).toEqual(expect.any(String));
    expect(await store.listByOwner(ownerId)).toHaveLength(1);
  });

  it('frees a key whose job was removed by another tool, instead of refusing it forever', async () => {
    const { job: first } = await store.create(job({ idempotencyKey: 'orphaned' }), now);
    await client.deleteEntity(ownerId, first.id);

    const again = await store.create(job({ idempotencyKey: 'orphaned' }), now);
    expect(again.created).toBe(true);
    expect(await store.listByOwner(ownerId)).toStrictEqual([again.job]);
  });

  it('keeps two instances honest: racing claims through separate clients move a job once', async () => {
    const other = createTableJobStore({ client: tableClient(azurite.connectionString, tableName), tableName });
    const { job: created } = await store.create(job(), now);

    const claims = await Promise.all(
      [store, other, store, other].map((s, i) => s.update(ownerId, created.id, { status: 'running', rows: i }, now, ['queued'])),
    );
    expect(claims.filter((claim) => claim !== undefined)).toHaveLength(1);
  });

  it('reports a malformed stored entity as storage_error, naming the field and value', async () => {
    const { job: created } = await store.create(job(), now);
    await client.updateEntity({ partitionKey: ownerId, rowKey: created.id, status: 'paused' }, 'Merge');

    const failure = await store.get(ownerId, created.id).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'AppError', code: 'storage_error', status: 503 });
    expect(String((failure as Error).cause)).toContain('status "paused"; expected one of queued');
  });

  it('refuses a client that targets another table than the one configured', () => {
    expect(() => createTableJobStore({ client })).toThrow(`targets table "${tableName}"; expected "exportjobs"`);
  });
});
