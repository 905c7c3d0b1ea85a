/**
 * Page compression. Both codecs are native and synchronous, so a page is compressed where it is
 * built, with no copy through a stream; see app/README.md ("Parquet writer") for the measurement
 * that chose the default.
 */
import { compressSync as snappyCompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';

export type ParquetCompression = 'zstd' | 'snappy';

export interface PageCodec {
  /** parquet.thrift CompressionCodec. */
  id: number;
  compress(page: Uint8Array): Uint8Array;
}

/** zstd level 1 by default: see the README for level 1 against 3 on the measurement table. */
export const DEFAULT_ZSTD_LEVEL = 1;

export function pageCodec(name: ParquetCompression, zstdLevel = DEFAULT_ZSTD_LEVEL): PageCodec {
  switch (name) {
    case 'zstd': {
      const parameters = { compressionLevel: zstdLevel };
      return { id: 6, compress: (page) => zstdCompress(page, parameters) };
    }
    case 'snappy':
      return { id: 1, compress: (page) => snappyCompress(page) };
    default:
      throw new Error(`Parquet compression ${JSON.stringify(name)} is not one of zstd, snappy`);
  }
}
