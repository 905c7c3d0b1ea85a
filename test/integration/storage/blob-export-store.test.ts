/**
 * The blob store with an account-key SAS against the shared Azurite: the contract, plus what the
 * cleanup function and download clients rely on (headers, metadata, the expiresAt tag, SAS scope),
 * a storage fault mid-upload, and the memory bound of the staged upload.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import { DEFAULT_SAS_VERSION } from '../../../app/src/storage/blob-sas.js';
import { createBlobExportStore, type BlobExportStoreOptions } from '../../../app/src/storage/blob-export-store.js';
import { fetchDownload } from './download-client.js';
import { blobContainerProbe, blobUrlExpiry, commitSmall, csvOf, describeExportStoreContract, sha256, target, writeAll, writeParts } from './export-store.contract.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

const azurite = inject('azurite');
const containerName = `exports-${randomUUID().slice(0, 8)}`;
let direct: ContainerClient;

const store = (overrides: Partial<BlobExportStoreOptions> = {}) =>
  createBlobExportStore({
    container: containerName,
    credential: { kind: 'connectionString', connectionString: azurite.connectionString },
    // Small blocks so every test export spans several of them.
    blockSize: 64 * 1024,
    uploadConcurrency: 3,
    ...overrides,
  });

beforeAll(async () => {
  await store().ensureContainer();
  direct = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(containerName);
});

afterAll(async () => {
  await direct.deleteIfExists();
});

/** A store that reaches Azurite through a fault proxy, for the duration of `use`. */
async function withProxiedStore(overrides: Partial<BlobExportStoreOptions>, use: (faulty: ReturnType<typeof store>, proxy: FaultProxy) => Promise<void>) {
  const endpoint = new URL(azurite.blobEndpoint);
  const proxy = await startFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
  try {
    const viaProxy = azurite.connectionString.replace(azurite.blobEndpoint, `${proxy.origin}${endpoint.pathname}`);
    await use(store({ credential: { kind: 'connectionString', connectionString: viaProxy }, ...overrides }), proxy);
  } finally {
    await proxy.close();
  }
}

/** Blob names a reader could find under an owner's prefix. */
async function blobsUnder(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of direct.listBlobsFlat({ prefix })) names.push(blob.name);
  return names;
}

describeExportStoreContract('blob, account-key SAS', () => ({
  download: fetchDownload,
  urlExpiry: blobUrlExpiry,
  async create(clock) {
    return { store: store({ clock }), ...blobContainerProbe(direct) };
  },
}));

describe('blob export store', () => {
  it('commits the name, headers, metadata and the expiresAt tag that the cleanup function queries', async () => {
    const t = target();
    const content = csvOf(1_000);
    const ref = await commitSmall(store(), t, content);
    expect(ref.location).toBe(`${t.ownerId}/${t.jobId}/${t.fileName}.csv`);

    const blob = direct.getBlobClient(ref.location);
    const properties = await blob.getProperties();
    expect(properties.contentType).toBe('text/csv; charset=utf-8');
    expect(properties.contentDisposition).toBe(`attachment; filename="${t.fileName}.csv"`);
    expect(properties.contentLength).toBe(content.length);
    expect(properties.metadata).toEqual({
      expiresat: t.expiresAt.toISOString(),
      jobid: t.jobId,
      owner: t.ownerId,
      rows: '200',
      sha256: sha256(content),
      truncated: 'false',
    });
    expect((await blob.getTags()).tags).toEqual({ expiresAt: t.expiresAt.toISOString() });

    const found: string[] = [];
    const query = `"expiresAt" <= '${new Date(t.expiresAt.getTime() + 1_000).toISOString()}' AND "expiresAt" >= '${t.expiresAt.toISOString()}'`;
    for await (const item of direct.findBlobsByTags(query)) found.push(item.name);
    expect(found).toContain(ref.location);
  });

  it('extendExpiry rewrites the tag and the metadata copy, keeping the rest of the metadata', async () => {
    const t = target();
    const ref = await commitSmall(store(), t);
    const later = new Date(t.expiresAt.getTime() + 24 * 3600 * 1000);
    await store().extendExpiry(ref, { ...t, expiresAt: later });

    const blob = direct.getBlobClient(ref.location);
    expect((await blob.getTags()).tags).toEqual({ expiresAt: later.toISOString() });
    expect((await blob.getProperties()).metadata).toMatchObject({ expiresat: later.toISOString(), jobid: t.jobId, owner: t.ownerId });
  });

  it('hands out a read-only SAS for that one blob, pinned version, started a few minutes back', async () => {
    const t = target();
    const ref = await commitSmall(store(), t);
    const before = Date.now();
    const url = new URL(await store().downloadUrl(ref, t));
    const params = url.searchParams;
    expect(params.get('sp')).toBe('r');
    expect(params.get('sr')).toBe('b');
    expect(params.get('sv')).toBe(DEFAULT_SAS_VERSION);
    // Plain HTTP is allowed only because this emulator listens on loopback.
    expect(params.get('spr')).toBe('https,http');
    expect(Date.parse(params.get('st')!)).toBeLessThanOrEqual(before - 4 * 60 * 1000);
    expect(Date.parse(params.get('se')!)).toBe(t.expiresAt.getTime());

    const write = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'overwritten' });
    expect(write.status).toBe(403);
    const other = await commitSmall(store(), target());
    const sideways = new URL(url);
    sideways.pathname = new URL(direct.getBlobClient(other.location).url).pathname;
    expect((await fetch(sideways)).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
  });

  it('refuses a link that would outlive the 7-day limit of a user-delegation SAS', async () => {
    const t = target();
    const ref = await commitSmall(store(), t);
    await expect(store().downloadUrl(ref, { ...t, expiresAt: new Date(Date.now() + 8 * 24 * 3600 * 1000) })).rejects.toSatisfy(
      (error) => isAppError(error) && error.code === 'validation_failed',
    );
  });

  it('rejects targets whose ids would escape their place in the container', async () => {
    await expect(store().begin({ ...target(), ownerId: '../other-owner' })).rejects.toThrow(/ownerId/);
    await expect(store().begin({ ...target(), jobId: 'a/b' })).rejects.toThrow(/jobId/);
    await expect(store().begin({ ...target(), fileName: 'a"b' })).rejects.toThrow(/fileName/);
  });

  it('storage failing mid-upload fails the write with storage_error and publishes nothing', async () => {
    await withProxiedStore({ retryOptions: { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 } }, async (faulty, proxy) => {
      const t = target();
      const writer = await faulty.begin(t);
      proxy.breakAfter(300 * 1024);
      const content = csvOf(40_000);
      await expect(writeAll(writer, content, 16 * 1024)).rejects.toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
      expect(proxy.broken).toBe(true);
      await writer.abort();

      expect(await blobsUnder(`${t.ownerId}/`)).toEqual([]);
    });
  });

  it('storage going away just before the commit fails the commit and publishes nothing', async () => {
    await withProxiedStore({ retryOptions: { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 } }, async (faulty, proxy) => {
      const t = target();
      const writer = await faulty.begin(t);
      await writeAll(writer, csvOf(5_000), 8 * 1024);
      proxy.breakAfter(0);
      await expect(writer.commit({ rows: 5_000, truncated: false })).rejects.toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
      await writer.abort();

      expect(await blobsUnder(`${t.ownerId}/`)).toEqual([]);
    });
  });

  it('gives up on a storage call that never answers, so an upload cannot hang its export forever', async () => {
    await withProxiedStore({ operationTimeoutMs: 500 }, async (hanging, proxy) => {
      const writer = await hanging.begin(target());
      proxy.swallowResponses(true);
      await expect(writeAll(writer, csvOf(5_000), 8 * 1024)).rejects.toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
      await writer.abort();
    });
  });

  it('removes the blob of a commit whose answer was lost, when the export is aborted', async () => {
    await withProxiedStore({ operationTimeoutMs: 1_000 }, async (faulty, proxy) => {
      const t = target();
      const writer = await faulty.begin(t);
      await writeAll(writer, csvOf(5_000), 8 * 1024);
      // The service commits, but the connector never hears so: the job will be recorded failed.
      proxy.swallowResponses(true);
      await expect(writer.commit({ rows: 5_000, truncated: false })).rejects.toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
      proxy.swallowResponses(false);
      await writer.abort();

      expect(await blobsUnder(`${t.ownerId}/`)).toEqual([]);
    });
  });

  it('commits each part under its own name with its headers, metadata and expiresAt tag, and the MLTable beside them', async () => {
    const t = target('csv.gz');
    const contents = [gzipSync(csvOf(2_000)), gzipSync(csvOf(10))];
    const ref = await writeParts(await store().begin(t), contents);
    const prefix = `${t.ownerId}/${t.jobId}/`;
    // Part 1 keeps the single-file name: its blocks were staged before a second part was known.
    expect(ref.location).toBe(`${prefix}MLTable`);
    expect(ref.parts?.map((part) => part.location)).toEqual([`${prefix}${t.fileName}.csv.gz`, `${prefix}${t.fileName}-part-00002.csv.gz`]);
    expect((await blobsUnder(prefix)).sort()).toEqual([ref.location, ...ref.parts!.map((part) => part.location)].sort());

    for (const [index, part] of ref.parts!.entries()) {
      const blob = direct.getBlobClient(part.location);
      const properties = await blob.getProperties();
      expect(properties.contentType).toBe('application/gzip');
      expect(properties.contentDisposition).toBe(`attachment; filename="${t.fileName}-part-0000${index + 1}.csv.gz"`);
      expect(properties.metadata).toEqual({
        expiresat: t.expiresAt.toISOString(),
        jobid: t.jobId,
        owner: t.ownerId,
        rows: String(part.rows),
        sha256: sha256(contents[index]!),
        truncated: 'false',
        part: `${index + 1}/2`,
      });
      expect((await blob.getTags()).tags).toEqual({ expiresAt: t.expiresAt.toISOString() });
    }
    const manifest = direct.getBlobClient(ref.location);
    expect((await manifest.getProperties()).metadata).toEqual({
      expiresat: t.expiresAt.toISOString(),
      jobid: t.jobId,
      owner: t.ownerId,
      parts: '2',
      rows: '300',
      truncated: 'false',
    });
    expect((await manifest.getTags()).tags).toEqual({ expiresAt: t.expiresAt.toISOString() });

    // The cleanup function's tag query finds every blob of the export.
    const found: string[] = [];
    const query = `"expiresAt" <= '${new Date(t.expiresAt.getTime() + 1_000).toISOString()}' AND "expiresAt" >= '${t.expiresAt.toISOString()}'`;
    for await (const item of direct.findBlobsByTags(query)) if (item.name.startsWith(prefix)) found.push(item.name);
    expect(found.sort()).toEqual((await blobsUnder(prefix)).sort());
  });

  it('extendExpiry rewrites every tag and metadata copy, and replaces the MLTable', async () => {
    const t = target();
    const ref = await writeParts(await store().begin(t), [csvOf(500), csvOf(20)]);
    const before = (await direct.getBlobClient(ref.location).downloadToBuffer()).toString();
    const later = new Date(t.expiresAt.getTime() + 24 * 3600 * 1000);
    await store().extendExpiry(ref, { ...t, expiresAt: later });

    for (const location of [ref.location, ...ref.parts!.map((part) => part.location)]) {
      const blob = direct.getBlobClient(location);
      expect((await blob.getTags()).tags).toEqual({ expiresAt: later.toISOString() });
      expect((await blob.getProperties()).metadata).toMatchObject({ expiresat: later.toISOString(), jobid: t.jobId, owner: t.ownerId });
    }
    const after = (await direct.getBlobClient(ref.location).downloadToBuffer()).toString();
    expect(after).not.toBe(before);
    expect(after).toContain(`se=${encodeURIComponent(later.toISOString().replace('.000Z', 'Z'))}`);
    expect((await direct.getBlobClient(ref.location).getProperties()).contentType).toBe('application/yaml');
  });

  it('storage going away between the commits of two parts removes the part already published', async () => {
    await withProxiedStore({ retryOptions: { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 } }, async (faulty, proxy) => {
      const t = target();
      const writer = await faulty.begin(t);
      for (const [index, content] of [csvOf(3_000), csvOf(3_000), csvOf(10)].entries()) {
        await writeAll(writer, content, 8 * 1024);
        if (index < 2) await writer.nextPart({ rows: 3_000 });
      }
      proxy.breakOnRequest(/comp=blocklist/, 2);
      await expect(writer.commit({ rows: 6_010, truncated: false })).rejects.toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
      expect(proxy.broken).toBe(true);
      // Part 1 was committed before the fault.
      expect(await blobsUnder(`${t.ownerId}/`)).toEqual([`${t.ownerId}/${t.jobId}/${t.fileName}.csv`]);
      proxy.heal();
      await writer.abort();

      expect(await blobsUnder(`${t.ownerId}/`)).toEqual([]);
    });
  });

  it('keeps upload memory bounded by (concurrency + 1) blocks while the producer writes as fast as it can', async () => {
    const blockSize = 1024 * 1024;
    const bounded = store({ blockSize, uploadConcurrency: 2 });
    const t = target();
    const writer = await bounded.begin(t);
    const total = 48 * blockSize + 12_345;
    const piece = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const source = Readable.from(
      (function* () {
        while (sent < total) {
          const size = Math.min(piece.length, total - sent);
          sent += size;
          yield piece.subarray(0, size);
        }
      })(),
    );
    await pipeline(source, writer.stream);
    const ref = await writer.commit({ rows: 1, truncated: false });

    expect(ref.bytes).toBe(total);
    expect(writer.peakBufferedBytes).toBeLessThanOrEqual(3 * blockSize);
    expect((await direct.getBlobClient(ref.location).getProperties()).contentLength).toBe(total);
  });
});
