/**
 * What the audit trail records: one event per thing an auditor asks about — who signed in, who
 * exported or previewed which tables with which SQL from where, what the guard or the authorization refused,
 * who made, renewed, used, served or deleted a link, which tokens were made, used and revoked,
 * and what the sweeper and the cleanup function deleted. Events are facts: once appended they
 * are never changed, and deleting an export never deletes its events.
 */
import { randomBytes } from 'node:crypto';

export const AUDIT_EVENT_TYPES = [
  'signin.succeeded',
  'signin.failed',
  'signout',
  'token.created',
  'token.used',
  'token.revoked',
  'token.refused',
  'export.submitted',
  'preview.run',
  'export.refused',
  'authz.refused',
  'export.succeeded',
  'export.failed',
  'export.cancelled',
  'export.link_renewed',
  'export.downloaded',
  'export.deleted',
  'export.expired',
  'export.pruned',
  'export.cleanup_deleted',
  'schedule.created',
  'schedule.paused',
  'schedule.resumed',
  'schedule.deleted',
  'schedule.link_revoked',
  'schedule.link_renewed',
  'schedule.link_served',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** How the actor reached the connector. */
export type AuditVia = 'session' | 'access_token' | 'schedule' | 'stable_link' | 'download_url' | 'system' | 'anonymous';

export interface AuditEvent {
  /** Sortable by time: 13 digits of epoch milliseconds, '-', 16 hex digits. */
  id: string;
  at: Date;
  type: AuditEventType;
  outcome: 'success' | 'failure';
  /** The organization whose data or account it concerns; '' when nobody can tell (a failed sign-in). */
  organizationId: string;
  /** The connector's stable id of the user within the organization (the job owner id). */
  ownerId?: string;
  /** EnOS user id and account name, where known. */
  userId?: string;
  userName?: string;
  via: AuditVia;
  /** The access token (its id, never the secret) that made the call. */
  tokenId?: string;
  /** The client address as the connector saw it (after TRUST_PROXY). */
  clientAddress?: string;
  exportId?: string;
  scheduleId?: string;
  sql?: string;
  /** Tables the statement reads, 'db.table'. */
  tables?: string[];
  format?: string;
  /** An error code for refusals and failures, e.g. `sql_rejected`. */
  reason?: string;
  /** A short human-readable detail: a refusal's message, a new expiry, a byte range. */
  detail?: string;
  /** The HTTP request that caused it, to find its log lines. */
  requestId?: string;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at' | 'outcome' | 'organizationId' | 'via'> &
  Partial<Pick<AuditEvent, 'outcome' | 'organizationId' | 'via'>>;

const TIME_DIGITS = 13;

export function newAuditEventId(at: Date): string {
  return `${String(at.getTime()).padStart(TIME_DIGITS, '0')}-${randomBytes(8).toString('hex')}`;
}

export const AUDIT_EVENT_ID = /^\d{13}-[0-9a-f]{16}$/;

/** Who did something, as the HTTP layer or a background task knows it. */
export interface AuditActor {
  organizationId: string;
  ownerId?: string;
  userId?: string;
  userName?: string;
  via: AuditVia;
  tokenId?: string;
  clientAddress?: string;
  requestId?: string;
}
