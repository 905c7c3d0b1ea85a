/**
 * GET /api/v1/audit: the caller's own audit events, or — for an organization's auditors (the
 * AUDITORS configuration) — the whole organization's, as JSON pages or one CSV download.
 * GET /api/v1/me says who the caller is and whether they are an auditor, for the page.
 * Read-only by design: no route changes or removes an event.
 */
import { Router, type Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import type { z } from 'zod';
import type { AuditEvent } from '../audit/audit-event.js';
import type { AuditQuery } from '../audit/audit-store.js';
import { actorFields, type AuditTrail } from '../audit/audit-trail.js';
import { actorOf, ownerIdOf, type Principal } from '../auth/principal.js';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import { auditQueryParams, auditEventView, describeIssues, AUDIT_CSV_MAX, AUDIT_PAGE_MAX } from './api-schemas.js';
import { principalOf, requireSession } from './auth-middleware.js';

/** Who may read which organization's trail: organization id → account names or user ids. */
export type Auditors = Record<string, string[]>;

export function isAuditor(auditors: Auditors, user: Principal): boolean {
  const names = Object.hasOwn(auditors, user.organizationId) ? auditors[user.organizationId]! : [];
  return names.some((name) => name.toLowerCase() === user.userName.toLowerCase() || name === user.userId);
}

export function toAuditView(event: AuditEvent): z.output<typeof auditEventView> {
  return {
    id: event.id,
    at: event.at.toISOString(),
    type: event.type,
    outcome: event.outcome,
    organizationId: event.organizationId,
    userId: event.userId ?? null,
    userName: event.userName ?? null,
    via: event.via,
    tokenId: event.tokenId ?? null,
    clientAddress: event.clientAddress ?? null,
    exportId: event.exportId ?? null,
    scheduleId: event.scheduleId ?? null,
    sql: event.sql ?? null,
    tables: event.tables ?? null,
    format: event.format ?? null,
    reason: event.reason ?? null,
    detail: event.detail ?? null,
    requestId: event.requestId ?? null,
  };
}

const CSV_COLUMNS = [
  'id', 'at', 'type', 'outcome', 'organizationId', 'userId', 'userName', 'via', 'tokenId', 'clientAddress',
  'exportId', 'scheduleId', 'format', 'tables', 'reason', 'detail', 'requestId', 'sql',
] as const;

/** A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with '. */
const defuse = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

function csvRow(event: AuditEvent): string[] {
  const view = toAuditView(event);
  return CSV_COLUMNS.map((column) => {
    const value = view[column];
    if (value === null) return '';
    return defuse(Array.isArray(value) ? value.join(' ') : String(value));
  });
}

export function auditRouter(deps: { tokens: SessionTokens; audit: AuditTrail; auditors: Auditors }): Router {
  const router = Router();

  router.get('/api/v1/me', requireSession(deps.tokens), (req, res) => {
    const user = principalOf(req);
    res.json({
      user: { id: user.userId, name: user.userName, organizationId: user.organizationId },
      via: user.via,
      roles: isAuditor(deps.auditors, user) ? ['auditor'] : [],
    });
  });

  router.get('/api/v1/audit', requireSession(deps.tokens), async (req, res) => {
    const parsed = auditQueryParams.safeParse(req.query);
    if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
    const params = parsed.data;
    const user = principalOf(req);
    const csv = params.format === 'csv';
    const limit = params.limit ?? (csv ? AUDIT_CSV_MAX : 100);
    if (!csv && limit > AUDIT_PAGE_MAX) throw new AppError('validation_failed', 400, `limit: at most ${AUDIT_PAGE_MAX} events per JSON page (use format=csv for more)`);
    if (params.scope === 'organization' && !isAuditor(deps.auditors, user)) {
      await deps.audit.note({ type: 'authz.refused', outcome: 'failure', ...actorFields(actorOf(user)), reason: 'not_auditor', detail: 'GET /api/v1/audit?scope=organization' });
      throw new AppError('forbidden', 403, "Only your organization's auditors may read its audit trail; you can read your own events (scope=mine).");
    }
    if (params.scope === 'mine' && params.user !== undefined) throw new AppError('validation_failed', 400, 'user: only with scope=organization');
    const query: AuditQuery = {
      organizationId: user.organizationId,
      ...(params.scope === 'mine' ? { ownerId: ownerIdOf(user) } : {}),
      ...(params.user !== undefined ? { userName: params.user } : {}),
      ...(params.type !== undefined ? { types: params.type } : {}),
      ...(params.exportId !== undefined ? { exportId: params.exportId } : {}),
      ...(params.from !== undefined ? { from: new Date(params.from) } : {}),
      ...(params.to !== undefined ? { to: new Date(params.to) } : {}),
      ...(params.cursor !== undefined ? { after: params.cursor } : {}),
      limit,
    };
    if (csv) {
      await sendCsv(res, deps.audit, query, user);
      return;
    }
    const events = await deps.audit.store.query(query);
    res.json({ events: events.map(toAuditView), nextCursor: events.length === limit ? events.at(-1)!.id : null });
  });

  return router;
}

/** Streams the events page by page, so a large export never sits in memory whole. */
async function sendCsv(res: Response, audit: AuditTrail, query: AuditQuery, user: Principal): Promise<void> {
  const day = new Date().toISOString().slice(0, 10);
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="audit-${user.organizationId.replace(/[^A-Za-z0-9_-]/g, '_')}-${day}.csv"`);
  res.write(stringify([[...CSV_COLUMNS]]));
  let remaining = query.limit;
  let after = query.after;
  while (remaining > 0) {
    const page = await audit.store.query({ ...query, limit: Math.min(1000, remaining), ...(after ? { after } : {}) });
    if (page.length > 0) res.write(stringify(page.map(csvRow)));
    remaining -= page.length;
    if (page.length < Math.min(1000, remaining + page.length)) break;
    after = page.at(-1)!.id;
  }
  res.end();
}
