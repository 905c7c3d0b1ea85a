/**
 * The local stack's schedule: the same cleanup, fired by croner from a six-field NCRONTAB
 * expression (here every second, so the test does not wait for midnight).
 */
import { describe, expect, inject, it } from 'vitest';
import { startCleanupSchedule } from '../../../cleanup-function/src/local-schedule.js';
import type { CleanupSummary } from '../../../cleanup-function/src/summary.js';
import { blobs, createContainer, DAY, memoryLog, names, runtimeFor, seed } from './fixtures.js';

const azurite = inject('azurite');

describe('local cleanup schedule', () => {
  it('runs the cleanup on an NCRONTAB schedule against Azurite', async () => {
    const container = await createContainer(azurite.connectionString, 'schedule');
    const expired = blobs(12, () => ({ tag: new Date(Date.now() - DAY).toISOString() }));
    const live = blobs(3, () => ({ tag: new Date(Date.now() + DAY).toISOString() }));
    await seed(container, [...expired, ...live]);
    const log = memoryLog();

    let schedule: ReturnType<typeof startCleanupSchedule> | undefined;
    const firstRun = new Promise<CleanupSummary>((resolve) => {
      schedule = startCleanupSchedule({ runtime: runtimeFor(azurite.connectionString, container), schedule: '* * * * * *', log, onRun: resolve });
    });
    expect(schedule!.nextRun()).toBeInstanceOf(Date);
    const summary = await firstRun;
    schedule!.stop();

    expect(summary).toMatchObject({ found: 12, deleted: 12, failed: 0 });
    expect(log.lines).toContainEqual({ level: 'info', text: expect.stringMatching(/^cleanup summary: found=12 deleted=12 /) });
    expect(await names(container)).toEqual(new Set(live.map((blob) => blob.name)));
    await container.delete();
  });

});
