/**
 * How an audit event is laid out in Azure Table Storage. A contract with the cleanup function,
 * which appends its deletions to the same table (cleanup-function/src/audit-trail.ts imports this
 * module, so the two cannot drift):
 * - PartitionKey: the organization, percent-encoded (Table keys refuse `/ \ # ?`); `~` for
 *   events no organization can be told for. One organization's events are one partition, which
 *   is exactly what GET /api/v1/audit reads.
 * - RowKey: the event id with every digit inverted (9 − d, f − h), so that the service's
 *   ascending RowKey order is newest first and a page continues with `RowKey gt <last>`.
 * - The SQL, up to 50,000 characters, is split into `sql0`, `sql1`, … of at most 30,000
 *   characters: one string property holds at most 64 KiB (32 K UTF-16 units).
 */
import type { AuditEvent } from './audit-event.js';

export const UNATTRIBUTED_PARTITION = '~';
const SQL_CHUNK = 30_000;

export const auditPartitionKey = (organizationId: string): string =>
  organizationId === '' ? UNATTRIBUTED_PARTITION : encodeURIComponent(organizationId);

/**
 * Maps each hex digit v of an event id to 15 − v (decimal digits included: '0'…'9' sort before
 * 'a'…'f' exactly as their values do), which reverses the order of equal-length ids; its own inverse.
 */
export function invertEventId(id: string): string {
  return id.replace(/[0-9a-f]/g, (c) => (15 - Number.parseInt(c, 16)).toString(16));
}

export type AuditEntity = Record<string, unknown> & { partitionKey: string; rowKey: string };

export function toAuditEntity(event: AuditEvent): AuditEntity {
  const entity: AuditEntity = {
    partitionKey: auditPartitionKey(event.organizationId),
    rowKey: invertEventId(event.id),
    eventId: event.id,
    at: event.at,
    type: event.type,
    outcome: event.outcome,
    organizationId: event.organizationId,
    via: event.via,
  };
  const optional = {
    ownerId: event.ownerId,
    userId: event.userId,
    userName: event.userName,
    tokenId: event.tokenId,
    clientAddress: event.clientAddress,
    exportId: event.exportId,
    scheduleId: event.scheduleId,
    format: event.format,
    reason: event.reason,
    detail: event.detail,
    requestId: event.requestId,
    tables: event.tables === undefined ? undefined : JSON.stringify(event.tables),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) entity[key] = value;
  if (event.sql !== undefined) {
    for (let i = 0; i * SQL_CHUNK < event.sql.length || i === 0; i++) entity[`sql${i}`] = event.sql.slice(i * SQL_CHUNK, (i + 1) * SQL_CHUNK);
  }
  return entity;
}

export function fromAuditEntity(entity: Record<string, unknown>, decodeType: (value: unknown) => AuditEvent['type']): AuditEvent {
  const text = (name: string): string | undefined => (typeof entity[name] === 'string' ? (entity[name] as string) : undefined);
  const at = entity.at instanceof Date ? entity.at : new Date(String(entity.at));
  const event: AuditEvent = {
    id: text('eventId') ?? '',
    at,
    type: decodeType(entity.type),
    outcome: entity.outcome === 'failure' ? 'failure' : 'success',
    organizationId: text('organizationId') ?? '',
    via: (text('via') ?? 'system') as AuditEvent['via'],
  };
  for (const key of ['ownerId', 'userId', 'userName', 'tokenId', 'clientAddress', 'exportId', 'scheduleId', 'format', 'reason', 'detail', 'requestId'] as const) {
    const value = text(key);
    if (value !== undefined) event[key] = value;
  }
  const tables = text('tables');
  if (tables !== undefined) event.tables = JSON.parse(tables) as string[];
  if (text('sql0') !== undefined) {
    let sql = '';
    for (let i = 0; text(`sql${i}`) !== undefined; i++) sql += text(`sql${i}`);
    event.sql = sql;
  }
  return event;
}
