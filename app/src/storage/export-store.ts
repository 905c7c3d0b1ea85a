/**
 * The port between the export pipeline and where finished CSV files live. Two adapters: Azure
 * Blob Storage (read-only SAS URLs) and the VM's disk (encrypted, served at signed URLs).
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

/** Where a committed export lives; stored on the job, opaque to everyone but the adapter. */
export interface StoredExportRef {
  method: StorageMethod;
  /** Blob name or file name, chosen by the adapter, never from user input. */
  location: string;
}

export interface CommittedExport extends StoredExportRef {
  bytes: number;
  /** Hex SHA-256 of the bytes a download returns. */
  sha256: string;
}

export interface ExportWriter {
  /**
   * Bytes of the final file (already gzipped when the format says so). Honours backpressure;
   * nothing written here is visible to anyone until `commit` resolves.
   */
  readonly stream: Writable;
  /** Bytes accepted so far, for progress reporting. */
  readonly bytesWritten: number;
  /** Publishes atomically (block-list commit, or fsync + rename). Call after `stream` finished. */
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
  /** A URL that anyone holding it can GET until `expiresAt`, and no longer. */
  downloadUrl(ref: StoredExportRef, target: ExportTarget): Promise<string>;
  /** Moves the expiry the cleanup will honour (blob index tag / sidecar), for `POST …/link`. */
  extendExpiry(ref: StoredExportRef, expiresAt: Date): Promise<void>;
  /** Idempotent: deleting what is already gone succeeds. */
  delete(ref: StoredExportRef): Promise<void>;
}
