/**
 * The encode workers' scheduling priority (encode-pool.ts, thread-priority.ts): each worker's
 * thread, and only it, runs at the pool's nice value, so on busy cores the API's thread is
 * served first. Read back from Linux's own account of each thread (/proc/self/task/TID/stat).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createEncodePool, type EncodePool } from '../../../app/src/exports/encode-pool.js';
import { createLogger } from '../../../app/src/logger.js';

/** Each thread's nice value: field 19 of its stat line, counted after the `(comm)` field. */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      nice.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nice;
}

/** The thread running this test (a vitest worker's). */
const callerTid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);

const threadsAt = (nice: number) => [...niceByThread()].filter(([, value]) => value === nice).map(([tid]) => tid);

let pool: EncodePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('the encode pool\'s worker threads', () => {
  it('run at the pool\'s nice value, one thread each, while the calling thread keeps its own', async () => {
    const callerNice = niceByThread().get(callerTid);
    expect(threadsAt(7)).toEqual([]);
    pool = createEncodePool({ workers: 2, nice: 7, idleMs: 60_000, logger: createLogger('silent') });
    const first = pool.open({ format: 'csv', columns: [{ name: 'n', type: 'int', typeId: 3, nullable: true }] });
    const second = pool.open({ format: 'csv', columns: [{ name: 'n', type: 'int', typeId: 3, nullable: true }] });
    // A worker answers only after its module ran, and with it the priority change.
    await Promise.all([first.start(), second.start()]);
    expect(threadsAt(7)).toHaveLength(2);
    expect(niceByThread().get(callerTid)).toBe(callerNice);
    first.close();
    second.close();
  });

  it('keep the process\'s priority when the pool\'s nice value is 0', async () => {
    const callerNice = niceByThread().get(callerTid)!;
    const before = threadsAt(callerNice).length;
    pool = createEncodePool({ workers: 1, nice: 0, idleMs: 60_000, logger: createLogger('silent') });
    const encoder = pool.open({ format: 'csv', columns: [{ name: 'n', type: 'int', typeId: 3, nullable: true }] });
    await encoder.start();
    expect(threadsAt(callerNice).length).toBeGreaterThan(before);
    expect([...niceByThread().values()].every((nice) => nice === callerNice)).toBe(true);
    encoder.close();
  });
});
