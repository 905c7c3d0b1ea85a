/**
 * The encode pool's worker threads (encode-pool.ts), as the connector starts them:
 * - their scheduling priority (thread-priority.ts): each worker's thread, and only it, runs at
 *   the pool's nice value, so on busy cores the API's thread is served first. Read back from
 *   Linux's own account of each thread (/proc/self/task/TID/stat);
 * - their chunk buffers (chunk-buffer-pool.ts): a chunk released after it was written leaves this
 *   thread (its buffer is detached here) and carries a later chunk, and the bytes stay right.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createEncodePool, type EncodePool } from '../../../app/src/exports/encode-pool.js';
import { createLogger } from '../../../app/src/logger.js';
import type { ResultColumn } from '../../../app/src/hive/result-schema.js';
import { wireRowSet } from '../../support/thrift-rowsets.js';

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
  it('run a lone export at full priority and, once exports contend, at the pool\'s nice value, one thread each, the calling thread untouched', async () => {
    const callerNice = niceByThread().get(callerTid);
    expect(threadsAt(7)).toEqual([]);
    pool = createEncodePool({ workers: 2, nice: 7, contendedAt: 2, idleMs: 60_000, logger: createLogger('silent') });
    const first = pool.open({ format: 'csv', columns: [{ name: 'n', type: 'int', typeId: 3, nullable: true }] });
    // A worker answers only after its module ran, and requests in order.
    await first.start();
    expect(threadsAt(7)).toEqual([]);
    const second = pool.open({ format: 'csv', columns: [{ name: 'n', type: 'int', typeId: 3, nullable: true }] });
    await Promise.all([first.finish(), second.start()]);
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

const COLUMNS: ResultColumn[] = [
  { name: 'n', type: 'int', typeId: 3, nullable: true },
  { name: 's', type: 'string', typeId: 7, nullable: true },
];

/** `count` rows numbered from `from`, each with a short text. */
function rows(from: number, count: number) {
  const numbers = Array.from({ length: count }, (_, i) => from + i);
  return wireRowSet([
    { i32Val: { values: numbers, nulls: Buffer.alloc(0) } },
    { stringVal: { values: numbers.map((n) => `row ${n}`), nulls: Buffer.alloc(0) } },
  ]);
}

const csvOf = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `${from + i},row ${from + i}\r\n`).join('');

describe('the encode pool\'s chunk buffers', () => {
  it('take back a CSV chunk once released and write a later one into it, its bytes right', async () => {
    pool = createEncodePool({ workers: 1, idleMs: 60_000, logger: createLogger('silent') });
    const encoder = pool.open({ format: 'csv', columns: COLUMNS });
    const [header] = await encoder.start();
    const first = (await encoder.encode(rows(0, 1000), Infinity, Infinity)).chunks[0]!;
    expect(first.toString()).toBe(csvOf(0, 1000));
    const capacity = first.buffer.byteLength;
    expect(capacity).toBeGreaterThan(first.length);

    encoder.release(header!);
    encoder.release(first);
    // The header is not one of the worker's buffers: it stays. The chunk's memory went back.
    expect(header!.toString()).toBe('n,s\r\n');
    expect(first.buffer.byteLength).toBe(0);

    // Fewer rows: a new buffer would be a quarter larger than this chunk, the one given back is larger still.
    const second = (await encoder.encode(rows(1000, 900), Infinity, Infinity)).chunks[0]!;
    expect(second.toString()).toBe(csvOf(1000, 900));
    expect(second.buffer.byteLength).toBe(capacity);
    encoder.close();
  });

  it('take back Parquet column chunks, and not the footer, which is copied', async () => {
    pool = createEncodePool({ workers: 1, idleMs: 60_000, logger: createLogger('silent') });
    const encoder = pool.open({ format: 'parquet', columns: COLUMNS });
    await encoder.start();
    const pushed = await encoder.encode(rows(0, 5000), Infinity, Infinity);
    const chunks = [...pushed.chunks, ...(await encoder.finish())];
    const file = Buffer.concat(chunks);
    expect(file.subarray(0, 4).toString()).toBe('PAR1');
    expect(file.subarray(-4).toString()).toBe('PAR1');
    for (const chunk of chunks) encoder.release(chunk);
    const detached = chunks.filter((chunk) => chunk.buffer.byteLength === 0);
    // One chunk per column went back; the magic and the footer are copies of the encoder's own.
    expect(detached).toHaveLength(COLUMNS.length);
    expect(chunks.at(-1)!.subarray(-4).toString()).toBe('PAR1');
    encoder.close();
  });
});
