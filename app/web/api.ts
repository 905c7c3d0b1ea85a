/**
 * The page's only way to the server: JSON over fetch with the session token from
 * sessionStorage (gone when the tab closes; never a cookie, so no CSRF surface). Errors carry the
 * API's `{error: {code, message}}` so the page can show the server's own words.
 */
// Type-only: esbuild erases it, so the page bundles no server code but cannot drift from the API.
import type { z } from 'zod';
import type { ExportView } from '../src/exports/export-service.js';
// The answers' shapes, from the zod schemas the server answers with (type-only, erased by esbuild).
import type { auditEventView, meView, scheduleView, tokenView } from '../src/http/api-schemas.js';

/** One part of an export's result (the job's `files`; one entry for a single-part export). */
export interface ExportFile {
  url: string;
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * A job as the page reads it: the server's view, plus the multi-part fields of the job contract
 * (`files` always, `mltableUrl` when there are several parts), optional until every server sends them.
 */
export type JobView = ExportView & { files?: ExportFile[]; mltableUrl?: string | null };

export interface Catalog {
  organizationId: string;
  databases: { name: string; tables: string[] | null }[];
  maxTtlMinutes: number;
  defaultTtlMinutes: number;
  /** The export formats this connector writes. */
  formats: string[];
  maxSqlLength: number;
}

export interface ResultColumn {
  name: string;
  type: string;
  nullable: boolean;
}

/** POST /api/v1/previews: BIGINT and DECIMAL as strings, NaN/Infinity as strings, BINARY base64, NULL null. */
export interface Preview {
  schema: ResultColumn[];
  rows: (string | number | boolean | null)[][];
  truncated: boolean;
}

/** GET /api/v1/catalog/tables/{database}/{table}/columns */
export interface TableColumns {
  database: string;
  table: string;
  columns: { name: string; type: string; comment?: string }[];
}

/** Where in the caller's SQL the guard or Hive found the problem: 1-based, UTF-16 code units. */
export interface SqlPosition {
  line: number;
  column: number;
}

export interface SignedIn {
  token: string;
  expiresAt: string;
  user: { id: string; name: string; organizationId: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The SQL guard's or Hive's position of the error in the query, when the server names one. */
    readonly position?: SqlPosition,
  ) {
    super(message);
  }
}

interface ErrorPayload {
  error?: { code?: string; message?: string; position?: SqlPosition; details?: { position?: SqlPosition } };
}

function apiError(status: number, payload: ErrorPayload): ApiError {
  const error = payload.error;
  // The server spreads details into the error (`{code, message, position}`); accept them nested too.
  const position = error?.position ?? error?.details?.position;
  return new ApiError(status, error?.code ?? 'error', error?.message ?? `The server answered ${status}`, position);
}

const TOKEN_KEY = 'enos-aml-connector.session';

export function storedSession(): SignedIn | undefined {
  const raw = sessionStorage.getItem(TOKEN_KEY);
  if (!raw) return undefined;
  const session = JSON.parse(raw) as SignedIn;
  return new Date(session.expiresAt).getTime() > Date.now() ? session : undefined;
}

export function storeSession(session: SignedIn | undefined): void {
  if (session) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(TOKEN_KEY);
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const session = storedSession();
  const response = await fetch(path, {
    method,
    headers: {
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(session ? { Authorization: `Bearer ${session.token}` } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status === 204) return undefined as T;
  const payload = (await response.json().catch(() => ({}))) as ErrorPayload;
  if (!response.ok) throw apiError(response.status, payload);
  return payload as T;
}

export type TokenView = z.output<typeof tokenView>;
export type ScheduleView = z.output<typeof scheduleView>;
export type AuditEventView = z.output<typeof auditEventView>;
export type Me = z.output<typeof meView>;

/** GET with the session token, as a file (the audit CSV). */
async function download(path: string): Promise<Blob> {
  const session = storedSession();
  const response = await fetch(path, { headers: session ? { Authorization: `Bearer ${session.token}` } : {} });
  if (!response.ok) throw apiError(response.status, (await response.json().catch(() => ({}))) as ErrorPayload);
  return response.blob();
}

export const api = {
  signIn: (username: string, password: string) => call<SignedIn>('POST', '/api/v1/sessions', { username, password }),
  signOut: () => call<void>('DELETE', '/api/v1/sessions/current'),
  catalog: () => call<Catalog>('GET', '/api/v1/catalog'),
  columns: (database: string, table: string) =>
    call<TableColumns>('GET', `/api/v1/catalog/tables/${encodeURIComponent(database)}/${encodeURIComponent(table)}/columns`),
  preview: (sql: string, rows: number) => call<Preview>('POST', '/api/v1/previews', { sql, rows }),
  submit: (sql: string, ttlMinutes: number, format: string) =>
    call<JobView>('POST', '/api/v1/exports', { sql, ttlMinutes, format }, { 'Idempotency-Key': crypto.randomUUID() }),
  get: (id: string) => call<JobView>('GET', `/api/v1/exports/${encodeURIComponent(id)}`),
  list: () => call<{ exports: JobView[] }>('GET', '/api/v1/exports'),
  cancel: (id: string) => call<JobView>('POST', `/api/v1/exports/${encodeURIComponent(id)}/cancel`),
  newLink: (id: string) => call<JobView>('POST', `/api/v1/exports/${encodeURIComponent(id)}/link`, {}),
  remove: (id: string) => call<void>('DELETE', `/api/v1/exports/${encodeURIComponent(id)}`),
  me: () => call<Me>('GET', '/api/v1/me'),
  tokens: () => call<{ tokens: TokenView[] }>('GET', '/api/v1/tokens'),
  createToken: (name: string, expiresInDays: number) => call<TokenView & { secret: string }>('POST', '/api/v1/tokens', { name, expiresInDays }),
  revokeToken: (id: string) => call<void>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`),
  schedules: () => call<{ schedules: ScheduleView[] }>('GET', '/api/v1/schedules'),
  createSchedule: (body: { name: string; sql: string; format: string; cron: string; keepLast: number }) => call<ScheduleView>('POST', '/api/v1/schedules', body),
  pauseSchedule: (id: string) => call<ScheduleView>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/pause`),
  resumeSchedule: (id: string) => call<ScheduleView>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/resume`),
  newStableLink: (id: string) => call<ScheduleView>('POST', `/api/v1/schedules/${encodeURIComponent(id)}/link`, {}),
  revokeStableLink: (id: string) => call<ScheduleView>('DELETE', `/api/v1/schedules/${encodeURIComponent(id)}/link`),
  removeSchedule: (id: string) => call<void>('DELETE', `/api/v1/schedules/${encodeURIComponent(id)}`),
  audit: (scope: 'mine' | 'organization') => call<{ events: AuditEventView[]; nextCursor: string | null }>('GET', `/api/v1/audit?scope=${scope}&limit=100`),
  auditCsv: (scope: 'mine' | 'organization') => download(`/api/v1/audit?scope=${scope}&format=csv`),
};
