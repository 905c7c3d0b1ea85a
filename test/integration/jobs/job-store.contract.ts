/**
 * The JobStore contract: every adapter (SQLite, Azure Table Storage, in-memory) runs this suite
 * through its own test file with a harness that opens a fresh, empty store per test.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../app/src/errors.js';
import {
  ACTIVE_STATUSES,
  type ExportJob,
  type JobPatch,
  type JobStore,
  type NewExportJob,
} from '../../../app/src/jobs/job-store.js';
import { MAX_EXPORT_PARTS } from '../../../app/src/storage/export-store.js';

export interface OpenedJobStore {
  store: JobStore;
  /** Closes the store and removes what backs it (file, table). */
  dispose(): Promise<void>;
}

export interface LosableJobStore extends OpenedJobStore {
  /** Takes the backing storage away under the open store (close the database, stop the emulator). */
  loseBackend(): Promise<void>;
}

export interface JobStoreHarness {
  /** A fresh, empty store. */
  open(): Promise<OpenedJobStore>;
  /** A fresh store whose backing storage the test can take away. */
  openLosable(): Promise<LosableJobStore>;
}

const T0 = new Date('2026-03-01T10:00:00.123Z');
/** `T0` plus some minutes and milliseconds: distinct, millisecond-precise instants. */
const at = (minutes: number, ms = 0): Date => new Date(T0.getTime() + minutes * 60_000 + ms);

export function describeJobStoreContract(name: string, harness: JobStoreHarness): void {
  describe(`JobStore contract: ${name}`, () => {
    let opened: OpenedJobStore;
    let store: JobStore;
    let ownerId: string;
    let instanceId: string;

    beforeEach(async () => {
      opened = await harness.open();
      store = opened.store;
      ownerId = `owner-${randomUUID()}`;
      instanceId = `instance-${randomUUID()}`;
    });

    afterEach(async () => {
      await opened.dispose();
    });

    const newJob = (overrides: Partial<NewExportJob> = {}): NewExportJob => ({
      id: randomUUID(),
      ownerId,
      ownerName: 'Dana Demo',
      organizationId: 'demo-org',
      sql: 'SELECT asset_id, ts, value FROM enos.measurement',
      format: 'csv',
      ttlMinutes: 60,
      instanceId,
      ...overrides,
    });

    const created = async (overrides: Partial<NewExportJob> = {}, now = T0): Promise<ExportJob> => {
      const result = await store.create(newJob(overrides), now);
      expect(result.created).toBe(true);
      return result.job;
    };

    const patched = async (job: ExportJob, patch: JobPatch, now = at(1)): Promise<ExportJob> => {
      const updated = await store.update(job.ownerId, job.id, patch, now);
      if (!updated) throw new Error(`update of job ${job.id} found no job`);
      return updated;
    };

    describe('create, get and list', () => {
      it('creates a queued job with no progress, stamped with the given time', async () => {
        const input = newJob({ idempotencyKey: 'k-1' });
        const result = await store.create(input, T0);

        expect(result.created).toBe(true);
        expect(result.job).toStrictEqual({
          ...input,
          status: 'queued',
          createdAt: T0,
          updatedAt: T0,
          rows: 0,
          bytes: 0,
          truncated: false,
          cancelRequested: false,
        });
        expect(await store.get(ownerId, input.id)).toStrictEqual(result.job);
      });

      it('returns undefined for an unknown id and for another owner’s job', async () => {
        const job = await created();
        expect(await store.get(ownerId, randomUUID())).toBeUndefined();
        expect(await store.get(`owner-${randomUUID()}`, job.id)).toBeUndefined();
      });

      it('refuses a second job with an id already taken', async () => {
        const job = await created();
        await expect(store.create(newJob({ id: job.id }), at(1))).rejects.toMatchObject({ code: 'conflict', status: 409 });
        expect((await store.listByOwner(ownerId)).map((j) => j.id)).toEqual([job.id]);
      });

      it('lists one owner’s jobs newest first, honouring the limit', async () => {
        const first = await created({}, at(1));
        const third = await created({}, at(3));
        const second = await created({}, at(2));
        await store.create(newJob({ ownerId: `owner-${randomUUID()}` }), at(4));

        expect((await store.listByOwner(ownerId)).map((j) => j.id)).toEqual([third.id, second.id, first.id]);
        expect((await store.listByOwner(ownerId, { limit: 2 })).map((j) => j.id)).toEqual([third.id, second.id]);
        expect(await store.listByOwner(`owner-${randomUUID()}`)).toEqual([]);
      });

      it('round-trips every date and JSON field exactly', async () => {
        const input = newJob({
          idempotencyKey: 'idem/ü?#\'"',
          sql: "SELECT 'it''s', \"ünïcödé\" -- 😀\nFROM enos.asset WHERE name = 'a''b'",
          format: 'csv.gz',
          ttlMinutes: 1440,
        });
        const { job } = await store.create(input, at(0, 1));
        const patch: Required<JobPatch> = {
          status: 'succeeded',
          startedAt: at(1, 7),
          finishedAt: at(2, 999),
          expiresAt: new Date('2026-03-02T10:00:00.001Z'),
          rows: 5_000_000_001,
          bytes: 2 ** 40 + 7,
          truncated: true,
          cancelRequested: true,
          error: { code: 'hive_error', message: 'Zeile "x" – ✓ \'quoted\'\nsecond line' },
          result: { method: 'blob', location: `${ownerId}/${job.id}/export.csv.gz`, bytes: 2 ** 40 + 7, sha256: 'ab'.repeat(32) },
          stage: { phase: 'hive_running', hivePercent: 42, hiveSummary: 'VERTICES: 01/02  [=====>>---] 42%   ELAPSED TIME: 3.21 s' },
          schema: [
            { name: 'asset_id', type: 'string', nullable: true },
            { name: 'Zähler "x"', type: 'decimal(38,6)', nullable: true },
          ],
        };
        const expected: ExportJob = { ...job, ...patch, updatedAt: at(3, 5) };

        expect(await store.update(ownerId, job.id, patch, at(3, 5))).toStrictEqual(expected);
        expect(await store.get(ownerId, job.id)).toStrictEqual(expected);
        expect(await store.listByOwner(ownerId)).toStrictEqual([expected]);
      });
    });

    describe('multi-part results', () => {
      it(`keeps every part of a result, in order, up to ${MAX_EXPORT_PARTS} of them with the connector's own names`, async () => {
        const job = await created();
        const folder = `${ownerId}/${job.id}/`;
        const parts = Array.from({ length: MAX_EXPORT_PARTS }, (_, index) => ({
          location: `${folder}enos-export-20261127-2110-1a2b3c4d-part-${String(index + 1).padStart(5, '0')}.csv.gz`,
          rows: 5_000_000_001 + index,
          bytes: 2 ** 40 + index,
          sha256: index.toString(16).padStart(2, '0').repeat(32),
        }));
        const result = { method: 'blob' as const, location: `${folder}MLTable`, bytes: parts.reduce((sum, part) => sum + part.bytes, 0), parts };
        const expected: ExportJob = { ...job, status: 'succeeded', result, updatedAt: at(1) };

        expect(await store.update(ownerId, job.id, { status: 'succeeded', result }, at(1), ['queued'])).toStrictEqual(expected);
        expect(await store.get(ownerId, job.id)).toStrictEqual(expected);
        expect(await store.listExpired(at(1), 10)).toStrictEqual([]);
        // A later patch without a result leaves the parts alone.
        expect((await store.update(ownerId, job.id, { cancelRequested: true }, at(2)))?.result).toStrictEqual(result);
      });
    });

    describe('idempotency', () => {
      it('returns the earlier job for a key this owner already used, and creates nothing', async () => {
        const first = await created({ idempotencyKey: 'retry-1' });
        const again = await store.create(newJob({ idempotencyKey: 'retry-1', sql: 'SELECT 2' }), at(1));

        expect(again).toStrictEqual({ job: first, created: false });
        expect(await store.listByOwner(ownerId)).toHaveLength(1);
      });

      it('keeps keys apart per owner and per key; jobs without a key are always new', async () => {
        await created({ idempotencyKey: 'shared' });
        await created({ idempotencyKey: 'other' });
        await created();
        await created();
        const otherOwner = `owner-${randomUUID()}`;
        const theirs = await store.create(newJob({ ownerId: otherOwner, idempotencyKey: 'shared' }), T0);

        expect(theirs.created).toBe(true);
        expect(await store.listByOwner(ownerId)).toHaveLength(4);
        expect(await store.listByOwner(otherOwner)).toHaveLength(1);
      });

      it('finds the job holding a key under its owner only', async () => {
        const mine = await created({ idempotencyKey: 'find-me' });
        await created({ idempotencyKey: 'not-me' });

        expect(await store.findByIdempotencyKey(ownerId, 'find-me')).toStrictEqual(mine);
        expect(await store.findByIdempotencyKey(`owner-${randomUUID()}`, 'find-me')).toBeUndefined();
        expect(await store.findByIdempotencyKey(ownerId, 'never-used')).toBeUndefined();
        await store.delete(ownerId, mine.id);
        expect(await store.findByIdempotencyKey(ownerId, 'find-me')).toBeUndefined();
      });

      it('yields exactly one job when five creates with the same key race', async () => {
        const inputs = Array.from({ length: 5 }, (_, i) => newJob({ idempotencyKey: 'double-click', sql: `SELECT ${i}` }));
        const results = await Promise.all(inputs.map((input) => store.create(input, T0)));

        expect(results.filter((r) => r.created)).toHaveLength(1);
        const winner = results.find((r) => r.created)!.job;
        for (const result of results) expect(result.job).toStrictEqual(winner);
        expect(await store.listByOwner(ownerId)).toStrictEqual([winner]);
      });

      it('frees the key when its job is deleted', async () => {
        const first = await created({ idempotencyKey: 'again' });
        expect(await store.delete(ownerId, first.id)).toBe(true);

        const second = await store.create(newJob({ idempotencyKey: 'again' }), at(1));
        expect(second.created).toBe(true);
        expect(second.job.id).not.toBe(first.id);
      });
    });

    describe('conditional updates', () => {
      it('applies the patch, stamps updatedAt and keeps every other field', async () => {
        const job = await created({ idempotencyKey: 'k' });
        const updated = await store.update(ownerId, job.id, { status: 'running', startedAt: at(1) }, at(2), ['queued']);

        expect(updated).toStrictEqual({ ...job, status: 'running', startedAt: at(1), updatedAt: at(2) });
        expect(await store.get(ownerId, job.id)).toStrictEqual(updated);
      });

      it('leaves fields given as undefined unchanged', async () => {
        const job = await patched(await created(), { status: 'running', startedAt: at(1), rows: 10 });
        const updated = await patched(job, { rows: 20, startedAt: undefined, error: undefined }, at(2));

        expect(updated).toStrictEqual({ ...job, rows: 20, updatedAt: at(2) });
      });

      it('changes nothing and returns undefined when the status condition fails', async () => {
        const job = await patched(await created(), { status: 'succeeded' });

        expect(await store.update(ownerId, job.id, { status: 'cancelled' }, at(2), ACTIVE_STATUSES)).toBeUndefined();
        expect(await store.get(ownerId, job.id)).toStrictEqual(job);
      });

      it('returns undefined for a missing job and for another owner’s job, changing nothing', async () => {
        const job = await created();
        expect(await store.update(ownerId, randomUUID(), { status: 'running' }, at(1))).toBeUndefined();
        expect(await store.update(`owner-${randomUUID()}`, job.id, { status: 'running' }, at(1))).toBeUndefined();
        expect(await store.get(ownerId, job.id)).toStrictEqual(job);
      });

      it('lets exactly one of a racing cancel and finish win, and keeps the winner’s state', async () => {
        const jobs = await Promise.all(
          Array.from({ length: 5 }, async (_, i) => patched(await created({}, at(0, i)), { status: 'running', startedAt: at(1) })),
        );
        await Promise.all(
          jobs.map(async (job) => {
            const [cancel, finish] = await Promise.all([
              store.update(ownerId, job.id, { status: 'cancelled', finishedAt: at(2), cancelRequested: true }, at(2), ACTIVE_STATUSES),
              store.update(ownerId, job.id, { status: 'succeeded', finishedAt: at(3), rows: 7, expiresAt: at(60) }, at(3), ['running']),
            ]);
            const winners = [cancel, finish].filter((update) => update !== undefined);
            expect(winners).toHaveLength(1);
            expect(await store.get(ownerId, job.id)).toStrictEqual(winners[0]);
          }),
        );
      });

      it('lets exactly one of five racing claims of a queued job win', async () => {
        const job = await created();
        const claims = await Promise.all(
          Array.from({ length: 5 }, (_, i) => store.update(ownerId, job.id, { status: 'running', startedAt: at(1, i) }, at(1, i), ['queued'])),
        );
        const winners = claims.filter((claim) => claim !== undefined);

        expect(winners).toHaveLength(1);
        expect(await store.get(ownerId, job.id)).toStrictEqual(winners[0]);
      });
    });

    describe('queries across jobs', () => {
      it('counts queued and running jobs by owner, by instance, by both, and overall', async () => {
        const otherOwner = `owner-${randomUUID()}`;
        const otherInstance = `instance-${randomUUID()}`;
        await created();
        await patched(await created(), { status: 'running' });
        await patched(await created(), { status: 'succeeded' });
        await patched(await created(), { status: 'failed' });
        await patched(await created({ instanceId: otherInstance }), { status: 'running' });
        await store.create(newJob({ ownerId: otherOwner }), T0);
        await store.create(newJob({ ownerId: otherOwner, instanceId: otherInstance }), T0);

        expect(await store.countActive({ ownerId })).toBe(3);
        expect(await store.countActive({ instanceId })).toBe(3);
        expect(await store.countActive({ ownerId, instanceId })).toBe(2);
        expect(await store.countActive({ ownerId: otherOwner, instanceId: otherInstance })).toBe(1);
        expect(await store.countActive({})).toBe(5);
        expect(await store.countActive({ ownerId: `owner-${randomUUID()}` })).toBe(0);
      });

      it('lists this instance’s queued jobs oldest first, across owners, honouring the limit', async () => {
        const otherOwner = `owner-${randomUUID()}`;
        const second = await created({}, at(2));
        const first = (await store.create(newJob({ ownerId: otherOwner }), at(1))).job;
        const third = await created({}, at(3));
        await patched(await created({}, at(0)), { status: 'running' });
        await created({ instanceId: `instance-${randomUUID()}` }, at(0));

        expect((await store.listQueued(instanceId, 10)).map((j) => j.id)).toEqual([first.id, second.id, third.id]);
        expect(await store.listQueued(instanceId, 2)).toStrictEqual([first, second]);
      });

      it('marks only this instance’s queued and running jobs failed with error code interrupted', async () => {
        const otherInstance = `instance-${randomUUID()}`;
        const queued = await created();
        const running = await patched(await created(), { status: 'running', startedAt: at(1) });
        const succeeded = await patched(await created(), { status: 'succeeded' });
        const elsewhere = await patched(await created({ instanceId: otherInstance }), { status: 'running' });

        expect((await store.markInterrupted(instanceId, at(10))).sort()).toEqual([queued.id, running.id].sort());

        for (const job of [queued, running]) {
          const after = await store.get(ownerId, job.id);
          expect(after).toStrictEqual({
            ...job,
            status: 'failed',
            finishedAt: at(10),
            updatedAt: at(10),
            error: { code: 'interrupted', message: expect.any(String) as string },
          });
        }
        expect(await store.get(ownerId, succeeded.id)).toStrictEqual(succeeded);
        expect(await store.get(ownerId, elsewhere.id)).toStrictEqual(elsewhere);
        expect(await store.markInterrupted(instanceId, at(11))).toEqual([]);
      });

      it('marks queued and running jobs of any instance not updated since the cutoff failed with code interrupted', async () => {
        const otherInstance = `instance-${randomUUID()}`;
        const otherOwner = `owner-${randomUUID()}`;
        const queued = await created({}, at(0));
        const running = await patched(await created({ instanceId: otherInstance }, at(0)), { status: 'running', startedAt: at(1) }, at(1));
        const elsewhere = await patched((await store.create(newJob({ ownerId: otherOwner }), at(0))).job, { status: 'running' }, at(2));
        const fresh = await patched(await created({}, at(0)), { status: 'running' }, at(5));
        const finished = await patched(await created({}, at(0)), { status: 'succeeded' }, at(1));

        expect(await store.markStale(at(5), at(10))).toBe(3);

        for (const job of [queued, running, elsewhere]) {
          expect(await store.get(job.ownerId, job.id)).toStrictEqual({
            ...job,
            status: 'failed',
            finishedAt: at(10),
            updatedAt: at(10),
            error: { code: 'interrupted', message: expect.any(String) as string },
          });
        }
        // Updated at the cutoff itself is not stale; a final job is never touched.
        expect(await store.get(ownerId, fresh.id)).toStrictEqual(fresh);
        expect(await store.get(ownerId, finished.id)).toStrictEqual(finished);
        expect(await store.markStale(at(5), at(11))).toBe(0);
      });

      it('lists succeeded jobs that expired before now, oldest expiry first, across owners', async () => {
        const now = at(100);
        const otherOwner = `owner-${randomUUID()}`;
        const later = await patched(await created(), { status: 'succeeded', expiresAt: at(99, 999) });
        const earliest = await patched((await store.create(newJob({ ownerId: otherOwner }), T0)).job, { status: 'succeeded', expiresAt: at(50) });
        await patched(await created(), { status: 'succeeded', expiresAt: now });
        await patched(await created(), { status: 'succeeded', expiresAt: at(101) });
        await patched(await created(), { status: 'expired', expiresAt: at(10) });
        await patched(await created(), { status: 'cancelled', expiresAt: at(10) });
        await created();

        expect(await store.listExpired(now, 10)).toStrictEqual([earliest, later]);
        expect(await store.listExpired(now, 1)).toStrictEqual([earliest]);
      });
    });

    describe('delete', () => {
      it('deletes the owner’s job once; another owner cannot delete it', async () => {
        const job = await created({ idempotencyKey: 'k' });

        expect(await store.delete(`owner-${randomUUID()}`, job.id)).toBe(false);
        expect(await store.get(ownerId, job.id)).toStrictEqual(job);
        expect(await store.delete(ownerId, job.id)).toBe(true);
        expect(await store.get(ownerId, job.id)).toBeUndefined();
        expect(await store.listByOwner(ownerId)).toEqual([]);
        expect(await store.delete(ownerId, job.id)).toBe(false);
      });
    });

    describe('readiness', () => {
      it('is ready while reachable and fails with AppError not_ready once its backing store is gone', async () => {
        const losable = await harness.openLosable();
        try {
          await losable.store.checkReady();
          await losable.loseBackend();
          const failure = await losable.store.checkReady().then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(failure).toBeInstanceOf(AppError);
          expect(failure).toMatchObject({ code: 'not_ready', status: 503 });
        } finally {
          await losable.dispose();
        }
      });
    });
  });
}
