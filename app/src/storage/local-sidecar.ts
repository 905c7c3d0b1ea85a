/**
 * The sidecar `<id>.json` next to each local export: what the download route and the sweeper
 * need to know without decrypting anything. Its rename is the moment an export is published.
 *
 * Each part of a multi-part export is such an export of its own; the export's MLTable manifest is
 * a sidecar without a data file (`kind: "mltable"`), naming its parts: the manifest is rendered
 * from it at each download, with freshly signed part URLs, so nothing that grants access is ever
 * stored in the clear.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EXPORT_FORMATS } from './export-store.js';

const dataSidecarSchema = z.object({
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

const manifestSidecarSchema = z.object({
  version: z.literal(1),
  kind: z.literal('mltable'),
  id: z.string(),
  jobId: z.string(),
  ownerId: z.string(),
  /** The export's file name without extension; the parts are named after it (partFileName). */
  fileName: z.string(),
  format: z.enum(EXPORT_FORMATS),
  /** The ids of the parts, in order. */
  parts: z.array(z.string()).min(2),
  rows: z.number().int().nonnegative(),
  truncated: z.boolean(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});

// The manifest first: it is the one with a `kind` to match on.
const sidecarSchema = z.union([manifestSidecarSchema, dataSidecarSchema]);

export type DataSidecar = z.output<typeof dataSidecarSchema>;
export type ManifestSidecar = z.output<typeof manifestSidecarSchema>;
export type Sidecar = DataSidecar | ManifestSidecar;

export const isManifest = (sidecar: Sidecar): sidecar is ManifestSidecar => 'kind' in sidecar && sidecar.kind === 'mltable';

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
