import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { FALLBACK_CURSOR_BLOB } from '../../../cleanup-function/src/fallback-pass.js';
import { batchDeletePaths, isBatch, startStorageProxy, type StorageProxy } from './storage-proxy.js';
import { blobs, createContainer, DAY, HOUR, memoryLog, names, runtimeFor, seed, viaProxy, type SeedBlob } from './fixtures.js';

const azurite = inject('azurite');

describe('cleanup against Azurite: a mixed container of a few thousand exports', () => {
  let container: ContainerClient;
  let proxy: StorageProxy;
  const now = Date.now();
  const past = new Date(now - DAY).toISOString();
  const future = new Date(now + DAY).toISOString();

  const expiredTagged = blobs(1000, () => ({ tag: past, metadata: past }));
  // Tag says live, metadata says long expired: the tag is the truth, the blob must stay.
  const liveTaggedLooksOld = blobs(150, () => ({ tag: future, metadata: past }));
  const liveTagged = blobs(500, () => ({ tag: future, metadata: future }));
  // Tag says expired, metadata disagrees: the tag wins.
  const expiredTaggedStaleMetadata = blobs(100, () => ({ tag: past, metadata: future }));
  const untaggedOld = blobs(300, () => ({ metadata: past }));
  const untaggedNew = blobs(200, () => ({ metadata: future }));
  // No tag, no metadata, created just now: within the maximum lifetime, so live.
  const untaggedBare = blobs(100, () => ({}));
  const untaggedGarbage = blobs(50, () => ({ metadata: 'next tuesday' }));

  const raced = { deleted: [] as string[], extended: [] as string[] };

  beforeAll(async () => {
    container = await createContainer(azurite.connectionString);
    await seed(container, [
      ...expiredTagged, ...liveTaggedLooksOld, ...liveTagged, ...expiredTaggedStaleMetadata,
      ...untaggedOld, ...untaggedNew, ...untaggedBare, ...untaggedGarbage,
    ]);
    proxy = await startStorageProxy(new URL(azurite.blobEndpoint).origin);
  });

  afterAll(async () => {
    await proxy?.close();
    await container?.deleteIfExists();
  });

  it('deletes exactly the expired exports, tolerating blobs deleted or extended between query and delete', async () => {
    // Between the tag query and the first batch, another party deletes ten of the found blobs
    // and the connector extends ten others (a new tag and metadata), as `POST …/link` does.
    const direct = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container.containerName);
    proxy.intercept(async (request) => {
      if (!isBatch(request) || raced.deleted.length > 0) return { kind: 'forward' };
      const inBatch = batchDeletePaths(request.body);
      raced.deleted.push(...inBatch.slice(0, 10));
      raced.extended.push(...inBatch.slice(10, 20));
      await Promise.all(raced.deleted.map((name) => direct.getBlobClient(name).delete()));
      await Promise.all(
        raced.extended.map(async (name) => {
          await direct.getBlobClient(name).setTags({ expiresAt: future });
          await direct.getBlobClient(name).setMetadata({ expiresat: future });
        }),
      );
      return { kind: 'forward' };
    });

    const proxied = viaProxy(azurite.connectionString, { blob: proxy.url('/devstoreaccount1') });
    const { deps, options } = runtimeFor(proxied, container);
    const log = memoryLog();
    const summary = await runCleanup({ ...deps, log }, options);
    proxy.intercept(undefined);

    expect(raced.deleted).toHaveLength(10);
    expect(raced.extended).toHaveLength(10);
    const expired = [...expiredTagged, ...expiredTaggedStaleMetadata, ...untaggedOld];
    const live: SeedBlob[] = [...liveTaggedLooksOld, ...liveTagged, ...untaggedNew, ...untaggedBare, ...untaggedGarbage];
    expect(summary).toMatchObject({
      found: expired.length,
      deleted: expired.length - 20,
      alreadyGone: 10,
      skipped: 10,
      failed: 0,
      errors: [],
      complete: true,
      // Everything left after the tag pass: the live, the untagged, the ten extended.
      fallbackListed: live.length + untaggedOld.length + 10,
    });

    const expected = new Set([...live.map((blob) => blob.name), ...raced.extended]);
    expect(await names(container)).toEqual(expected);
    expect(log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('finds nothing to do on a second run', async () => {
    const before = await names(container);
    const { deps, options } = runtimeFor(azurite.connectionString, container);
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);
    expect(summary).toMatchObject({ found: 0, deleted: 0, alreadyGone: 0, skipped: 0, failed: 0, errors: [], complete: true });
    expect(summary.fallbackListed).toBe(before.size);
    expect(await names(container)).toEqual(before);
  });
});

describe('cleanup paging and bounds', () => {
  it('pages through the tag query', async () => {
    const container = await createContainer(azurite.connectionString);
    const past = new Date(Date.now() - HOUR).toISOString();
    // Only expired tagged blobs here: Azurite 3.35 goes on to the next page of a tag query only
    // when the current page came back full (see cleanup-function/README.md).
    await seed(container, blobs(450, () => ({ tag: past })));

    const { deps, options } = runtimeFor(azurite.connectionString, container, { pageSize: 100, batchSize: 64 });
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);

    expect(summary).toMatchObject({ found: 450, deleted: 450, failed: 0, fallbackListed: 0 });
    expect(await names(container)).toEqual(new Set());
    await container.delete();
  });

  it('pages through the fallback listing', async () => {
    const container = await createContainer(azurite.connectionString);
    const past = new Date(Date.now() - HOUR).toISOString();
    const future = new Date(Date.now() + DAY).toISOString();
    const old = blobs(230, () => ({ metadata: past }));
    const fresh = blobs(70, () => ({ metadata: future }));
    await seed(container, [...old, ...fresh]);

    const { deps, options } = runtimeFor(azurite.connectionString, container, { pageSize: 40, batchSize: 64 });
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);

    expect(summary).toMatchObject({ found: 230, deleted: 230, failed: 0, fallbackListed: 300 });
    expect(await names(container)).toEqual(new Set(fresh.map((blob) => blob.name)));
    await container.delete();
  });

  it('lists at most the fallback budget per run and resumes where the last run stopped', async () => {
    const container = await createContainer(azurite.connectionString);
    const past = new Date(Date.now() - HOUR).toISOString();
    const future = new Date(Date.now() + DAY).toISOString();
    const untaggedOld = blobs(200, () => ({ metadata: past }));
    const untaggedNew = blobs(60, () => ({ metadata: future }));
    await seed(container, [...untaggedOld, ...untaggedNew]);
    const { deps, options } = runtimeFor(azurite.connectionString, container, { pageSize: 40, fallbackMaxBlobs: 100 });
    const run = () => runCleanup({ ...deps, log: memoryLog() }, options);

    const first = await run();
    expect(first.fallbackListed).toBe(100);
    expect(await container.getBlobClient(FALLBACK_CURSOR_BLOB).exists()).toBe(true);

    const second = await run();
    expect(second.fallbackListed).toBe(100);
    const third = await run();
    // The cursor blob sorts first ('.'), so the resumed listings never see it.
    expect(third.fallbackListed).toBe(60);
    expect(await container.getBlobClient(FALLBACK_CURSOR_BLOB).exists()).toBe(false);

    expect(first.deleted + second.deleted + third.deleted).toBe(200);
    expect(await names(container)).toEqual(new Set(untaggedNew.map((blob) => blob.name)));
    await container.delete();
  });

  it('stops at the time budget without failing, and the next run does the rest', async () => {
    const container = await createContainer(azurite.connectionString);
    const past = new Date(Date.now() - HOUR).toISOString();
    await seed(container, [...blobs(20, () => ({ tag: past })), ...blobs(10, () => ({ metadata: past }))]);
    const run = (timeBudgetMs: number) => {
      const { deps, options } = runtimeFor(azurite.connectionString, container, { timeBudgetMs });
      return runCleanup({ ...deps, log: memoryLog() }, options);
    };

    const outOfTime = await run(-1);
    expect(outOfTime).toMatchObject({ found: 0, deleted: 0, failed: 0, errors: [], complete: false });
    expect((await names(container)).size).toBe(30);

    const next = await run(60_000);
    expect(next).toMatchObject({ found: 30, deleted: 30, complete: true });
    await container.delete();
  });

  it('reads an untagged blob\'s expiry metadata in any casing (Azure keeps the case it was written in)', async () => {
    const container = await createContainer(azurite.connectionString);
    const past = new Date(Date.now() - HOUR).toISOString();
    const future = new Date(Date.now() + DAY).toISOString();
    // Created just now: judged by age they would live for the whole maximum lifetime.
    const expired = ['expiresAt', 'ExpiresAt', 'EXPIRESAT', 'expiresat'].flatMap((metadataName) => blobs(5, () => ({ metadata: past, metadataName })));
    const live = ['expiresAt', 'EXPIRESAT'].flatMap((metadataName) => blobs(5, () => ({ metadata: future, metadataName })));
    await seed(container, [...expired, ...live]);
    const listed = await container.listBlobsFlat({ includeMetadata: true }).byPage().next();
    // The emulator, like Azure, hands the names back as written: the lookup must not assume lower case.
    expect(new Set(listed.value.segment.blobItems.flatMap((blob: { metadata?: Record<string, string> }) => Object.keys(blob.metadata ?? {})))).toEqual(
      new Set(['expiresAt', 'ExpiresAt', 'EXPIRESAT', 'expiresat']),
    );

    const { deps, options } = runtimeFor(azurite.connectionString, container);
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);

    expect(summary).toMatchObject({ found: expired.length, deleted: expired.length, failed: 0 });
    expect(await names(container)).toEqual(new Set(live.map((blob) => blob.name)));
    await container.delete();
  });

  it('judges untagged blobs without metadata by creation time plus the maximum lifetime', async () => {
    const container = await createContainer(azurite.connectionString);
    const bare = blobs(30, () => ({}));
    const futureTagged = blobs(10, () => ({ tag: new Date(Date.now() + 10 * DAY).toISOString() }));
    await seed(container, [...bare, ...futureTagged]);
    const { deps, options } = runtimeFor(azurite.connectionString, container, { maxLifetimeMs: HOUR });

    // Two hours from now, the bare blobs are older than the one-hour maximum lifetime; the
    // tagged ones are older too, but their tag says live, and the tag is what counts.
    const later = { ...deps, clock: () => new Date(Date.now() + 2 * HOUR), log: memoryLog() };
    const summary = await runCleanup(later, options);

    expect(summary).toMatchObject({ found: 30, deleted: 30, failed: 0 });
    expect(await names(container)).toEqual(new Set(futureTagged.map((blob) => blob.name)));
    await container.delete();
  });
});
