/**
 * The function's settings, read from the environment (app settings in Azure, `local.settings`
 * or the shell locally) and checked once against a schema. The only module that reads
 * process.env. A bad value fails with the setting's name, what arrived and what was expected;
 * secrets are never echoed. The names shared with the infrastructure (EXPORTS_*, JOBS_TABLE_*,
 * EXPORT_MAX_TTL_MINUTES, CLEANUP_SCHEDULE) are the ones infra/constructs/cleanup-function.ts sets.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { DEFAULT_CLEANUP_OPTIONS, type CleanupOptions } from './cleanup.js';

/** Every day at 00:00 UTC, in the six-field NCRONTAB form of the Functions timer. */
export const DEFAULT_SCHEDULE = '0 0 0 * * *';

export type StorageAccess =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobEndpoint: string; tableEndpoint?: string; managedIdentityClientId?: string };

export interface CleanupConfig {
  storage: StorageAccess;
  container: string;
  /** The connector's job table when it uses the Table job store; undefined: no job marking. */
  jobTable?: string;
  /** The connector's audit table (Table job store); each deletion is appended there. undefined: logged only. */
  auditTable?: string;
  /** Application Insights through OpenTelemetry; undefined: off. */
  telemetry?: { connectionString: string; auth: 'entra' | 'key'; managedIdentityClientId?: string };
  options: CleanupOptions;
}

const LOCAL_STORAGE = 'CLEANUP_STORAGE_CONNECTION_STRING';
const BLOB_SERVICE = 'EXPORTS_BLOB_SERVICE_URL';

type Env = Record<string, string | undefined>;

const SECRET_SETTINGS = new Set(['CLEANUP_STORAGE_CONNECTION_STRING', 'APPLICATIONINSIGHTS_CONNECTION_STRING']);

/**
 * Checks a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week})
 * with the same parser the local stack schedules with.
 */
export function parseSchedule(expression: string): string {
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/).length;
  if (fields !== 6) {
    throw new Error(`CLEANUP_SCHEDULE=${JSON.stringify(expression)} has ${fields} fields; expected six-field NCRONTAB "{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "${DEFAULT_SCHEDULE}"`);
  }
  try {
    new Cron(trimmed, { paused: true, mode: '6-part', timezone: 'UTC' }).stop();
  } catch (error) {
    throw new Error(`CLEANUP_SCHEDULE=${JSON.stringify(expression)} is not a valid NCRONTAB expression: ${(error as Error).message}`);
  }
  return trimmed;
}

/** Only the schedule: read when the function registers, before any other setting matters. */
export function loadSchedule(env: Env = process.env): string {
  return parseSchedule(nonEmpty(env.CLEANUP_SCHEDULE) ?? DEFAULT_SCHEDULE);
}

const containerName = z
  .string()
  .regex(/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/, 'a container name: 3-63 lower-case letters, digits and single hyphens');
const tableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'a table name: a letter, then 2-62 letters or digits');
const httpsUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL such as https://<account>.blob.core.windows.net' });
const integer = (min: number, max: number, fallback: number) =>
  z.coerce.number<string | undefined>({ error: `an integer from ${min} to ${max}` }).int(`an integer from ${min} to ${max}`).min(min, `an integer from ${min} to ${max}`).max(max, `an integer from ${min} to ${max}`).default(fallback);

const defaults = DEFAULT_CLEANUP_OPTIONS;
const schema = z
  .object({
    [LOCAL_STORAGE]: z.string().includes('AccountName=', { error: 'an Azure Storage connection string' }).optional(),
    [BLOB_SERVICE]: httpsUrl.optional(),
    JOBS_TABLE_URL: httpsUrl.optional(),
    JOBS_TABLE_NAME: tableName.optional(),
    AUDIT_TABLE_NAME: tableName.optional(),
    APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().includes('InstrumentationKey=', { error: 'an Application Insights connection string' }).optional(),
    CLEANUP_TELEMETRY_AUTH: z.enum(['entra', 'key'], 'one of: entra, key').default('entra'),
    CLEANUP_MANAGED_IDENTITY_CLIENT_ID: z.uuid('the client id (a GUID) of a user-assigned managed identity').optional(),
    EXPORTS_CONTAINER: containerName.default('exports'),
    EXPORT_MAX_TTL_MINUTES: integer(1, 366 * 24 * 60, defaults.maxLifetimeMs / 60_000),
    CLEANUP_TAG_QUERY_SCOPE: z.enum(['container', 'account'], 'one of: container, account').default(defaults.tagQueryScope),
    CLEANUP_FALLBACK_MAX_BLOBS: integer(0, 100_000_000, defaults.fallbackMaxBlobs),
    CLEANUP_BATCH_SIZE: integer(1, 256, defaults.batchSize),
    CLEANUP_CONCURRENCY: integer(1, 64, defaults.concurrency),
    CLEANUP_MAX_ATTEMPTS: integer(1, 20, defaults.retry.maxAttempts),
    CLEANUP_REQUEST_TIMEOUT_SECONDS: integer(1, 600, defaults.requestTimeoutMs / 1000),
    CLEANUP_TIME_BUDGET_SECONDS: integer(10, 24 * 3600, defaults.timeBudgetMs / 1000),
  })
  .superRefine((env, issues) => {
    const byString = env[LOCAL_STORAGE] !== undefined;
    const byIdentity = env[BLOB_SERVICE] !== undefined;
    if (byString === byIdentity) {
      issues.addIssue({
        code: 'custom',
        path: [LOCAL_STORAGE],
        message: byString
          ? `either a connection string or ${BLOB_SERVICE} (managed identity), not both`
          : `a connection string (local) or ${BLOB_SERVICE} (managed identity in Azure); neither is set`,
      });
    }
    if (byIdentity && env.JOBS_TABLE_NAME !== undefined && env.JOBS_TABLE_URL === undefined) {
      issues.addIssue({ code: 'custom', path: ['JOBS_TABLE_URL'], message: 'the Table service URL, since JOBS_TABLE_NAME is set' });
    }
    if (byIdentity && env.AUDIT_TABLE_NAME !== undefined && env.JOBS_TABLE_URL === undefined) {
      issues.addIssue({ code: 'custom', path: ['JOBS_TABLE_URL'], message: 'the Table service URL, since AUDIT_TABLE_NAME is set' });
    }
    if (env.JOBS_TABLE_URL !== undefined && env.JOBS_TABLE_NAME === undefined) {
      issues.addIssue({ code: 'custom', path: ['JOBS_TABLE_NAME'], message: 'the job table name, since JOBS_TABLE_URL is set' });
    }
  });

export function loadCleanupConfig(env: Env = process.env): CleanupConfig {
  const settings = Object.fromEntries(Object.keys(schema.shape).map((name) => [name, nonEmpty(env[name])]));
  const parsed = schema.safeParse(settings);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'settings');
      const value = settings[name];
      const shown = value === undefined ? 'unset' : SECRET_SETTINGS.has(name) ? '(hidden)' : JSON.stringify(value);
      return `${name}=${shown}: expected ${issue.message}`;
    });
    throw new Error(`cleanup settings are invalid:\n  ${problems.join('\n  ')}`);
  }
  const s = parsed.data;
  const connectionString = s[LOCAL_STORAGE];
  const storage: StorageAccess = connectionString
    ? { kind: 'connectionString', connectionString }
    : {
        kind: 'identity',
        blobEndpoint: s[BLOB_SERVICE]!,
        tableEndpoint: s.JOBS_TABLE_URL,
        managedIdentityClientId: s.CLEANUP_MANAGED_IDENTITY_CLIENT_ID,
      };
  return {
    storage,
    container: s.EXPORTS_CONTAINER,
    jobTable: s.JOBS_TABLE_NAME,
    auditTable: s.AUDIT_TABLE_NAME,
    ...(s.APPLICATIONINSIGHTS_CONNECTION_STRING
      ? {
          telemetry: {
            connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
            auth: s.CLEANUP_TELEMETRY_AUTH,
            ...(s.CLEANUP_MANAGED_IDENTITY_CLIENT_ID ? { managedIdentityClientId: s.CLEANUP_MANAGED_IDENTITY_CLIENT_ID } : {}),
          },
        }
      : {}),
    options: {
      ...defaults,
      tagQueryScope: s.CLEANUP_TAG_QUERY_SCOPE,
      maxLifetimeMs: s.EXPORT_MAX_TTL_MINUTES * 60_000,
      fallbackMaxBlobs: s.CLEANUP_FALLBACK_MAX_BLOBS,
      batchSize: s.CLEANUP_BATCH_SIZE,
      concurrency: s.CLEANUP_CONCURRENCY,
      retry: { ...defaults.retry, maxAttempts: s.CLEANUP_MAX_ATTEMPTS },
      requestTimeoutMs: s.CLEANUP_REQUEST_TIMEOUT_SECONDS * 1000,
      timeBudgetMs: s.CLEANUP_TIME_BUDGET_SECONDS * 1000,
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
