/**
 * Zero-copy views of a DuckDB result chunk: each column's vector data and validity mask as byte
 * arrays over DuckDB's own memory (through the bindings that @duckdb/node-api is built on), so
 * the encoder reads fixed-width values in bulk instead of one JS object per cell. The views are
 * only valid while the chunk is alive, which is why the chunk object is kept here with them.
 */
import bindings from '@duckdb/node-bindings';
import type { DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api';
import type { ColumnPlan } from './column-plan.js';

export interface RawColumn {
  /** Vector data, `width` bytes per row; empty for 'text' columns. */
  readonly data: Uint8Array;
  readonly view: DataView;
  /** DuckDB validity bits (1 = valid, LSB first), or null when every row is valid. */
  readonly validity: Uint8Array | null;
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
    const vector = (this.vectors[column] ??= this.chunk.getColumnVector(column));
    const value = vector.getItem(row);
    return value === null ? null : String(value);
  }

  /** Bytes of a string_t longer than 12 bytes, which DuckDB keeps behind a pointer. */
  static pointedBytes(column: RawColumn, offset: number, length: number): Uint8Array {
    return bindings.get_data_from_pointer(column.data.buffer as ArrayBuffer, column.data.byteOffset + offset + 8, length);
  }
}
