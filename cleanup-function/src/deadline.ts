/**
 * The per-request deadline: a timer this code owns, cleared when the request settles, and the
 * caller's promise rejected at the deadline even if the SDK has not settled. Not
 * `AbortSignal.timeout()`, whose timer holds the signal only weakly: a garbage collection can
 * take the signal before it fires and the request then hangs for good (nodejs/node#57736).
 *
 * The twin of app/src/deadline.ts's `withDeadline`: the function's bundle takes nothing from
 * the connector's sources, so the few lines live here too. Keep the two in step.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const { signal } = controller;
  // The timer's callback holds the controller: this is what makes the deadline fire.
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation was aborted due to timeout (${ms} ms)`, 'TimeoutError')), ms);
  let stopWaiting = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    stopWaiting = () => signal.removeEventListener('abort', onAbort);
  });
  aborted.catch(() => undefined);
  try {
    const running = work(signal);
    running.catch(() => undefined);
    return await Promise.race([running, aborted]);
  } finally {
    stopWaiting();
    clearTimeout(timer);
  }
}
