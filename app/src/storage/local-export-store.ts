/**
 * The `local` export store: exports stay on the connector VM's disk, encrypted at rest, and the
 * connector serves them itself at signed URLs (see download-router.ts).
 *
 * Layout of `dir`:
 *   <id>.data          the encrypted export (encrypted-chunk-format.ts)
 *   <id>.json          its sidecar; renaming it into place is what publishes the export
 *   .partial/…         exports being written (`<jobId>.<id>.data.part`) and sidecars being
 *                      replaced; never served
 * An export is written under .partial/, fsynced and renamed next to its sidecar only on commit,
 * so a crash, a full disk or a failed query leaves at most a temp file: the restart that marks
 * its job interrupted removes it (`discardPartials`), the sweeper any other leftover.
 *
 * Every disk operation of an export has a deadline (`operationTimeoutMs`): a disk or mount that
 * stops answering fails the export with `storage_error` instead of holding it `running`.
 */
import { randomUUID } from 'node:crypto';
import { isTimeout, withDeadline } from '../deadline.js';
import { isLoopbackHost } from '../loopback.js';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { AppError } from '../errors.js';
import { EncryptingFileStream, readDecryptedRange } from './encrypted-file.js';
import { DEFAULT_CHUNK_SIZE, HEADER_BYTES, IntegrityError, assertMasterKey, chunkCipherFromHeader, encryptedSize, newChunkCipher } from './encrypted-chunk-format.js';
import type { CommittedExport, ExportFormat, ExportStore, ExportTarget, ExportWriter, StoredExportRef } from './export-store.js';
import { assertValidTarget, contentTypeOf, downloadFileName, isSafeDownloadName } from './export-naming.js';
import { isNotFound, readSidecar, writeSidecar, type Sidecar } from './local-sidecar.js';
import { assertSigningKey, checkGrant, signGrant } from './signed-download-url.js';

/** The router that serves these exports lives in its own module; re-exported for the composition root. */

export interface LocalExportStoreOptions {
  /** Folder that holds the exports; created (mode 700) when missing. */
  dir: string;
  /** 32 bytes; the master key that per-file AES-256-GCM keys derive from. */
  encryptionKey: Buffer;
  /** At least 32 bytes; signs download URLs. */
  urlSigningKey: Buffer;
  /**
   * Origin (and optional path prefix) under which the download router is mounted, e.g.
   * `https://connector.example.com`. A function is asked at every URL: the connector knows its
   * address only once it listens (PORT=0 binds a port the system picks).
   */
  publicBaseUrl: string | (() => string);
  /** `begin` refuses new exports when less disk than this is free; a running export stops below half of it. */
  minFreeBytes: number;
  /** @default () => new Date() */
  clock?: () => Date;
  /** Temp files untouched this long are leftovers of a crashed export. @default 24 hours */
  staleAfterMs?: number;
  /** Plaintext bytes per encrypted chunk. @default 64 KiB */
  chunkSize?: number;
  /**
   * The most one disk operation of an export may take (`STORAGE_TIMEOUT_MS`): a write, an fsync,
   * the renames of the commit. A disk that stops answering then fails the export. @default 5 minutes
   */
  operationTimeoutMs?: number;
}

/** An authorised download, opened: the router turns it into an HTTP answer. */
export interface LocalDownload {
  /** The export (job) and its owner, from the sidecar: who is downloading what, for the audit trail. */
  readonly jobId: string;
  readonly ownerId: string;
  /** The file name a browser saves, with extension. */
  readonly name: string;
  readonly format: ExportFormat;
  readonly contentType: string;
  /** Plaintext size. */
  readonly bytes: number;
  readonly sha256: string;
  readonly createdAt: Date;
  /** Plaintext bytes `start..end` inclusive; each chunk is authenticated before it is yielded. */
  read(start: number, end: number): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

export interface DownloadRequest {
  id: string;
  name: string;
  /** Query values exactly as they arrived (string, array, missing…). */
  exp: unknown;
  sig: unknown;
}

export interface SweepResult {
  /** Exports whose expiry passed, deleted with their sidecar. */
  expired: number;
  /** Temp files of exports that never finished. */
  staleTemps: number;
  /** Data files without a sidecar (a crash between the two renames of a commit). */
  orphans: number;
}

export interface LocalExportStore extends ExportStore {
  readonly method: 'local';
  /** Verifies the signature and expiry of a download request and opens the export. Throws AppError. */
  openDownload(request: DownloadRequest): Promise<LocalDownload>;
  /** Deletes expired exports and leftovers of crashed ones; the connector schedules it. */
  sweepExpired(now?: Date): Promise<SweepResult>;
  /**
   * Removes the temp files of these jobs' unfinished exports: a restart calls it for the jobs it
   * marks interrupted (their process died before it could clean up). Returns how many.
   */
  discardPartials(jobIds: readonly string[]): Promise<number>;
}

const EXPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PARTIAL_DIR = '.partial';
const SPACE_CHECK_EVERY_BYTES = 64 * 1024 * 1024;
const DEFAULT_OPERATION_TIMEOUT_MS = 5 * 60 * 1000;

export function isExportId(value: string): boolean {
  return EXPORT_ID.test(value);
}

export function createLocalExportStore(options: LocalExportStoreOptions): LocalExportStore {
  assertMasterKey(options.encryptionKey);
  assertSigningKey(options.urlSigningKey);
  if (!Number.isFinite(options.minFreeBytes) || options.minFreeBytes < 0) {
    throw new Error(`minFreeBytes ${options.minFreeBytes} is invalid; expected a number of bytes ≥ 0`);
  }
  // A fixed URL is checked at once; a late one at each use (it is one parse).
  const fixedBaseUrl = typeof options.publicBaseUrl === 'string' ? downloadBaseUrl(options.publicBaseUrl) : undefined;
  const baseUrl = () => fixedBaseUrl ?? downloadBaseUrl((options.publicBaseUrl as () => string)());
  const dir = path.resolve(options.dir);
  const partialDir = path.join(dir, PARTIAL_DIR);
  const clock = options.clock ?? (() => new Date());
  const staleAfterMs = options.staleAfterMs ?? 24 * 3600 * 1000;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  if (!Number.isInteger(operationTimeoutMs) || operationTimeoutMs < 1) {
    throw new Error(`operationTimeoutMs ${operationTimeoutMs} is invalid; expected a positive integer of milliseconds`);
  }
  /** A disk operation under the deadline; on a hung disk it fails with a TimeoutError and finishes (or not) in the background. */
  const bounded = <T>(operation: () => Promise<T>): Promise<T> => withDeadline(operationTimeoutMs, operation);
  const describeWriteError = writeErrorDescriber(operationTimeoutMs);
  const dataPath = (id: string) => path.join(dir, `${id}.data`);
  const sidecarPath = (id: string) => path.join(dir, `${id}.json`);

  let layout: Promise<void> | undefined;
  const ensureLayout = () =>
    (layout ??= mkdir(partialDir, { recursive: true, mode: 0o700 })
      .then(() => undefined)
      .catch((error: unknown) => {
        layout = undefined;
        throw error;
      }));

  const freeBytes = async () => {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  };

  const idOf = (ref: StoredExportRef) => {
    if (ref.method !== 'local' || !isExportId(ref.location)) {
      throw new Error(`The local store cannot handle export ref ${ref.method}:${ref.location}; expected local:<uuid>`);
    }
    return ref.location;
  };

  const loadSidecar = async (id: string): Promise<Sidecar | undefined> => {
    try {
      return await readSidecar(sidecarPath(id));
    } catch (error) {
      throw new AppError('storage_error', 500, 'The stored export is unreadable', { cause: error });
    }
  };

  const openVerified = async (sidecar: Sidecar): Promise<LocalDownload> => {
    let handle: FileHandle;
    try {
      handle = await open(dataPath(sidecar.id), 'r');
    } catch (error) {
      if (isNotFound(error)) throw new AppError('not_found', 404, 'The export does not exist', { cause: error });
      throw new AppError('storage_error', 500, 'The stored export is unreadable', { cause: error });
    }
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
      const cipher = chunkCipherFromHeader(options.encryptionKey, header.subarray(0, bytesRead));
      const { size } = await handle.stat();
      const expected = encryptedSize(sidecar.bytes, cipher.chunkSize);
      if (size !== expected) throw new IntegrityError(`Stored export has ${size} bytes; ${sidecar.bytes} plaintext bytes need exactly ${expected}`);
      // An empty export has one empty final chunk: authenticate it now, since no read will.
      if (sidecar.bytes === 0) await drain(readDecryptedRange(handle, cipher, 0, 0, 0));
      return {
        jobId: sidecar.jobId,
        ownerId: sidecar.ownerId,
        name: downloadFileName(sidecar.fileName, sidecar.format),
        format: sidecar.format,
        contentType: contentTypeOf(sidecar.format),
        bytes: sidecar.bytes,
        sha256: sidecar.sha256,
        createdAt: new Date(sidecar.createdAt),
        read: (start, end) => integrityChecked(readDecryptedRange(handle, cipher, sidecar.bytes, start, end)),
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close();
      throw toIntegrityAppError(error);
    }
  };

  return {
    method: 'local',

    async checkReady() {
      try {
        await ensureLayout();
        await access(partialDir, constants.W_OK);
        await freeBytes();
      } catch (error) {
        throw new AppError('not_ready', 503, 'Export storage is not ready: the export folder is not writable', { cause: error });
      }
    },

    async begin(target) {
      assertValidTarget(target);
      let free: number;
      try {
        free = await bounded(async () => {
          await ensureLayout();
          return freeBytes();
        });
      } catch (error) {
        if (isTimeout(error)) throw describeWriteError(error);
        throw new AppError('storage_error', 500, 'The export folder is not usable', { cause: error });
      }
      if (free < options.minFreeBytes) {
        throw new AppError('insufficient_storage', 507, 'Not enough free disk space for a new export; try again later', {
          cause: new Error(`${free} bytes free in ${dir}, below the minimum of ${options.minFreeBytes}`),
        });
      }
      const id = randomUUID();
      // Named after the job, so the restart that marks the job interrupted can find it.
      const tempPath = path.join(partialDir, `${target.jobId}.${id}.data.part`);
      const opening = open(tempPath, 'wx', 0o600);
      const handle = await bounded(() => opening).catch((error: unknown) => {
        // Should the open still succeed once the disk lets go, nothing may be left behind.
        if (isTimeout(error)) void opening.then((late) => discardTemp(late, tempPath), () => undefined);
        throw describeWriteError(error);
      });
      const stream = new EncryptingFileStream({
        handle,
        cipher: newChunkCipher(options.encryptionKey, chunkSize),
        checkEveryBytes: SPACE_CHECK_EVERY_BYTES,
        describeError: describeWriteError,
        operationTimeoutMs,
        // Stop while half the reserve is left, rather than let the disk fill and take the VM down with it.
        spaceCheck: async () => {
          const left = await bounded(freeBytes);
          if (left < options.minFreeBytes / 2) {
            throw new AppError('insufficient_storage', 507, 'The disk ran low on space while writing the export', {
              cause: new Error(`${left} bytes free in ${dir}, below half the minimum of ${options.minFreeBytes}`),
            });
          }
        },
      });
      return localWriter({ id, target, stream, handle, tempPath, dataPath: dataPath(id), sidecarPath: sidecarPath(id), partialDir, dir, clock, bounded });
    },

    async downloadUrl(ref, target) {
      const id = idOf(ref);
      if (target.expiresAt.getTime() <= clock().getTime()) throw new AppError('gone', 410, 'The export has expired');
      const name = downloadFileName(target.fileName, target.format);
      const exp = Math.floor(target.expiresAt.getTime() / 1000);
      const url = new URL(`d/${id}/${encodeURIComponent(name)}`, baseUrl());
      url.search = new URLSearchParams({ exp: String(exp), sig: signGrant(options.urlSigningKey, { id, name, exp }) }).toString();
      return url.toString();
    },

    async extendExpiry(ref, expiresAt) {
      const id = idOf(ref);
      const sidecar = await loadSidecar(id);
      if (!sidecar) throw new AppError('not_found', 404, 'The export no longer exists');
      try {
        await writeSidecar(sidecarPath(id), partialDir, { ...sidecar, expiresAt: expiresAt.toISOString() });
      } catch (error) {
        throw new AppError('storage_error', 500, 'Could not move the expiry of the export', { cause: error });
      }
    },

    async delete(ref) {
      const id = idOf(ref);
      // Sidecar first: without it the router answers 404 at once, even if removing the data fails.
      await removeIfPresent(sidecarPath(id));
      await removeIfPresent(dataPath(id));
    },

    async openDownload(request) {
      if (!isExportId(request.id) || !isSafeDownloadName(request.name)) {
        throw new AppError('not_found', 404, 'The export does not exist');
      }
      const now = clock();
      const check = checkGrant(options.urlSigningKey, request, now);
      if (!check.ok) {
        throw check.reason === 'expired'
          ? new AppError('gone', 410, 'The download link has expired')
          : new AppError('bad_signature', 403, 'The download link is not valid');
      }
      const sidecar = await loadSidecar(request.id);
      if (!sidecar || downloadFileName(sidecar.fileName, sidecar.format) !== request.name) {
        throw new AppError('not_found', 404, 'The export does not exist');
      }
      if (Date.parse(sidecar.expiresAt) <= now.getTime()) throw new AppError('gone', 410, 'The export has expired');
      return openVerified(sidecar);
    },

    async sweepExpired(now = clock()) {
      await ensureLayout();
      const result: SweepResult = { expired: 0, staleTemps: 0, orphans: 0 };
      const staleBefore = now.getTime() - staleAfterMs;
      const entries = await readdir(dir);
      const sidecarIds = new Set(entries.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length)));
      for (const id of sidecarIds) {
        if (!isExportId(id)) continue;
        const sidecar = await readSidecar(sidecarPath(id)).catch(() => undefined);
        if (sidecar && Date.parse(sidecar.expiresAt) > now.getTime()) continue;
        // Unreadable sidecars count as expired only once stale, so a half-written one is never swept.
        if (!sidecar && (await modifiedAt(sidecarPath(id))) > staleBefore) continue;
        await removeIfPresent(sidecarPath(id));
        await removeIfPresent(dataPath(id));
        result.expired += 1;
      }
      for (const name of entries) {
        const id = name.endsWith('.data') ? name.slice(0, -'.data'.length) : undefined;
        if (!id || !isExportId(id) || sidecarIds.has(id)) continue;
        if ((await modifiedAt(dataPath(id))) > staleBefore) continue;
        await removeIfPresent(dataPath(id));
        result.orphans += 1;
      }
      for (const name of await readdir(partialDir)) {
        const file = path.join(partialDir, name);
        if ((await modifiedAt(file)) > staleBefore) continue;
        await removeIfPresent(file);
        result.staleTemps += 1;
      }
      return result;
    },

    async discardPartials(jobIds) {
      if (jobIds.length === 0) return 0;
      await ensureLayout();
      const prefixes = jobIds.map((jobId) => `${jobId}.`);
      let removed = 0;
      for (const name of await readdir(partialDir)) {
        if (!prefixes.some((prefix) => name.startsWith(prefix))) continue;
        await removeIfPresent(path.join(partialDir, name));
        removed += 1;
      }
      return removed;
    },
  };
}

interface LocalWriterParts {
  id: string;
  target: ExportTarget;
  stream: EncryptingFileStream;
  handle: FileHandle;
  tempPath: string;
  dataPath: string;
  sidecarPath: string;
  partialDir: string;
  dir: string;
  clock: () => Date;
  bounded: <T>(operation: () => Promise<T>) => Promise<T>;
}

function localWriter(parts: LocalWriterParts): ExportWriter {
  const { stream, handle, target, bounded } = parts;
  let state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';

  // Each step bounded: on a hung disk the close waits for the stuck write; the file goes once it lets go.
  const discard = async () => {
    stream.destroy();
    await finished(stream).catch(() => undefined);
    await bounded(() => discardTemp(handle, parts.tempPath)).catch(() => undefined);
  };
  const unpublish = async () => {
    await removeIfPresent(parts.sidecarPath);
    await removeIfPresent(parts.dataPath);
  };

  return {
    stream,
    get bytesWritten() {
      return stream.bytesWritten;
    },

    async commit(info): Promise<CommittedExport> {
      if (state !== 'open') throw new Error(`commit() called on an export that is already ${state}`);
      if (!stream.writableFinished) throw new Error('commit() called before the stream finished; end the stream and wait for "finish" first');
      state = 'committing';
      // Given up once the deadline passed: a step still under way on a hung disk must not be
      // followed by the next one, and what the steps did is undone whenever they end.
      let abandoned = false;
      const step = async <T>(operation: () => Promise<T>): Promise<T> => {
        if (abandoned) throw new Error('the commit was given up at its deadline');
        return operation();
      };
      const publishing = (async () => {
        // The stream fsynced the data when it finished; now make both renames durable.
        await step(() => handle.close());
        await step(() => rename(parts.tempPath, parts.dataPath));
        await step(() => writeSidecar(parts.sidecarPath, parts.partialDir, {
          version: 1,
          id: parts.id,
          jobId: target.jobId,
          ownerId: target.ownerId,
          fileName: target.fileName,
          format: target.format,
          bytes: stream.bytesWritten,
          sha256: stream.sha256,
          rows: info.rows,
          truncated: info.truncated,
          createdAt: parts.clock().toISOString(),
          expiresAt: target.expiresAt.toISOString(),
        }));
        await step(() => syncDir(parts.dir));
      })();
      try {
        await bounded(() => publishing);
      } catch (error) {
        state = 'aborted';
        if (isTimeout(error)) {
          abandoned = true;
          void publishing.then(unpublish, unpublish).catch(() => undefined);
        }
        await bounded(unpublish).catch(() => undefined);
        await discard();
        throw new AppError('storage_error', 500, isTimeout(error) ? 'The disk did not answer in time while publishing the export' : 'Could not publish the export on disk', {
          cause: error,
        });
      }
      state = 'committed';
      return { method: 'local', location: parts.id, bytes: stream.bytesWritten, sha256: stream.sha256 };
    },

    // After a commit the export belongs to the job; removing it is `delete(ref)`.
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await discard();
    },
  };
}

function writeErrorDescriber(timeoutMs: number): (error: unknown) => Error {
  return (error) => {
    if (error instanceof AppError) return error;
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') {
      return new AppError('insufficient_storage', 507, 'The disk ran out of space while writing the export', { cause: error });
    }
    if (isTimeout(error)) {
      return new AppError('storage_error', 504, `The disk did not answer within ${Number((timeoutMs / 1000).toFixed(1))} s while writing the export`, { cause: error });
    }
    return new AppError('storage_error', 500, 'Writing the export to disk failed', { cause: error });
  };
}

/** Removes a temp file and closes it; in that order, since a close waits for a write stuck on the disk. */
async function discardTemp(handle: FileHandle, tempPath: string): Promise<void> {
  await removeIfPresent(tempPath);
  await handle.close().catch(() => undefined);
}

function downloadBaseUrl(publicBaseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(publicBaseUrl);
  } catch (error) {
    throw new Error(`publicBaseUrl ${JSON.stringify(publicBaseUrl)} is not a URL; expected e.g. https://connector.example.com`, { cause: error });
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`publicBaseUrl ${url.origin} would send download URLs in clear text; expected https:// (plain HTTP only on a loopback address)`);
  }
  if (url.search || url.hash) throw new Error(`publicBaseUrl ${publicBaseUrl} must not carry a query or fragment`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

async function drain(chunks: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of chunks) void chunk;
}

async function* integrityChecked(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (error) {
    throw toIntegrityAppError(error);
  }
}

function toIntegrityAppError(error: unknown): unknown {
  if (error instanceof IntegrityError) {
    return new AppError('storage_error', 500, 'The stored export failed its integrity check', { cause: error });
  }
  return error;
}

async function removeIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

async function modifiedAt(file: string): Promise<number> {
  try {
    return (await stat(file)).mtimeMs;
  } catch (error) {
    if (isNotFound(error)) return Number.POSITIVE_INFINITY;
    throw error;
  }
}

/** fsync on the directory makes the renames in it survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
