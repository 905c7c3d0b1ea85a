/**
 * The audit trail in the connector's SQLite file, in its own table and schema ledger. The table
 * refuses UPDATE with a trigger, so not even a bug elsewhere in the connector can rewrite an
 * event; DELETE is left to the retention purge.
 */
import { AppError } from '../errors.js';
import { migrateSchema, openSqliteFile, type SqliteSchema } from '../jobs/sqlite-migrations.js';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType, type AuditVia } from './audit-event.js';
import type { AuditQuery, AuditStore } from './audit-store.js';

const AUDIT_SCHEMA: SqliteSchema = {
  ledger: 'audit_schema_migrations',
  what: 'audit trail',
  migrations: [
    {
      version: 1,
      description: 'audit_events, append-only',
      sql: `
        CREATE TABLE audit_events (
          id              TEXT    NOT NULL PRIMARY KEY,
          at              INTEGER NOT NULL,
          type            TEXT    NOT NULL,
          outcome         TEXT    NOT NULL,
          organization_id TEXT    NOT NULL,
          owner_id        TEXT,
          user_id         TEXT,
          user_name       TEXT,
          via             TEXT    NOT NULL,
          token_id        TEXT,
          client_address  TEXT,
          export_id       TEXT,
          schedule_id     TEXT,
          sql             TEXT,
          tables          TEXT,
          format          TEXT,
          reason          TEXT,
          detail          TEXT,
          request_id      TEXT
        ) STRICT;
        CREATE INDEX audit_events_org ON audit_events (organization_id, id);
        CREATE INDEX audit_events_owner ON audit_events (organization_id, owner_id, id);
        CREATE INDEX audit_events_export ON audit_events (export_id) WHERE export_id IS NOT NULL;
        CREATE INDEX audit_events_at ON audit_events (at);
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
          BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
      `,
    },
  ],
};

interface EventRow {
  id: string;
  at: number;
  type: string;
  outcome: string;
  organization_id: string;
  owner_id: string | null;
  user_id: string | null;
  user_name: string | null;
  via: string;
  token_id: string | null;
  client_address: string | null;
  export_id: string | null;
  schedule_id: string | null;
  sql: string | null;
  tables: string | null;
  format: string | null;
  reason: string | null;
  detail: string | null;
  request_id: string | null;
}

export function createSqliteAuditStore(options: { file: string }): AuditStore {
  const db = openSqliteFile(options.file);
  try {
    migrateSchema(db, AUDIT_SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }
  const insert = db.prepare<[EventRow]>(`
    INSERT INTO audit_events (id, at, type, outcome, organization_id, owner_id, user_id, user_name, via, token_id,
      client_address, export_id, schedule_id, sql, tables, format, reason, detail, request_id)
    VALUES (@id, @at, @type, @outcome, @organization_id, @owner_id, @user_id, @user_name, @via, @token_id,
      @client_address, @export_id, @schedule_id, @sql, @tables, @format, @reason, @detail, @request_id)`);
  const appendAll = db.transaction((rows: EventRow[]) => {
    for (const row of rows) insert.run(row);
  });
  const purge = db.prepare<[number]>('DELETE FROM audit_events WHERE at < ?');

  const guarded = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(new AppError('storage_error', 503, 'The audit trail cannot be written or read right now.', { cause: error, retryAfterSeconds: 5 }));
    }
  };

  return {
    append: (events) => guarded(() => appendAll(events.map(toRow))),

    query: (query) =>
      guarded(() => {
        const { sql, params } = selectFor(query);
        return (db.prepare(sql).all(params) as EventRow[]).map(fromRow);
      }),

    purge: (before) => guarded(() => purge.run(before.getTime()).changes),

    async checkReady() {
      try {
        db.prepare('SELECT 1 FROM audit_events LIMIT 1').get();
      } catch (error) {
        throw new AppError('not_ready', 503, 'The audit trail cannot be reached.', { cause: error });
      }
    },

    async close() {
      db.close();
    },
  };
}

function selectFor(query: AuditQuery): { sql: string; params: Record<string, unknown> } {
  const clauses = ['organization_id = @organizationId'];
  const params: Record<string, unknown> = { organizationId: query.organizationId, limit: query.limit };
  if (query.ownerId !== undefined) {
    clauses.push('owner_id = @ownerId');
    params.ownerId = query.ownerId;
  }
  if (query.userName !== undefined) {
    clauses.push('user_name = @userName');
    params.userName = query.userName;
  }
  if (query.exportId !== undefined) {
    clauses.push('export_id = @exportId');
    params.exportId = query.exportId;
  }
  if (query.types !== undefined && query.types.length > 0) {
    clauses.push('type IN (SELECT value FROM json_each(@types))');
    params.types = JSON.stringify(query.types);
  }
  if (query.from !== undefined) {
    clauses.push('at >= @from');
    params.from = query.from.getTime();
  }
  if (query.to !== undefined) {
    clauses.push('at <= @to');
    params.to = query.to.getTime();
  }
  if (query.after !== undefined) {
    clauses.push('id < @after');
    params.after = query.after;
  }
  return { sql: `SELECT * FROM audit_events WHERE ${clauses.join(' AND ')} ORDER BY id DESC LIMIT @limit`, params };
}

function toRow(event: AuditEvent): EventRow {
  return {
    id: event.id,
    at: event.at.getTime(),
    type: event.type,
    outcome: event.outcome,
    organization_id: event.organizationId,
    owner_id: event.ownerId ?? null,
    user_id: event.userId ?? null,
    user_name: event.userName ?? null,
    via: event.via,
    token_id: event.tokenId ?? null,
    client_address: event.clientAddress ?? null,
    export_id: event.exportId ?? null,
    schedule_id: event.scheduleId ?? null,
    sql: event.sql ?? null,
    tables: event.tables === undefined ? null : JSON.stringify(event.tables),
    format: event.format ?? null,
    reason: event.reason ?? null,
    detail: event.detail ?? null,
    request_id: event.requestId ?? null,
  };
}

function fromRow(row: EventRow): AuditEvent {
  const event: AuditEvent = {
    id: row.id,
    at: new Date(row.at),
    type: decodeType(row.type),
    outcome: row.outcome === 'failure' ? 'failure' : 'success',
    organizationId: row.organization_id,
    via: row.via as AuditVia,
  };
  const optional: [keyof AuditEvent, string | null][] = [
    ['ownerId', row.owner_id],
    ['userId', row.user_id],
    ['userName', row.user_name],
    ['tokenId', row.token_id],
    ['clientAddress', row.client_address],
    ['exportId', row.export_id],
    ['scheduleId', row.schedule_id],
    ['sql', row.sql],
    ['format', row.format],
    ['reason', row.reason],
    ['detail', row.detail],
    ['requestId', row.request_id],
  ];
  for (const [key, value] of optional) if (value !== null) (event as unknown as Record<string, unknown>)[key] = value;
  if (row.tables !== null) event.tables = JSON.parse(row.tables) as string[];
  return event;
}

export function decodeType(value: unknown): AuditEventType {
  if (typeof value === 'string' && (AUDIT_EVENT_TYPES as readonly string[]).includes(value)) return value as AuditEventType;
  throw new Error(`Stored audit event has type ${JSON.stringify(value)}; expected one of ${AUDIT_EVENT_TYPES.join(', ')}`);
}
