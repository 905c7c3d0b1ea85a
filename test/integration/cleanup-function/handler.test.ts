/**
 * The timer handler run as the host runs it: with a real `InvocationContext` whose log handler
 * collects what the host would record, and a `Timer` argument.
 */
import { format } from 'node:util';
import { InvocationContext, type Timer } from '@azure/functions';
import { describe, expect, inject, it } from 'vitest';
import { createCleanupHandler } from '../../../cleanup-function/src/handler.js';
import { blobs, createContainer, DAY, names, runtimeFor, seed } from './fixtures.js';

const azurite = inject('azurite');

function invocation() {
  const logs: Array<{ level: string; text: string }> = [];
  const context = new InvocationContext({
    invocationId: 'c0ffee00-0000-4000-8000-000000000001',
    functionName: 'cleanupExpiredExports',
    logHandler: (level, ...args) => logs.push({ level, text: format(...args) }),
  });
  return { context, logs };
}

const timer = (isPastDue: boolean): Timer => ({
  isPastDue,
  schedule: { adjustForDST: true },
  scheduleStatus: { last: '2026-11-26T00:00:00Z', next: '2026-11-28T00:00:00Z', lastUpdated: '2026-11-27T00:00:00Z' },
});

describe('cleanup timer handler', () => {
  it('runs the cleanup through an InvocationContext and logs isPastDue and one summary line', async () => {
    const container = await createContainer(azurite.connectionString, 'handler');
    const expired = blobs(40, () => ({ tag: new Date(Date.now() - DAY).toISOString() }));
    const live = blobs(10, () => ({ tag: new Date(Date.now() + DAY).toISOString() }));
    await seed(container, [...expired, ...live]);
    let builds = 0;
    const handler = createCleanupHandler(() => {
      builds++;
      return runtimeFor(azurite.connectionString, container);
    });

    const first = invocation();
    await handler(timer(true), first.context);
    expect(first.logs[0]).toEqual({ level: 'information', text: expect.stringContaining('isPastDue=true') });
    const summaries = first.logs.filter((line) => line.text.startsWith('cleanup summary:'));
    expect(summaries).toEqual([{ level: 'information', text: expect.stringMatching(/found=40 deleted=40 alreadyGone=0 failed=0 skipped=0 .*durationMs=\d+$/) }]);
    expect(first.logs.filter((line) => line.level === 'error')).toEqual([]);
    expect(await names(container)).toEqual(new Set(live.map((blob) => blob.name)));

    const second = invocation();
    await handler(timer(false), second.context);
    expect(second.logs[0]!.text).toContain('isPastDue=false');
    expect(second.logs.find((line) => line.text.startsWith('cleanup summary:'))!.text).toMatch(/found=0 deleted=0 /);
    expect(builds).toBe(1);
    await container.delete();
  });

  it('fails the invocation, after logging, when the run cannot do its work', async () => {
    const container = await createContainer(azurite.connectionString, 'handler');
    await container.delete();
    const handler = createCleanupHandler(() => runtimeFor(azurite.connectionString, container));
    const { context, logs } = invocation();

    await expect(handler(timer(false), context)).rejects.toThrow(/tag query stopped: status 404 ContainerNotFound/);
    // Each pass reports its own failure; the summary still comes out, then the invocation fails.
    expect(logs.find((line) => line.text.startsWith('cleanup summary:'))!.text).toMatch(/errors=2 complete=false/);
    expect(logs.filter((line) => line.level === 'error').map((line) => line.text)).toEqual([
      expect.stringMatching(/^cleanup: tag query stopped: status 404 ContainerNotFound/),
      expect.stringMatching(/^cleanup: fallback listing stopped: status 404 ContainerNotFound/),
      expect.stringMatching(/^cleanup: invocation c0ffee00-.* failed: .*tag query stopped.*fallback listing stopped/),
    ]);
  });

  it('fails the invocation when the settings are wrong, and builds the clients again next time', async () => {
    let attempts = 0;
    const handler = createCleanupHandler(() => {
      attempts++;
      throw new Error('cleanup settings are invalid: EXPORTS_CONTAINER="Bad_Name"');
    });
    const first = invocation();
    await expect(handler(timer(false), first.context)).rejects.toThrow(/EXPORTS_CONTAINER/);
    expect(first.logs.at(-1)).toEqual({ level: 'error', text: expect.stringContaining('EXPORTS_CONTAINER="Bad_Name"') });
    await expect(handler(timer(false), invocation().context)).rejects.toThrow(/EXPORTS_CONTAINER/);
    expect(attempts).toBe(2);
  });
});
