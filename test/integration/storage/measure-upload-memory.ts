/**
 * Measurement, not a test: streams exports of growing size through both stores and prints how
 * much this process's memory grew, to show it is bounded by the stores' buffers and not by the
 * export size. Azurite runs as a child process with its data on disk, so its memory is not
 * counted here.
 *
 *   npx tsx test/integration/storage/measure-upload-memory.ts [MiB ...]   (default: 64 256 1024)
 *
 * The default export lets a bench runner call it (scripts/bench expects `default(): Promise<void>`).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { startAzurite } from '../../../scripts/lib/azurite.js';
import { createBlobExportStore } from '../../../app/src/storage/blob-export-store.js';
import type { ExportStore } from '../../../app/src/storage/export-store.js';
import { createLocalExportStore } from '../../../app/src/storage/local-export-store.js';

const MiB = 1024 * 1024;

interface Sample {
  store: string;
  mib: number;
  peakRssMiB: number;
  peakRssGrowthMiB: number;
  peakHeapGrowthMiB: number;
  mibPerSecond: number;
}

/** Writes `mib` MiB of CSV-like text in 64 KiB pieces, as fast as backpressure allows. */
async function measure(store: ExportStore, label: string, mib: number): Promise<Sample> {
  const line = Buffer.from('asset-000123,2026-11-27T21:10:00Z,12345.678,OK\r\n');
  const piece = Buffer.alloc(64 * 1024);
  for (let offset = 0; offset < piece.length; offset += line.length) line.copy(piece, offset);
  const total = mib * MiB;

  global.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 20);

  const started = performance.now();
  const writer = await store.begin({
    jobId: randomUUID(),
    ownerId: 'bench',
    fileName: `memory-${mib}mib`,
    format: 'csv',
    expiresAt: new Date(Date.now() + 3600_000),
  });
  let sent = 0;
  await pipeline(
    Readable.from(
      (function* () {
        while (sent < total) {
          const size = Math.min(piece.length, total - sent);
          sent += size;
          yield piece.subarray(0, size);
        }
      })(),
    ),
    writer.stream,
  );
  const ref = await writer.commit({ rows: 0, truncated: false });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await store.delete(ref);
  return {
    store: label,
    mib,
    peakRssMiB: +(peakRss / MiB).toFixed(1),
    peakRssGrowthMiB: +((peakRss - base.rss) / MiB).toFixed(1),
    peakHeapGrowthMiB: +((peakHeap - base.heapUsed) / MiB).toFixed(1),
    mibPerSecond: +(mib / seconds).toFixed(1),
  };
}

export default async function run(sizes: number[] = [64, 256, 1024]): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'export-memory-'));
  const azurite = await startAzurite({ location: path.join(scratch, 'azurite') });
  try {
    const blob = createBlobExportStore({
      container: 'bench',
      credential: { kind: 'connectionString', connectionString: azurite.connectionString },
    });
    await blob.ensureContainer();
    const local = createLocalExportStore({
      dir: path.join(scratch, 'local'),
      encryptionKey: Buffer.alloc(32, 7),
      urlSigningKey: Buffer.alloc(32, 9),
      publicBaseUrl: 'http://127.0.0.1:8080',
      minFreeBytes: 0,
    });
    const samples: Sample[] = [];
    for (const mib of sizes) {
      samples.push(await measure(blob, 'blob (4 MiB blocks × 4)', mib));
      samples.push(await measure(local, 'local (64 KiB chunks)', mib));
    }
    console.table(samples);
    for (const label of new Set(samples.map((sample) => sample.store))) {
      const mine = samples.filter((sample) => sample.store === label);
      const first = mine[0]!;
      const last = mine.at(-1)!;
      console.log(
        `${label}: export ${(last.mib / first.mib).toFixed(0)}× larger → peak RSS ${(last.peakRssMiB / first.peakRssMiB).toFixed(2)}×`,
      );
    }
  } finally {
    await azurite.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number).filter((value) => value > 0);
  await run(sizes.length > 0 ? sizes : undefined);
}
