/**
 * The page's only way to the server: JSON over fetch with the session token from
 * sessionStorage (gone when the tab closes; never a cookie, so no CSRF surface). Errors carry the
 * API's `{error: {code, message}}` so the page can show the server's own words.
 */
// Type-only: esbuild erases it, so the page bundles no server code but cannot drift from the API.
import type { ExportView } from '../src/exports/export-service.js';

export type { ExportView };

export interface Catalog {
  organizationId: string;
  databases: { name: string; tables: string[] | null }[];
  maxTtlMinutes: number;
  defaultTtlMinutes: number;
  maxSqlLength: number;
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
  ) {
    super(message);
  }
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
  const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!response.ok) {
    throw new ApiError(response.status, payload.error?.code ?? 'error', payload.error?.message ?? `The server answered ${response.status}`);
  }
  return payload as T;
}

export interface TokenView {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

export interface RunView {
  slot: string;
  exportId: string | null;
  status: ExportView['status'];
  finishedAt: string | null;
  rows: number | null;
  error: { code: string; message: string } | null;
}

export interface ScheduleView {
  id: string;
  name: string;
  sql: string;
  format: string;
  cron: string;
  keepLast: number;
  status: 'active' | 'paused';
  pausedReason: 'owner' | 'account_inactive' | null;
  nextRunAt: string | null;
  stableUrl: string | null;
  linkExpiresAt: string;
  linkRevoked: boolean;
  createdAt: string;
  lastRun: RunView | null;
  serving: RunView | null;
  runs: RunView[];
}

export interface AuditEventView {
  id: string;
  at: string;
  type: string;
  outcome: 'success' | 'failure';
  userName: string | null;
  via: string;
  clientAddress: string | null;
  exportId: string | null;
  scheduleId: string | null;
  sql: string | null;
  tables: string[] | null;
  reason: string | null;
  detail: string | null;
}

export interface Me {
  user: { id: string; name: string; organizationId: string };
  via: 'session' | 'access_token';
  roles: 'auditor'[];
}

/** GET with the session token, as a file (the audit CSV). */
async function download(path: string): Promise<Blob> {
  const session = storedSession();
  const response = await fetch(path, { headers: session ? { Authorization: `Bearer ${session.token}` } : {} });
  if (!response.ok) {
    const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw new ApiError(response.status, payload.error?.code ?? 'error', payload.error?.message ?? `The server answered ${response.status}`);
  }
  return response.blob();
}

export const api = {
  signIn: (username: string, password: string) => call<SignedIn>('POST', '/api/v1/sessions', { username, password }),
  signOut: () => call<void>('DELETE', '/api/v1/sessions/current'),
  catalog: () => call<Catalog>('GET', '/api/v1/catalog'),
  submit: (sql: string, ttlMinutes: number, format: string) =>
    call<ExportView>('POST', '/api/v1/exports', { sql, ttlMinutes, format }, { 'Idempotency-Key': crypto.randomUUID() }),
  get: (id: string) => call<ExportView>('GET', `/api/v1/exports/${encodeURIComponent(id)}`),
  list: () => call<{ exports: ExportView[] }>('GET', '/api/v1/exports'),
  cancel: (id: string) => call<ExportView>('POST', `/api/v1/exports/${encodeURIComponent(id)}/cancel`),
  newLink: (id: string) => call<ExportView>('POST', `/api/v1/exports/${encodeURIComponent(id)}/link`, {}),
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
