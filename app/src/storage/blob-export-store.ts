/**
 * The `blob` export store: an export is one block blob, `<ownerId>/<jobId>/<fileName>.csv`,
 * staged block by block and published by a single block-list commit that also sets its headers,
 * metadata (owner, job, rows, sha256) and the `expiresAt` index tag the cleanup function queries.
 * Download URLs are read-only SAS tokens for that one blob.
 *
 * A multi-part export is one such blob per part (`…/<fileName>-part-00002.csv` and on; part 1
 * keeps the single-file name, see partBlobName) and `…/MLTable`, the manifest naming each part's
 * SAS URL. Every part is staged before any is committed; the commits and the manifest follow one
 * another, and a failure among them removes all of them. Every blob carries the `expiresAt` tag,
 * so the cleanup function's tag query finds each one.
 */
import type { Agent } from 'node:https';
import type { TokenCredential } from '@azure/identity';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
  type StoragePipelineOptions,
  type StorageRetryOptions,
} from '@azure/storage-blob';
import { withDeadline, isTimeout } from '../deadline.js';
import { AppError } from '../errors.js';
import {
  CLOCK_SKEW_MS,
  DEFAULT_SAS_VERSION,
  MAX_SAS_LIFETIME_MS,
  createAccountKeySigner,
  createUserDelegationSigner,
  floorToSecond,
  sasProtocolFor,
  type BlobSasSigner,
} from './blob-sas.js';
import { BlockUploadStream } from './block-upload-stream.js';
import { MAX_EXPORT_PARTS, type CommittedExport, type ExportStore, type ExportTarget, type ExportWriter, type StoredExportRef } from './export-store.js';
import { assertValidTarget, contentDispositionOf, contentTypeOf, downloadFileName, partFileName } from './export-naming.js';
import { MLTABLE_CONTENT_TYPE, MLTABLE_NAME, renderMltable } from './mltable.js';

export type BlobCredentialOptions =
  | { kind: 'connectionString'; connectionString: string }
  /** `accountUrl` like `https://<account>.blob.core.windows.net`; in Azure the credential is the VM's managed identity. */
  | { kind: 'tokenCredential'; accountUrl: string; credential: TokenCredential };

export interface BlobExportStoreOptions {
  credential: BlobCredentialOptions;
  /** @default 'exports' */
  container?: string;
  /** Signed version of the SAS tokens. @default DEFAULT_SAS_VERSION (known to Azure and Azurite) */
  sasVersion?: string;
  /** @default () => new Date() */
  clock?: () => Date;
  /** Bytes per staged block. @default 4 MiB */
  blockSize?: number;
  /** Blocks staged in parallel per export. @default 4 */
  uploadConcurrency?: number;
  /** Retries of every storage call. @default the SDK's policy (exponential, 4 tries) */
  retryOptions?: StorageRetryOptions;
  /**
   * The most one storage call may take, retries included (`STORAGE_TIMEOUT_MS`). The SDK sets no
   * client-side timeout (its `tryTimeoutInMs` only asks the service to give up), so without this
   * a connection that stops answering would hold an export `running` forever. @default 5 minutes
   */
  operationTimeoutMs?: number;
  /** Agent for HTTPS calls, e.g. one trusting a private CA (Azurite over HTTPS). @default Node's global agent */
  httpsAgent?: Agent;
}

export interface BlobExportWriter extends ExportWriter {
  /** Bytes of upload buffers this export held at most; bounded by `(uploadConcurrency + 1) × blockSize`. */
  readonly peakBufferedBytes: number;
}

export interface BlobExportStore extends ExportStore {
  readonly method: 'blob';
  readonly containerName: string;
  /** Creates the container when it is missing (local stack; in Azure the infrastructure owns it). */
  ensureContainer(): Promise<void>;
  begin(target: ExportTarget): Promise<BlobExportWriter>;
}

const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;
const DEFAULT_UPLOAD_CONCURRENCY = 4;
const MAX_BLOCK_SIZE = 100 * 1024 * 1024;
const DEFAULT_OPERATION_TIMEOUT_MS = 5 * 60 * 1000;

export function createBlobExportStore(options: BlobExportStoreOptions): BlobExportStore {
  const containerName = options.container ?? 'exports';
  const clock = options.clock ?? (() => new Date());
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const concurrency = options.uploadConcurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
    throw new Error(`blockSize ${blockSize} is invalid; expected an integer from 1 to ${MAX_BLOCK_SIZE} bytes`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new Error(`uploadConcurrency ${concurrency} is invalid; expected an integer from 1 to 64`);
  }
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  if (!Number.isInteger(operationTimeoutMs) || operationTimeoutMs < 1) {
    throw new Error(`operationTimeoutMs ${operationTimeoutMs} is invalid; expected a positive integer of milliseconds`);
  }
  /** One storage call under the deadline; its failure, a timeout included, becomes `storage_error`. */
  const call: StorageCall = (action, work, parent) =>
    withDeadline(operationTimeoutMs, work, parent ? { parent } : {}).catch((error: unknown) => {
      throw storageError(action, error, operationTimeoutMs);
    });

  // `agent` is not in StoragePipelineOptions' type, but the SDK hands every pipeline option to
  // core-rest-pipeline, whose agent policy uses it; the HTTPS test against Azurite proves it.
  const pipelineOptions: StoragePipelineOptions & { agent?: Agent } = {
    ...(options.retryOptions ? { retryOptions: options.retryOptions } : {}),
    ...(options.httpsAgent ? { agent: options.httpsAgent } : {}),
  };
  const { service, signer } = connect(options, containerName, pipelineOptions, clock, operationTimeoutMs);
  const container = service.getContainerClient(containerName);

  /** A read-only SAS URL for one blob of an export, until `expiresAt`. */
  const signUrl: SignUrl = async (blobName, expiresAt) => {
    const now = clock();
    if (expiresAt.getTime() <= now.getTime()) {
      throw new AppError('gone', 410, 'The export has expired');
    }
    if (expiresAt.getTime() > now.getTime() + MAX_SAS_LIFETIME_MS + CLOCK_SKEW_MS) {
      throw new AppError('validation_failed', 400, `An export link can live at most ${MAX_SAS_LIFETIME_MS / 86_400_000} days`);
    }
    // At the 7-day limit the token may end up to a few minutes before `expiresAt`: the
    // delegation key behind it cannot outlive 7 days from the moment it was issued.
    const expiresOn = floorToSecond(Math.min(expiresAt.getTime(), signer.latestExpiry(now).getTime()));
    try {
      const sas = await signer.sign(blobName, { startsOn: floorToSecond(now.getTime() - CLOCK_SKEW_MS), expiresOn });
      return `${container.getBlobClient(blobName).url}?${sas}`;
    } catch (error) {
      throw storageError('sign a download URL', error, operationTimeoutMs);
    }
  };

  return {
    method: 'blob',
    containerName,

    async ensureContainer() {
      await call(`create container ${containerName}`, (abortSignal) => container.createIfNotExists({ abortSignal }));
    },

    async checkReady() {
      try {
        await withDeadline(operationTimeoutMs, (abortSignal) => container.getProperties({ abortSignal }));
      } catch (error) {
        const reason = statusOf(error) === 404 ? `container ${containerName} does not exist` : 'blob storage is unreachable';
        throw new AppError('not_ready', 503, `Export storage is not ready: ${reason}`, { cause: error });
      }
    },

    async begin(target) {
      assertValidTarget(target);
      return beginUpload(container, target, { blockSize, concurrency }, call, signUrl);
    },

    async downloadUrl(ref, target) {
      return signUrl(blobRef(ref).location, target.expiresAt);
    },

    async partUrls(ref, target) {
      return Promise.all(locationsOf(blobRef(ref)).parts.map((location) => signUrl(location, target.expiresAt)));
    },

    async extendExpiry(ref, target) {
      const { parts, manifest } = locationsOf(blobRef(ref));
      const iso = target.expiresAt.toISOString();
      const action = 'move the expiry of an export';
      try {
        for (const location of parts) {
          const blob = container.getBlockBlobClient(location);
          // Tag first: it is what the cleanup function acts on; the metadata copy is for people.
          await call(action, (abortSignal) => blob.setTags({ expiresAt: iso }, { abortSignal }));
          const properties = await call(action, (abortSignal) => blob.getProperties({ abortSignal }));
          await call(action, (abortSignal) => blob.setMetadata({ ...properties.metadata, expiresat: iso }, { conditions: { ifMatch: properties.etag }, abortSignal }));
        }
        if (manifest) {
          // The part URLs inside must live as long as the link: a new manifest replaces the old in
          // one request, tags and metadata with it. Only over the existing one (If-Match: *), so
          // an export deleted meanwhile is not brought back as a lone manifest.
          const blob = container.getBlockBlobClient(manifest);
          const properties = await call(action, (abortSignal) => blob.getProperties({ abortSignal }));
          const text = renderMltable(target.format, await Promise.all(parts.map((location) => signUrl(location, target.expiresAt))));
          await call(action, (abortSignal) =>
            blob.upload(text, Buffer.byteLength(text), {
              blobHTTPHeaders: MANIFEST_HEADERS,
              metadata: { ...properties.metadata, expiresat: iso },
              tags: { expiresAt: iso },
              conditions: { ifMatch: '*' },
              abortSignal,
            }),
          );
        }
      } catch (error) {
        const status = statusOf((error as Error).cause);
        if (status === 404 || (manifest && status === 412)) throw new AppError('not_found', 404, 'The export no longer exists', { cause: error });
        throw error;
      }
    },

    async delete(ref) {
      const { parts, manifest } = locationsOf(blobRef(ref));
      // The manifest first: without it nobody is pointed at the parts any more.
      for (const location of manifest ? [manifest, ...parts] : parts) {
        const blob = container.getBlockBlobClient(location);
        await call('delete an export', (abortSignal) => blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal }));
      }
    },
  };
}

function connect(
  options: BlobExportStoreOptions,
  containerName: string,
  pipelineOptions: StoragePipelineOptions,
  clock: () => Date,
  timeoutMs: number,
): { service: BlobServiceClient; signer: BlobSasSigner } {
  const version = options.sasVersion ?? DEFAULT_SAS_VERSION;
  if (options.credential.kind === 'connectionString') {
    const service = BlobServiceClient.fromConnectionString(options.credential.connectionString, pipelineOptions);
    if (!(service.credential instanceof StorageSharedKeyCredential)) {
      throw new Error('Blob connection string carries no AccountName/AccountKey; expected an account-key connection string (a SAS one cannot sign download URLs)');
    }
    const signer = createAccountKeySigner(service.credential, { container: containerName, version, protocol: sasProtocolFor(service.url) });
    return { service, signer };
  }
  const service = new BlobServiceClient(options.credential.accountUrl, options.credential.credential, pipelineOptions);
  const signer = createUserDelegationSigner(service, { container: containerName, version, protocol: sasProtocolFor(service.url), clock, timeoutMs });
  return { service, signer };
}

const MANIFEST_HEADERS = { blobContentType: MLTABLE_CONTENT_TYPE, blobContentDisposition: `attachment; filename="${MLTABLE_NAME}"` };

/** A closed part: what its commit needs. Its stream (and the stream's block buffers) can go. */
interface ClosedPart {
  name: string;
  index: number;
  blockIds: readonly string[];
  bytes: number;
  sha256: string;
  rows: number;
}

/** Part 1 keeps the single-file name: its blocks are staged before anyone can know a second part will follow. */
function partBlobName(target: ExportTarget, index: number): string {
  const fileName = index === 1 ? target.fileName : partFileName(target.fileName, index);
  return `${exportPrefix(target)}${downloadFileName(fileName, target.format)}`;
}

const exportPrefix = (target: Pick<ExportTarget, 'ownerId' | 'jobId'>) => `${target.ownerId}/${target.jobId}/`;

function beginUpload(
  container: ContainerClient,
  target: ExportTarget,
  sizing: { blockSize: number; concurrency: number },
  call: StorageCall,
  signUrl: SignUrl,
): BlobExportWriter {
  const open = (name: string) => {
    const blob = container.getBlockBlobClient(name);
    return new BlockUploadStream({
      blockSize: sizing.blockSize,
      concurrency: sizing.concurrency,
      // The stream's signal is the parent: cancelling the upload aborts the blocks in flight.
      stageBlock: (id, body, length, signal) =>
        call('upload part of an export', (abortSignal) => blob.stageBlock(id, body, length, { abortSignal }), signal),
    });
  };
  const closed: ClosedPart[] = [];
  let currentName = partBlobName(target, 1);
  let stream = open(currentName);
  let peakBufferedBytes = 0;
  const manifestName = `${exportPrefix(target)}${MLTABLE_NAME}`;
  // `unsettled`: a commit failed, but the service may have applied it (or some of it) before the answer was lost.
  let state: 'open' | 'unsettled' | 'committed' | 'aborted' = 'open';
  const closedBytes = () => closed.reduce((sum, part) => sum + part.bytes, 0);
  const expiresAt = target.expiresAt.toISOString();
  const ownership = { expiresat: expiresAt, jobid: target.jobId, owner: target.ownerId };

  const commitPart = (part: Omit<ClosedPart, 'index'> & { index?: number }, count: number, truncated: boolean) => {
    const fileName = part.index === undefined ? target.fileName : partFileName(target.fileName, part.index);
    // The one request that makes the blob exist: everything before it was uncommitted blocks.
    return call('publish an export', (abortSignal) =>
      container.getBlockBlobClient(part.name).commitBlockList([...part.blockIds], {
        blobHTTPHeaders: { blobContentType: contentTypeOf(target.format), blobContentDisposition: contentDispositionOf(fileName, target.format) },
        metadata: {
          ...ownership,
          rows: String(part.rows),
          sha256: part.sha256,
          truncated: String(truncated),
          ...(part.index === undefined ? {} : { part: `${part.index}/${count}` }),
        },
        tags: { expiresAt },
        abortSignal,
      }),
    );
  };

  const closeCurrent = (rows: number): ClosedPart => {
    peakBufferedBytes = Math.max(peakBufferedBytes, stream.peakBufferedBytes);
    return { name: currentName, index: closed.length + 1, blockIds: [...stream.blockIds], bytes: stream.bytesWritten, sha256: stream.sha256, rows };
  };

  const assertFinished = (what: string) => {
    if (state !== 'open') throw new Error(`${what} called on an export that is already ${state}`);
    if (!stream.writableFinished) throw new Error(`${what} called before the stream finished; end the stream and wait for "finish" first`);
  };

  return {
    get stream() {
      return stream;
    },
    get bytesWritten() {
      return closedBytes() + stream.bytesWritten;
    },
    get partBytesWritten() {
      return stream.bytesWritten;
    },
    get peakBufferedBytes() {
      return Math.max(peakBufferedBytes, stream.peakBufferedBytes);
    },

    async nextPart({ rows }) {
      assertFinished('nextPart()');
      if (closed.length + 1 >= MAX_EXPORT_PARTS) throw new Error(`An export has at most ${MAX_EXPORT_PARTS} parts`);
      closed.push(closeCurrent(rows));
      currentName = partBlobName(target, closed.length + 1);
      stream = open(currentName);
    },

    async commit(info): Promise<CommittedExport> {
      assertFinished('commit()');
      if (closed.length === 0) {
        try {
          await commitPart({ name: currentName, blockIds: stream.blockIds, bytes: stream.bytesWritten, sha256: stream.sha256, rows: info.rows }, 1, info.truncated);
        } catch (error) {
          state = 'unsettled';
          throw error;
        }
        state = 'committed';
        return { method: 'blob', location: currentName, bytes: stream.bytesWritten, sha256: stream.sha256 };
      }
      const parts = [...closed, closeCurrent(info.rows - closed.reduce((sum, part) => sum + part.rows, 0))];
      // From the first part's commit on, anything may be published: abort() removes all of it.
      state = 'unsettled';
      for (const part of parts) await commitPart(part, parts.length, info.truncated);
      const manifest = renderMltable(target.format, await Promise.all(parts.map((part) => signUrl(part.name, target.expiresAt))));
      await call('publish the MLTable of an export', (abortSignal) =>
        container.getBlockBlobClient(manifestName).upload(manifest, Buffer.byteLength(manifest), {
          blobHTTPHeaders: MANIFEST_HEADERS,
          metadata: { ...ownership, parts: String(parts.length), rows: String(info.rows), truncated: String(info.truncated) },
          tags: { expiresAt },
          abortSignal,
        }),
      );
      state = 'committed';
      return {
        method: 'blob',
        location: manifestName,
        bytes: parts.reduce((sum, part) => sum + part.bytes, 0),
        parts: parts.map(({ name, rows, bytes, sha256 }) => ({ location: name, rows, bytes, sha256 })),
      };
    },

    // After a commit the export belongs to the job; removing it is `delete(ref)`, so a
    // `finally { abort() }` in the pipeline can never unpublish a finished export.
    async abort() {
      if (state === 'unsettled') {
        state = 'aborted';
        // The names are this job's alone, so deleting them can only remove what this writer published.
        // Best effort, like all of abort(): if storage is still unreachable, the blobs carry their
        // expiresAt tag and the cleanup function deletes them then (no job points at them meanwhile).
        const names = closed.length === 0 ? [currentName] : [manifestName, ...closed.map((part) => part.name), currentName];
        await Promise.all(
          names.map((name) =>
            call('remove an unsettled export', (abortSignal) => container.getBlockBlobClient(name).deleteIfExists({ deleteSnapshots: 'include', abortSignal })).catch(() => undefined),
          ),
        );
        return;
      }
      if (state !== 'open') return;
      state = 'aborted';
      // Closed parts are staged blocks only: never committed, the service drops them after a week.
      await stream.cancel();
    },
  };
}

/** The blobs of an export: its parts (its one file) and, with several parts, the MLTable. */
function locationsOf(ref: StoredExportRef): { parts: string[]; manifest?: string } {
  return ref.parts ? { parts: ref.parts.map((part) => part.location), manifest: ref.location } : { parts: [ref.location] };
}

function blobRef(ref: StoredExportRef): StoredExportRef {
  if (ref.method !== 'blob') throw new Error(`The blob store cannot handle a ${ref.method} export ref (location ${ref.location})`);
  return ref;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** A read-only SAS URL for one blob until `expiresAt` (410 once that has passed). */
type SignUrl = (blobName: string, expiresAt: Date) => Promise<string>;

/** Runs one storage call under the deadline; `parent` aborts it early (the upload's cancel). */
type StorageCall = <T>(action: string, work: (abortSignal: AbortSignal) => Promise<T>, parent?: AbortSignal) => Promise<T>;

function storageError(action: string, error: unknown, timeoutMs: number): AppError {
  if (error instanceof AppError) return error;
  if (isTimeout(error)) {
    return new AppError('storage_error', 504, `Blob storage did not answer within ${formatSeconds(timeoutMs)}: could not ${action}`, { cause: error });
  }
  return new AppError('storage_error', 502, `Blob storage failed to ${action}`, { cause: error });
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
