/**
 * The `blob` export store: each export is one block blob, `<ownerId>/<jobId>/<fileName>.csv`,
 * staged block by block and published by a single block-list commit that also sets its headers,
 * metadata (owner, job, rows, sha256) and the `expiresAt` index tag the cleanup function queries.
 * Download URLs are read-only SAS tokens for that one blob.
 */
import type { Agent } from 'node:https';
import type { TokenCredential } from '@azure/identity';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlockBlobClient,
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
import type { CommittedExport, ExportStore, ExportTarget, ExportWriter, StoredExportRef } from './export-store.js';
import { assertValidTarget, contentDispositionOf, contentTypeOf, downloadFileName } from './export-naming.js';

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
      return beginUpload(container, target, { blockSize, concurrency }, call);
    },

    async downloadUrl(ref, target) {
      const blob = blobClientFor(container, ref);
      const now = clock();
      if (target.expiresAt.getTime() <= now.getTime()) {
        throw new AppError('gone', 410, 'The export has expired');
      }
      if (target.expiresAt.getTime() > now.getTime() + MAX_SAS_LIFETIME_MS + CLOCK_SKEW_MS) {
        throw new AppError('validation_failed', 400, `An export link can live at most ${MAX_SAS_LIFETIME_MS / 86_400_000} days`);
      }
      // At the 7-day limit the token may end up to a few minutes before `expiresAt`: the
      // delegation key behind it cannot outlive 7 days from the moment it was issued.
      const expiresOn = floorToSecond(Math.min(target.expiresAt.getTime(), signer.latestExpiry(now).getTime()));
      try {
        const sas = await signer.sign(ref.location, { startsOn: floorToSecond(now.getTime() - CLOCK_SKEW_MS), expiresOn });
        return `${blob.url}?${sas}`;
      } catch (error) {
        throw storageError('sign a download URL', error, operationTimeoutMs);
      }
    },

    async extendExpiry(ref, expiresAt) {
      const blob = blobClientFor(container, ref);
      const iso = expiresAt.toISOString();
      const action = 'move the expiry of an export';
      try {
        // Tag first: it is what the cleanup function acts on; the metadata copy is for people.
        await call(action, (abortSignal) => blob.setTags({ expiresAt: iso }, { abortSignal }));
        const properties = await call(action, (abortSignal) => blob.getProperties({ abortSignal }));
        await call(action, (abortSignal) => blob.setMetadata({ ...properties.metadata, expiresat: iso }, { conditions: { ifMatch: properties.etag }, abortSignal }));
      } catch (error) {
        if (statusOf((error as Error).cause) === 404) throw new AppError('not_found', 404, 'The export no longer exists', { cause: error });
        throw error;
      }
    },

    async delete(ref) {
      const blob = blobClientFor(container, ref);
      await call('delete an export', (abortSignal) => blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal }));
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

function beginUpload(
  container: ContainerClient,
  target: ExportTarget,
  sizing: { blockSize: number; concurrency: number },
  call: StorageCall,
): BlobExportWriter {
  const blobName = `${target.ownerId}/${target.jobId}/${downloadFileName(target.fileName, target.format)}`;
  const blob = container.getBlockBlobClient(blobName);
  const stream = new BlockUploadStream({
    blockSize: sizing.blockSize,
    concurrency: sizing.concurrency,
    // The stream's signal is the parent: cancelling the upload aborts the blocks in flight.
    stageBlock: (id, body, length, signal) =>
      call('upload part of an export', (abortSignal) => blob.stageBlock(id, body, length, { abortSignal }), signal),
  });
  // `unsettled`: the commit failed, but the service may have applied it before the answer was lost.
  let state: 'open' | 'unsettled' | 'committed' | 'aborted' = 'open';

  return {
    stream,
    get bytesWritten() {
      return stream.bytesWritten;
    },
    get peakBufferedBytes() {
      return stream.peakBufferedBytes;
    },

    async commit(info): Promise<CommittedExport> {
      if (state !== 'open') throw new Error(`commit() called on an export that is already ${state}`);
      if (!stream.writableFinished) throw new Error('commit() called before the stream finished; end the stream and wait for "finish" first');
      const expiresAt = target.expiresAt.toISOString();
      try {
        // The one request that makes the blob exist: everything before it was uncommitted blocks.
        await call('publish an export', (abortSignal) => blob.commitBlockList([...stream.blockIds], {
          blobHTTPHeaders: {
            blobContentType: contentTypeOf(target.format),
            blobContentDisposition: contentDispositionOf(target.fileName, target.format),
          },
          metadata: {
            expiresat: expiresAt,
            jobid: target.jobId,
            owner: target.ownerId,
            rows: String(info.rows),
            sha256: stream.sha256,
            truncated: String(info.truncated),
          },
          tags: { expiresAt },
          abortSignal,
        }));
      } catch (error) {
        state = 'unsettled';
        throw error;
      }
      state = 'committed';
      return { method: 'blob', location: blobName, bytes: stream.bytesWritten, sha256: stream.sha256 };
    },

    // After a commit the export belongs to the job; removing it is `delete(ref)`, so a
    // `finally { abort() }` in the pipeline can never unpublish a finished export.
    async abort() {
      if (state === 'unsettled') {
        state = 'aborted';
        // The name is this job's alone, so deleting it can only remove what this writer published.
        // Best effort, like all of abort(): if storage is still unreachable, the blob carries its
        // expiresAt tag and the cleanup function deletes it then (no job points at it meanwhile).
        await call('remove an unsettled export', (abortSignal) => blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal })).catch(() => undefined);
        return;
      }
      if (state !== 'open') return;
      state = 'aborted';
      await stream.cancel();
    },
  };
}

function blobClientFor(container: ContainerClient, ref: StoredExportRef): BlockBlobClient {
  if (ref.method !== 'blob') throw new Error(`The blob store cannot handle a ${ref.method} export ref (location ${ref.location})`);
  return container.getBlockBlobClient(ref.location);
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

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
