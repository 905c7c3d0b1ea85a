import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteJobStore } from '../../../app/src/jobs/sqlite-job-store.js';
import { LATEST_SCHEMA_VERSION } from '../../../app/src/jobs/sqlite-migrations.js';
import type { NewExportJob } from '../../../app/src/jobs/job-store.js';
import { describeJobStoreContract, type OpenedJobStore } from './job-store.contract.js';

/** A store on a database file in its own temp folder, removed on dispose. */
async function openOnTempFile(): Promise<OpenedJobStore & { file: string }> {
  const folder = await mkdtemp(path.join(tmpdir(), 'jobs-sqlite-'));
  const file = path.join(folder, 'jobs.db');
  const store = createSqliteJobStore({ file });
  return {
    store,
    file,
    async dispose() {
      await store.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

async function openInMemory(): Promise<OpenedJobStore> {
  const store = createSqliteJobStore({ file: ':memory:' });
  return { store, dispose: () => store.close() };
}

describeJobStoreContract('SQLite file', {
  open: openOnTempFile,
  async openLosable() {
    const opened = await openOnTempFile();
    return { ...opened, loseBackend: () => opened.store.close() };
  },
});

describeJobStoreContract('SQLite :memory:', {
  open: openInMemory,
  async openLosable() {
    const opened = await openInMemory();
    return { ...opened, loseBackend: () => opened.store.close() };
  },
});

describe('SQLite job store on a file', () => {
  let folder: string;
  let file: string;
  const now = new Date('2026-04-01T08:00:00.000Z');
  const job = (id: string, idempotencyKey?: string): NewExportJob => ({
    id,
    ownerId: 'owner-a',
    ownerName: 'A',
    organizationId: 'demo-org',
    sql: 'SELECT 1',
    format: 'csv',
    ttlMinutes: 30,
    instanceId: 'instance-1',
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'jobs-sqlite-'));
    file = path.join(folder, 'jobs.db');
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('uses WAL, records the schema version, and keeps jobs across a reopen', async () => {
    const first = createSqliteJobStore({ file });
    const { job: saved } = await first.create(job('j1'), now);
    await first.close();

    const second = createSqliteJobStore({ file });
    expect(await second.get('owner-a', 'j1')).toStrictEqual(saved);
    await second.close();

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const versions = raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      raw.close();
    }
  });

  it('refuses a database written by a newer schema, naming both versions', async () => {
    await createSqliteJobStore({ file }).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
      LATEST_SCHEMA_VERSION + 1,
      'from the future',
      Date.now(),
    );
    raw.close();

    expect(() => createSqliteJobStore({ file })).toThrow(
      `schema version ${LATEST_SCHEMA_VERSION + 1}; this connector knows up to ${LATEST_SCHEMA_VERSION}`,
    );
  });

  it('shares one idempotency key space between two connections to the same file', async () => {
    const stores = [createSqliteJobStore({ file }), createSqliteJobStore({ file })];
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => stores[i % 2]!.create(job(`j${i}`, 'same-key'), now)),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(await stores[1]!.listByOwner('owner-a')).toHaveLength(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('sees another connection’s conditional update: only one of them moves the job', async () => {
    const [a, b] = [createSqliteJobStore({ file }), createSqliteJobStore({ file })];
    try {
      await a.create(job('j1'), now);
      const claimA = await a.update('owner-a', 'j1', { status: 'running' }, now, ['queued']);
      const claimB = await b.update('owner-a', 'j1', { status: 'running' }, now, ['queued']);
      expect(claimA?.status).toBe('running');
      expect(claimB).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('turns driver failures into AppError storage_error after close', async () => {
    const store = createSqliteJobStore({ file });
    await store.close();
    await expect(store.get('owner-a', 'j1')).rejects.toMatchObject({ name: 'AppError', code: 'storage_error', status: 503 });
  });
});
