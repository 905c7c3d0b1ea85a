/**
 * The deadline helper itself, with full garbage collections forced while its timers are pending:
 * a deadline fires though nothing but its own timer refers to it, settles a caller whose work
 * never settles, tells its own expiry from a parent's abort, and lets go of its timer and of the
 * parent once the work is done.
 */
import { describe, expect, it } from 'vitest';
import { isTimeout, startDeadline, withDeadline } from '../../app/src/deadline.js';
import { settleUnderGc } from '../support/forced-gc.js';

describe('withDeadline', () => {
  it('rejects with a TimeoutError at the deadline when the work never settles, whatever the GC does', async () => {
    let handed: AbortSignal | undefined;
    const settled = await settleUnderGc(
      () =>
        withDeadline(1_000, (signal) => {
          handed = signal;
          return new Promise<never>(() => {});
        }),
      { giveUpAfterMs: 15_000 },
    );
    expect(settled.outcome).toBe('rejected');
    expect(isTimeout(settled.error)).toBe(true);
    expect(handed?.aborted).toBe(true);
    expect(settled.elapsedMs).toBeGreaterThanOrEqual(900);
  });

  it('answers with the work when it settles first, and rejects with a given reason', async () => {
    await expect(withDeadline(5_000, async () => 'done')).resolves.toBe('done');
    const reason = new Error('Hive did not answer in time');
    await expect(withDeadline(10, () => new Promise<never>(() => {}), { reason: () => reason })).rejects.toBe(reason);
  });

  it("rejects with the parent's reason as soon as the parent aborts", async () => {
    const parent = new AbortController();
    const running = withDeadline(60_000, () => new Promise<never>(() => {}), { parent: parent.signal });
    parent.abort(new Error('cancelled'));
    await expect(running).rejects.toThrow('cancelled');
  });
});

describe('startDeadline', () => {
  it('tells its own expiry from the parent aborting', async () => {
    const expiring = startDeadline(10);
    await new Promise((resolve) => expiring.signal.addEventListener('abort', resolve));
    expect(expiring.expired).toBe(true);

    const parent = new AbortController();
    const cancelled = startDeadline(60_000, { parent: parent.signal });
    parent.abort();
    expect(cancelled.signal.aborted).toBe(true);
    expect(cancelled.expired).toBe(false);
  });

  it('refuses a delay a timer cannot hold (it would fire at once)', () => {
    expect(() => startDeadline(2 ** 31)).toThrow(/from 0 to 2147483647/);
    expect(() => startDeadline(-1)).toThrow(/invalid/);
  });

  it('once cleared, neither fires nor follows the parent', async () => {
    const parent = new AbortController();
    const deadline = startDeadline(10, { parent: parent.signal });
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 50));
    parent.abort();
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.expired).toBe(false);
  });
});
