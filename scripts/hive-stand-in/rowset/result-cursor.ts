/**
 * Reads a streaming DuckDB result chunk by chunk and hands out batches of exactly `maxRows` rows
 * (fewer at the end) as slices of those chunks. Taking a batch does not consume it: `peek` then
 * `commit`, so a batch encoded ahead of time for one maxRows can be dropped when the client asks
 * for another, and the same rows are served again.
 */
import type { DuckDBResult } from '@duckdb/node-api';
import type { ColumnPlan } from './column-plan.js';
import { RawChunk } from './raw-chunk.js';
import type { Slice } from './rowset-encoder.js';

export interface Batch {
  slices: Slice[];
  rows: number;
  /** Row offset of the batch's first row in the whole result. */
  startRow: number;
  /** Where the next batch starts: chunk index in the queue and row within it. */
  readonly endChunk: number;
  readonly endRow: number;
}

export class ResultCursor {
  private readonly chunks: RawChunk[] = [];
  private head = 0;
  private exhausted = false;
  private served = 0;

  constructor(
    private readonly result: DuckDBResult,
    private readonly plans: readonly ColumnPlan[],
  ) {}

  /** Rows handed out by committed batches. */
  get rowsServed(): number {
    return this.served;
  }

  /** The next batch of at most `maxRows` rows, without consuming it. */
  async peek(maxRows: number): Promise<Batch> {
    const slices: Slice[] = [];
    let rows = 0;
    let index = 0;
    let row = this.head;
    while (rows < maxRows) {
      if (index === this.chunks.length) {
        if (this.exhausted || !(await this.fetchChunk())) break;
      }
      const chunk = this.chunks[index]!;
      const take = Math.min(chunk.rowCount - row, maxRows - rows);
      slices.push({ chunk, start: row, end: row + take });
      rows += take;
      row += take;
      if (row === chunk.rowCount) {
        index++;
        row = 0;
      }
    }
    return { slices, rows, startRow: this.served, endChunk: index, endRow: row };
  }

  /** Consumes a batch returned by the latest `peek`. */
  commit(batch: Batch): void {
    this.chunks.splice(0, batch.endChunk);
    this.head = batch.endRow;
    this.served += batch.rows;
  }

  private async fetchChunk(): Promise<boolean> {
    const chunk = await this.result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) {
      this.exhausted = true;
      return false;
    }
    this.chunks.push(new RawChunk(chunk, this.plans));
    return true;
  }
}
