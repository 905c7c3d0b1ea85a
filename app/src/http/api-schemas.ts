/**
 * The API's request and response shapes, as zod schemas. The routers validate requests with
 * them and the OpenAPI document is generated from the very same objects, so the description
 * served at /openapi.json cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { EXPORT_FORMATS } from '../storage/export-store.js';
import { AUDIT_EVENT_ID, AUDIT_EVENT_TYPES } from '../audit/audit-event.js';
import { DEFAULT_PREVIEW_ROWS, MAX_PREVIEW_ROWS } from '../previews/preview-service.js';
import { DEFAULT_MAX_SQL_LENGTH as MAX_SQL_LENGTH } from '../sql-guard/guard.js';

export const loginRequest = z
  .object({
    username: z.string().trim().min(1).max(256).describe('EnOS account name'),
    password: z.string().min(1).max(1024).describe('EnOS account password'),
  })
  .strict();

export const userView = z.object({
  id: z.string(),
  name: z.string(),
  organizationId: z.string(),
});

export const sessionCreated = z.object({
  token: z.string().describe('Bearer token for the Authorization header'),
  expiresAt: z.iso.datetime(),
  user: userView,
});

export const exportFormat = z.enum(EXPORT_FORMATS);

/** The one limit on a query's length: the SQL guard's, so the API, the guard and the page agree. */
export const sqlText = z.string().min(1).max(MAX_SQL_LENGTH).describe('One read-only HiveQL SELECT (WITH … SELECT allowed)');

export const createExportRequest = (maxTtlMinutes: number) =>
  z
    .object({
      sql: sqlText,
      ttlMinutes: z.number().int().min(5).max(maxTtlMinutes).optional().describe('Lifetime of the download URL'),
      format: exportFormat.optional().describe('csv (default), csv.gz, or parquet (typed from the Hive schema, zstd-compressed)'),
    })
    .strict();

export const newLinkRequest = (maxTtlMinutes: number) =>
  z
    .object({
      ttlMinutes: z.number().int().min(5).max(maxTtlMinutes).optional(),
    })
    .strict();

/** A result column as Hive compiled it: the schema of jobs and previews. */
export const resultColumnView = z.object({
  name: z.string(),
  type: z.string().describe("Hive's type, e.g. bigint, decimal(38,6), varchar(20), array (complex types by their category only)"),
  nullable: z.boolean(),
});

export const exportFile = z
  .object({
    url: z.url().describe('Time-limited URL of this file that needs no further credentials'),
    name: z.string().describe('The name a download saves it as, e.g. enos-export-20261127-2110-1a2b3c4d-part-00002.parquet'),
    rows: z.number().int().describe('Rows in this file'),
    bytes: z.number().int().describe('Bytes the URL returns'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('Hex SHA-256 of the bytes the URL returns'),
  })
  .describe('One complete file of a finished export: CSV with its header row, a gzip stream of its own, or a Parquet file of its own');

export const exportSnippets = z
  .object({
    pandas: z.string().describe('Python that reads the result into a pandas DataFrame, every column typed from its Hive type'),
    azureml: z.string().describe('The result as an Azure ML (SDK v2) job input: uri_file, or mltable for several parts'),
  })
  .describe('Code to copy, generated from the schema and the URLs');

export const exportView = z.object({
  id: z.uuid(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired']),
  format: exportFormat,
  sql: z.string(),
  ttlMinutes: z.number().int(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  progress: z
    .object({
      phase: z
        .enum(['queued', 'hive_pending', 'hive_running', 'writing', 'done'])
        .describe('queued here; accepted by Hive and waiting for the cluster; running on Hive; writing rows; ended'),
      rows: z.number().int(),
      bytes: z.number().int(),
      hive: z
        .object({
          percent: z.number().min(0).max(100).nullable().describe("Hive's own progress, when its engine reports it (Tez does)"),
          summary: z.string().nullable().describe("Hive's progress line, e.g. VERTICES: 01/02 [==>>--] 50% ELAPSED TIME: 3.21 s"),
        })
        .nullable(),
    })
    .describe('Where the export is, and how much it has written'),
  schema: z.array(resultColumnView).nullable().describe("The result's columns, once Hive has compiled the query"),
  truncated: z.boolean().describe('true when a row or byte cap stopped the export early'),
  cancelRequested: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  fileName: z.string(),
  files: z
    .array(exportFile)
    .describe(
      'Every file of a succeeded export, in order: one for a result that fits in one file, one per part for a larger one (EXPORT_PART_MAX_BYTES); empty while it runs, and once it failed, expired or was deleted',
    ),
  downloadUrl: z.url().nullable().describe('The one file of a single-file export (files[0].url), a time-limited URL that needs no further credentials; null with several parts'),
  mltableUrl: z
    .url()
    .nullable()
    .describe('With several parts: the URL of an Azure ML MLTable file (YAML) naming every part URL in order and how to read them; null otherwise'),
  snippets: exportSnippets.nullable().describe('Once succeeded, code that reads the result; null before'),
});

export const exportList = z.object({ exports: z.array(exportView) });

export const catalogView = z.object({
  organizationId: z.string(),
  databases: z.array(z.object({ name: z.string(), tables: z.array(z.string()).nullable() })),
  maxTtlMinutes: z.number().int(),
  defaultTtlMinutes: z.number().int(),
  formats: z.array(exportFormat),
  maxSqlLength: z.number().int().describe('Longest query the API accepts, in characters'),
});

export const catalogColumnsView = z.object({
  database: z.string(),
  table: z.string(),
  columns: z
    .array(
      z.object({
        name: z.string(),
        type: z.string().describe("Hive's type text, e.g. bigint, decimal(10,2), varchar(20), array<int>, struct<name:string,ts:timestamp>"),
        comment: z.string().optional().describe("The column's comment in the metastore"),
      }),
    )
    .describe('In table order; partition columns last, as Hive lists them'),
});

// ---- previews ---------------------------------------------------------------------------------

export const createPreviewRequest = z
  .object({
    sql: sqlText,
    rows: z.number().int().min(1).max(MAX_PREVIEW_ROWS).optional().describe(`Rows to show (default ${DEFAULT_PREVIEW_ROWS}, at most ${MAX_PREVIEW_ROWS})`),
  })
  .strict();

/** One cell: JSON has no 64-bit integers or decimals, so those come as strings. */
const previewValue = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .describe(
    'TINYINT, SMALLINT, INT, FLOAT, DOUBLE: number (NaN, Infinity, -Infinity as strings); BIGINT and DECIMAL: string, exact (decimals padded to their scale); ' +
      "BOOLEAN: boolean; BINARY: base64 string; DATE, TIMESTAMP, STRING, CHAR, VARCHAR, intervals and complex types (JSON text): Hive's text; NULL: null",
  );

export const previewView = z.object({
  schema: z.array(resultColumnView).describe("The result's columns, as Hive compiled the query"),
  rows: z.array(z.array(previewValue)).describe('The first rows, each an array of values in schema order'),
  truncated: z.boolean().describe('true when the query has more rows than were asked for'),
});

export const errorBody = z.object({
  error: z.looseObject({ code: z.string(), message: z.string() }),
});

/** Ids are UUIDs; anything else is a 404 before a store is asked. */
export const EXPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Turns zod issues into one readable sentence naming each bad field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

// ---- audit ------------------------------------------------------------------------------------

/** Events per JSON page, and in one CSV download. */
export const AUDIT_PAGE_MAX = 500;
export const AUDIT_CSV_MAX = 100_000;

const auditTypeList = z
  .string()
  .transform((value) => value.split(',').map((type) => type.trim()).filter((type) => type !== ''))
  .pipe(z.array(z.enum(AUDIT_EVENT_TYPES)).min(1));

export const auditQueryParams = z
  .object({
    scope: z.enum(['mine', 'organization']).default('mine').describe("mine: your own events; organization: everyone's in your organization (auditors only)"),
    from: z.iso.datetime({ offset: true }).optional().describe('Events at or after this time'),
    to: z.iso.datetime({ offset: true }).optional().describe('Events at or before this time'),
    type: auditTypeList.optional().describe('Comma-separated event types'),
    exportId: z.uuid().optional(),
    user: z.string().min(1).max(256).optional().describe('Only this account name (scope=organization)'),
    limit: z.coerce.number().int().min(1).max(AUDIT_CSV_MAX).optional().describe(`JSON: at most ${AUDIT_PAGE_MAX} (default 100); CSV: at most ${AUDIT_CSV_MAX} (default ${AUDIT_CSV_MAX})`),
    cursor: z.string().regex(AUDIT_EVENT_ID, 'expected the nextCursor of the previous page').optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

export const auditEventView = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    type: z.enum(AUDIT_EVENT_TYPES),
    outcome: z.enum(['success', 'failure']),
    organizationId: z.string(),
    userId: z.string().nullable(),
    userName: z.string().nullable(),
    via: z.enum(['session', 'access_token', 'schedule', 'stable_link', 'download_url', 'system', 'anonymous']),
    tokenId: z.string().nullable().describe('The access token (never its secret) or session that made the call'),
    clientAddress: z.string().nullable(),
    exportId: z.string().nullable(),
    scheduleId: z.string().nullable(),
    sql: z.string().nullable(),
    tables: z.array(z.string()).nullable(),
    format: z.string().nullable(),
    reason: z.string().nullable().describe('Error code of a refusal or failure'),
    detail: z.string().nullable(),
    requestId: z.string().nullable(),
  });

export const auditPage = z.object({ events: z.array(auditEventView), nextCursor: z.string().nullable() });

export const meView = z
  .object({
    user: userView,
    via: z.enum(['session', 'access_token']),
    roles: z.array(z.enum(['auditor'])),
  });

// ---- access tokens ----------------------------------------------------------------------------

export const createTokenRequest = (maxDays: number) =>
  z
    .object({
      name: z.string().trim().min(1).max(100).describe('What the token is for, e.g. "nightly Azure ML pipeline"'),
      expiresInDays: z.number().int().min(1).max(maxDays).optional().describe(`Lifetime in days (default ${Math.min(90, maxDays)}, at most ${maxDays})`),
    })
    .strict();

export const tokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
});

export const tokenCreated = tokenView.extend({
  secret: z.string().describe('The token, shown this once: send it as "Authorization: Bearer <secret>". Only its hash is kept.'),
});

export const tokenList = z.object({ tokens: z.array(tokenView) });

// ---- refreshing exports (schedules) and stable links -----------------------------------------

export const createScheduleRequest = (limits: { maxKeep: number; linkMaxDays: number }) =>
  z
    .object({
      name: z.string().trim().min(1).max(100).describe('A name for the data set, e.g. "hourly plant measurements"'),
      sql: sqlText,
      format: exportFormat.optional().describe('csv (default), csv.gz, or parquet (typed from the Hive schema, zstd-compressed)'),
      cron: z
        .string()
        .trim()
        .min(9)
        .max(120)
        .describe('When to refresh, in UTC: 5 fields (minute hour day month weekday) or 6 (seconds first), e.g. "0 * * * *" for hourly'),
      keepLast: z.number().int().min(1).max(limits.maxKeep).optional().describe(`Results kept (default ${Math.min(3, limits.maxKeep)})`),
      linkTtlDays: z.number().int().min(1).max(limits.linkMaxDays).optional().describe(`Lifetime of the stable URL in days (default ${Math.min(90, limits.linkMaxDays)})`),
    })
    .strict();

export const newStableLinkRequest = (linkMaxDays: number) =>
  z.object({ linkTtlDays: z.number().int().min(1).max(linkMaxDays).optional() }).strict();

export const scheduleRunView = z.object({
  slot: z.iso.datetime().describe('The time the schedule named for this run'),
  exportId: z.uuid().nullable().describe('The export this run made; null when it failed before one existed'),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired']),
  finishedAt: z.iso.datetime().nullable(),
  rows: z.number().int().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const scheduleView = z.object({
  id: z.uuid(),
  name: z.string(),
  sql: z.string(),
  format: exportFormat,
  cron: z.string(),
  keepLast: z.number().int(),
  status: z.enum(['active', 'paused']),
  pausedReason: z.enum(['owner', 'account_inactive']).nullable(),
  nextRunAt: z.iso.datetime().nullable(),
  stableUrl: z.url().nullable().describe('Answers 302 to the latest good result (to its MLTable when it has several parts); needs no credentials. null once revoked or expired'),
  linkExpiresAt: z.iso.datetime(),
  linkRevoked: z.boolean(),
  createdAt: z.iso.datetime(),
  lastRun: scheduleRunView.nullable().describe('The newest run, failed or not'),
  serving: scheduleRunView.nullable().describe('The run the stable URL serves now'),
  runs: z.array(scheduleRunView).describe('Newest first'),
});

export const scheduleList = z.object({ schedules: z.array(scheduleView) });
