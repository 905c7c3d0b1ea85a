/**
 * Child process for local-export-store.test.ts, run under `prlimit --fsize=<bytes>` so the kernel
 * refuses writes past that size (EFBIG), the way a full disk refuses them mid-export. It writes
 * an export larger than the limit, aborts as the export pipeline would, and prints one JSON line
 * with what the writer reported.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isAppError } from '../../../app/src/errors.js';
import { createLocalExportStore } from '../../../app/src/storage/local-export-store.js';

const [dir, bytesArg] = process.argv.slice(2);
if (!dir || !bytesArg) throw new Error('usage: local-write-under-file-limit.ts <dir> <bytes to write>');

const store = createLocalExportStore({
  dir,
  encryptionKey: Buffer.alloc(32, 1),
  urlSigningKey: Buffer.alloc(32, 2),
  publicBaseUrl: 'http://127.0.0.1:8080',
  minFreeBytes: 0,
});
const writer = await store.begin({
  jobId: randomUUID(),
  ownerId: 'owner-limit',
  fileName: 'too-big',
  format: 'csv',
  expiresAt: new Date(Date.now() + 3600_000),
});
const total = Number(bytesArg);
const piece = Buffer.alloc(64 * 1024, 'y');
const source = Readable.from(
  (function* () {
    for (let sent = 0; sent < total; sent += piece.length) yield piece.subarray(0, Math.min(piece.length, total - sent));
  })(),
);
try {
  await pipeline(source, writer.stream);
  await writer.commit({ rows: 1, truncated: false });
  console.log(JSON.stringify({ committed: true }));
} catch (error) {
  await writer.abort();
  const cause = isAppError(error) ? (error.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
  console.log(JSON.stringify({ committed: false, code: isAppError(error) ? error.code : String(error), cause }));
}
