/**
 * The behaviour every ExportStore adapter promises, run by one test file per adapter against the
 * real backing storage: what a download client sees through the URL, and that nothing partial
 * is ever readable — for one file, and for several parts with their MLTable.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ContainerClient } from '@azure/storage-blob';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import { parse as parseYaml } from 'yaml';
import { MAX_EXPORT_PARTS, type CommittedExport, type ExportFormat, type ExportStore, type ExportTarget, type ExportWriter } from '../../../app/src/storage/export-store.js';
import type { Download } from './download-client.js';

export interface StoreUnderTest {
  store: ExportStore;
  /** What a reader could find for this target: committed blobs under its prefix, or files in the store's folder. */
  visible(target: ExportTarget): Promise<string[]>;
  /** The expiry the cleanup will honour for one committed file of an export, by its location (index tag, sidecar). */
  storedExpiry(location: string): Promise<Date>;
  cleanup(): Promise<void>;
}

/** How the blob adapters' contract runs look into their container: listings and index tags. */
export function blobContainerProbe(direct: ContainerClient): Omit<StoreUnderTest, 'store'> {
  return {
    async visible(t) {
      const names: string[] = [];
      for await (const blob of direct.listBlobsFlat({ prefix: `${t.ownerId}/${t.jobId}/` })) names.push(blob.name);
      return names;
    },
    async storedExpiry(location) {
      return new Date((await direct.getBlobClient(location).getTags()).tags.expiresAt!);
    },
    async cleanup() {},
  };
}

/** When a blob SAS URL stops working: its `se`. */
export function blobUrlExpiry(url: string): Date {
  return new Date(new URL(url).searchParams.get('se') ?? 'missing se');
}

export interface ContractHarness {
  /** A fresh store whose notion of "now" is `clock`. */
  create(clock: () => Date): Promise<StoreUnderTest>;
  download: Download;
  /** When a download URL of this adapter stops working, read from the URL itself (SAS `se`, signed `exp`). */
  urlExpiry(url: string): Date;
}

const HOUR = 3600 * 1000;

export function describeExportStoreContract(name: string, harness: () => ContractHarness): void {
  describe(`ExportStore contract: ${name}`, () => {
    let offsetMs = 0;
    const clock = () => new Date(Date.now() + offsetMs);
    const created: StoreUnderTest[] = [];

    const fresh = async () => {
      offsetMs = 0;
      const subject = await harness().create(clock);
      created.push(subject);
      return subject;
    };

    afterEach(async () => {
      await Promise.all(created.splice(0).map((subject) => subject.cleanup()));
    });

    it('publishes on commit, and the URL returns exactly the bytes written', async () => {
      const { store } = await fresh();
      const t = target();
      const content = csvOf(3_000);
      const writer = await store.begin(t);
      await writeAll(writer, content, 7_919);
      expect(writer.bytesWritten).toBe(content.length);
      const ref = await writer.commit({ rows: 3_000, truncated: false });

      expect(ref.bytes).toBe(content.length);
      expect(ref.sha256).toBe(sha256(content));
      const response = await harness().download(await store.downloadUrl(ref, t));
      expect(response.status).toBe(200);
      expect(sha256(response.body)).toBe(ref.sha256);
      expect(response.body.equals(content)).toBe(true);
      expect(response.header('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.header('content-disposition')).toBe(`attachment; filename="${t.fileName}.csv"`);
    });

    it('serves csv.gz as application/gzip under a .csv.gz name', async () => {
      const { store } = await fresh();
      const t = target('csv.gz');
      const content = csvOf(500);
      const gzipped = gzipSync(content);
      const writer = await store.begin(t);
      await writeAll(writer, gzipped, 1_000);
      const ref = await writer.commit({ rows: 500, truncated: false });

      const response = await harness().download(await store.downloadUrl(ref, t));
      expect(response.status).toBe(200);
      expect(response.header('content-type')).toBe('application/gzip');
      expect(response.header('content-disposition')).toBe(`attachment; filename="${t.fileName}.csv.gz"`);
      expect(gunzipSync(response.body).equals(content)).toBe(true);
    });

    it('stores an empty export as an empty file', async () => {
      const { store } = await fresh();
      const t = target();
      const writer = await store.begin(t);
      await writeAll(writer, Buffer.alloc(0), 1);
      const ref = await writer.commit({ rows: 0, truncated: false });
      expect(ref).toMatchObject({ bytes: 0, sha256: sha256(Buffer.alloc(0)) });
      const response = await harness().download(await store.downloadUrl(ref, t));
      expect(response.status).toBe(200);
      expect(response.body.length).toBe(0);
    });

    it('shows nothing until commit, even once the stream has finished', async () => {
      const subject = await fresh();
      const t = target();
      const writer = await subject.store.begin(t);
      await writeAll(writer, csvOf(1_000), 4_096);
      expect(await subject.visible(t)).toEqual([]);
      await writer.commit({ rows: 1_000, truncated: false });
      expect(await subject.visible(t)).not.toEqual([]);
    });

    it('abort after a partial write leaves nothing, may be repeated, and forbids a later commit', async () => {
      const subject = await fresh();
      const t = target();
      const writer = await subject.store.begin(t);
      const content = csvOf(2_000);
      await new Promise<void>((resolve, reject) => writer.stream.write(content.subarray(0, 40_000), (error) => (error ? reject(error) : resolve())));
      await writer.abort();
      await writer.abort();
      expect(await subject.visible(t)).toEqual([]);
      await expect(writer.commit({ rows: 1, truncated: false })).rejects.toThrow(/aborted/);
    });

    it('a source failing mid-stream publishes nothing', async () => {
      const subject = await fresh();
      const t = target();
      const writer = await subject.store.begin(t);
      const content = csvOf(4_000);
      const failing = Readable.from(
        (async function* () {
          yield content.subarray(0, 60_000);
          yield content.subarray(60_000, 120_000);
          throw new Error('Hive connection lost');
        })(),
      );
      await expect(pipeline(failing, writer.stream)).rejects.toThrow('Hive connection lost');
      await writer.abort();
      expect(await subject.visible(t)).toEqual([]);
    });

    it('refuses to commit before the stream has finished', async () => {
      const { store } = await fresh();
      const writer = await store.begin(target());
      writer.stream.write(csvOf(10));
      await expect(writer.commit({ rows: 10, truncated: false })).rejects.toThrow(/before the stream finished/);
      await writer.abort();
    });

    it('delete makes the URL fail, removes the export and is idempotent', async () => {
      const subject = await fresh();
      const t = target();
      const ref = await commitSmall(subject.store, t);
      const url = await subject.store.downloadUrl(ref, t);
      expect((await harness().download(url)).status).toBe(200);

      await subject.store.delete(ref);
      const after = await harness().download(url);
      expect(after.status).toBe(404);
      expect(after.body.includes(Buffer.from('row-1,'))).toBe(false);
      expect(await subject.visible(t)).toEqual([]);
      await expect(subject.store.delete(ref)).resolves.toBeUndefined();
    });

    it('extendExpiry moves the stored expiry, and a link for the new expiry works', async () => {
      const subject = await fresh();
      const t = target();
      const ref = await commitSmall(subject.store, t);
      expect((await subject.storedExpiry(ref.location)).toISOString()).toBe(t.expiresAt.toISOString());

      const later = new Date(t.expiresAt.getTime() + 5 * HOUR);
      await subject.store.extendExpiry(ref, { ...t, expiresAt: later });
      expect((await subject.storedExpiry(ref.location)).toISOString()).toBe(later.toISOString());
      const response = await harness().download(await subject.store.downloadUrl(ref, { ...t, expiresAt: later }));
      expect(response.status).toBe(200);
    });

    it('extendExpiry of a deleted export is not_found', async () => {
      const { store } = await fresh();
      const t = target();
      const ref = await commitSmall(store, t);
      await store.delete(ref);
      await expect(store.extendExpiry(ref, { ...t, expiresAt: new Date(Date.now() + 2 * HOUR) })).rejects.toSatisfy(
        (error) => isAppError(error) && error.code === 'not_found',
      );
    });

    it('a URL stops working once its expiry has passed', async () => {
      const { store } = await fresh();
      const t = target();
      const ref = await commitSmall(store, t);
      // Issue the URL "two hours ago" for an expiry one hour ago; back in the present it is dead.
      offsetMs = -2 * HOUR;
      const url = await store.downloadUrl(ref, { ...t, expiresAt: new Date(Date.now() - HOUR) });
      offsetMs = 0;
      const response = await harness().download(url);
      expect([403, 410]).toContain(response.status);
      expect(response.body.includes(Buffer.from('row-1,'))).toBe(false);
    });

    it('refuses a URL for an export that has already expired', async () => {
      const { store } = await fresh();
      const t = target();
      const ref = await commitSmall(store, t);
      await expect(store.downloadUrl(ref, { ...t, expiresAt: new Date(Date.now() - 1_000) })).rejects.toSatisfy(
        (error) => isAppError(error) && error.code === 'gone' && error.status === 410,
      );
    });

    it('a single-part export has one part URL, the same grant as its download URL', async () => {
      const { store } = await fresh();
      const t = target();
      const content = csvOf(300);
      const ref = await commitSmall(store, t, content);
      expect(ref.parts).toBeUndefined();
      const urls = await store.partUrls(ref, t);
      expect(urls).toHaveLength(1);
      expect((await harness().download(urls[0]!)).body.equals(content)).toBe(true);
    });

    describe('several parts', () => {
      const partsOf3 = () => [csvOf(1_200), csvOf(700), csvOf(50)];

      it('publishes every part and an MLTable naming them in order, nothing before the commit', async () => {
        const subject = await fresh();
        const t = target();
        const contents = partsOf3();
        const writer = await subject.store.begin(t);
        const ref = await writeParts(writer, contents, { visibleBefore: () => subject.visible(t) });

        expect(ref.parts?.map((part) => part.rows)).toEqual(contents.map((_, index) => rowsOf(index)));
        expect(ref.parts?.map((part) => part.bytes)).toEqual(contents.map((content) => content.length));
        expect(ref.parts?.map((part) => part.sha256)).toEqual(contents.map(sha256));
        expect(ref.bytes).toBe(contents.reduce((sum, content) => sum + content.length, 0));
        expect(writer.bytesWritten).toBe(ref.bytes);
        expect(await subject.visible(t)).not.toEqual([]);

        const urls = await subject.store.partUrls(ref, t);
        expect(urls).toHaveLength(3);
        for (const [index, url] of urls.entries()) {
          const response = await harness().download(url);
          expect(response.status).toBe(200);
          expect(response.body.equals(contents[index]!)).toBe(true);
          expect(response.header('content-type')).toBe('text/csv; charset=utf-8');
          expect(response.header('content-disposition')).toBe(`attachment; filename="${t.fileName}-part-0000${index + 1}.csv"`);
        }

        const manifest = await harness().download(await subject.store.downloadUrl(ref, t));
        expect(manifest.status).toBe(200);
        expect(manifest.header('content-type')).toBe('application/yaml');
        expect(manifest.header('content-disposition')).toBe('attachment; filename="MLTable"');
        const table = parseYaml(manifest.body.toString('utf8')) as Mltable;
        expect(table.type).toBe('mltable');
        expect(table.transformations).toEqual([
          {
            read_delimited: {
              delimiter: ',',
              header: 'all_files_same_headers',
              encoding: 'utf8',
              empty_as_string: false,
              support_multi_line: true,
              include_path_column: false,
              infer_column_types: true,
            },
          },
        ]);
        expect(table.paths).toHaveLength(3);
        for (const [index, entry] of table.paths.entries()) {
          expect(Object.keys(entry)).toEqual(['file']);
          const response = await harness().download(entry.file);
          expect(response.status).toBe(200);
          expect(sha256(response.body)).toBe(ref.parts![index]!.sha256);
          // Each part URL in the manifest lives as long as the export's link.
          expect(harness().urlExpiry(entry.file).getTime()).toBe(t.expiresAt.getTime());
        }
      });

      it.each([
        ['csv.gz', 'application/gzip', 'read_delimited'],
        ['parquet', 'application/vnd.apache.parquet', 'read_parquet'],
      ] as const)('names %s parts with their type, and reads them with %s', async (format, contentType, transformation) => {
        const { store } = await fresh();
        const t = target(format);
        const contents = [randomBytes(3_000), randomBytes(10)];
        const ref = await writeParts(await store.begin(t), contents);
        const extension = format === 'parquet' ? '.parquet' : '.csv.gz';
        for (const [index, url] of (await store.partUrls(ref, t)).entries()) {
          const response = await harness().download(url);
          expect(response.body.equals(contents[index]!)).toBe(true);
          expect(response.header('content-type')).toBe(contentType);
          expect(response.header('content-disposition')).toBe(`attachment; filename="${t.fileName}-part-0000${index + 1}${extension}"`);
        }
        const table = parseYaml((await harness().download(await store.downloadUrl(ref, t))).body.toString('utf8')) as Mltable;
        expect(table.transformations.map((step) => Object.keys(step)[0])).toEqual([transformation]);
        expect(table.paths).toHaveLength(2);
      });

      it('abort after a part was closed leaves nothing, and forbids a later commit', async () => {
        const subject = await fresh();
        const t = target();
        const writer = await subject.store.begin(t);
        await writeAll(writer, csvOf(800), 4_096);
        await writer.nextPart({ rows: 800 });
        await new Promise<void>((resolve, reject) => writer.stream.write(csvOf(500).subarray(0, 9_000), (error) => (error ? reject(error) : resolve())));
        await writer.abort();
        await writer.abort();
        expect(await subject.visible(t)).toEqual([]);
        await expect(writer.commit({ rows: 1, truncated: false })).rejects.toThrow(/aborted/);
      });

      it('refuses to close a part before its stream has finished', async () => {
        const { store } = await fresh();
        const writer = await store.begin(target());
        writer.stream.write(csvOf(10));
        await expect(writer.nextPart({ rows: 10 })).rejects.toThrow(/before the stream finished/);
        await writer.abort();
      });

      it(`stops at ${MAX_EXPORT_PARTS} parts`, async () => {
        const subject = await fresh();
        const t = target();
        const writer = await subject.store.begin(t);
        for (let part = 1; part < MAX_EXPORT_PARTS; part++) {
          await writeAll(writer, Buffer.from(`a\r\n${part}\r\n`), 64);
          await writer.nextPart({ rows: 1 });
        }
        await writeAll(writer, Buffer.from('a\r\n100\r\n'), 64);
        await expect(writer.nextPart({ rows: 1 })).rejects.toThrow(`at most ${MAX_EXPORT_PARTS} parts`);
        await writer.abort();
        expect(await subject.visible(t)).toEqual([]);
      });

      it('delete removes every part and the MLTable, and every URL stops working', async () => {
        const subject = await fresh();
        const t = target();
        const ref = await writeParts(await subject.store.begin(t), partsOf3());
        const urls = [await subject.store.downloadUrl(ref, t), ...(await subject.store.partUrls(ref, t))];
        for (const url of urls) expect((await harness().download(url)).status).toBe(200);

        await subject.store.delete(ref);
        expect(await subject.visible(t)).toEqual([]);
        for (const url of urls) expect((await harness().download(url)).status).toBe(404);
        await expect(subject.store.delete(ref)).resolves.toBeUndefined();
      });

      it('extendExpiry moves the expiry of every part and of the MLTable, whose part URLs then last until the new expiry', async () => {
        const subject = await fresh();
        const t = target();
        const ref = await writeParts(await subject.store.begin(t), partsOf3());
        const later = { ...t, expiresAt: new Date(t.expiresAt.getTime() + 5 * HOUR) };
        await subject.store.extendExpiry(ref, later);

        for (const location of [ref.location, ...ref.parts!.map((part) => part.location)]) {
          expect((await subject.storedExpiry(location)).toISOString()).toBe(later.expiresAt.toISOString());
        }
        const manifestUrl = await subject.store.downloadUrl(ref, later);
        expect(harness().urlExpiry(manifestUrl).getTime()).toBe(later.expiresAt.getTime());
        const table = parseYaml((await harness().download(manifestUrl)).body.toString('utf8')) as Mltable;
        expect(table.paths).toHaveLength(3);
        for (const [index, entry] of table.paths.entries()) {
          expect(harness().urlExpiry(entry.file).getTime()).toBe(later.expiresAt.getTime());
          expect(sha256((await harness().download(entry.file)).body)).toBe(ref.parts![index]!.sha256);
        }
        for (const url of await subject.store.partUrls(ref, later)) expect(harness().urlExpiry(url).getTime()).toBe(later.expiresAt.getTime());
      });

      it('extendExpiry of a deleted multi-part export is not_found', async () => {
        const { store } = await fresh();
        const t = target();
        const ref = await writeParts(await store.begin(t), partsOf3());
        await store.delete(ref);
        await expect(store.extendExpiry(ref, { ...t, expiresAt: new Date(Date.now() + 2 * HOUR) })).rejects.toSatisfy(
          (error) => isAppError(error) && error.code === 'not_found',
        );
      });
    });

    it('is ready when its storage is reachable', async () => {
      const { store } = await fresh();
      await expect(store.checkReady()).resolves.toBeUndefined();
    });
  });
}

/** What the `yaml` parser makes of an MLTable. */
export interface Mltable {
  type: string;
  paths: { file: string }[];
  transformations: Record<string, unknown>[];
}

/** Rows of part `index` as writeParts records them (any distinct counts would do). */
const rowsOf = (index: number) => 100 * (index + 1);

/**
 * Writes each buffer as one part (closing all but the last with `nextPart`) and commits; with
 * `visibleBefore`, checks that nothing is visible once the last part has finished, before the commit.
 */
export async function writeParts(writer: ExportWriter, contents: Buffer[], checks: { visibleBefore?: () => Promise<string[]> } = {}): Promise<CommittedExport> {
  for (const [index, content] of contents.entries()) {
    await writeAll(writer, content, 4_096);
    if (index < contents.length - 1) await writer.nextPart({ rows: rowsOf(index) });
  }
  if (checks.visibleBefore) expect(await checks.visibleBefore()).toEqual([]);
  return writer.commit({ rows: contents.reduce((sum, _, index) => sum + rowsOf(index), 0), truncated: false });
}

export function target(format: ExportFormat = 'csv'): ExportTarget {
  return {
    jobId: randomUUID(),
    ownerId: `owner-${randomBytes(4).toString('hex')}`,
    fileName: `enos-measurement-${randomBytes(3).toString('hex')}`,
    format,
    expiresAt: new Date(Math.ceil((Date.now() + HOUR) / 1000) * 1000),
  };
}

/** A CSV with a header row and `rows` lines that differ (so a misplaced block shows up). */
export function csvOf(rows: number): Buffer {
  const lines = ['asset_id,ts,value'];
  for (let i = 1; i <= rows; i += 1) lines.push(`row-${i},2026-11-27T21:${String(i % 60).padStart(2, '0')}:00Z,${(i * 0.37).toFixed(3)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `content` in pieces of `pieceSize`, honouring backpressure, then ends the stream. */
export async function writeAll(writer: ExportWriter, content: Buffer, pieceSize: number): Promise<void> {
  const pieces = function* () {
    for (let offset = 0; offset < content.length; offset += pieceSize) yield content.subarray(offset, offset + pieceSize);
  };
  await pipeline(Readable.from(pieces(), { objectMode: false }), writer.stream);
}

export async function commitSmall(store: ExportStore, t: ExportTarget, content = csvOf(200)): Promise<CommittedExport> {
  const writer = await store.begin(t);
  await writeAll(writer, content, 1_024);
  return writer.commit({ rows: 200, truncated: false });
}
