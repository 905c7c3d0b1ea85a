/**
 * The port of the durable audit trail. Append-only: there is no update, and the only removal is
 * the retention purge of events older than the configured age (default 400 days), which no API
 * reaches. Two adapters, both passing test/integration/audit/audit-store.contract.ts: SQLite
 * (beside the jobs, one instance) and Azure Table Storage (several instances; the cleanup
 * function appends its deletions there too, see table-audit-entity.ts).
 */
import type { AuditEvent, AuditEventType } from './audit-event.js';

export interface AuditQuery {
  organizationId: string;
  /** Only this user's events (the connector's owner id). */
  ownerId?: string;
  /** Only events of this account name. */
  userName?: string;
  types?: readonly AuditEventType[];
  exportId?: string;
  /** Inclusive bounds on `at`. */
  from?: Date;
  to?: Date;
  /** Continue after this event id (the last one of the previous page). */
  after?: string;
  limit: number;
}

export interface AuditStore {
  /** Appends durably; resolves only once the events are stored. */
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Newest first (ties by id). */
  query(query: AuditQuery): Promise<AuditEvent[]>;
  /** Removes events older than `before`; returns how many. Retention only. */
  purge(before: Date): Promise<number>;
  /** Throws AppError `not_ready` when the store cannot be reached. */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
