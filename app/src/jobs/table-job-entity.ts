/**
 * How a job is laid out in Azure Table Storage. This layout is a contract with the cleanup
 * function, which queries the same table: PartitionKey = ownerId, RowKey = jobId, `status`,
 * `expiresAt` and `updatedAt` as Edm.DateTime, and `storageLocation` = the blob name
 * (result.location: the one file, or the MLTable manifest of a multi-part export, whose parts are
 * listed in `parts`). Idempotency keys live beside their jobs in the same partition, as entities
 * with RowKey `idem:<sha256 hex of the key>` holding the job id.
 */
import { createHash } from 'node:crypto';
import type { ExportJob } from './job-store.js';
import { decodeCommittedExport, decodeFormat, decodeJobError, decodeJobSchema, decodeJobStage, decodeStatus, encodeJson, encodeResult } from './job-json.js';

const IDEMPOTENCY_PREFIX = 'idem:';

/**
 * Properties as written; undefined properties are simply not sent. (Type aliases, not
 * interfaces, so they fit the SDK's index-signature entity type in transactions.)
 */
export type JobEntity = {
  partitionKey: string;
  rowKey: string;
  status: string;
  ownerName: string;
  organizationId: string;
  sql: string;
  format: string;
  ttlMinutes: number;
  instanceId: string;
  idempotencyKey: string | undefined;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  expiresAt: Date | undefined;
  /** Edm.Int64: a large export passes 2^31 bytes (and rows) and Int32 would overflow. */
  rows: bigint;
  bytes: bigint;
  truncated: boolean;
  cancelRequested: boolean;
  /** JSON of JobError. */
  error: string | undefined;
  /** JSON of CommittedExport without its parts. */
  result: string | undefined;
  /**
   * JSON of the parts of a multi-part result. A string property holds at most 64 KiB (UTF-16, so
   * 32,768 characters); MAX_EXPORT_PARTS keeps it below (see toJobEntity).
   */
  parts: string | undefined;
  /** The blob (or file) name, in its own property so the cleanup function needs no JSON. */
  storageLocation: string | undefined;
  /** JSON of JobStage. */
  stage: string | undefined;
  /** JSON of the result columns. */
  schema: string | undefined;
};

export type IdempotencyEntity = {
  partitionKey: string;
  rowKey: string;
  jobId: string;
};

/** Hashed so that any key a client sends fits the RowKey rules (length, forbidden characters). */
export const idempotencyRowKey = (key: string): string =>
  IDEMPOTENCY_PREFIX + createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * Filter clause that keeps idempotency entities out of a partition query. `;` is the character
 * after `:`, so the range excludes exactly the RowKeys starting with `idem:`.
 */
export const EXCLUDE_IDEMPOTENCY_ROWS = `(RowKey lt '${IDEMPOTENCY_PREFIX}' or RowKey ge 'idem;')`;

/**
 * Whether `value` can be a job's PartitionKey or RowKey: Table Storage refuses `/ \ # ?` and
 * control characters, and keys over 1 KiB; an `idem:` RowKey is never a job. Ids arriving from
 * a URL that fail this cannot name a stored job, so lookups answer "not found" without asking.
 */
export function isJobKey(value: string): boolean {
  if (value.length === 0 || Buffer.byteLength(value, 'utf8') > 1024) return false;
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f) || '/\\#?'.includes(char)) return false;
  }
  return true;
}

export const isJobRowKey = (rowKey: string): boolean => isJobKey(rowKey) && !rowKey.startsWith(IDEMPOTENCY_PREFIX);

/** Characters a string property can hold: 64 KiB of UTF-16 (Table service data model). */
const MAX_STRING_PROPERTY_CHARS = 32 * 1024;

export function toJobEntity(job: ExportJob): JobEntity {
  const result = encodeResult(job.result);
  if (result.parts !== undefined && result.parts.length > MAX_STRING_PROPERTY_CHARS) {
    // MAX_EXPORT_PARTS parts of the connector's own names take far less; reaching this is a bug.
    throw new Error(`Job ${job.id} has ${job.result?.parts?.length} parts whose list takes ${result.parts.length} characters; a Table property holds at most ${MAX_STRING_PROPERTY_CHARS}`);
  }
  return {
    partitionKey: job.ownerId,
    rowKey: job.id,
    status: job.status,
    ownerName: job.ownerName,
    organizationId: job.organizationId,
    sql: job.sql,
    format: job.format,
    ttlMinutes: job.ttlMinutes,
    instanceId: job.instanceId,
    idempotencyKey: job.idempotencyKey,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    expiresAt: job.expiresAt,
    rows: BigInt(job.rows),
    bytes: BigInt(job.bytes),
    truncated: job.truncated,
    cancelRequested: job.cancelRequested,
    error: encodeJson(job.error),
    result: result.result,
    parts: result.parts,
    storageLocation: job.result?.location,
    stage: encodeJson(job.stage),
    schema: encodeJson(job.schema),
  };
}

/** Reads a job entity as the SDK returns it, checking each property it relies on. */
export function fromJobEntity(entity: Record<string, unknown>): ExportJob {
  const read = new EntityReader(entity);
  const job: ExportJob = {
    id: read.string('rowKey'),
    ownerId: read.string('partitionKey'),
    ownerName: read.string('ownerName'),
    organizationId: read.string('organizationId'),
    sql: read.string('sql'),
    format: decodeFormat(entity.format),
    ttlMinutes: read.number('ttlMinutes'),
    status: decodeStatus(entity.status),
    instanceId: read.string('instanceId'),
    createdAt: read.date('createdAt'),
    updatedAt: read.date('updatedAt'),
    rows: read.integer('rows'),
    bytes: read.integer('bytes'),
    truncated: read.boolean('truncated'),
    cancelRequested: read.boolean('cancelRequested'),
  };
  // Absent properties stay absent on the job, as in every other adapter.
  if (entity.idempotencyKey !== undefined) job.idempotencyKey = read.string('idempotencyKey');
  if (entity.startedAt !== undefined) job.startedAt = read.date('startedAt');
  if (entity.finishedAt !== undefined) job.finishedAt = read.date('finishedAt');
  if (entity.expiresAt !== undefined) job.expiresAt = read.date('expiresAt');
  if (entity.error !== undefined) job.error = decodeJobError(read.string('error'));
  if (entity.result !== undefined) job.result = decodeCommittedExport(read.string('result'), entity.parts === undefined ? undefined : read.string('parts'));
  if (entity.stage !== undefined) job.stage = decodeJobStage(read.string('stage'));
  if (entity.schema !== undefined) job.schema = decodeJobSchema(read.string('schema'));
  return job;
}

export function jobIdOf(entity: Record<string, unknown>): string {
  return new EntityReader(entity).string('jobId');
}

class EntityReader {
  constructor(private readonly entity: Record<string, unknown>) {}

  string(name: string): string {
    const value = this.entity[name];
    if (typeof value !== 'string') throw this.unexpected(name, 'a string');
    return value;
  }

  number(name: string): number {
    const value = this.entity[name];
    if (typeof value !== 'number') throw this.unexpected(name, 'a number');
    return value;
  }

  /** Edm.Int64 arrives as bigint; accept Int32 (number) too, as a hand-edited entity would have. */
  integer(name: string): number {
    const value = this.entity[name];
    if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw this.unexpected(name, 'an Edm.Int64 within 2^53');
  }

  boolean(name: string): boolean {
    const value = this.entity[name];
    if (typeof value !== 'boolean') throw this.unexpected(name, 'a boolean');
    return value;
  }

  date(name: string): Date {
    const value = this.entity[name];
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw this.unexpected(name, 'an Edm.DateTime');
    return value;
  }

  private unexpected(name: string, expected: string): Error {
    const value = this.entity[name];
    const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
    return new Error(
      `Table entity ${String(this.entity.partitionKey)}/${String(this.entity.rowKey)} has ${name} ${shown}; expected ${expected}`,
    );
  }
}
