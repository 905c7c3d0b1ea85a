/**
 * Blob storage that stops answering mid-upload, or cuts every connection mid-upload, behind a
 * TCP proxy between the real connector and Azurite: the export ends `failed` with a storage
 * error within the configured deadline (STORAGE_TIMEOUT_MS) instead of staying `running`, the
 * blocks it staged are never committed, and the next export succeeds once storage is back.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';
import { startFaultProxy, type FaultProxy } from '../storage/fault-proxy.js';

const SEED_ROWS = 150_000;
const STORAGE_TIMEOUT_MS = 3_000;
/** More than one 4 MiB block: the stall comes after at least one block was staged. */
const BYTES_BEFORE_FAULT = 5 * 1024 * 1024;
const standIns = useStandIns(SEED_ROWS);

let proxy: FaultProxy;
let stack: ConnectorStack;
let container: ContainerClient;
let token: string;

beforeAll(async () => {
  const azurite = inject('azurite');
  const endpoint = new URL(azurite.blobEndpoint);
  proxy = await startFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
  stack = await startConnectorStack({
    storage: 'blob',
    hive: standIns.hive,
    enos: standIns.enos,
    env: {
      BLOB_CONNECTION_STRING: azurite.connectionString.replace(azurite.blobEndpoint, `${proxy.origin}${endpoint.pathname}`),
      STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS),
    },
  });
  container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(stack.container);
  token = await stack.signIn('demo');
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

/** Blobs of a job: committed ones, and those that only have uncommitted (staged) blocks. */
async function blobsOf(jobId: string): Promise<{ committed: string[]; stagedBlocks: number }> {
  const committed: string[] = [];
  for await (const blob of container.listBlobsFlat()) if (blob.name.includes(jobId)) committed.push(blob.name);
  let stagedBlocks = 0;
  for await (const blob of container.listBlobsFlat({ includeUncommitedBlobs: true })) {
    if (!blob.name.includes(jobId)) continue;
    const list = await container.getBlockBlobClient(blob.name).getBlockList('uncommitted');
    stagedBlocks += list.uncommittedBlocks?.length ?? 0;
  }
  return { committed, stagedBlocks };
}

async function exportMeasurements(): Promise<any> {
  const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT asset_id, ts, value FROM enos.measurement' });
  expect(submitted.status).toBe(202);
  return stack.waitFor(token, submitted.json.id, undefined, 120_000);
}

async function expectNextExportSucceeds() {
  const job = await exportMeasurements();
  expect(job).toMatchObject({ status: 'succeeded', progress: { rows: SEED_ROWS } });
  const response = await fetch(job.downloadUrl);
  expect(response.status).toBe(200);
  expect((parse(await response.text()) as string[][]).length).toBe(SEED_ROWS + 1);
}

describe('blob storage faults mid-upload, end to end', { timeout: 180_000 }, () => {
  it('a storage endpoint that stops answering fails the export within the deadline, commits nothing, and the next export succeeds once it answers', async () => {
    proxy.swallowAfter(BYTES_BEFORE_FAULT);
    const failed = await exportMeasurements();
    const noticedAfterMs = performance.now() - proxy.swallowingSince!;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'storage_error', message: expect.stringMatching(/did not answer within 3 s/) } });
    // The deadline counts from each request; the first swallowed answer came after some began.
    expect(noticedAfterMs).toBeLessThan(STORAGE_TIMEOUT_MS + 15_000);
    const left = await blobsOf(failed.id);
    expect(left.committed).toEqual([]);
    expect(left.stagedBlocks).toBeGreaterThan(0);

    proxy.heal();
    await expectNextExportSucceeds();
    // The given-up requests reach nothing later either: the failed export stays uncommitted.
    expect((await blobsOf(failed.id)).committed).toEqual([]);
  });

  it('a storage endpoint that cuts every connection fails the export within the deadline, commits nothing, and the next export succeeds once it is back', async () => {
    proxy.breakAfter(BYTES_BEFORE_FAULT);
    const started = performance.now();
    const failed = await exportMeasurements();
    expect(proxy.broken).toBe(true);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'storage_error' } });
    // The SDK's own retries (4, 8, 16 s apart) end at the deadline, not after them.
    expect(performance.now() - started).toBeLessThan(STORAGE_TIMEOUT_MS + 9_000);
    expect((await blobsOf(failed.id)).committed).toEqual([]);

    proxy.heal();
    await expectNextExportSucceeds();
  });
});
