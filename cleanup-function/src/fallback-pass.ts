/**
 * The pass for blobs the tag query cannot see: exports written by hand or by an older version,
 * without the `expiresAt` tag. A flat listing with metadata and tags, each untagged blob judged
 * by its `expiresat` metadata or, lacking that, by creation time plus the maximum lifetime.
 *
 * Listing is the expensive way (one request per 5,000 blobs of the whole container), so the pass
 * is bounded: at most `maxBlobs` listed per run, resuming where the previous run stopped. The
 * resume point is the listing's continuation marker, kept in a small blob in the same container
 * (the only thing the function writes); a finished sweep removes it and the next run starts over.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { judgeUntagged } from './expiry.js';
import { firstPage, statusOf, stopForTime, type PassContext } from './pass-context.js';

export const FALLBACK_CURSOR_BLOB = '.cleanup/fallback-cursor';

export interface FallbackOptions {
  /** Blobs listed per run at most; 0 turns the pass off. */
  maxBlobs: number;
  /** The longest an export can live (the connector's maximum TTL). */
  maxLifetimeMs: number;
}

export async function deleteExpiredUntagged(ctx: PassContext, container: ContainerClient, options: FallbackOptions): Promise<void> {
  if (options.maxBlobs <= 0) return;
  const cursor = await loadCursor(ctx, container);
  let marker = cursor;
  let listed = 0;
  try {
    while (listed < options.maxBlobs) {
      if (ctx.outOfTime()) {
        stopForTime(ctx, 'fallback listing');
        break;
      }
      const maxPageSize = Math.min(ctx.pageSize, options.maxBlobs - listed);
      const page = await listPage(ctx, container, marker, maxPageSize).catch(async (error: unknown) => {
        // A marker the service no longer accepts must not block every future run.
        if (marker === undefined || statusOf(error) !== 400) throw error;
        ctx.log.warn('cleanup: the saved fallback listing position was refused; starting the listing over');
        marker = undefined;
        return listPage(ctx, container, undefined, maxPageSize);
      });
      for (const blob of page?.segment.blobItems ?? []) {
        listed++;
        if (blob.name === FALLBACK_CURSOR_BLOB) continue;
        const verdict = judgeUntagged(
          { tags: blob.tags, metadata: blob.metadata, createdOn: blob.properties.createdOn ?? blob.properties.lastModified },
          ctx.now,
          options.maxLifetimeMs,
        );
        if (verdict.kind !== 'expired') continue;
        ctx.summary.found++;
        // If-Match: a blob rewritten since it was listed (say, given a tag and a new expiry) stays.
        await ctx.deleter.add({ name: blob.name, conditions: { ifMatch: blob.properties.etag } });
      }
      marker = page?.continuationToken || undefined;
      if (!marker) break;
    }
  } finally {
    ctx.summary.fallbackListed = listed;
  }
  if (marker !== cursor) await saveCursor(ctx, container, marker);
  if (marker) ctx.log.log(`cleanup: fallback listing stopped after ${listed} blobs; the next run continues from there`);
}

function listPage(ctx: PassContext, container: ContainerClient, continuationToken: string | undefined, maxPageSize: number) {
  return ctx.retrier.run((abortSignal) =>
    firstPage(
      container
        .listBlobsFlat({ includeMetadata: true, includeTags: true, abortSignal })
        .byPage({ continuationToken, maxPageSize }),
    ),
  );
}

async function loadCursor(ctx: PassContext, container: ContainerClient): Promise<string | undefined> {
  try {
    const body = await ctx.retrier.run((abortSignal) =>
      container.getBlobClient(FALLBACK_CURSOR_BLOB).downloadToBuffer(0, undefined, { abortSignal }),
    );
    return body.toString('utf8') || undefined;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

async function saveCursor(ctx: PassContext, container: ContainerClient, marker: string | undefined): Promise<void> {
  const blob = container.getBlockBlobClient(FALLBACK_CURSOR_BLOB);
  if (marker === undefined) {
    await ctx.retrier.run((abortSignal) => blob.deleteIfExists({ abortSignal }));
  } else {
    await ctx.retrier.run((abortSignal) => blob.upload(marker, Buffer.byteLength(marker), { abortSignal }));
  }
}
