/**
 * Zero-copy views of a DuckDB result chunk: each column's vector data and validity mask as byte
 * arrays over DuckDB's own memory (through the bindings that @duckdb/node-api is built on), so
 * the encoder reads fixed-width values in bulk instead of one JS object per cell. The views are
 * only valid while the chunk is alive, which is why the chunk object is kept here with them.
 */
import bindings from '@duckdb/node-bindings';
import type { DuckDBDataChunk, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import type { ColumnPlan } from './column-plan.js';

export interface RawColumn {
  /** Vector data, `width` bytes per row; empty for 'text' columns. */
  readonly data: Uint8Array;
  readonly view: DataView;
  /** DuckDB validity bits (1 = valid, LSB first), or null when every row is valid. */
  readonly validity: Uint8Array | null;
  /** The chunk's long strings, read on first use; see LongStrings. */
  longStrings?: LongStrings;
}

const EMPTY = new Uint8Array(0);

export class RawChunk {
  readonly rowCount: number;
  readonly columns: RawColumn[];
  private readonly vectors: (DuckDBVector | undefined)[] = [];

  constructor(
    private readonly chunk: DuckDBDataChunk,
    plans: readonly ColumnPlan[],
  ) {
    this.rowCount = chunk.rowCount;
    this.columns = plans.map((plan, i) => {
      if (plan.width === 0) return { data: EMPTY, view: new DataView(EMPTY.buffer), validity: null };
      const vector = bindings.data_chunk_get_vector(chunk.chunk, i);
      const data = bindings.vector_get_data(vector, this.rowCount * plan.width);
      // Null when the vector has no mask (all rows valid); the typings do not say so.
      const validity = bindings.vector_get_validity(vector, Math.ceil(this.rowCount / 64) * 8) as Uint8Array | null;
      return { data, view: new DataView(data.buffer, data.byteOffset, data.byteLength), validity };
    });
  }

  /** DuckDB's text form of a value, or null: the general path for types without a fast one. */
  text(column: number, row: number): string | null {
    const value = this.value(column, row);
    return value === null ? null : String(value);
  }

  /** The value as @duckdb/node-api reads it (lists, maps, structs … as objects). */
  value(column: number, row: number): DuckDBValue {
    const vector = (this.vectors[column] ??= this.chunk.getColumnVector(column));
    return vector.getItem(row);
  }

  /**
   * Bytes of the string_t at `offset` of a VARCHAR/BLOB column, longer than 12 bytes, which
   * DuckDB keeps behind a pointer. A native read per string would cost more than everything else
   * the encoder does, so the first call reads the whole chunk's long strings in a few native
   * calls and slices them; see LongStrings.
   */
  longString(column: RawColumn, offset: number, length: number): Uint8Array {
    const strings = (column.longStrings ??= LongStrings.read(column, this.rowCount));
    return strings.bytes(offset >> 4, length);
  }
}

/**
 * DuckDB writes the strings of a vector one after another into a few heap blocks, so sorted by
 * address they form long runs with small gaps. Each run — consecutive strings less than a page
 * (4 KiB) apart — is copied with one native read. Reading a gap is safe: a byte less than a page
 * away from two readable bytes lies in one of their two pages, which are mapped.
 */
class LongStrings {
  private constructor(
    private readonly runs: Uint8Array[],
    private readonly runOf: Int32Array,
    private readonly offsetInRun: Float64Array,
  ) {}

  static read(column: RawColumn, rowCount: number): LongStrings {
    const { view, validity } = column;
    const rows: number[] = [];
    const pointers = new Float64Array(rowCount);
    for (let row = 0; row < rowCount; row++) {
      if (validity && (validity[row >> 3]! & (1 << (row & 7))) === 0) continue;
      if (view.getUint32(row * 16, true) <= 12) continue;
      // Addresses are 48-bit, so a double holds them exactly.
      pointers[row] = view.getUint32(row * 16 + 12, true) * 4_294_967_296 + view.getUint32(row * 16 + 8, true);
      rows.push(row);
    }
    // Usually already in address order, as DuckDB wrote them; sorting is for the other cases.
    let sorted = true;
    for (let i = 1; i < rows.length && sorted; i++) sorted = pointers[rows[i]!]! >= pointers[rows[i - 1]!]!;
    if (!sorted) rows.sort((a, b) => pointers[a]! - pointers[b]!);
    const runs: Uint8Array[] = [];
    const runOf = new Int32Array(rowCount).fill(-1);
    const offsetInRun = new Float64Array(rowCount);
    const scratch = new ArrayBuffer(8);
    const scratchView = new DataView(scratch);
    let first = 0;
    while (first < rows.length) {
      const start = pointers[rows[first]!]!;
      let end = start + view.getUint32(rows[first]! * 16, true);
      let last = first;
      while (last + 1 < rows.length) {
        const next = rows[last + 1]!;
        const nextStart = pointers[next]!;
        if (nextStart - end >= PAGE) break;
        end = Math.max(end, nextStart + view.getUint32(next * 16, true));
        last++;
      }
      scratchView.setUint32(0, start % 4_294_967_296, true);
      scratchView.setUint32(4, Math.floor(start / 4_294_967_296), true);
      runs.push(bindings.get_data_from_pointer(scratch, 0, end - start));
      for (let i = first; i <= last; i++) {
        runOf[rows[i]!] = runs.length - 1;
        offsetInRun[rows[i]!] = pointers[rows[i]!]! - start;
      }
      first = last + 1;
    }
    return new LongStrings(runs, runOf, offsetInRun);
  }

  bytes(row: number, length: number): Uint8Array {
    const offset = this.offsetInRun[row]!;
    return this.runs[this.runOf[row]!]!.subarray(offset, offset + length);
  }
}

/** The smallest page size of the platforms DuckDB runs on. */
const PAGE = 4096;
