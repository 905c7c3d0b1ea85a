/**
 * The SQL guard's refusals as audit events, for every way SQL arrives (an export, a refreshing
 * export's definition or run): a statement the guard will not run is `export.refused`, a table
 * outside the organization's access is `authz.refused`.
 */
import { AppError } from '../errors.js';
import type { AuditActor } from './audit-event.js';
import { actorFields, type AuditTrail } from './audit-trail.js';

export async function noteGuardRefusal(audit: AuditTrail | undefined, actor: AuditActor, sql: string, error: unknown, scheduleId?: string): Promise<void> {
  if (!audit || !(error instanceof AppError)) return;
  const type = error.code === 'sql_rejected' ? 'export.refused' : error.code === 'table_forbidden' ? 'authz.refused' : undefined;
  if (!type) return;
  await audit.note({ type, outcome: 'failure', ...actorFields(actor), sql, reason: error.code, detail: error.message, ...(scheduleId ? { scheduleId } : {}) });
}
