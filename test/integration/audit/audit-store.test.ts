/**
 * The AuditStore contract, run against both adapters: SQLite on a scratch file and Azure Table
 * Storage on the shared Azurite, each test on a fresh file / table. Events come back newest first
 * with every field, filters and pages work alike, a 50,000-character query survives the Table
 * property limit, the retention purge removes only what is old enough, and nothing can rewrite
 * an event.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TableClient } from '@azure/data-tables';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { newAuditEventId, type AuditEvent } from '../../../app/src/audit/audit-event.js';
import type { AuditStore } from '../../../app/src/audit/audit-store.js';
import { createSqliteAuditStore } from '../../../app/src/audit/sqlite-audit-store.js';
import { createTableAuditStore } from '../../../app/src/audit/table-audit-store.js';
import { invertEventId } from '../../../app/src/audit/table-audit-entity.js';

interface Opened {
  store: AuditStore;
  dispose(): Promise<void>;
  /** Tries to change a stored event behind the port's back; resolves with what happened. */
  tamper(id: string): Promise<'refused' | 'changed'>;
}

const harnesses: Record<string, () => Promise<Opened>> = {
  SQLite: async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'audit-')), 'jobs.sqlite');
    const store = createSqliteAuditStore({ file });
    return {
      store,
      dispose: () => store.close(),
      async tamper(id) {
        const db = new Database(file);
        try {
          db.prepare("UPDATE audit_events SET user_name = 'someone-else' WHERE id = ?").run(id);
          return 'changed';
        } catch {
          return 'refused';
        } finally {
          db.close();
        }
      },
    };
  },
  'Azure Table Storage (Azurite)': async () => {
    const client = TableClient.fromConnectionString(inject('azurite').connectionString, `audit${randomUUID().replaceAll('-', '').slice(0, 16)}`, {
      allowInsecureConnection: true,
    });
    const store = createTableAuditStore({ client });
    return {
      store,
      dispose: () => client.deleteTable(),
      // The port has no update; at the storage level the service's ETag rules apply, which the
      // connector never uses to change an event. Nothing to refuse here beyond the port itself.
      async tamper() {
        return 'refused';
      },
    };
  },
};

const T0 = new Date('2026-05-01T08:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function event(at: Date, fields: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: newAuditEventId(at),
    at,
    type: 'export.submitted',
    outcome: 'success',
    organizationId: 'demo-org',
    ownerId: 'owner-a',
    userId: 'u-demo',
    userName: 'demo',
    via: 'session',
    clientAddress: '192.0.2.10',
    exportId: randomUUID(),
    sql: 'SELECT * FROM enos.asset',
    tables: ['enos.asset'],
    format: 'csv',
    requestId: 'req-1',
    ...fields,
  };
}

for (const [name, open] of Object.entries(harnesses)) {
  describe(`AuditStore contract: ${name}`, () => {
    let opened: Opened;
    beforeEach(async () => {
      opened = await open();
    });
    afterEach(async () => opened.dispose());

    it('returns what was appended, every field intact, newest first', async () => {
      const first = event(minutes(1), { type: 'signin.succeeded', sql: undefined, tables: undefined, format: undefined, exportId: undefined, tokenId: 'jti-1' });
      const second = event(minutes(2), { reason: 'sql_rejected', detail: 'Only SELECT', outcome: 'failure', type: 'export.refused' });
      const third = event(minutes(3), { scheduleId: randomUUID(), via: 'schedule' });
      await opened.store.append([first, second]);
      await opened.store.append([third]);
      const stored = await opened.store.query({ organizationId: 'demo-org', limit: 10 });
      expect(stored).toEqual([third, second, first]);
    });

    it('keeps organizations apart and filters by user, type, export and time', async () => {
      const mine = event(minutes(1));
      const colleague = event(minutes(2), { ownerId: 'owner-b', userName: 'colleague', type: 'export.deleted' });
      const otherOrg = event(minutes(3), { organizationId: 'other-org', ownerId: 'owner-c' });
      const later = event(minutes(10), { type: 'export.link_renewed', exportId: mine.exportId });
      await opened.store.append([mine, colleague, otherOrg, later]);
      const ids = (events: AuditEvent[]) => events.map((e) => e.id);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', limit: 10 }))).toEqual([later.id, colleague.id, mine.id]);
      expect(ids(await opened.store.query({ organizationId: 'other-org', limit: 10 }))).toEqual([otherOrg.id]);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', ownerId: 'owner-a', limit: 10 }))).toEqual([later.id, mine.id]);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', userName: 'colleague', limit: 10 }))).toEqual([colleague.id]);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', types: ['export.deleted', 'export.link_renewed'], limit: 10 }))).toEqual([later.id, colleague.id]);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', exportId: mine.exportId!, limit: 10 }))).toEqual([later.id, mine.id]);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', from: minutes(2), to: minutes(9), limit: 10 }))).toEqual([colleague.id]);
      expect(ids(await opened.store.query({ organizationId: 'demo-org', from: minutes(1), to: minutes(1), limit: 10 }))).toEqual([mine.id]);
    });

    it('pages with a cursor without losing or repeating events, also within one millisecond', async () => {
      const events = [...Array.from({ length: 5 }, () => event(minutes(1))), ...Array.from({ length: 4 }, (_, i) => event(minutes(2 + i)))];
      await opened.store.append(events);
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page++) {
        const got = await opened.store.query({ organizationId: 'demo-org', limit: 2, ...(after ? { after } : {}) });
        seen.push(...got.map((e) => e.id));
        if (got.length < 2) break;
        after = got.at(-1)!.id;
      }
      expect(seen).toEqual(events.map((e) => e.id).sort().reverse());
    });

    it('stores a query of 50,000 characters whole', async () => {
      const sql = `SELECT asset_id FROM enos.asset -- ${'é'.repeat(49_965)}`;
      expect(sql).toHaveLength(50_000);
      const long = event(minutes(1), { sql });
      await opened.store.append([long]);
      expect((await opened.store.query({ organizationId: 'demo-org', limit: 1 }))[0]!.sql).toBe(sql);
    });

    it('keeps events without an organization (failed sign-ins) in their own place', async () => {
      const failed = event(minutes(1), { organizationId: '', ownerId: undefined, userId: undefined, type: 'signin.failed', outcome: 'failure', via: 'anonymous', reason: 'invalid_credentials' });
      await opened.store.append([failed]);
      expect(await opened.store.query({ organizationId: '', limit: 5 })).toEqual([failed]);
      expect(await opened.store.query({ organizationId: 'demo-org', limit: 5 })).toEqual([]);
    });

    it('purges only events older than the retention cut-off', async () => {
      const old = event(minutes(-60 * 24 * 401));
      const kept = event(minutes(-60 * 24 * 399));
      const otherOrgOld = event(minutes(-60 * 24 * 500), { organizationId: 'other-org' });
      await opened.store.append([old, kept, otherOrgOld]);
      expect(await opened.store.purge(minutes(-60 * 24 * 400))).toBe(2);
      expect((await opened.store.query({ organizationId: 'demo-org', limit: 5 })).map((e) => e.id)).toEqual([kept.id]);
      expect(await opened.store.query({ organizationId: 'other-org', limit: 5 })).toEqual([]);
    });

    it('cannot rewrite a stored event', async () => {
      const stored = event(minutes(1));
      await opened.store.append([stored]);
      expect(await opened.tamper(stored.id)).toBe('refused');
      expect((await opened.store.query({ organizationId: 'demo-org', limit: 1 }))[0]).toEqual(stored);
      // The port offers nothing that changes or removes one event.
      expect(Object.keys(opened.store).sort()).toEqual(['append', 'checkReady', 'close', 'purge', 'query']);
    });
  });
}

describe('Table layout', () => {
  it('inverts event ids so that ascending RowKeys are newest first, and inverting twice gives the id back', () => {
    const older = newAuditEventId(minutes(1));
    const newer = newAuditEventId(minutes(2));
    expect(invertEventId(newer) < invertEventId(older)).toBe(true);
    expect(invertEventId(invertEventId(older))).toBe(older);
  });
});
