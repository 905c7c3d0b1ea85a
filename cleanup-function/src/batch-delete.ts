/**
 * Deletes blobs in Blob Batch requests (up to 256 deletes per HTTP request), a bounded number of
 * batches at a time. Each delete carries its own condition, so a blob that changed since it was
 * found (its expiry tag moved, or its ETag) is refused by the service rather than deleted.
 *
 * Outcomes per blob: 202 deleted; 404 already gone (someone else deleted it: done); 412
 * ConditionNotMet skipped (no longer expired); 429/5xx retried with backoff, only the blobs that
 * need it; anything else failed. A whole batch that fails transiently is retried as a whole.
 */
import type { BlobBatchClient, BlobRequestConditions, ContainerClient } from '@azure/storage-blob';
import { CappedWarnings, type CleanupLog } from './log.js';
import { BoundedPool } from './pool.js';
import { describeError, isTransientError, isTransientStatus, retryAfterMs, retryAfterOf, type Retrier } from './retry.js';
import type { CleanupSummary } from './summary.js';

/** The service's limit for one batch request. */
export const MAX_BATCH_SIZE = 256;

export interface DeleteCandidate {
  name: string;
  conditions: BlobRequestConditions;
}

type Outcome = 'deleted' | 'alreadyGone' | 'skipped' | 'retry' | 'failed';

export function classifySubResponse(status: number, errorCode: string | undefined): Outcome {
  if (status >= 200 && status < 300) return 'deleted';
  if (status === 404) return 'alreadyGone';
  if (status === 412 && errorCode === 'ConditionNotMet') return 'skipped';
  if (isTransientStatus(status)) return 'retry';
  return 'failed';
}

export interface BatchDeleterOptions {
  batchSize: number;
  concurrency: number;
}

export class BatchDeleter {
  private readonly batchClient: BlobBatchClient;
  private readonly pool: BoundedPool;
  private readonly warnings: CappedWarnings;
  private pending: DeleteCandidate[] = [];

  constructor(
    private readonly container: ContainerClient,
    private readonly options: BatchDeleterOptions,
    private readonly retrier: Retrier,
    private readonly summary: CleanupSummary,
    log: CleanupLog,
    /** Names of the blobs this deleter deleted, for the audit trail. */
    private readonly deleted: string[] = [],
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > MAX_BATCH_SIZE) {
      throw new Error(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${options.batchSize}`);
    }
    this.batchClient = container.getBlobBatchClient();
    this.pool = new BoundedPool(options.concurrency);
    this.warnings = new CappedWarnings(log, 'deletes');
  }

  /** Queues one delete; resolves once it is queued, which may wait for a free batch slot. */
  async add(candidate: DeleteCandidate): Promise<void> {
    this.pending.push(candidate);
    if (this.pending.length >= this.options.batchSize) await this.dispatch();
  }

  /** Sends what is queued and waits for every batch to settle. */
  async drain(): Promise<void> {
    if (this.pending.length > 0) await this.dispatch();
    await this.pool.drain();
  }

  private async dispatch(): Promise<void> {
    const items = this.pending;
    this.pending = [];
    await this.pool.submit(() => this.deleteWithRetries(items));
  }

  private async deleteWithRetries(items: DeleteCandidate[]): Promise<void> {
    let remaining = items;
    for (let attempt = 1; ; attempt++) {
      let retry: { items: DeleteCandidate[]; hintMs: number | undefined; reason: string };
      try {
        retry = await this.submit(remaining);
      } catch (error) {
        if (!isTransientError(error) || attempt >= this.retrier.policy.maxAttempts) {
          this.fail(remaining, `batch request failed: ${describeError(error)}`);
          return;
        }
        await this.retrier.pause(attempt, retryAfterOf(error));
        continue;
      }
      if (retry.items.length === 0) return;
      if (attempt >= this.retrier.policy.maxAttempts) {
        this.fail(retry.items, `${retry.reason} after ${attempt} attempts`);
        return;
      }
      remaining = retry.items;
      await this.retrier.pause(attempt, retry.hintMs);
    }
  }

  /** One batch request; records final outcomes and returns the deletes worth another try. */
  private async submit(items: DeleteCandidate[]): Promise<{ items: DeleteCandidate[]; hintMs: number | undefined; reason: string }> {
    const batch = this.batchClient.createBatch();
    const byUrl = new Map<string, DeleteCandidate>();
    for (const item of items) {
      const blob = this.container.getBlobClient(item.name);
      byUrl.set(blob.url, item);
      // `include`: a blob with snapshots cannot be deleted alone, and an expired export's
      // snapshots are as expired as the export.
      await batch.deleteBlob(blob, { conditions: item.conditions, deleteSnapshots: 'include' });
    }
    const response = await this.retrier.attempt((abortSignal) => this.batchClient.submitBatch(batch, { abortSignal }));

    const retry: DeleteCandidate[] = [];
    let hintMs: number | undefined;
    let reason = '';
    for (const sub of response.subResponses) {
      const item = byUrl.get(sub._request.url);
      if (!item) continue;
      byUrl.delete(sub._request.url);
      const outcome = classifySubResponse(sub.status, sub.errorCode);
      if (outcome === 'retry') {
        retry.push(item);
        hintMs = Math.max(hintMs ?? 0, retryAfterMs(sub.headers.get('retry-after')) ?? 0);
        reason = `status ${sub.status} ${sub.errorCode ?? ''}`.trim();
      } else if (outcome === 'failed') {
        this.fail([item], `status ${sub.status} ${sub.errorCode ?? ''}`.trim());
      } else {
        this.summary[outcome]++;
        if (outcome === 'deleted') this.deleted.push(item.name);
      }
    }
    // A delete the response did not mention has an unknown fate; sending it again is safe.
    for (const item of byUrl.values()) {
      retry.push(item);
      reason ||= 'no sub-response for the delete';
    }
    return { items: retry, hintMs, reason };
  }

  private fail(items: DeleteCandidate[], reason: string): void {
    this.summary.failed += items.length;
    for (const item of items) {
      this.warnings.warn(`cleanup: could not delete ${item.name} (${reason}); the next run will try again`);
    }
  }
}
