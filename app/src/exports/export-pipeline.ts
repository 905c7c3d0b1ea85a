/**
 * The streaming heart of an export: Hive row sets → CSV text → (gzip) → the store's writer, with
 * backpressure all the way (stream.pipeline), so memory stays flat whatever the result size.
 * Caps stop the export at a row boundary and mark it truncated — never silently. On any failure
 * the writer is aborted, so nothing half-written is ever published.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { RunningQuery } from '../hive/query-runner.js';
import type { CommittedExport, ExportFormat, ExportWriter } from '../storage/export-store.js';
import { rowCount } from '../hive/row-set.js';
import { csvHeader, csvRows } from '../formats/csv.js';

export interface ExportLimits {
  maxRows: number;
  /** Cap on CSV bytes before compression (header included). */
  maxBytes: number;
}

export interface ExportProgress {
  rows: number;
  /** Bytes handed to the store so far (compressed when the format is csv.gz). */
  bytes: number;
}

export interface ExportOutcome {
  rows: number;
  truncated: boolean;
  committed: CommittedExport;
}

export async function streamExport(options: {
  query: RunningQuery;
  writer: ExportWriter;
  format: ExportFormat;
  limits: ExportLimits;
  onProgress?: (progress: ExportProgress) => void;
  /**
   * Cancellation, shutdown or timeout. It must reach the streams themselves: while the store
   * holds back a write, the row source is not asked for more and never gets to see the abort.
   */
  signal?: AbortSignal;
}): Promise<ExportOutcome> {
  const { query, writer, limits } = options;
  const types = query.columns;
  let rows = 0;
  let csvBytes = 0;
  let truncated = false;

  async function* csvChunks(): AsyncGenerator<Buffer> {
    const header = Buffer.from(csvHeader(query.columns), 'utf8');
    csvBytes += header.length;
    yield header;
    for await (const rowSet of query.rowSets()) {
      const available = rowCount(rowSet);
      if (available === 0) continue;
      const remaining = limits.maxRows - rows;
      if (remaining <= 0) {
        truncated = true;
        return;
      }
      const lines = csvRows(rowSet, types, remaining);
      let chunk = Buffer.from(lines.join(''), 'utf8');
      let taken = lines.length;
      if (csvBytes + chunk.length > limits.maxBytes) {
        // Keep whole rows only, up to the byte budget.
        let budget = limits.maxBytes - csvBytes;
        taken = 0;
        for (const line of lines) {
          const size = Buffer.byteLength(line, 'utf8');
          if (size > budget) break;
          budget -= size;
          taken++;
        }
        chunk = Buffer.from(lines.slice(0, taken).join(''), 'utf8');
        truncated = true;
      }
      if (available > remaining) truncated = true;
      rows += taken;
      csvBytes += chunk.length;
      if (chunk.length > 0) yield chunk;
      options.onProgress?.({ rows, bytes: writer.bytesWritten });
      if (truncated) return;
    }
  }

  try {
    const source = Readable.from(csvChunks(), { objectMode: false });
    const streamOptions = options.signal ? { signal: options.signal } : {};
    if (options.format === 'csv.gz') await pipeline(source, createGzip({ level: 6 }), writer.stream, streamOptions);
    else await pipeline(source, writer.stream, streamOptions);
    const committed = await writer.commit({ rows, truncated });
    options.onProgress?.({ rows, bytes: committed.bytes });
    return { rows, truncated, committed };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
