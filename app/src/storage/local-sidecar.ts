/**
 * The sidecar `<id>.json` next to each local export: what the download route and the sweeper
 * need to know without decrypting anything. Its rename is the moment an export is published.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EXPORT_FORMATS } from './export-store.js';

const sidecarSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  jobId: z.string(),
  ownerId: z.string(),
  fileName: z.string(),
  format: z.enum(EXPORT_FORMATS),
  /** Plaintext bytes, i.e. what a download returns. */
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rows: z.number().int().nonnegative(),
  truncated: z.boolean(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});

export type Sidecar = z.output<typeof sidecarSchema>;

/** Undefined when there is no sidecar; throws when there is one that is not ours. */
export async function readSidecar(file: string): Promise<Sidecar | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const parsed = sidecarSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`Sidecar ${file} does not match the expected shape: ${parsed.error.message}`);
  return parsed.data;
}

/** Write to a temp file in `tempDir` (same filesystem), fsync, rename over `file`. */
export async function writeSidecar(file: string, tempDir: string, sidecar: Sidecar): Promise<void> {
  const temp = path.join(tempDir, `${path.basename(file)}.${randomBytes(6).toString('hex')}.part`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(sidecarSchema.parse(sidecar)));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
