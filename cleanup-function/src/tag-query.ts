/**
 * The main pass: one blob index tag query for the exports whose `expiresAt` tag is before the
 * run's "now", paged, each hit queued for a conditional batch delete.
 *
 * Two scopes. `container` (default) calls Find Blobs by Tags on the container endpoint with
 * `"expiresAt" < '…'`: every permission the function needs can then be granted on the exports
 * container alone. `account` calls the account endpoint with `@container = '…' AND "expiresAt" < '…'`,
 * which needs the filter permission on the whole storage account.
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { expiredTagFilter, expiredTagFilterForAccount } from './expiry.js';
import { firstPage, stopForTime, type PassContext } from './pass-context.js';

export type TagQueryScope = 'container' | 'account';

export interface TagQuerySource {
  scope: TagQueryScope;
  container: ContainerClient;
  /** Required for the `account` scope. */
  service?: BlobServiceClient;
}

interface TagQueryPage {
  blobs: Array<{ name: string; containerName?: string }>;
  continuationToken?: string;
}

export async function deleteExpiredByTag(ctx: PassContext, source: TagQuerySource): Promise<void> {
  const containerName = source.container.containerName;
  const fetchPage = pageFetcher(source, ctx.now, ctx.pageSize);
  // Re-checked by the service on every delete: the index may still list a blob whose link was
  // extended a moment ago, and such a blob must answer 412 and stay.
  const stillExpired = { tagConditions: expiredTagFilter(ctx.now) };

  let marker: string | undefined;
  do {
    if (ctx.outOfTime()) return stopForTime(ctx, 'tag query');
    const page = await ctx.retrier.run((abortSignal) => fetchPage(marker, abortSignal));
    for (const blob of page?.blobs ?? []) {
      if (blob.containerName !== undefined && blob.containerName !== containerName) continue;
      ctx.summary.found++;
      await ctx.deleter.add({ name: blob.name, conditions: stillExpired });
    }
    marker = page?.continuationToken || undefined;
  } while (marker);
}

function pageFetcher(
  source: TagQuerySource,
  now: Date,
  maxPageSize: number,
): (marker: string | undefined, abortSignal: AbortSignal) => Promise<TagQueryPage | undefined> {
  if (source.scope === 'container') {
    const where = expiredTagFilter(now);
    return (continuationToken, abortSignal) =>
      firstPage(source.container.findBlobsByTags(where, { abortSignal }).byPage({ continuationToken, maxPageSize }));
  }
  const service = source.service;
  if (!service) throw new Error('tag query scope "account" needs a BlobServiceClient (deps.service), none was given');
  const where = expiredTagFilterForAccount(source.container.containerName, now);
  return (continuationToken, abortSignal) =>
    firstPage(service.findBlobsByTags(where, { abortSignal }).byPage({ continuationToken, maxPageSize }));
}
