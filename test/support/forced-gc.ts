/**
 * For deadline tests (`*.gc.test.ts`, run with --expose-gc): wait for a call while forcing full
 * garbage collections, and report how it ended and when. A deadline whose timer or signal is
 * only weakly held is collected during such a wait and never fires (nodejs/node#57736); the
 * call then stays pending, which `settleUnderGc` reports as `stalled` once `giveUpAfterMs` has
 * passed instead of leaving the test to hang until vitest's timeout.
 */
import { expect } from 'vitest';
import { isAppError } from '../../app/src/errors.js';

export interface Settled<T> {
  outcome: 'resolved' | 'rejected' | 'stalled';
  value?: T;
  error?: unknown;
  elapsedMs: number;
}

export async function settleUnderGc<T>(call: () => Promise<T>, options: { giveUpAfterMs: number; gcEveryMs?: number }): Promise<Settled<T>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    throw new Error('gc() is not exposed: name the file *.gc.test.ts so that vitest runs it in the `gc` project (--expose-gc)');
  }
  const started = performance.now();
  const collector = setInterval(gc, options.gcEveryMs ?? 100);
  let giveUp: NodeJS.Timeout | undefined;
  try {
    gc();
    const stalled = new Promise<Settled<T>>((resolve) => {
      giveUp = setTimeout(() => resolve({ outcome: 'stalled', elapsedMs: performance.now() - started }), options.giveUpAfterMs);
    });
    const settled = call().then(
      (value): Settled<T> => ({ outcome: 'resolved', value, elapsedMs: performance.now() - started }),
      (error: unknown): Settled<T> => ({ outcome: 'rejected', error, elapsedMs: performance.now() - started }),
    );
    return await Promise.race([settled, stalled]);
  } finally {
    clearInterval(collector);
    clearTimeout(giveUp);
  }
}

/** How long past its deadline a call may still be pending before it counts as stalled. */
const STALL_MARGIN_MS = 15_000;

/**
 * Asserts that `call`, with full garbage collections forced while it waits, fails with the
 * AppError `code` once its deadline of `boundMs` has passed: not before it (so it was that
 * deadline, with its multiplier, that fired) and not stalled `STALL_MARGIN_MS` after it. The
 * margin is generous because other suites share the machine; a deadline the GC collected never
 * fires at all.
 */
export async function expectAppErrorUnderGc(call: () => Promise<unknown>, expected: { code: 'storage_error' | 'not_ready'; boundMs: number }): Promise<void> {
  const settled = await settleUnderGc(call, { giveUpAfterMs: expected.boundMs + STALL_MARGIN_MS });
  expect(settled.outcome, `${settled.outcome} after ${Math.round(settled.elapsedMs)} ms; expected to fail at its ${expected.boundMs} ms deadline`).toBe('rejected');
  // Both codes these deadlines end in are 503s: the caller may retry once storage answers again.
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === expected.code && error.status === 503);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(expected.boundMs * 0.9);
}
