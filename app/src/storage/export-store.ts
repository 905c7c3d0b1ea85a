/**
 * The port between the export pipeline and where finished export files live. Two adapters: Azure
 * Blob Storage (read-only SAS URLs) and the VM's disk (encrypted, served at signed URLs). A large
 * export is several parts, each a complete file with its own URL, plus an MLTable manifest that
 * names them all (mltable.ts).
 * Every adapter passes the contract suite in test/integration/storage/export-store.contract.ts.
 */
import type { Writable } from 'node:stream';

export type StorageMethod = 'blob' | 'local';
/** What an export can be written as; CSV is the default. */
export const EXPORT_FORMATS = ['csv', 'csv.gz', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportTarget {
  jobId: string;
  ownerId: string;
  /** Friendly download name without extension, e.g. `enos-measurement-20261127-2110`. */
  fileName: string;
  format: ExportFormat;
  expiresAt: Date;
}

/**
 * The most parts one export is split into. The pipeline stops splitting there (the last part
 * takes the rest, however big), so the list of parts has a known bound: the Table job store
 * keeps it in one property, at most 64 KiB (100 parts of the connector's names take at most about 48 KiB there,
 * see jobs/table-job-entity.ts). With the default 256 MiB parts that is 25 GiB, above the
 * default 20 GiB cap.
 */
export const MAX_EXPORT_PARTS = 100;

/** One file of a multi-part export, in the order the rows were written. */
export interface StoredPart {
  /** Blob name or file id, chosen by the adapter. */
  location: string;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the bytes its download returns. */
  sha256: string;
}

/** Where a committed export lives; stored on the job, opaque to everyone but the adapter. */
export interface StoredExportRef {
  method: StorageMethod;
  /**
   * Blob name or file id, chosen by the adapter, never from user input: the export's one file,
   * or, with several parts, its MLTable manifest.
   */
  location: string;
  /** Only with several parts: each part's own file, in order (at most MAX_EXPORT_PARTS). */
  parts?: StoredPart[];
}

export interface CommittedExport extends StoredExportRef {
  /** Bytes of the one file, or of all parts together. */
  bytes: number;
  /** Hex SHA-256 of the bytes a download of the one file returns; with several parts each part carries its own. */
  sha256?: string;
}

export interface ExportWriter {
  /**
   * Bytes of the current part (already gzipped when the format says so); a new stream after each
   * `nextPart`. Honours backpressure; nothing written here is visible to anyone until `commit`
   * resolves. It is done with a chunk when it calls back for it: the pipeline then gives the
   * chunk's memory back to the encoder for later chunks (export-pipeline.ts `writeChunks`).
   */
  readonly stream: Writable;
  /** Bytes accepted so far, all parts together, for progress reporting. */
  readonly bytesWritten: number;
  /** Bytes the current part's stream accepted so far: what the pipeline splits on. */
  readonly partBytesWritten: number;
  /**
   * Closes the current part — its stream must have finished — holding `rows` rows, and opens the
   * next one as `stream`. Nothing becomes visible: parts stay staged (uncommitted blocks, temp
   * files) until `commit`.
   */
  nextPart(closed: { rows: number }): Promise<void>;
  /**
   * Publishes every part at once (block-list commits, or fsync + renames) and, with several parts,
   * the MLTable manifest beside them. `rows` counts every part. Call after the last part's
   * `stream` finished. If it fails, what it published is removed again (at the latest by `abort`).
   */
  commit(info: { rows: number; truncated: boolean }): Promise<CommittedExport>;
  /** Discards everything written; safe to call at any point, and more than once. */
  abort(): Promise<void>;
}

export interface ExportStore {
  readonly method: StorageMethod;
  /** Throws an AppError (`not_ready`) when the backing storage cannot be reached. */
  checkReady(): Promise<void>;
  /** Throws AppError `insufficient_storage` (507) when it can already tell the export won't fit. */
  begin(target: ExportTarget): Promise<ExportWriter>;
  /**
   * A URL that anyone holding it can GET until `expiresAt`, and no longer: of the one file, or,
   * with several parts, of the MLTable manifest (which names every part's URL).
   */
  downloadUrl(ref: StoredExportRef, target: ExportTarget): Promise<string>;
  /** One URL per part, in order, each like `downloadUrl`; for a single-part export, its one URL. */
  partUrls(ref: StoredExportRef, target: ExportTarget): Promise<string[]>;
  /**
   * Moves the expiry the cleanup will honour (blob index tags / sidecars) of every file to
   * `target.expiresAt`, for `POST …/link`; with several parts the MLTable is rewritten, so the
   * part URLs it names work until then.
   */
  extendExpiry(ref: StoredExportRef, target: ExportTarget): Promise<void>;
  /** Every part and the manifest. Idempotent: deleting what is already gone succeeds. */
  delete(ref: StoredExportRef): Promise<void>;
}

/**
 * The files of a committed export as the API lists them: its parts, or its one file (which
 * holds every row of the job).
 */
export function partsOf(result: CommittedExport, rows: number): StoredPart[] {
  if (result.parts) return result.parts;
  if (result.sha256 === undefined) throw new Error(`Stored export ${result.method}:${result.location} has neither parts nor a sha256`);
  return [{ location: result.location, rows, bytes: result.bytes, sha256: result.sha256 }];
}
