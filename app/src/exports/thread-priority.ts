/**
 * Export work gives way to the API when exports contend for the cores (encode-pool.ts decides
 * when): an encode worker lowers its own thread's scheduling priority (a higher nice value), so
 * a request that wakes the main thread is run ahead of encoding instead of waiting for its turn
 * among equals. Linux keeps the nice
 * value per thread (setpriority(2), NOTES), and `os.setPriority` on a thread id changes only
 * that thread; /proc/thread-self names the calling thread's id.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The calling thread's id (Linux); undefined where /proc/thread-self is not there. */
function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raises the calling thread's nice value to `nice`, never lowers it (that would need privileges).
 * A hint to the scheduler, so where it cannot be given (not Linux, a sandbox refusing it) the
 * thread runs on as it was.
 */
export function deprioritizeCurrentThread(nice: number): void {
  const tid = currentThreadId();
  if (tid === undefined) return;
  try {
    if (getPriority(tid) < nice) setPriority(tid, nice);
  } catch {
    // Refused: the thread keeps its priority.
  }
}
