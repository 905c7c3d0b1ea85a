/**
 * For deadline tests (`*.gc.test.ts`, run with --expose-gc): wait for a call while forcing full
 * garbage collections, and report how it ended and when. A deadline whose timer or signal is
 * only weakly held is collected during such a wait and never fires (nodejs/node#57736); the
 * call then stays pending, which `settleUnderGc` reports as `stalled` once `giveUpAfterMs` has
 * passed instead of leaving the test to hang until vitest's timeout.
 */

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
