/**
 * The pipeline's caps while row sets run ahead of their encoded bytes (export-pipeline.ts,
 * ENCODE_AHEAD), through real encode worker threads: a file cut by a cap holds exactly the rows
 * before the cut, in order, and is a whole file (a Parquet footer, read back by DuckDB).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { createEncodePool } from '../../../app/src/exports/encode-pool.js';
import { streamExport } from '../../../app/src/exports/export-pipeline.js';
import type { RunningQuery } from '../../../app/src/hive/query-runner.js';
import type { ResultColumn } from '../../../app/src/hive/result-schema.js';
import { createLogger } from '../../../app/src/logger.js';
import type { ExportFormat, ExportWriter } from '../../../app/src/storage/export-store.js';
import { wireRowSet } from '../../support/thrift-rowsets.js';

const pool = createEncodePool({
  workers: 2,
  idleMs: 1_000,
  logger: createLogger('silent'),
});
const dir = mkdtempSync(path.join(tmpdir(), 'export-pipeline-'));
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

const COLUMNS: ResultColumn[] = [
  { name: 'n', type: 'int', typeId: 3, nullable: true },
  { name: 's', type: 'string', typeId: 7, nullable: true },
];

/** Row sets of `sizes[i]` rows numbered on from the last, each row's text `width(n)` characters. */
function query(sizes: number[], width: (n: number) => number = () => 3): RunningQuery {
  return {
    columns: COLUMNS,
    async *rowSets() {
      let n = 0;
      for (const size of sizes) {
        const numbers = Array.from({ length: size }, () => n++);
        yield wireRowSet([
          { i32Val: { values: numbers, nulls: Buffer.alloc(0) } },
          {
            stringVal: {
              values: numbers.map((k) => 'x'.repeat(width(k))),
              nulls: Buffer.alloc(0),
            },
          },
        ]);
      }
    },
    close: async () => undefined,
  };
}

/** A writer keeping each part's bytes apart, as the stores stage them until commit. */
function memoryWriter(): ExportWriter & { parts(): Buffer[]; bytes(): Buffer } {
  const parts: Buffer[][] = [[]];
  const sum = (chunks: Buffer[]) => chunks.reduce((total, chunk) => total + chunk.length, 0);
  const partStream = () =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        // A copy, as the stores take the bytes: after the callback the chunk's memory carries a later chunk.
        parts.at(-1)!.push(Buffer.from(chunk));
        callback();
      },
    });
  const writer = {
    stream: partStream(),
    get bytesWritten() {
      return parts.reduce((total, chunks) => total + sum(chunks), 0);
    },
    get partBytesWritten() {
      return sum(parts.at(-1)!);
    },
    nextPart: async () => {
      parts.push([]);
      writer.stream = partStream();
    },
    commit: async ({ rows }: { rows: number }) => ({
      method: 'local' as const,
      location: 'memory',
      bytes: writer.bytesWritten,
      sha256: String(rows),
    }),
    abort: async () => undefined,
    parts: () => parts.map((chunks) => Buffer.concat(chunks)),
    bytes: () => Buffer.concat(parts.flat()),
  };
  return writer;
}

async function run(format: ExportFormat, sizes: number[], limits: { maxRows?: number; maxBytes?: number; partMaxBytes?: number }, width?: (n: number) => number) {
  const writer = memoryWriter();
  const outcome = await streamExport({
    query: query(sizes, width),
    encoders: pool,
    writer,
    format,
    limits: {
      maxRows: limits.maxRows ?? 1e9,
      maxBytes: limits.maxBytes ?? 1e12,
      partMaxBytes: limits.partMaxBytes ?? 1e12,
    },
  });
  return { outcome, bytes: writer.bytes(), parts: writer.parts() };
}

const numbersOf = (csv: Buffer) => (parse(csv, { from_line: 2 }) as string[][]).map((record) => Number(record[0]));

describe('the export pipeline with row sets sent ahead to its encode worker', () => {
  it('writes every row, in order, when no cap is reached', async () => {
    const { outcome, bytes } = await run('csv', [1000, 1, 1000, 500, 1000], {});
    expect(outcome).toMatchObject({ rows: 3501, truncated: false });
    expect(numbersOf(bytes)).toEqual(Array.from({ length: 3501 }, (_, i) => i));
  });

  it('stops at a row cap inside a row set, and at one that falls between row sets', async () => {
    for (const maxRows of [2500, 2000, 1000, 1]) {
      const { outcome, bytes } = await run('csv', [1000, 1000, 1000, 1000, 1000], { maxRows });
      expect(outcome, `maxRows ${maxRows}`).toMatchObject({
        rows: maxRows,
        truncated: true,
      });
      expect(numbersOf(bytes)).toEqual(Array.from({ length: maxRows }, (_, i) => i));
    }
  });

  it('ends a file cut by the byte cap at the cut, though shorter rows sent ahead would have fit', async () => {
    // Row 1500 is 1,000 characters and passes the cap; every row after it is short enough to fit.
    const width = (n: number) => (n === 1500 ? 1000 : 3);
    const rowBytes = (n: number) => `${n},${'x'.repeat(width(n))}\r\n`.length;
    const maxBytes = 'n,s\r\n'.length + Array.from({ length: 1500 }, (_, n) => rowBytes(n)).reduce((a, b) => a + b) + 500;
    const { outcome, bytes } = await run('csv', [1000, 1000, 1000, 1000], { maxBytes }, width);
    expect(outcome).toMatchObject({ rows: 1500, truncated: true });
    expect(numbersOf(bytes)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });

  it('writes a whole Parquet file when a row cap falls between row sets', async () => {
    const { outcome, bytes } = await run('parquet', [1000, 1000, 1000, 1000], {
      maxRows: 2000,
    });
    expect(outcome).toMatchObject({ rows: 2000, truncated: true });
    const file = path.join(dir, 'cut.parquet');
    writeFileSync(file, bytes);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const read = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS rows, min(n) AS low, max(n) AS high FROM read_parquet('${file}')`)).getRowObjectsJson();
      expect(read).toEqual([{ rows: 2000, low: 0, high: 1999 }]);
    } finally {
      db.closeSync();
    }
  });

  it('splits into parts at row-set boundaries, each a CSV with its header, every row once and in order', async () => {
    // Each row set is about 7 KB of CSV: a part fills after its first row set, and the two sent ahead land in it too.
    const { outcome, parts } = await run('csv', [1000, 1000, 1000, 1000, 1000, 1000, 1000, 500], { partMaxBytes: 5_000 });
    expect(outcome).toMatchObject({ rows: 7500, truncated: false });
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.toString('latin1').startsWith('n,s\r\n')).toBe(true);
    expect(parts.flatMap((part) => numbersOf(part))).toEqual(Array.from({ length: 7500 }, (_, i) => i));
  });

  it('ends with a full part rather than an empty one when the rows end at its limit, and cuts at the row cap across parts', async () => {
    const whole = await run('csv', [1000, 1000, 1000], { partMaxBytes: 1 });
    expect(whole.outcome).toMatchObject({ rows: 3000, truncated: false });
    expect(whole.parts.every((part) => numbersOf(part).length > 0)).toBe(true);
    const capped = await run('csv', [1000, 1000, 1000, 1000, 1000, 1000], {
      partMaxBytes: 1,
      maxRows: 2500,
    });
    expect(capped.outcome).toMatchObject({ rows: 2500, truncated: true });
    expect(capped.parts.flatMap((part) => numbersOf(part))).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  });

  it('counts the byte cap across parts: the parts together stop at it, each part a whole CSV', async () => {
    const rowBytes = (n: number) => `${n},xxx\r\n`.length;
    const header = 'n,s\r\n'.length;
    // Room for the first part's header and 1,000 rows, the second part's header and 500 rows more.
    const maxBytes = 2 * header + Array.from({ length: 1500 }, (_, n) => rowBytes(n)).reduce((a, b) => a + b);
    const { outcome, parts } = await run('csv', [1000, 1000, 1000, 1000], { partMaxBytes: 1, maxBytes });
    expect(outcome).toMatchObject({ rows: 1500, truncated: true });
    expect(parts.length).toBe(2);
    expect(parts.reduce((sum, part) => sum + part.length, 0)).toBeLessThanOrEqual(maxBytes);
    expect(parts.flatMap((part) => numbersOf(part))).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });
});
