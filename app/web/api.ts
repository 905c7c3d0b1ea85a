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
};
