/**
 * One export's file encoding, as an encode worker runs it (or the main thread, with
 * EXPORT_WORKERS=0): each row set decoded from the bytes Hive sent (rowset-decoder.ts) and
 * encoded into the export's file format at once, while its bytes are at hand.
 */
import type { WireRowSet } from '../hive/column-batch.js';
import type { ResultColumn } from '../hive/result-schema.js';
import { decodeWireRowSet } from '../hive/rowset-decoder.js';
import { CsvEncoder } from '../formats/csv-encoder.js';
import type { BatchEncoder, EncodedChunk } from '../formats/encoder.js';

/** A file format the encoders write (compression, as in csv.gz, is the pipeline's). */
export type FileFormat = 'csv';

/** Everything a worker needs to set up an export's encoder: plain data, so it can be posted. */
export interface EncodingSpec {
  format: FileFormat;
  columns: ResultColumn[];
}

function createBatchEncoder(spec: EncodingSpec): BatchEncoder {
  switch (spec.format) {
    case 'csv':
      return new CsvEncoder(spec.columns, spec.columns.map((column) => column.name));
  }
}

export class RowSetEncoding {
  private readonly encoder: BatchEncoder;

  constructor(private readonly spec: EncodingSpec) {
    this.encoder = createBatchEncoder(spec);
  }

  start(): Buffer[] {
    return this.encoder.start();
  }

  encode(rowSet: WireRowSet, maxRows: number, maxBytes: number): EncodedChunk {
    return this.encoder.encode(decodeWireRowSet(rowSet, this.spec.columns.length), maxRows, maxBytes);
  }

  finish(): Buffer[] {
    return this.encoder.finish();
  }
}
