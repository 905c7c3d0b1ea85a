/**
 * The `account` tag-query scope: Find Blobs by Tags on the account endpoint with the expression
 * `@container = '<exports>' AND "expiresAt" < '<now>'`. Its own Azurite, because Azurite 3.35
 * answers an account-wide tag query from the first 5,000 blobs of the whole account (see
 * README), and the shared emulator holds every suite's blobs.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { startAzurite, type RunningAzurite } from '../../../scripts/lib/azurite.js';
import { startStorageProxy, type StorageProxy } from './storage-proxy.js';
import { blobs, createContainer, DAY, memoryLog, names, runtimeFor, seed, viaProxy } from './fixtures.js';

describe('tag query scoped by @container on the account endpoint', () => {
  let azurite: RunningAzurite;
  let proxy: StorageProxy;

  beforeAll(async () => {
    azurite = await startAzurite();
    proxy = await startStorageProxy(new URL(azurite.blobEndpoint).origin);
  });
  afterAll(async () => {
    await proxy?.close();
    await azurite?.stop();
  });

  it('sends the @container expression and deletes only in the exports container', async () => {
    const exportsContainer = await createContainer(azurite.connectionString, 'exports');
    const neighbour = await createContainer(azurite.connectionString, 'other');
    const past = new Date(Date.now() - DAY).toISOString();
    const expired = blobs(120, () => ({ tag: past }));
    const live = blobs(30, () => ({ tag: new Date(Date.now() + DAY).toISOString() }));
    const neighbours = blobs(50, () => ({ tag: past }));
    await seed(exportsContainer, [...expired, ...live]);
    await seed(neighbour, neighbours);

    const proxied = viaProxy(azurite.connectionString, { blob: proxy.url('/devstoreaccount1') });
    const { deps, options } = runtimeFor(proxied, exportsContainer, { tagQueryScope: 'account', fallbackMaxBlobs: 0 });
    const now = new Date();
    const summary = await runCleanup({ ...deps, clock: () => now, log: memoryLog() }, options);

    expect(summary).toMatchObject({ found: 120, deleted: 120, failed: 0, errors: [] });
    expect(await names(exportsContainer)).toEqual(new Set(live.map((blob) => blob.name)));
    expect(await names(neighbour)).toEqual(new Set(neighbours.map((blob) => blob.name)));

    const query = proxy.seen.find((request) => request.url.includes('where='))!;
    const url = new URL(query.url, 'http://proxy');
    expect(url.pathname).toBe('/devstoreaccount1/');
    expect(url.searchParams.get('where')).toBe(`@container = '${exportsContainer.containerName}' AND "expiresAt" < '${now.toISOString()}'`);
  });

  it('needs a BlobServiceClient for the account scope', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('exports');
    const { deps, options } = runtimeFor(azurite.connectionString, container, { tagQueryScope: 'account', fallbackMaxBlobs: 0 });
    const summary = await runCleanup({ ...deps, service: undefined, log: memoryLog() }, options);
    expect(summary.errors).toEqual([expect.stringContaining('tag query scope "account" needs a BlobServiceClient')]);
  });
});
