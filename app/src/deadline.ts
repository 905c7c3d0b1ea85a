/**
 * Deadlines the code owns: a plain timer that aborts an AbortController and is cleared when the
 * work ends. Not `AbortSignal.timeout()`: its timer holds the signal only weakly, so a timeout
 * signal that nothing else keeps alive — the usual case inside `AbortSignal.any()` — can be
 * garbage-collected before it fires, and the deadline silently never comes (nodejs/node#57736;
 * an upload to a Blob endpoint that stopped answering stayed `running` for good that way). Here
 * the timer's callback holds the controller, so the deadline fires whatever the GC does.
 *
 * `withDeadline` also settles the caller's promise itself at the deadline: a library that
 * ignores or loses the abort cannot hold the caller past it. Every adapter's call timeout goes
 * through this module (the cleanup function keeps a twin, as its package bundles nothing of app/).
 */

export interface DeadlineOptions {
  /** Aborting it aborts the deadline's signal too (a job's cancel, a stream's teardown). */
  parent?: AbortSignal;
  /** The abort reason when time runs out. @default a DOMException named `TimeoutError`, like AbortSignal.timeout's */
  reason?: () => unknown;
}

export interface Deadline {
  /** Aborted when the time runs out or the parent aborts. */
  readonly signal: AbortSignal;
  /** True once the time ran out (as opposed to the parent aborting). */
  readonly expired: boolean;
  /** Stops the timer and lets go of the parent; call it when the work ends, however it ends. */
  clear(): void;
}

const timeoutReason = (ms: number) => new DOMException(`The operation was aborted due to timeout (${ms} ms)`, 'TimeoutError');
/** setTimeout fires at once for anything longer (a 32-bit signed delay). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Starts a deadline of `ms` milliseconds; the caller must `clear()` it when the work ends. */
export function startDeadline(ms: number, options: DeadlineOptions = {}): Deadline {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new Error(`deadline ${ms} ms is invalid; expected a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
  }
  const controller = new AbortController();
  const { parent } = options;
  let expired = false;
  const onParentAbort = () => controller.abort(parent?.reason);
  // A strong reference from the timer list to the controller: this is what makes the deadline fire.
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(options.reason ? options.reason() : timeoutReason(ms));
  }, ms);
  const clear = () => {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  };
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  controller.signal.addEventListener('abort', clear, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear,
  };
}

/**
 * Runs `work` with a signal that aborts after `ms` (or when `parent` aborts), and rejects with
 * the signal's reason at that moment even if `work` has not settled. The timer is cleared as soon
 * as the work settles.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, options: DeadlineOptions = {}): Promise<T> {
  const deadline = startDeadline(ms, options);
  const { signal } = deadline;
  let stopWaiting = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    stopWaiting = () => signal.removeEventListener('abort', onAbort);
  });
  // Exactly one of the two is awaited; the other must never surface as an unhandled rejection.
  aborted.catch(() => undefined);
  try {
    const running = work(signal);
    running.catch(() => undefined);
    return await Promise.race([running, aborted]);
  } finally {
    stopWaiting();
    deadline.clear();
  }
}

/**
 * For SDK calls that take `{ abortSignal }` among their options (the Azure SDKs): a function that
 * runs each call it is given under a deadline of its own of `ms`, e.g.
 * `const timed = deadlinePerCall(15_000); await timed((options) => client.getEntity(pk, rk, options))`.
 */
export function deadlinePerCall(ms: number): <T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>) => Promise<T> {
  return (call) => withDeadline(ms, (abortSignal) => call({ abortSignal }));
}

/**
 * `promise`, or a rejection with the signal's reason once it aborts, whichever comes first: for
 * the steps of work that spans several calls under one deadline (a paged listing read as it
 * goes), so that a library losing the abort cannot hold the caller past it.
 */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** True for the reason `startDeadline` aborts with by default (and AbortSignal.timeout's). */
export function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'TimeoutError';
}
