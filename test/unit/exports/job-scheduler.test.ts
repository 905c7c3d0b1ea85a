/**
 * The job scheduler's state rules with in-memory fakes (the adapters have their own suites
 * against real parts): a job is claimed once, ends in exactly one final state, and a file
 * committed while the job was cancelled or deleted never outlives it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../app/src/errors.js';
import { ExportService, ownerIdOf } from '../../../app/src/exports/export-service.js';
import { JobScheduler } from '../../../app/src/exports/job-scheduler.js';
import { createEncodePool } from '../../../app/src/exports/encode-pool.js';
import type { QueryRunner, RunningQuery } from '../../../app/src/hive/query-runner.js';
import type { JobPatch, JobStore } from '../../../app/src/jobs/job-store.js';
import { createMemoryJobStore } from '../../../app/src/jobs/memory-job-store.js';
import { createLogger } from '../../../app/src/logger.js';
import { wireRowSet } from '../../support/thrift-rowsets.js';
import type { CommittedExport, ExportStore, StoredExportRef } from '../../../app/src/storage/export-store.js';

const user = { userId: 'u-1', userName: 'Demo', organizationId: 'org-1' };
const columns = [{ name: 'n', type: 'int', typeId: 3, nullable: true as const }];
const wideColumns = [{ name: 's', type: 'string', typeId: 7, nullable: true as const }];
const NO_NULLS = Buffer.alloc(1);
/** 1,000 INT rows numbered from b·1000. */
const intRows = (b: number) => wireRowSet([{ i32Val: { values: Array.from({ length: 1000 }, (_, i) => b * 1000 + i), nulls: NO_NULLS } }]);
/** 1,000 rows of 200 characters. */
const wideRows = () => wireRowSet([{ stringVal: { values: Array.from({ length: 1000 }, () => 'x'.repeat(200)), nulls: NO_NULLS } }]);

/**
 * A runner whose query yields `batches` row sets of 1,000 INT rows each, or with `wideRows` of
 * 1,000 rows of 200 characters (one batch then fills every stream buffer, as real batches do).
 */
function fakeRunner(batches: number, options: { failAt?: number; wideRows?: boolean; onBatch?: (index: number) => void } = {}): QueryRunner {
  return {
    async start(_sql, { signal }): Promise<RunningQuery> {
      return {
        columns: options.wideRows ? wideColumns : columns,
        async *rowSets() {
          for (let b = 0; b < batches; b++) {
            if (signal.aborted) throw new AppError('conflict', 409, 'The export was cancelled');
            if (b === options.failAt) throw new AppError('hive_error', 422, 'FAILED: injected');
            options.onBatch?.(b);
            yield options.wideRows ? wideRows() : intRows(b);
            await new Promise((resolve) => setImmediate(resolve));
          }
        },
        close: async () => {},
      };
    },
  };
}

/** A runner whose query runs on Hive until it is aborted, like a long one; `started` resolves once it runs. */
function waitingRunner() {
  let onStart = () => {};
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const runner: QueryRunner = {
    start(_sql, { signal }) {
      onStart();
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new AppError('conflict', 409, 'The export was cancelled')), { once: true });
      });
    },
  };
  return { runner, started };
}

/** A runner whose query starts and then hangs, deaf to every abort: a hang no deadline covers. */
function deafRunner() {
  let onStart = () => {};
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const runner: QueryRunner = {
    start() {
      onStart();
      return new Promise<never>(() => {});
    },
  };
  return { runner, started };
}

/**
 * A store in memory; `commitGate` lets a test act while a commit is in flight. With `stallWrites`
 * its stream takes the first chunk and never acknowledges it, like an upload whose connection hangs.
 */
function fakeStore(options: { stallWrites?: boolean; failDeleteOf?: (location: string) => boolean } = {}) {
  const committed = new Map<string, Buffer>();
  let sequence = 0;
  let commitGate: Promise<void> = Promise.resolve();
  let onCommit = () => {};
  let onStall = () => {};
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  let aborts = 0;
  const store: ExportStore = {
    method: 'blob',
    checkReady: async () => {},
    async begin() {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (options.stallWrites) {
            onStall();
            return;
          }
          chunks.push(chunk);
          bytes += chunk.length;
          callback();
        },
      });
      return {
        stream,
        get bytesWritten() {
          return bytes;
        },
        get partBytesWritten() {
          return bytes;
        },
        // Single-part only: the parts limit (partMaxBytes) of these tests is never reached.
        nextPart: () => Promise.reject(new Error('the in-memory store writes single-part exports only')),
        async commit(): Promise<CommittedExport> {
          onCommit();
          await commitGate;
          const location = `blob-${++sequence}`;
          const body = Buffer.concat(chunks);
          committed.set(location, body);
          return { method: 'blob', location, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
        },
        abort: async () => {
          aborts += 1;
        },
      };
    },
    downloadUrl: async (ref: StoredExportRef) => `https://example.invalid/${ref.location}`,
    partUrls: async (ref: StoredExportRef) => [`https://example.invalid/${ref.location}`],
    extendExpiry: async () => {},
    async delete(ref) {
      if (options.failDeleteOf?.(ref.location)) throw new AppError('storage_error', 502, 'Blob storage failed to delete an export');
      committed.delete(ref.location);
    },
  };
  return {
    store,
    committed,
    /** Resolves once a stalling stream has taken its first chunk. */
    stalled,
    get aborts() {
      return aborts;
    },
    /** Holds the next commit until the returned release function is called; resolves `reached` when it starts. */
    holdNextCommit() {
      let release!: () => void;
      commitGate = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<void>((resolve) => (onCommit = resolve));
      return { reached, release };
    },
  };
}

interface Gate {
  /** Resolves when a matching call arrives (and is held). */
  reached: Promise<void>;
  /** Lets the held call go on. */
  release(): void;
  /** Resolves once the released call has taken effect. */
  applied: Promise<void>;
}

type GatedCall = 'update' | 'delete' | 'listExpired';

/**
 * The in-memory store with gates: a test holds the next update (or delete) that matches, to
 * interleave the scheduler and the API the way two instances on the Table store can. A held
 * `listExpired` has already read its answer and hands it out late, as a slow query does.
 * `failNextListQueued` makes one `listQueued` fail, as a store that is briefly unreachable.
 */
function gatedJobStore(inner: JobStore) {
  const gates: { kind: GatedCall; match: (patch: JobPatch) => boolean; open: Promise<void>; arrive(): void; done(): void }[] = [];
  const failingUpdates: ((patch: JobPatch) => boolean)[] = [];
  /** Every patch that reached the store, in order. */
  const patches: JobPatch[] = [];
  let listQueuedFailures = 0;
  const take = (kind: GatedCall, patch: JobPatch) => {
    const index = gates.findIndex((gate) => gate.kind === kind && gate.match(patch));
    return index < 0 ? undefined : gates.splice(index, 1)[0];
  };
  const pass = async <T>(kind: GatedCall, patch: JobPatch, call: () => Promise<T>): Promise<T> => {
    const gate = take(kind, patch);
    if (!gate) return call();
    gate.arrive();
    await gate.open;
    try {
      return await call();
    } finally {
      gate.done();
    }
  };
  const store: JobStore = {
    ...inner,
    update(ownerId, id, patch, now, onlyIf) {
      const failing = failingUpdates.findIndex((match) => match(patch));
      if (failing >= 0) {
        failingUpdates.splice(failing, 1);
        return Promise.reject(new AppError('storage_error', 503, 'The job store failed; please try again shortly.'));
      }
      return pass('update', patch, () => {
        patches.push(patch);
        return inner.update(ownerId, id, patch, now, onlyIf);
      });
    },
    delete: (ownerId, id) => pass('delete', {}, () => inner.delete(ownerId, id)),
    async listExpired(now, limit) {
      const answer = await inner.listExpired(now, limit);
      const gate = take('listExpired', {});
      if (gate) {
        gate.arrive();
        await gate.open;
        gate.done();
      }
      return answer;
    },
    async listQueued(instanceId, limit) {
      if (listQueuedFailures > 0) {
        listQueuedFailures -= 1;
        throw new AppError('storage_error', 503, 'The job store failed; please try again shortly.');
      }
      return inner.listQueued(instanceId, limit);
    },
  };
  const hold = (kind: GatedCall, match: (patch: JobPatch) => boolean = () => true): Gate => {
    let arrive!: () => void;
    let release!: () => void;
    let done!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const open = new Promise<void>((resolve) => (release = resolve));
    const applied = new Promise<void>((resolve) => (done = resolve));
    gates.push({ kind, match, open, arrive, done });
    return { reached, release, applied };
  };
  const failNextListQueued = () => {
    listQueuedFailures += 1;
  };
  const failNextUpdate = (match: (patch: JobPatch) => boolean) => {
    failingUpdates.push(match);
  };
  return { store, hold, failNextListQueued, failNextUpdate, patches };
}

interface SetupOptions {
  stallWrites?: boolean;
  failDeleteOf?: (location: string) => boolean;
  maxConcurrent?: number;
  retryDelayMs?: number;
  onSweep?: (now: Date) => Promise<void>;
  /** The scheduler's clock; the service has its own (`serviceClock`), as another instance would. */
  clock?: () => Date;
  serviceClock?: () => Date;
  progressIntervalMs?: number;
}

/** The watchdog's limits in these tests: far from every other timing in them. */
const STALL_LIMITS = { starting: 120 * 60_000, streaming: 10 * 60_000 };

function setup(runner: QueryRunner, options: SetupOptions = {}) {
  const gated = gatedJobStore(createMemoryJobStore());
  const jobs = gated.store;
  const storage = fakeStore(options);
  const logger = createLogger('silent');
  const scheduler = new JobScheduler({
    jobs,
    store: storage.store,
    runner,
    // Encoding on this thread: these tests are about job states (encode-pool.test.ts has the workers).
    encoders: createEncodePool({ workers: 0, idleMs: 0, logger }),
    limits: { maxRows: 1e9, maxBytes: 1e12, partMaxBytes: 1e12 },
    instanceId: 'i-1',
    maxConcurrent: options.maxConcurrent ?? 2,
    sweepIntervalMs: 60_000,
    progressIntervalMs: options.progressIntervalMs ?? 0,
    stallLimits: STALL_LIMITS,
    logger,
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(options.onSweep ? { onSweep: options.onSweep } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const service = new ExportService({
    jobs,
    store: storage.store,
    scheduler,
    guard: (sql) => ({ sql }),
    policy: { defaultTtlMinutes: 60, maxTtlMinutes: 600, maxPerUser: 5, maxActivePerInstance: 10 },
    instanceId: 'i-1',
    logger,
    ...(options.serviceClock ?? options.clock ? { clock: options.serviceClock ?? options.clock } : {}),
  });
  return { jobs, storage, scheduler, service, hold: gated.hold, failNextListQueued: gated.failNextListQueued, failNextUpdate: gated.failNextUpdate, patches: gated.patches };
}

describe('job scheduler', () => {
  it('runs a job to success with its rows, bytes and file', async () => {
    const { storage, scheduler, service } = setup(fakeRunner(5));
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await scheduler.whenIdle();
    const done = await service.get(user, job.id);
    expect(done).toMatchObject({ status: 'succeeded', rows: 5000, truncated: false });
    expect(storage.committed.get(done.result!.location)!.toString().split('\r\n')).toHaveLength(5002);
    await scheduler.stop();
  });

  it('records a Hive failure as failed with the readable reason, and commits nothing', async () => {
    const { storage, scheduler, service } = setup(fakeRunner(5, { failAt: 2 }));
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await scheduler.whenIdle();
    expect(await service.get(user, job.id)).toMatchObject({ status: 'failed', error: { code: 'hive_error', message: 'FAILED: injected' } });
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('deletes a file committed while its job was being cancelled', async () => {
    const { storage, scheduler, service } = setup(fakeRunner(3));
    const hold = storage.holdNextCommit();
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await hold.reached;
    await service.cancel(user, job.id);
    hold.release();
    await scheduler.whenIdle();
    expect((await service.get(user, job.id)).status).toBe('cancelled');
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('deletes a file committed while its job was being deleted', async () => {
    const { jobs, storage, scheduler, service } = setup(fakeRunner(3));
    const hold = storage.holdNextCommit();
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await hold.reached;
    await service.remove(user, job.id);
    hold.release();
    await scheduler.whenIdle();
    expect(await jobs.get(job.ownerId, job.id)).toBeUndefined();
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('records jobs stopped by a shutdown as interrupted, not lost', async () => {
    const { storage, scheduler, service } = setup(fakeRunner(1_000));
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.stop();
    expect(await service.get(user, job.id)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(storage.committed.size).toBe(0);
  });

  // Without the signal reaching the pipeline, a write that never settles kept the job running
  // (and cancel, stop and the query timeout powerless) for as long as the upload hung.
  /**
   * A runner of wide batches and a store that stalls: `stuck` resolves once the first write hangs
   * and the second batch is being handed out, after which every stream buffer is full and the
   * runner is not asked again (so it cannot notice an abort itself).
   */
  function stalledExport() {
    return stalledExportAt();
  }
  function stalledExportAt(clock?: () => Date) {
    let secondBatch!: () => void;
    const handedOut = new Promise<void>((resolve) => (secondBatch = resolve));
    const parts = setup(fakeRunner(10, { wideRows: true, onBatch: (index) => index === 1 && secondBatch() }), { stallWrites: true, ...(clock ? { clock } : {}) });
    const stuck = async () => {
      await Promise.all([parts.storage.stalled, handedOut]);
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { ...parts, stuck };
  }

  it('cancels a job whose upload hangs, and discards what was written', { timeout: 10_000 }, async () => {
    const { storage, scheduler, service, stuck } = stalledExport();
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await stuck();
    await service.cancel(user, job.id);
    await scheduler.whenIdle();
    expect((await service.get(user, job.id)).status).toBe('cancelled');
    expect(storage.aborts).toBeGreaterThan(0);
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('stops a job whose upload hangs on shutdown and records it as interrupted', { timeout: 10_000 }, async () => {
    const { storage, scheduler, service, stuck } = stalledExport();
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await stuck();
    await scheduler.stop();
    expect(await service.get(user, job.id)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(storage.committed.size).toBe(0);
  });

  // The races below need a job store that answers asynchronously (Table Storage, two instances):
  // each interleaving is forced with gates on the store's writes.
  const succeeded = (patch: JobPatch) => patch.status === 'succeeded';

  it('deletes the file when the export finished between a delete reading the job and asking to cancel it', async () => {
    const { jobs, storage, scheduler, service, hold } = setup(fakeRunner(3));
    const finish = hold('update', succeeded);
    const cancelRequest = hold('update', (patch) => patch.cancelRequested === true);
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await finish.reached;
    const removal = service.remove(user, job.id);
    await cancelRequest.reached;
    finish.release();
    await finish.applied;
    cancelRequest.release();
    await removal;
    await scheduler.whenIdle();
    expect(await jobs.get(job.ownerId, job.id)).toBeUndefined();
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('deletes the file when the export finished between a delete asking to cancel it and removing the record', async () => {
    const { jobs, storage, scheduler, service, hold } = setup(fakeRunner(3));
    const finish = hold('update', succeeded);
    const removeRecord = hold('delete');
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await finish.reached;
    const removal = service.remove(user, job.id);
    await removeRecord.reached;
    finish.release();
    await finish.applied;
    removeRecord.release();
    await removal;
    await scheduler.whenIdle();
    expect(await jobs.get(job.ownerId, job.id)).toBeUndefined();
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('honours a cancel accepted just before the export recorded its success', async () => {
    const { storage, scheduler, service, hold } = setup(fakeRunner(3));
    const finish = hold('update', succeeded);
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await finish.reached;
    expect(await service.cancel(user, job.id)).toMatchObject({ status: 'running', cancelRequested: true });
    finish.release();
    await scheduler.whenIdle();
    expect((await service.get(user, job.id)).status).toBe('cancelled');
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  it('starts the next queued job when the one it was about to start was cancelled meanwhile', async () => {
    const { storage, scheduler, service, hold } = setup(fakeRunner(3), { maxConcurrent: 1 });
    await scheduler.start();
    const first = storage.holdNextCommit();
    const { job: running } = await service.submit(user, { sql: 'SELECT n' });
    await first.reached;
    const { job: next } = await service.submit(user, { sql: 'SELECT n' });
    const { job: after } = await service.submit(user, { sql: 'SELECT n' });
    const claim = hold('update', (patch) => patch.status === 'running');
    first.release();
    await claim.reached;
    await service.cancel(user, next.id);
    claim.release();
    await claim.applied;
    await scheduler.whenIdle();
    expect((await service.get(user, running.id)).status).toBe('succeeded');
    expect((await service.get(user, next.id)).status).toBe('cancelled');
    expect((await service.get(user, after.id)).status).toBe('succeeded');
    await scheduler.stop();
  });

  it('looks for queued work again after the job store failed to list it', async () => {
    const { scheduler, service, failNextListQueued } = setup(fakeRunner(3), { retryDelayMs: 10 });
    await scheduler.start();
    failNextListQueued();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    // Nothing else will happen on this instance: no other submit, no job finishing.
    while ((await service.get(user, job.id)).status === 'queued') await new Promise((resolve) => setTimeout(resolve, 5));
    await scheduler.whenIdle();
    expect((await service.get(user, job.id)).status).toBe('succeeded');
    await scheduler.stop();
  });

  it('does not start a job it claimed while shutting down: it is recorded as interrupted', async () => {
    const { storage, scheduler, service, hold } = setup(fakeRunner(3));
    await scheduler.start();
    const claim = hold('update', (patch) => patch.status === 'running');
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await claim.reached;
    const stopping = scheduler.stop();
    claim.release();
    await stopping;
    expect(await service.get(user, job.id)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(storage.committed.size).toBe(0);
  });

  describe('sweep', () => {
    const T0 = new Date('2026-05-01T08:00:00Z');
    const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

    it('goes on past an export whose file cannot be deleted, and still runs the housekeeping', async () => {
      let now = T0;
      let failing = '';
      const housekeeping: Date[] = [];
      const { jobs, storage, scheduler, service } = setup(fakeRunner(1), {
        clock: () => now,
        failDeleteOf: (location) => location === failing,
        onSweep: async (at) => {
          housekeeping.push(at);
        },
      });
      await scheduler.start();
      const ids = [(await service.submit(user, { sql: 'SELECT 1' })).job.id, (await service.submit(user, { sql: 'SELECT 2' })).job.id];
      await scheduler.whenIdle();
      const done = await Promise.all(ids.map((id) => service.get(user, id)));
      expect(done.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
      // Whichever the sweep meets first is the one whose file storage refuses to delete.
      const [stuck, other] = [...done].sort((a, b) => (a.id < b.id ? -1 : 1));
      failing = stuck!.result!.location;

      now = minutes(61);
      await scheduler.sweep();
      const swept = await jobs.get(other!.ownerId, other!.id);
      expect(swept?.status).toBe('expired');
      expect(storage.committed.has(other!.result!.location)).toBe(false);
      expect(housekeeping).toEqual([now]);
      await scheduler.stop();
    });

    it('leaves alone an export whose link was renewed while the sweep was looking at it', async () => {
      let now = T0;
      let serviceNow = T0;
      const { storage, scheduler, service, hold } = setup(fakeRunner(1), { clock: () => now, serviceClock: () => serviceNow });
      await scheduler.start();
      const { job } = await service.submit(user, { sql: 'SELECT 1' });
      await scheduler.whenIdle();
      expect((await service.get(user, job.id)).expiresAt).toEqual(minutes(60));

      // This instance sweeps a moment after the expiry; another one, a moment before it, renews the link.
      now = minutes(61);
      serviceNow = minutes(59);
      const listing = hold('listExpired');
      const sweeping = scheduler.sweep();
      await listing.reached;
      const renewed = await service.newLink(user, job.id, 120);
      expect(renewed.expiresAt).toEqual(minutes(179));
      listing.release();
      await sweeping;

      const after = await service.get(user, job.id);
      expect(after).toMatchObject({ status: 'succeeded', expiresAt: minutes(179) });
      expect(storage.committed.has(after.result!.location)).toBe(true);
      await scheduler.stop();
    });
  });

  it('deletes the file of an export whose success could not be recorded, once it is recorded failed', async () => {
    const { storage, scheduler, service, failNextUpdate } = setup(fakeRunner(3));
    failNextUpdate(succeeded);
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await scheduler.whenIdle();
    expect(await service.get(user, job.id)).toMatchObject({ status: 'failed', error: { code: 'storage_error' } });
    expect(storage.committed.size).toBe(0);
    await scheduler.stop();
  });

  describe('heartbeat and stale jobs', () => {
    const T0 = new Date('2026-05-01T08:00:00Z');
    const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

    it('stops a query still running on Hive when another instance took the cancel', async () => {
      const waiting = waitingRunner();
      const { jobs, scheduler, service } = setup(waiting.runner);
      await scheduler.start();
      const { job } = await service.submit(user, { sql: 'SELECT n' });
      await waiting.started;
      // The instance that answered the cancel does not run the job: its abortLocal finds nothing.
      const elsewhere = new ExportService({
        jobs,
        store: fakeStore().store,
        scheduler: { kick: () => {}, abortLocal: () => false },
        guard: (sql) => ({ sql }),
        policy: { defaultTtlMinutes: 60, maxTtlMinutes: 600, maxPerUser: 5, maxActivePerInstance: 10 },
        instanceId: 'i-2',
        logger: createLogger('silent'),
      });
      await elsewhere.cancel(user, job.id);
      await scheduler.heartbeat();
      await scheduler.whenIdle();
      expect((await service.get(user, job.id)).status).toBe('cancelled');
      await scheduler.stop();
    });

    it('marks the jobs of an instance that is gone interrupted, whichever instance sweeps', async () => {
      let now = T0;
      const { jobs, scheduler, service } = setup(fakeRunner(1), { clock: () => now });
      const ownerId = ownerIdOf(user);
      const base = { ownerId, ownerName: 'Demo', organizationId: 'org-1', sql: 'SELECT 1', format: 'csv' as const, ttlMinutes: 60, instanceId: 'vmss-replaced' };
      const running = (await jobs.create({ ...base, id: randomUUID() }, T0)).job;
      await jobs.update(ownerId, running.id, { status: 'running', startedAt: T0 }, T0);
      const queued = (await jobs.create({ ...base, id: randomUUID() }, T0)).job;
      await scheduler.start();

      now = minutes(30);
      await scheduler.sweep();
      for (const id of [running.id, queued.id]) {
        expect(await service.get(user, id)).toMatchObject({ status: 'failed', finishedAt: minutes(30), error: { code: 'interrupted' } });
      }
      await scheduler.stop();
    });

    it('keeps the jobs a live instance runs or queues, however long they wait', async () => {
      let now = T0;
      const waiting = waitingRunner();
      const { scheduler, service } = setup(waiting.runner, { clock: () => now, maxConcurrent: 1 });
      await scheduler.start();
      const { job: running } = await service.submit(user, { sql: 'SELECT 1' });
      const { job: queued } = await service.submit(user, { sql: 'SELECT 2' });
      await waiting.started;
      for (let minute = 5; minute <= 60; minute += 5) {
        now = minutes(minute);
        await scheduler.heartbeat();
        await scheduler.sweep();
      }
      expect((await service.get(user, running.id)).status).toBe('running');
      expect((await service.get(user, queued.id)).status).toBe('queued');
      await scheduler.stop();
    });
  });

  describe('watchdog', () => {
    const T0 = new Date('2026-05-01T08:00:00Z');
    const after = (ms: number) => new Date(T0.getTime() + ms);

    it('stops a job whose upload hangs with no deadline once the streaming limit passes, as stalled, and publishes nothing', { timeout: 10_000 }, async () => {
      let now = T0;
      const { storage, scheduler, service, stuck } = stalledExportAt(() => now);
      await scheduler.start();
      const { job } = await service.submit(user, { sql: 'SELECT n' });
      await stuck();
      now = after(STALL_LIMITS.streaming - 1_000);
      await scheduler.heartbeat();
      expect((await service.get(user, job.id)).status).toBe('running');

      now = after(STALL_LIMITS.streaming + 1_000);
      await scheduler.heartbeat();
      await scheduler.whenIdle();
      const ended = await service.get(user, job.id);
      expect(ended).toMatchObject({ status: 'failed', error: { code: 'stalled', message: expect.stringMatching(/no progress for 10 min.*run it again/) } });
      expect(storage.aborts).toBeGreaterThan(0);
      expect(storage.committed.size).toBe(0);
      await scheduler.stop();
    });

    it('gives up on a query that hangs deaf to the abort once the starting limit passes, and runs the next job', { timeout: 10_000 }, async () => {
      let now = T0;
      const deaf = deafRunner();
      const { scheduler, service } = setup(deaf.runner, { clock: () => now, maxConcurrent: 1 });
      await scheduler.start();
      const { job } = await service.submit(user, { sql: 'SELECT 1' });
      const { job: next } = await service.submit(user, { sql: 'SELECT 2' });
      await deaf.started;
      now = after(STALL_LIMITS.starting + 1_000);
      await scheduler.heartbeat();
      await expect.poll(async () => (await service.get(user, job.id)).status).toBe('failed');
      expect((await service.get(user, job.id)).error).toMatchObject({ code: 'stalled' });
      // Its slot is free again: the queued job starts (and hangs in turn, on the same runner).
      await expect.poll(async () => (await service.get(user, next.id)).status).toBe('running');
      now = after(2 * STALL_LIMITS.starting + 2_000);
      await scheduler.heartbeat();
      await scheduler.whenIdle();
      await scheduler.stop();
    });

    it('leaves alone a job whose rows keep flowing, however long it runs in all', async () => {
      let now = T0;
      // Every batch takes most of the streaming limit; the export as a whole takes many limits.
      const slow = fakeRunner(8, {
        onBatch: () => {
          now = new Date(now.getTime() + STALL_LIMITS.streaming * 0.75);
          void parts.scheduler.heartbeat();
        },
      });
      const parts = setup(slow, { clock: () => now });
      const { scheduler } = parts;
      await scheduler.start();
      const { job } = await parts.service.submit(user, { sql: 'SELECT n' });
      await scheduler.whenIdle();
      expect(await parts.service.get(user, job.id)).toMatchObject({ status: 'succeeded', rows: 8000 });
      expect(now.getTime() - T0.getTime()).toBeGreaterThan(5 * STALL_LIMITS.streaming);
      await scheduler.stop();
    });
  });

  // The progress write ran in a promise chain nobody awaited: one failure was an unhandled
  // rejection, which ends a Node 20 process (every running export with it).
  it('records the last row count before Hive pauses, though it came within the progress interval', async () => {
    // Three row sets at once, then Hive holds the next one until the export is cancelled.
    const runner: QueryRunner = {
      async start(_sql, { signal }): Promise<RunningQuery> {
        return {
          columns,
          async *rowSets() {
            for (let b = 0; b < 3; b++) yield intRows(b);
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
            throw new AppError('conflict', 409, 'The export was cancelled');
          },
          close: async () => {},
        };
      },
    };
    const { scheduler, service } = setup(runner, { progressIntervalMs: 300 });
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    // Row sets run ahead of the encoder: the first is written once the third arrives.
    await expect.poll(async () => (await service.get(user, job.id)).rows, { timeout: 5_000 }).toBeGreaterThanOrEqual(1000);
    await service.cancel(user, job.id);
    await scheduler.whenIdle();
    await scheduler.stop();
  });

  it('carries on when recording progress fails once, and records the rest', async () => {
    const { scheduler, service, failNextUpdate, patches } = setup(fakeRunner(5));
    const isProgress = (patch: JobPatch) => patch.rows !== undefined && patch.status === undefined;
    failNextUpdate(isProgress);
    await scheduler.start();
    const { job } = await service.submit(user, { sql: 'SELECT n' });
    await scheduler.whenIdle();
    expect(await service.get(user, job.id)).toMatchObject({ status: 'succeeded', rows: 5000 });
    expect(patches.filter(isProgress).length).toBeGreaterThan(0);
    await scheduler.stop();
  });
});

