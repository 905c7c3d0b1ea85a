/**
 * Garbage collections the connector asks for, where V8 on its own would wait too long.
 *
 * After start-up (`collectAfterStart`): a full collection once the connector listens, so an idle
 * connector does not keep start-up's garbage (module parsing, configuration) — V8 collects only
 * when something allocates, and an idle service allocates next to nothing.
 *
 * While exports run (`promptCollector`, in each encode worker): a young-generation collection
 * after every 4 MiB of Hive replies received. Every reply moves from the main thread to the
 * export's worker (encode-pool.ts) and is garbage there once encoded, but V8 counts it only as
 * external memory and collects for that only after some 64 MB has grown; a worker makes almost no
 * garbage of its own, so tens of MB of spent replies piled up before anything freed them.
 * Measured at 10M rows of CSV (`npm run bench -- export --only=big:csv`, with the unit's
 * MALLOC_MMAP_THRESHOLD_): peak RSS above idle 110 and 121 MB without, 91 MB with (89–103 MB
 * with it on both threads). The worker's heap is tiny, so these collections cost little. The same
 * on the main thread, for the encoded chunks coming back, cost about 0.1 CPU-s per million rows
 * and 10–15% of the Blob CSV export rate, and moved the API's p95 from ~40 towards 50 ms, for no
 * gain in peak beyond the runs' spread: it is not done. Those chunks go back to their worker for
 * reuse instead (exports/chunk-buffer-pool.ts).
 *
 * `gc` comes from V8's --expose-gc set at run time and fetched through a fresh context, so the
 * service needs no extra command-line flag; where V8 refuses it, collections are simply skipped.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'minor' | 'major' }) => void;

let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
      collect = typeof gc === 'function' ? (gc as Collect) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** Bytes of moved buffers between two collections. */
const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

/** A counter for one thread: call it with the size of each buffer received; it collects every `everyBytes`. */
export function promptCollector(everyBytes = COLLECT_EVERY_BYTES): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    collector()?.({ type: 'minor' });
  };
}

/** A full collection `delayMs` after start-up (see above); the timer does not hold the process open. */
export function collectAfterStart(delayMs = 1000): void {
  setTimeout(() => collector()?.({ type: 'major' }), delayMs).unref();
}
