import { randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';

// Proves the shared emulator is really there for every suite: a write and a read-back on both
// services, under unique names so suites never see each other's data.
describe('shared Azurite', () => {
  const azurite = inject('azurite');

  it('stores and returns a blob', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(`t-${randomUUID()}`);
    await container.create();
    await container.getBlockBlobClient('hello.txt').upload('hello', 5);
    const body = await container.getBlockBlobClient('hello.txt').downloadToBuffer();
    expect(body.toString()).toBe('hello');
    await container.delete();
  });

  it('stores and returns a table entity', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, `t${randomUUID().replaceAll('-', '')}`, {
      allowInsecureConnection: true,
    });
    await table.createTable();
    await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
    const entity = await table.getEntity<{ value: number }>('p', 'r');
    expect(entity.value).toBe(42);
    await table.deleteTable();
  });
});
