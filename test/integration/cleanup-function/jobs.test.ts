/**
 * With the Table job store, the same run marks expired jobs: only `succeeded` jobs whose
 * `expiresAt` has passed, by an ETag-guarded merge; a job changed meanwhile is re-read and
 * judged again (a 412 is never overwritten); idempotency entities are left alone.
 */
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { startStorageProxy, type StorageProxy } from './storage-proxy.js';
import { blobs, createContainer, DAY, HOUR, memoryLog, names, runtimeFor, seed, viaProxy } from './fixtures.js';

const azurite = inject('azurite');

interface Job {
  partitionKey: string;
  rowKey: string;
  status: string;
  expiresAt?: Date;
  updatedAt: Date;
  storageLocation?: string;
  rows?: number;
}

describe('marking expired jobs in the Table job store', () => {
  let proxy: StorageProxy;
  let table: TableClient;
  const tableName = `jobs${randomUUID().replaceAll('-', '').slice(0, 12)}`;

  beforeAll(async () => {
    proxy = await startStorageProxy(new URL(azurite.tableEndpoint).origin);
    table = TableClient.fromConnectionString(azurite.connectionString, tableName, { allowInsecureConnection: true });
    await table.createTable();
  });
  afterAll(async () => {
    await proxy?.close();
    await table?.deleteTable();
  });

  it('marks succeeded jobs past their expiry, re-judging the ones that change meanwhile', async () => {
    const container = await createContainer(azurite.connectionString, 'jobs');
    const past = new Date(Date.now() - DAY);
    const future = new Date(Date.now() + DAY);
    const created = new Date(Date.now() - 2 * DAY);
    const job = (owner: string, id: string, status: string, expiresAt?: Date): Job => ({
      partitionKey: owner, rowKey: id, status, expiresAt, updatedAt: created, storageLocation: `${owner}/${id}/export.csv`, rows: 10,
    });
    const expired = ['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => job('alice', id, 'succeeded', past));
    // Changed by the connector between the query and the update:
    const extendedMeanwhile = job('bob', 'b1', 'succeeded', past);
    const touchedMeanwhile = job('bob', 'b2', 'succeeded', past);
    const untouched = [
      job('alice', 'live1', 'succeeded', future),
      job('alice', 'live2', 'succeeded', future),
      job('bob', 'failed1', 'failed', past),
      job('bob', 'cancelled1', 'cancelled', past),
      job('carol', 'done1', 'expired', past),
      job('carol', 'running1', 'running'),
    ];
    // An idempotency entity shaped (wrongly) like an expired job must still be skipped.
    const idempotency = { partitionKey: 'alice', rowKey: 'idem:0f0e', jobId: 'a1', status: 'succeeded', expiresAt: past };
    for (const entity of [...expired, extendedMeanwhile, touchedMeanwhile, ...untouched, idempotency]) await table.createEntity(entity);
    // The blobs of the expired jobs go in the same run.
    await seed(container, blobs(5, () => ({ tag: past.toISOString() })));

    const changed = new Set<string>();
    proxy.intercept(async (request) => {
      const target = /\(PartitionKey='(\w+)',RowKey='(\w+)'\)/.exec(decodeURIComponent(request.url));
      if (request.method !== 'PATCH' && request.method !== 'MERGE') return { kind: 'forward' };
      const rowKey = target?.[2];
      if (rowKey === 'b1' && !changed.has('b1')) {
        changed.add('b1');
        await table.updateEntity({ partitionKey: 'bob', rowKey: 'b1', expiresAt: future, updatedAt: new Date() }, 'Merge');
      }
      if (rowKey === 'b2' && !changed.has('b2')) {
        changed.add('b2');
        await table.updateEntity({ partitionKey: 'bob', rowKey: 'b2', rows: 11 }, 'Merge');
      }
      return { kind: 'forward' };
    });

    const connectionString = viaProxy(azurite.connectionString, { table: proxy.url('/devstoreaccount1') });
    const { deps, options } = runtimeFor(connectionString, container, {}, tableName);
    const before = new Date();
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);
    proxy.intercept(undefined);

    expect(changed).toEqual(new Set(['b1', 'b2']));
    expect(summary).toMatchObject({ deleted: 5, jobsExpired: 6, jobsSkipped: 1, jobsFailed: 0, errors: [] });
    expect(await names(container)).toEqual(new Set());

    const after = new Map<string, Job>();
    for await (const entity of table.listEntities<Job>()) after.set(`${entity.partitionKey}/${entity.rowKey}`, entity);
    for (const { partitionKey, rowKey } of [...expired, touchedMeanwhile]) {
      const entity = after.get(`${partitionKey}/${rowKey}`)!;
      expect(entity.status).toBe('expired');
      expect(entity.updatedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
      // A merge: the rest of the job is as it was.
      expect(entity.storageLocation).toBe(`${partitionKey}/${rowKey}/export.csv`);
    }
    expect(after.get('bob/b2')!.rows).toBe(11);
    expect(after.get('bob/b1')).toMatchObject({ status: 'succeeded', expiresAt: future });
    for (const { partitionKey, rowKey, status } of untouched) {
      expect(after.get(`${partitionKey}/${rowKey}`)).toMatchObject({ status, updatedAt: created });
    }
    expect(after.get('alice/idem:0f0e')).toMatchObject({ status: 'succeeded' });

    const again = await runCleanup({ ...runtimeFor(azurite.connectionString, container, {}, tableName).deps, log: memoryLog() }, options);
    expect(again).toMatchObject({ jobsExpired: 0, jobsSkipped: 0, jobsFailed: 0 });
    await container.delete();
  });

  it('leaves jobs alone when run before they expire', async () => {
    const container = await createContainer(azurite.connectionString, 'jobs');
    const owner = `early${randomUUID().slice(0, 6)}`;
    await table.createEntity({ partitionKey: owner, rowKey: 'j1', status: 'succeeded', expiresAt: new Date(Date.now() + HOUR), updatedAt: new Date() });
    const { deps, options } = runtimeFor(azurite.connectionString, container, {}, tableName);
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);
    expect(summary.jobsExpired).toBe(0);
    expect((await table.getEntity<Job>(owner, 'j1')).status).toBe('succeeded');
    await container.delete();
  });
});
