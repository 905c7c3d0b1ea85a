/**
 * What both export stores agree on about names and headers: the file extension and content type
 * of each format, the Content-Disposition a download carries, and the checks that keep the
 * identifiers that become blob names or URL segments free of path tricks and header injection.
 */
import type { ExportFormat, ExportTarget } from './export-store.js';

/** One path segment: no slash, no leading dot (so never `.` or `..`), nothing a header must quote. */
const SAFE_SEGMENT = /^[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,127}$/;
/** A friendly download name without extension, e.g. `enos-measurement-20261127-2110`. */
const SAFE_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,149}$/;

const FORMATS: Record<ExportFormat, { extension: string; contentType: string }> = {
  csv: { extension: '.csv', contentType: 'text/csv; charset=utf-8' },
  'csv.gz': { extension: '.csv.gz', contentType: 'application/gzip' },
  // IANA-registered in 2024 (https://www.iana.org/assignments/media-types/application/vnd.apache.parquet).
  parquet: { extension: '.parquet', contentType: 'application/vnd.apache.parquet' },
};

export function fileExtension(format: ExportFormat): string {
  return FORMATS[format].extension;
}

export function contentTypeOf(format: ExportFormat): string {
  return FORMATS[format].contentType;
}

/** `enos-measurement-20261127-2110` + `csv.gz` → `enos-measurement-20261127-2110.csv.gz`. */
export function downloadFileName(fileName: string, format: ExportFormat): string {
  return `${fileName}${fileExtension(format)}`;
}

/** Names are restricted to header-safe characters, so plain quoting is exact (no RFC 5987 form needed). */
export function contentDispositionOf(fileName: string, format: ExportFormat): string {
  return `attachment; filename="${downloadFileName(fileName, format)}"`;
}

export function isSafeFileName(value: string): boolean {
  return SAFE_FILE_NAME.test(value);
}

/** A name in a download path: a safe file name plus the extension of one of the formats. */
export function isSafeDownloadName(name: string): boolean {
  return Object.values(FORMATS).some(({ extension }) => name.endsWith(extension) && isSafeFileName(name.slice(0, -extension.length)));
}

/**
 * Targets come from the export use case, not straight from a request, so a bad one is a bug
 * upstream: fail before anything is written, naming the field, the value and what was expected.
 */
export function assertValidTarget(target: ExportTarget): void {
  for (const field of ['ownerId', 'jobId'] as const) {
    if (!SAFE_SEGMENT.test(target[field])) {
      throw new Error(
        `Export target ${field} ${JSON.stringify(target[field])} is not usable in a storage name; ` +
          'expected 1-128 characters of A-Z a-z 0-9 . _ @ - not starting with a dot',
      );
    }
  }
  if (!SAFE_FILE_NAME.test(target.fileName)) {
    throw new Error(
      `Export target fileName ${JSON.stringify(target.fileName)} is not a safe download name; ` +
        'expected 1-150 characters of A-Z a-z 0-9 . _ - not starting with a dot, without extension',
    );
  }
  if (!(target.format in FORMATS)) {
    throw new Error(`Export target format ${JSON.stringify(target.format)} is unknown; expected one of ${Object.keys(FORMATS).join(', ')}`);
  }
  if (!(target.expiresAt instanceof Date) || Number.isNaN(target.expiresAt.getTime())) {
    throw new Error(`Export target expiresAt ${String(target.expiresAt)} is not a valid Date`);
  }
}
