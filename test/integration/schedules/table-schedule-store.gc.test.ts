/**
 * The Table schedule store against Table endpoints that never answer, with full garbage
 * collections forced while each deadline is pending. The scheduler's tick waits for the due
 * listing and every stable-link download for a lookup, so each kind of call — the table check, a
 * point read, a link lookup, a create and a delete (transactions), a conditional replace, the
 * owner's and the due listings, the readiness probe — fails once its deadline passes
 * (`storage_error`, or `not_ready` for the probe) instead of holding them for good — also when
 * an SDK layer loses the abort signal, since the deadline settles the call by itself.
 */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { newLinkId, type NewSchedule } from '../../../app/src/schedules/schedule.js';
import type { ScheduleStore } from '../../../app/src/schedules/schedule-store.js';
import { createTableScheduleStore } from '../../../app/src/schedules/table-schedule-store.js';
import { expectAppErrorUnderGc } from '../../support/forced-gc.js';
import { newScheduleAt } from '../../support/schedule-fixture.js';
import { silentTableClient, withSilentServer, withSilentTableStore } from '../../support/silent-server.js';

const DEADLINE_MS = 1_000;
const ownerId = 'owner-gc';

const schedule = (): NewSchedule => newScheduleAt(new Date(), { ownerId, ownerName: 'gc', userId: 'u-gc' });

/** The store on an endpoint that says the table exists and then never answers again. */
const withSilentScheduleStore = (use: (store: ScheduleStore) => Promise<void>, client: { losesAborts?: boolean } = {}) =>
  withSilentTableStore('schedules', (table) => createTableScheduleStore({ client: table, operationTimeoutMs: DEADLINE_MS }), use, client);

describe('table schedule store deadlines under garbage collection', () => {
  it('fails a read whose table check never gets an answer', async () => {
    await withSilentServer(async (url) => {
      const store = createTableScheduleStore({ client: silentTableClient(url, 'schedules'), operationTimeoutMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.get(ownerId, randomUUID()), { code: 'storage_error', boundMs: DEADLINE_MS });
    });
  });

  it('fails point reads, link lookups, creates, replaces and deletes that never get an answer', async () => {
    await withSilentScheduleStore(async (store) => {
      await expectAppErrorUnderGc(() => store.get(ownerId, randomUUID()), { code: 'storage_error', boundMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.getByLinkId(newLinkId()), { code: 'storage_error', boundMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.create(schedule()), { code: 'storage_error', boundMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.replace({ ...schedule(), version: 'W/"datetime\'2026-01-01T00%3A00%3A00Z\'"' }), { code: 'storage_error', boundMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.delete(ownerId, randomUUID()), { code: 'storage_error', boundMs: DEADLINE_MS });
    });
  });

  it("fails the owner's listing and the due listing within four call deadlines", async () => {
    await withSilentScheduleStore(async (store) => {
      await expectAppErrorUnderGc(() => store.listByOwner(ownerId), { code: 'storage_error', boundMs: 4 * DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.listDue(new Date(), 10), { code: 'storage_error', boundMs: 4 * DEADLINE_MS });
    });
  });

  it('answers not ready when the readiness probe gets no answer', async () => {
    await withSilentScheduleStore(async (store) => {
      await expectAppErrorUnderGc(() => store.checkReady(), { code: 'not_ready', boundMs: DEADLINE_MS });
    });
  });

  it('fails a read at its deadline even when the SDK loses the abort signal', async () => {
    await withSilentScheduleStore((store) => expectAppErrorUnderGc(() => store.get(ownerId, randomUUID()), { code: 'storage_error', boundMs: DEADLINE_MS }), { losesAborts: true });
  });

  it('fails the due listing at its deadline even when the SDK loses the abort signal', async () => {
    await withSilentScheduleStore((store) => expectAppErrorUnderGc(() => store.listDue(new Date(), 10), { code: 'storage_error', boundMs: 4 * DEADLINE_MS }), { losesAborts: true });
  });
});
