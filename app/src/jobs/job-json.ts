/**
 * The JSON columns (SQLite) and JSON string properties (Table Storage) for a job's error and
 * result. Decoding checks the shape, so a row written by a different version or by hand fails
 * loudly with what arrived instead of leaking a malformed object into the API.
 */
import { EXPORT_FORMATS, type CommittedExport, type ExportFormat, type StorageMethod } from '../storage/export-store.js';
import type { JobColumn, JobError, JobStage, JobStatus } from './job-store.js';

const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'];
const STORAGE_METHODS: readonly StorageMethod[] = ['blob', 'local'];

export const encodeJson = (value: JobError | CommittedExport | JobStage | JobColumn[] | undefined): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);

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

export function decodeCommittedExport(json: string): CommittedExport {
  const value = parseObject(json, 'result');
  const method = stringField(value, 'method', 'result');
  if (!isOneOf(method, STORAGE_METHODS)) {
    throw new Error(`Stored job result has method ${JSON.stringify(method)}; expected one of ${STORAGE_METHODS.join(', ')}`);
  }
  const bytes = value.bytes;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new Error(`Stored job result has bytes ${JSON.stringify(bytes)}; expected a non-negative integer`);
  }
  return {
    method,
    location: stringField(value, 'location', 'result'),
    bytes,
    sha256: stringField(value, 'sha256', 'result'),
  };
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
