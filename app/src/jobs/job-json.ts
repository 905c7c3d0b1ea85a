/**
 * The JSON columns (SQLite) and JSON string properties (Table Storage) for a job's error and
 * result. A multi-part result keeps its list of parts in a column (property) of its own, `parts`:
 * it is the one value that grows with the export, and the rest of `result` keeps the shape every
 * version of the connector wrote. Decoding checks the shape, so a row written by a different version or by hand fails
 * loudly with what arrived instead of leaking a malformed object into the API.
 */
import { EXPORT_FORMATS, MAX_EXPORT_PARTS, type CommittedExport, type ExportFormat, type StorageMethod, type StoredPart } from '../storage/export-store.js';
import type { JobColumn, JobError, JobStage, JobStatus } from './job-store.js';

const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'];
const STORAGE_METHODS: readonly StorageMethod[] = ['blob', 'local'];

export const encodeJson = (value: JobError | CommittedExport | JobStage | JobColumn[] | StoredPart[] | undefined): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);

/** A result as its two stored texts: the export without its parts, and the parts (with several). */
export function encodeResult(result: CommittedExport | undefined): { result: string | undefined; parts: string | undefined } {
  if (result === undefined) return { result: undefined, parts: undefined };
  const { parts, ...rest } = result;
  return { result: encodeJson(rest), parts: encodeJson(parts) };
}

const PHASES: readonly JobStage['phase'][] = ['hive_pending', 'hive_running', 'writing'];

export function decodeJobStage(json: string): JobStage {
  const value = parseObject(json, 'stage');
  const phase = stringField(value, 'phase', 'stage');
  if (!isOneOf(phase, PHASES)) throw new Error(`Stored job stage has phase ${JSON.stringify(phase)}; expected one of ${PHASES.join(', ')}`);
  const stage: JobStage = { phase };
  if (typeof value.hivePercent === 'number') stage.hivePercent = value.hivePercent;
  if (typeof value.hiveSummary === 'string') stage.hiveSummary = value.hiveSummary;
  return stage;
}

export function decodeJobSchema(json: string): JobColumn[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new Error(`Stored job schema is not JSON: ${JSON.stringify(json.slice(0, 80))}`, { cause });
  }
  if (!Array.isArray(value)) throw new Error(`Stored job schema is ${JSON.stringify(json.slice(0, 80))}; expected a JSON array`);
  return value.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw new Error('Stored job schema has an entry that is not an object');
    const column = entry as Record<string, unknown>;
    return { name: stringField(column, 'name', 'schema'), type: stringField(column, 'type', 'schema'), nullable: column.nullable !== false };
  });
}

export function decodeJobError(json: string): JobError {
  const value = parseObject(json, 'error');
  return { code: stringField(value, 'code', 'error'), message: stringField(value, 'message', 'error') };
}

/** A stored result; `partsJson` is the `parts` column (property) of a multi-part export. */
export function decodeCommittedExport(json: string, partsJson?: string): CommittedExport {
  const value = parseObject(json, 'result');
  const method = stringField(value, 'method', 'result');
  if (!isOneOf(method, STORAGE_METHODS)) {
    throw new Error(`Stored job result has method ${JSON.stringify(method)}; expected one of ${STORAGE_METHODS.join(', ')}`);
  }
  const result: CommittedExport = {
    method,
    location: stringField(value, 'location', 'result'),
    bytes: countField(value, 'bytes', 'result'),
  };
  if (partsJson !== undefined) result.parts = decodeParts(partsJson);
  // One file has its digest on the result; each part has its own.
  if (value.sha256 !== undefined || !result.parts) result.sha256 = stringField(value, 'sha256', 'result');
  return result;
}

function decodeParts(json: string): StoredPart[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new Error(`Stored job parts are not JSON: ${JSON.stringify(json.slice(0, 80))}`, { cause });
  }
  if (!Array.isArray(value) || value.length < 2 || value.length > MAX_EXPORT_PARTS) {
    throw new Error(`Stored job parts are ${JSON.stringify(json.slice(0, 80))}; expected a JSON array of 2 to ${MAX_EXPORT_PARTS} parts`);
  }
  return value.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw new Error('Stored job parts have an entry that is not an object');
    const part = entry as Record<string, unknown>;
    return {
      location: stringField(part, 'location', 'part'),
      rows: countField(part, 'rows', 'part'),
      bytes: countField(part, 'bytes', 'part'),
      sha256: stringField(part, 'sha256', 'part'),
    };
  });
}

function countField(value: Record<string, unknown>, field: string, what: string): number {
  const count = value[field];
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new Error(`Stored job ${what} has ${field} ${JSON.stringify(count)}; expected a non-negative integer`);
  }
  return count;
}

export function decodeStatus(value: unknown): JobStatus {
  if (typeof value === 'string' && isOneOf(value, JOB_STATUSES)) return value;
  throw new Error(`Stored job has status ${JSON.stringify(value)}; expected one of ${JOB_STATUSES.join(', ')}`);
}

export function decodeFormat(value: unknown): ExportFormat {
  if (typeof value === 'string' && isOneOf(value, EXPORT_FORMATS)) return value;
  throw new Error(`Stored job has format ${JSON.stringify(value)}; expected one of ${EXPORT_FORMATS.join(', ')}`);
}

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}

function parseObject(json: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new Error(`Stored job ${what} is not JSON: ${JSON.stringify(json.slice(0, 80))}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Stored job ${what} is ${JSON.stringify(json.slice(0, 80))}; expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function stringField(value: Record<string, unknown>, field: string, what: string): string {
  const fieldValue = value[field];
  if (typeof fieldValue !== 'string') {
    throw new Error(`Stored job ${what} has ${field} ${JSON.stringify(fieldValue)}; expected a string`);
  }
  return fieldValue;
}
