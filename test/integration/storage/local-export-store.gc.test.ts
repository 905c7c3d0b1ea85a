/**
 * The local store on a disk that stops answering (every file operation of the process waits,
 * see hung-disk.ts), with full garbage collections forced while the deadline is pending: a write
 * and a commit each fail with `storage_error` once the deadline passes, giving up the export
 * does not wait for the disk either, nothing is ever published, the temp file goes once the disk
 * answers again, and the next export then succeeds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import { createLocalExportStore } from '../../../app/src/storage/local-export-store.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { hangDisk } from '../../support/hung-disk.js';
import { commitSmall, csvOf, target, writeAll } from './export-store.contract.js';

const DEADLINE_MS = 1_500;
const GIVE_UP_MS = 20_000;
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function storeInNewDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'local-hung-'));
  dirs.push(dir);
  const store = createLocalExportStore({
    dir,
    encryptionKey: randomBytes(32),
    urlSigningKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:8080',
    minFreeBytes: 0,
    chunkSize: 4_096,
    operationTimeoutMs: DEADLINE_MS,
  });
  const everything = async () => ({ published: (await readdir(dir)).filter((name) => name !== '.partial'), partial: await readdir(path.join(dir, '.partial')) });
  return { dir, store, everything };
}

async function expectStorageErrorWithinDeadline(call: () => Promise<unknown>, message: RegExp) {
  const settled = await settleUnderGc(call, { giveUpAfterMs: GIVE_UP_MS });
  expect(settled.outcome, `still pending ${GIVE_UP_MS} ms after a ${DEADLINE_MS} ms deadline`).toBe('rejected');
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
  expect((settled.error as Error).message).toMatch(message);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS * 0.9);
}

describe('local store deadlines on a disk that stops answering', () => {
  it('fails a write that the disk holds, gives the export up without waiting, and publishes nothing', async () => {
    const { store, everything } = await storeInNewDir();
    const t = target();
    const writer = await store.begin(t);
    const disk = await hangDisk();
    try {
      await expectStorageErrorWithinDeadline(() => writeAll(writer, csvOf(5_000), 8 * 1024), /did not answer within 1\.5 s while writing/);
      const aborting = await settleUnderGc(() => writer.abort(), { giveUpAfterMs: 3 * DEADLINE_MS + 5_000 });
      expect(aborting.outcome, 'abort() waited for the hung disk').toBe('resolved');
    } finally {
      await disk.release();
    }
    await expect.poll(everything).toEqual({ published: [], partial: [] });
    const next = target();
    const ref = await commitSmall(store, next);
    expect((await everything()).published.sort()).toEqual([`${ref.location}.data`, `${ref.location}.json`]);
  });

  it('fails a commit whose renames the disk holds, and publishes nothing even once the disk lets them through', async () => {
    const { store, everything } = await storeInNewDir();
    const writer = await store.begin(target());
    await writeAll(writer, csvOf(2_000), 8 * 1024);
    const disk = await hangDisk();
    try {
      await expectStorageErrorWithinDeadline(() => writer.commit({ rows: 2_000, truncated: false }), /did not answer in time while publishing/);
    } finally {
      await disk.release();
    }
    await expect.poll(everything).toEqual({ published: [], partial: [] });
    const ref = await commitSmall(store, target());
    expect((await everything()).published.sort()).toEqual([`${ref.location}.data`, `${ref.location}.json`]);
  });
});
