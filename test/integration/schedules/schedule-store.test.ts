/**
 * The ScheduleStore contract on both adapters (SQLite on a scratch file, Azure Table Storage on
 * the shared Azurite): schedules round-trip whole, owners stay apart, the stable link resolves
 * (and stops resolving when replaced or deleted), due and lapsed-claim schedules are listed, and
 * a replace succeeds only against the version it read — of two writers holding the same
 * version, exactly one wins.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { newLinkId, type NewSchedule } from '../../../app/src/schedules/schedule.js';
import type { ScheduleStore } from '../../../app/src/schedules/schedule-store.js';
import { createSqliteScheduleStore } from '../../../app/src/schedules/sqlite-schedule-store.js';
import { createTableScheduleStore } from '../../../app/src/schedules/table-schedule-store.js';
import { newScheduleAt } from '../../support/schedule-fixture.js';

const harnesses: Record<string, () => Promise<{ store: ScheduleStore; dispose(): Promise<void> }>> = {
  SQLite: async () => {
    const store = createSqliteScheduleStore({ file: path.join(mkdtempSync(path.join(tmpdir(), 'schedules-')), 'jobs.sqlite') });
    return { store, dispose: () => store.close() };
  },
  'Azure Table Storage (Azurite)': async () => {
    const client = TableClient.fromConnectionString(inject('azurite').connectionString, `sched${randomUUID().replaceAll('-', '').slice(0, 16)}`, {
      allowInsecureConnection: true,
    });
    return { store: createTableScheduleStore({ client }), dispose: () => client.deleteTable() };
  },
};

const T0 = new Date('2026-07-01T06:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function schedule(fields: Partial<NewSchedule> = {}): NewSchedule {
  return newScheduleAt(T0, fields);
}

for (const [name, open] of Object.entries(harnesses)) {
  describe(`ScheduleStore contract: ${name}`, () => {
    let opened: Awaited<ReturnType<typeof open>>;
    beforeEach(async () => {
      opened = await open();
    });
    afterEach(async () => opened.dispose());

    it('round-trips a schedule whole, 50,000 characters of SQL, runs and claim included', async () => {
      const input = schedule({
        sql: `SELECT 1 -- ${'x'.repeat(49_988)}`,
        runs: [{ slot: at(0), jobId: randomUUID() }, { slot: at(-60), error: { code: 'sql_rejected', message: 'no' } }],
        claim: { slot: at(60), jobId: randomUUID(), by: 'instance-a', until: at(62) },
        pausedReason: 'owner',
        status: 'paused',
        nextRunAt: undefined,
      });
      delete input.nextRunAt;
      const created = await opened.store.create(input);
      expect(created.version).toBeTruthy();
      const { version, ...stored } = (await opened.store.get('owner-a', input.id))!;
      expect(version).toBe(created.version);
      expect(stored).toEqual(input);
      expect(await opened.store.get('owner-b', input.id)).toBeUndefined();
    });

    it('resolves the stable link, and lists per owner newest first', async () => {
      const first = await opened.store.create(schedule());
      const second = await opened.store.create(schedule({ createdAt: at(1) }));
      await opened.store.create(schedule({ ownerId: 'owner-b' }));
      expect((await opened.store.getByLinkId(first.linkId))!.id).toBe(first.id);
      expect(await opened.store.getByLinkId(newLinkId())).toBeUndefined();
      expect((await opened.store.listByOwner('owner-a')).map((s) => s.id)).toEqual([second.id, first.id]);
    });

    it('lists what is due and what was claimed by an instance that never finished', async () => {
      const due = await opened.store.create(schedule({ nextRunAt: at(-1) }));
      await opened.store.create(schedule({ nextRunAt: at(30) }));
      await opened.store.create(schedule({ nextRunAt: at(-5), status: 'paused' }));
      const lapsed = await opened.store.create(schedule({ nextRunAt: at(55), claim: { slot: at(-2), jobId: randomUUID(), by: 'gone', until: at(-1) } }));
      await opened.store.create(schedule({ nextRunAt: at(55), claim: { slot: at(-2), jobId: randomUUID(), by: 'busy', until: at(5) } }));
      expect((await opened.store.listDue(T0, 10)).map((s) => s.id).sort()).toEqual([due.id, lapsed.id].sort());
    });

    it('replaces only against the version read: of two writers, one wins', async () => {
      const created = await opened.store.create(schedule({ nextRunAt: at(-1) }));
      const claim = (by: string) => opened.store.replace({ ...created, nextRunAt: at(60), claim: { slot: at(-1), jobId: randomUUID(), by, until: at(2) } });
      const results = await Promise.all([claim('a'), claim('b'), claim('c')]);
      const winners = results.filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      const stored = (await opened.store.get('owner-a', created.id))!;
      expect(stored.claim!.by).toBe(winners[0]!.claim!.by);
      expect(stored.version).toBe(winners[0]!.version);
      // The winner's new version is good for the next write; the old one is not.
      expect(await opened.store.replace({ ...stored, claim: undefined, runs: [{ slot: at(-1), jobId: stored.claim!.jobId }] })).toBeDefined();
      expect(await opened.store.replace({ ...created, status: 'paused' })).toBeUndefined();
    });

    it('moves the stable link in one write: the old link stops resolving', async () => {
      const created = await opened.store.create(schedule());
      const moved = await opened.store.replace({ ...created, linkId: newLinkId() });
      expect(moved).toBeDefined();
      expect(await opened.store.getByLinkId(created.linkId)).toBeUndefined();
      expect((await opened.store.getByLinkId(moved!.linkId))!.id).toBe(created.id);
    });

    it('deletes a schedule and its link, only for its owner', async () => {
      const created = await opened.store.create(schedule());
      expect(await opened.store.delete('owner-b', created.id)).toBe(false);
      expect(await opened.store.delete('owner-a', created.id)).toBe(true);
      expect(await opened.store.get('owner-a', created.id)).toBeUndefined();
      expect(await opened.store.getByLinkId(created.linkId)).toBeUndefined();
      expect(await opened.store.delete('owner-a', created.id)).toBe(false);
    });
  });
}
