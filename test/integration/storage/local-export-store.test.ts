/**
 * The local store on the real filesystem, served by the real download router behind the
 * connector's error middleware on a loopback port: the contract, encryption that fails loudly,
 * Range requests, signed-URL checks, path tricks, the sweeper and disk-space faults.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import { errorMiddleware, notFoundHandler } from '../../../app/src/http/error-middleware.js';
import { createDownloadRouter } from '../../../app/src/storage/download-router.js';
import { HEADER_BYTES, TAG_BYTES } from '../../../app/src/storage/encrypted-chunk-format.js';
import { createLocalExportStore, type LocalExportStore, type LocalExportStoreOptions } from '../../../app/src/storage/local-export-store.js';
import type { ExportTarget, StoredExportRef } from '../../../app/src/storage/export-store.js';
import { fetchDownload } from './download-client.js';
import { commitSmall, csvOf, describeExportStoreContract, sha256, target, writeAll, writeParts } from './export-store.contract.js';

const CHUNK = 4_096;
const HOUR = 3600 * 1000;
const encryptionKey = randomBytes(32);
const urlSigningKey = randomBytes(32);
let server: Server;
let origin: string;
/** The router serves whichever store the running test made. */
let current: Pick<LocalExportStore, 'openDownload'> | undefined;
const dirs: string[] = [];

const newDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'local-exports-'));
  dirs.push(dir);
  return dir;
};

const makeStore = (dir: string, overrides: Partial<LocalExportStoreOptions> = {}) => {
  const store = createLocalExportStore({ dir, encryptionKey, urlSigningKey, publicBaseUrl: origin, minFreeBytes: 0, chunkSize: CHUNK, ...overrides });
  current = store;
  return store;
};

const published = async (dir: string) => (await readdir(dir)).filter((name) => name !== '.partial').sort();

beforeAll(async () => {
  const app = express();
  app.use(createDownloadRouter({ openDownload: (request) => current!.openDownload(request) }));
  app.use(notFoundHandler);
  app.use(errorMiddleware);
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test server has no port');
  origin = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeExportStoreContract('local, encrypted files behind signed URLs', () => ({
  download: fetchDownload,
  urlExpiry: (url) => new Date(Number(new URL(url).searchParams.get('exp')) * 1000),
  async create(clock) {
    const dir = await newDir();
    return {
      store: makeStore(dir, { clock }),
      visible: () => published(dir),
      async storedExpiry(location) {
        return new Date((JSON.parse(await readFile(path.join(dir, `${location}.json`), 'utf8')) as { expiresAt: string }).expiresAt);
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
}));

interface Published {
  store: LocalExportStore;
  dir: string;
  t: ExportTarget;
  ref: StoredExportRef;
  url: string;
  content: Buffer;
  dataFile: string;
}

/** One committed export of ~5 chunks, its URL and where its file is. */
async function publishOne(options: Partial<LocalExportStoreOptions> = {}, content = csvOf(500)): Promise<Published> {
  const dir = await newDir();
  const store = makeStore(dir, options);
  const t = target();
  const ref = await commitSmall(store, t, content);
  return { store, dir, t, ref, url: await store.downloadUrl(ref, t), content, dataFile: path.join(dir, `${ref.location}.data`) };
}

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe('local export store: encryption at rest', () => {
  afterEach(() => {
    current = undefined;
  });

  it('keeps only ciphertext on disk, owner-readable only, with a sidecar the sweeper and router read', async () => {
    const { dir, ref, content, dataFile, t } = await publishOne();
    const stored = await readFile(dataFile);
    expect(stored.includes(Buffer.from('asset_id,ts,value'))).toBe(false);
    expect(stored.includes(Buffer.from('row-1,'))).toBe(false);
    expect(stored.length).toBe(HEADER_BYTES + content.length + Math.ceil(content.length / CHUNK) * TAG_BYTES);
    expect((await stat(dataFile)).mode & 0o777).toBe(0o600);
    expect(await published(dir)).toEqual([`${ref.location}.data`, `${ref.location}.json`]);
    const sidecar = JSON.parse(await readFile(path.join(dir, `${ref.location}.json`), 'utf8')) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ id: ref.location, jobId: t.jobId, ownerId: t.ownerId, fileName: t.fileName, format: 'csv', bytes: content.length, sha256: sha256(content), rows: 200 });
    expect(await readdir(path.join(dir, '.partial'))).toEqual([]);
  });

  it('keeps each part of a multi-part export as ciphertext, and its manifest as a sidecar that names the parts but holds no grant', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const t = target();
    const contents = [csvOf(900), csvOf(300)];
    const ref = await writeParts(await store.begin(t), contents);
    const ids = ref.parts!.map((part) => part.location);
    expect(await published(dir)).toEqual([...ids.flatMap((id) => [`${id}.data`, `${id}.json`]), `${ref.location}.json`].sort());
    for (const [index, id] of ids.entries()) {
      const stored = await readFile(path.join(dir, `${id}.data`));
      expect(stored.includes(Buffer.from('row-1,'))).toBe(false);
      expect(stored.length).toBe(HEADER_BYTES + contents[index]!.length + Math.ceil(contents[index]!.length / CHUNK) * TAG_BYTES);
      const sidecar = JSON.parse(await readFile(path.join(dir, `${id}.json`), 'utf8')) as Record<string, unknown>;
      expect(sidecar).toMatchObject({ id, jobId: t.jobId, fileName: `${t.fileName}-part-0000${index + 1}`, bytes: contents[index]!.length, rows: 100 * (index + 1) });
    }
    const manifest = await readFile(path.join(dir, `${ref.location}.json`), 'utf8');
    expect(JSON.parse(manifest)).toMatchObject({ kind: 'mltable', id: ref.location, jobId: t.jobId, fileName: t.fileName, format: 'csv', parts: ids, rows: 300 });
    // The URLs are signed when the MLTable is downloaded; no signature is at rest.
    expect(manifest).not.toMatch(/sig|http/);
    expect(await readdir(path.join(dir, '.partial'))).toEqual([]);
  });

  it('a wrong key fails loudly with a 500, before any byte is sent', async () => {
    const { dir, url } = await publishOne();
    makeStore(dir, { encryptionKey: randomBytes(32) });
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await errorCode(response)).toBe('storage_error');
  });

  it('a flipped byte fails loudly: a range over it is a 500, a full download breaks off', async () => {
    const { url, dataFile } = await publishOne();
    const stored = await readFile(dataFile);
    const inThirdChunk = HEADER_BYTES + 2 * (CHUNK + TAG_BYTES) + 100;
    stored.writeUInt8(stored.readUInt8(inThirdChunk) ^ 0x01, inThirdChunk);
    await writeFile(dataFile, stored);

    const ranged = await fetch(url, { headers: { Range: `bytes=${2 * CHUNK}-${2 * CHUNK + 10}` } });
    expect(ranged.status).toBe(500);
    expect(await errorCode(ranged)).toBe('storage_error');
    // Chunks before the damage are authentic and served; the body never completes.
    expect((await fetch(url, { headers: { Range: 'bytes=0-99' } })).status).toBe(206);
    await expect(fetchDownload(url)).rejects.toThrow();
  });

  it('swapped chunks and an edited header fail authentication', async () => {
    const { url, dataFile } = await publishOne();
    const original = await readFile(dataFile);
    const span = CHUNK + TAG_BYTES;
    const swapped = Buffer.from(original);
    original.copy(swapped, HEADER_BYTES, HEADER_BYTES + span, HEADER_BYTES + 2 * span);
    original.copy(swapped, HEADER_BYTES + span, HEADER_BYTES, HEADER_BYTES + span);
    await writeFile(dataFile, swapped);
    expect((await fetch(url, { headers: { Range: 'bytes=0-9' } })).status).toBe(500);

    const editedHeader = Buffer.from(original);
    editedHeader.writeUInt8(editedHeader.readUInt8(HEADER_BYTES - 1) ^ 0x80, HEADER_BYTES - 1); // last byte of the salt
    await writeFile(dataFile, editedHeader);
    expect((await fetch(url, { headers: { Range: 'bytes=0-9' } })).status).toBe(500);
  });

  it('a truncated file fails loudly, even when cut at a chunk boundary with a matching sidecar', async () => {
    const { url, dataFile, dir, ref, content } = await publishOne();
    const fullChunks = Math.floor(content.length / CHUNK);
    // Cut by a few bytes: the size no longer matches the sidecar.
    await truncate(dataFile, (await stat(dataFile)).size - 3);
    expect((await fetch(url)).status).toBe(500);

    // Cut the last (partial) chunk off and make the sidecar agree: the new last chunk was never sealed as final.
    await truncate(dataFile, HEADER_BYTES + fullChunks * (CHUNK + TAG_BYTES));
    const sidecarFile = path.join(dir, `${ref.location}.json`);
    const sidecar = JSON.parse(await readFile(sidecarFile, 'utf8')) as { bytes: number };
    await writeFile(sidecarFile, JSON.stringify({ ...sidecar, bytes: fullChunks * CHUNK }));
    const response = await fetch(url, { headers: { Range: `bytes=${(fullChunks - 1) * CHUNK}-` } });
    expect(response.status).toBe(500);
    expect(await errorCode(response)).toBe('storage_error');
  });
});

describe('local export store: downloads', () => {
  it('answers with the headers a download needs', async () => {
    const { url, t, content } = await publishOne();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    const expected: Record<string, string> = {
      'content-type': 'text/csv; charset=utf-8',
      'content-length': String(content.length),
      'content-disposition': `attachment; filename="${t.fileName}.csv"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
      'accept-ranges': 'bytes',
      etag: `"${sha256(content)}"`,
    };
    for (const [name, value] of Object.entries(expected)) expect(response.headers.get(name), name).toBe(value);
    expect(Buffer.from(await response.arrayBuffer()).equals(content)).toBe(true);
  });

  it('serves byte ranges of the decrypted content, across chunk boundaries', async () => {
    const { url, content } = await publishOne();
    const size = content.length;
    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      [`bytes=${CHUNK - 5}-${CHUNK * 2 + 5}`, CHUNK - 5, CHUNK * 2 + 5],
      [`bytes=${size - 100}-`, size - 100, size - 1],
      ['bytes=-25', size - 25, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await fetch(url, { headers: { Range: range } });
      expect(response.status, range).toBe(206);
      expect(response.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers.get('content-length'), range).toBe(String(end - start + 1));
      expect(Buffer.from(await response.arrayBuffer()).equals(content.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 for a range past the end, and the whole file for ranges it does not serve', async () => {
    const { url, content } = await publishOne();
    const unsatisfiable = await fetch(url, { headers: { Range: `bytes=${content.length}-` } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${content.length}`);

    for (const range of ['bytes=0-1,5-6', 'items=0-5', 'bytes=9-3']) {
      const response = await fetch(url, { headers: { Range: range } });
      expect(response.status, range).toBe(200);
      expect((await response.arrayBuffer()).byteLength, range).toBe(content.length);
    }
    const stale = await fetch(url, { headers: { Range: 'bytes=0-9', 'If-Range': '"another-version"' } });
    expect(stale.status).toBe(200);
    const fresh = await fetch(url, { headers: { Range: 'bytes=0-9', 'If-Range': `"${sha256(content)}"` } });
    expect(fresh.status).toBe(206);
  });

  it('answers HEAD with the headers only', async () => {
    const { url, content } = await publishOne();
    const response = await fetch(url, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(content.length));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses a tampered, incomplete or re-aimed signature with 403', async () => {
    const { url, store, t } = await publishOne();
    const other = await commitSmall(store, target());
    const variants: string[] = [];
    const flip = new URL(url);
    const sig = flip.searchParams.get('sig')!;
    flip.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
    variants.push(flip.toString());
    const later = new URL(url);
    later.searchParams.set('exp', String(Number(later.searchParams.get('exp')) + 3600));
    variants.push(later.toString());
    const noSig = new URL(url);
    noSig.searchParams.delete('sig');
    variants.push(noSig.toString());
    const twice = new URL(url);
    twice.searchParams.append('sig', sig);
    variants.push(twice.toString());
    const renamed = new URL(url);
    renamed.pathname = renamed.pathname.replace(`${t.fileName}.csv`, 'other-name.csv');
    variants.push(renamed.toString());
    const otherId = new URL(url);
    otherId.pathname = otherId.pathname.replace(/\/d\/[^/]+\//, `/d/${other.location}/`);
    variants.push(otherId.toString());

    for (const variant of variants) {
      const response = await fetch(variant);
      expect(response.status, variant).toBe(403);
      expect(await errorCode(response), variant).toBe('bad_signature');
    }
  });

  it('answers 410 once the link has expired, even with a valid signature', async () => {
    let offset = 0;
    const { url } = await publishOne({ clock: () => new Date(Date.now() + offset) });
    expect((await fetch(url)).status).toBe(200);
    offset = 2 * HOUR;
    const response = await fetch(url);
    expect(response.status).toBe(410);
    expect(await errorCode(response)).toBe('gone');
  });

  it('never reaches outside its folder, whatever the path says', async () => {
    const { url, ref, dir } = await publishOne();
    // A file next to the store that a path trick would like to read.
    await writeFile(path.join(path.dirname(dir), 'secret.csv'), 'top secret');
    const query = new URL(url).search;
    const tricks = [
      `/d/..%2F..%2Fsecret/x.csv`,
      `/d/%2e%2e/secret.csv`,
      `/d/..%2fsecret.csv/x.csv`,
      `/d/${ref.location}%00/x.csv`,
      `/d/${ref.location}/..%2F${ref.location}.json`,
      `/d/${ref.location}/%2e%2e%2f%2e%2e%2fsecret.csv`,
      `/d/${ref.location.toUpperCase()}/x.csv`,
      `/d/${ref.location}/x.csv%00.csv`,
      `/d/.partial/x.csv`,
      `/d/%E0%A4%A/x.csv`,
      `/d/${ref.location}/%ZZ.csv`,
    ];
    for (const trick of tricks) {
      const response = await fetch(`${origin}${trick}${query}`);
      expect([400, 403, 404], trick).toContain(response.status);
      expect(((await response.clone().json()) as { error: { code: string } }).error.code, trick).toMatch(/^(bad_request|bad_signature|not_found)$/);
      const body = await response.text();
      expect(body, trick).not.toContain('top secret');
      expect(body, trick).not.toContain('asset_id');
    }
  });
});

describe('local export store: lifecycle and faults', () => {
  it('abort removes the temp file', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const writer = await store.begin(target());
    await new Promise<void>((resolve, reject) => writer.stream.write(csvOf(2_000), (error) => (error ? reject(error) : resolve())));
    expect(await readdir(path.join(dir, '.partial'))).toHaveLength(1);
    await writer.abort();
    expect(await readdir(path.join(dir, '.partial'))).toEqual([]);
    expect(await published(dir)).toEqual([]);
  });

  it('the sweeper deletes expired exports and stale leftovers, and keeps live ones', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const live = target();
    const liveRef = await commitSmall(store, live);
    const expiredRef = await commitSmall(store, { ...target(), expiresAt: new Date(Date.now() + 60_000) });
    const dayAgo = new Date(Date.now() - 25 * HOUR);
    const staleTemp = path.join(dir, '.partial', 'crashed.data.part');
    await writeFile(staleTemp, 'half an export');
    await utimes(staleTemp, dayAgo, dayAgo);
    const freshWriter = await store.begin(target());
    freshWriter.stream.write('in progress');
    const orphan = path.join(dir, '5e0f6f8a-1c4b-4d7e-9a2b-3c4d5e6f7a8b.data');
    await writeFile(orphan, 'data without sidecar');
    await utimes(orphan, dayAgo, dayAgo);

    const result = await store.sweepExpired(new Date(Date.now() + 2 * 60_000));
    expect(result).toEqual({ expired: 1, staleTemps: 1, orphans: 1 });
    expect(await published(dir)).toEqual([`${liveRef.location}.data`, `${liveRef.location}.json`]);
    expect(await readdir(path.join(dir, '.partial'))).toHaveLength(1);
    expect(expiredRef.location).not.toBe(liveRef.location);
    expect((await fetch(await store.downloadUrl(liveRef, live))).status).toBe(200);
    await freshWriter.abort();
  });

  it('removes the temp files of the jobs a restart marks interrupted, and only theirs', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const dead = target();
    // What a process killed mid-export leaves: a temp file nobody will finish or remove.
    const deadWriter = await store.begin(dead);
    deadWriter.stream.write(csvOf(100));
    const alive = target();
    const aliveWriter = await store.begin(alive);
    await expect.poll(async () => (await readdir(path.join(dir, '.partial'))).length).toBe(2);

    expect(await store.discardPartials([dead.jobId, 'no-such-job'])).toBe(1);
    expect(await readdir(path.join(dir, '.partial'))).toEqual([expect.stringMatching(new RegExp(`^${alive.jobId}\\.`))]);
    await deadWriter.abort();
    await writeAll(aliveWriter, csvOf(200), 1_024);
    const ref = await aliveWriter.commit({ rows: 200, truncated: false });
    expect((await fetch(await store.downloadUrl(ref, alive))).status).toBe(200);
  });

  it('the sweeper deletes every part and the manifest of an expired multi-part export', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const live = target();
    const liveRef = await writeParts(await store.begin(live), [csvOf(400), csvOf(40)]);
    const expired = { ...target(), expiresAt: new Date(Date.now() + 60_000) };
    await writeParts(await store.begin(expired), [csvOf(400), csvOf(40), csvOf(4)]);

    const result = await store.sweepExpired(new Date(Date.now() + 2 * 60_000));
    expect(result).toEqual({ expired: 4, staleTemps: 0, orphans: 0 });
    const liveFiles = [...liveRef.parts!.flatMap((part) => [`${part.location}.data`, `${part.location}.json`]), `${liveRef.location}.json`].sort();
    expect(await published(dir)).toEqual(liveFiles);
    expect((await fetch(await store.downloadUrl(liveRef, live))).status).toBe(200);
  });

  it('removes the temp file of every part of an interrupted multi-part export', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const dead = target();
    const writer = await store.begin(dead);
    await writeAll(writer, csvOf(300), 1_024);
    await writer.nextPart({ rows: 300 });
    writer.stream.write(csvOf(100));
    await expect.poll(async () => (await readdir(path.join(dir, '.partial'))).length).toBe(2);
    expect(await store.discardPartials([dead.jobId])).toBe(2);
    expect(await readdir(path.join(dir, '.partial'))).toEqual([]);
    await writer.abort();
  });

  it('serves the MLTable with part URLs that last no longer than the URL it was fetched with', async () => {
    const dir = await newDir();
    const store = makeStore(dir);
    const t = target();
    const ref = await writeParts(await store.begin(t), [csvOf(100), csvOf(100)]);
    const soon = new Date(Math.ceil((Date.now() + 10 * 60_000) / 1000) * 1000);
    const response = await fetch(await store.downloadUrl(ref, { ...t, expiresAt: soon }));
    const urls = [...(await response.text()).matchAll(/file: "([^"]+)"/g)].map((match) => new URL(match[1]!));
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      expect(Number(url.searchParams.get('exp')) * 1000).toBe(soon.getTime());
      expect((await fetch(url)).status).toBe(200);
    }
  });

  it('refuses a new export with 507 when the disk has less free space than the minimum', async () => {
    const dir = await newDir();
    const store = makeStore(dir, { minFreeBytes: Number.MAX_SAFE_INTEGER });
    await expect(store.begin(target())).rejects.toSatisfy((error) => isAppError(error) && error.code === 'insufficient_storage' && error.status === 507);
    expect(await published(dir)).toEqual([]);
    expect(await readdir(path.join(dir, '.partial'))).toEqual([]);
  });

  it('a write the disk refuses mid-export fails the export and publishes nothing', async () => {
    const dir = await newDir();
    const script = fileURLToPath(new URL('./local-write-under-file-limit.ts', import.meta.url));
    const limit = 1024 * 1024;
    const { stdout } = await promisify(execFile)('prlimit', [`--fsize=${limit}`, '--', process.execPath, '--import', 'tsx', script, dir, String(4 * limit)], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ committed: false, code: 'storage_error', cause: 'EFBIG' });
    expect(await published(dir)).toEqual([]);
    expect(await readdir(path.join(dir, '.partial'))).toEqual([]);
  });

  it('refuses configuration that would weaken it', async () => {
    const dir = await newDir();
    const base = { dir, encryptionKey, urlSigningKey, publicBaseUrl: origin, minFreeBytes: 0 };
    expect(() => createLocalExportStore({ ...base, encryptionKey: randomBytes(16) })).toThrow(/exactly 32/);
    expect(() => createLocalExportStore({ ...base, urlSigningKey: randomBytes(8) })).toThrow(/at least 32/);
    expect(() => createLocalExportStore({ ...base, publicBaseUrl: 'http://connector.example.com' })).toThrow(/clear text/);
    expect(() => createLocalExportStore({ ...base, publicBaseUrl: 'https://connector.example.com/prefix' })).not.toThrow();
  });
});
