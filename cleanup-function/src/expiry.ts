/**
 * How an export's expiry is written (by the connector) and judged (here). The connector sets the
 * blob index tag `expiresAt` and the metadata `expiresat` to `Date.toISOString()`, a fixed-width
 * UTC string, so comparing strings compares times: that is what lets the tag index answer
 * `"expiresAt" < '<now>'` and what the delete's tag condition re-checks on the blob itself.
 */
export const EXPIRES_AT_TAG = 'expiresAt';
/**
 * The metadata name the connector writes. Azure treats metadata names case-insensitively but
 * returns them in the case they were written with ("names preserve the case with which they were
 * created, but are case-insensitive when set or read": Set Blob Metadata, Azure Storage REST
 * reference), so a blob written by hand or by another tool may carry `expiresAt` or `EXPIRESAT`:
 * read it with metadataValue().
 */
export const EXPIRES_AT_METADATA = 'expiresat';

/** A metadata value by name, compared without case, as Azure compares metadata names. */
export function metadataValue(metadata: Record<string, string> | undefined, name: string): string | undefined {
  if (metadata === undefined) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(metadata).find((candidate) => candidate.toLowerCase() === wanted);
  return key === undefined ? undefined : metadata[key];
}

/** The tag query that finds expired exports; the container is in the request URL. */
export function expiredTagFilter(now: Date): string {
  return `"${EXPIRES_AT_TAG}" < '${now.toISOString()}'`;
}

/**
 * The same filter scoped by expression, for the account-wide Find Blobs by Tags operation.
 * Azure refuses `@container` on the container endpoint ("Cannot have container in both uri and
 * query"), so each scope gets its own form.
 */
export function expiredTagFilterForAccount(container: string, now: Date): string {
  return `@container = '${container}' AND ${expiredTagFilter(now)}`;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** An expiry written by hand or by an older version; only explicit UTC ISO 8601 is trusted. */
export function parseExpiry(value: string | undefined): Date | undefined {
  if (value === undefined || !ISO_UTC.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time);
}

export interface ListedBlob {
  tags?: Record<string, string>;
  metadata?: Record<string, string>;
  createdOn?: Date;
}

export type Verdict =
  /** Has the tag: the tag query decides, never this listing (even when the blob looks old). */
  | { kind: 'tagged' }
  | { kind: 'live'; basis: 'metadata' | 'age' }
  | { kind: 'expired'; basis: 'metadata' | 'age' }
  /** No tag, no usable metadata, no creation time: nothing to judge by; left to the lifecycle rule. */
  | { kind: 'unknown' };

/**
 * Judges a blob the tag query cannot see. Its `expiresat` metadata (in any casing) when it has a valid one,
 * otherwise its creation time plus the maximum lifetime an export can have.
 */
export function judgeUntagged(blob: ListedBlob, now: Date, maxLifetimeMs: number): Verdict {
  if (blob.tags?.[EXPIRES_AT_TAG] !== undefined) return { kind: 'tagged' };
  const fromMetadata = parseExpiry(metadataValue(blob.metadata, EXPIRES_AT_METADATA));
  if (fromMetadata) return { kind: fromMetadata < now ? 'expired' : 'live', basis: 'metadata' };
  if (!blob.createdOn) return { kind: 'unknown' };
  const deadline = blob.createdOn.getTime() + maxLifetimeMs;
  return { kind: deadline < now.getTime() ? 'expired' : 'live', basis: 'age' };
}
