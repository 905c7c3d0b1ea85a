/**
 * Which Parquet writer should the connector use? Every candidate the npm registry offers gets the
 * same input — 2,000,000 rows of `enos.measurement` (asset_id string, ts timestamp, point string,
 * value double with 2% NULLs, quality int with 1% NULLs) as ColumnBatches of 10,000 rows, exactly
 * what the Hive decoder hands the encoders (strings as UTF-8 byte ranges, TIMESTAMP as Hive's
 * text) — and must produce a file with the Hive types (ts as TIMESTAMP(MICROS) not adjusted to
 * UTC, quality INT32, value DOUBLE). Per candidate, in its own child process so peak memory is
 * its own:
 *  - rows/s: rows ÷ wall time from the first batch to the last byte written (the conversion from
 *    ColumnBatch into what the library takes is part of the cost: the connector has to pay it);
 *  - CPU s: user + system of the child over the same span (all its threads);
 *  - peak RSS delta: the child's peak RSS (VmHWM) minus its RSS just before the first batch,
 *    after its libraries are loaded and a GC;
 *  - file size and row groups;
 *  - correctness: DuckDB `read_parquet` reads the file back: row count, NULL counts, a checksum
 *    over every value as text, and the column types, against the same query on the source rows.
 * `today's CSV encoder` is there for scale only (csvRows on the same rows as hive-driver row
 * sets, encode time only): issue 13 wants Parquet export at ≥ 0.5× the CSV export rate.
 *
 * `npm run bench -- parquet [--rows=N] [--runs=N] [--only=name,name]`. The candidates that are
 * not the connector's dependencies are installed (pinned, below) into .local/bench/ on first run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CsvEncoder } from '../../app/src/formats/csv-encoder.js';
import { createParquetEncoder, type ParquetEncoderOptions } from '../../app/src/formats/parquet.js';
import { parseTimestamp } from '../../app/src/formats/parquet/hive-text.js';
import type { BytesColumn, ColumnBatch, FixedColumn } from '../../app/src/hive/column-batch.js';
import { TYPE_ID, type ResultColumn } from '../../app/src/hive/result-schema.js';
import { seedStatements } from '../hive-stand-in/engine/seed.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BENCH_DIR = path.join(ROOT, '.local/bench');
const CANDIDATE_DIR = path.join(BENCH_DIR, 'parquet-candidates');
const BATCH_ROWS = 10_000;
/** Row-group size for the candidates that count rows (the connector's encoder counts bytes). */
const GROUP_ROWS = 1_000_000;

/** Pinned: the figures in app/README.md were measured with these. */
const CANDIDATE_PACKAGES: Record<string, string> = {
  'parquet-wasm': '0.8.0',
  'apache-arrow': '21.2.0',
  'hyparquet-writer': '0.17.0',
  // 1.8.8 is the last release for Node 20 (1.8.9+ need Node ≥ 24.18).
  '@dsnp/parquetjs': '1.8.8',
};

const COLUMNS: ResultColumn[] = [
  { name: 'asset_id', type: 'string', typeId: TYPE_ID.STRING, nullable: true },
  { name: 'ts', type: 'timestamp', typeId: TYPE_ID.TIMESTAMP, nullable: true },
  { name: 'point', type: 'string', typeId: TYPE_ID.STRING, nullable: true },
  { name: 'value', type: 'double', typeId: TYPE_ID.DOUBLE, nullable: true },
  { name: 'quality', type: 'int', typeId: TYPE_ID.INT, nullable: true },
];
const EXPECTED_TYPES = ['VARCHAR', 'TIMESTAMP', 'VARCHAR', 'DOUBLE', 'INTEGER'];

/** Every value as text, NULL as ∅, hashed and summed: equal sums mean equal multisets of rows. */
const CHECKSUM_SQL = (from: string) => `
  SELECT count(*) AS rows, count(value) AS values, count(quality) AS qualities,
         sum(hash(concat_ws('|', asset_id, strftime(ts, '%Y-%m-%d %H:%M:%S.%f'), point,
                            coalesce(CAST(value AS VARCHAR), '∅'), coalesce(CAST(quality AS VARCHAR), '∅')))::HUGEINT)::VARCHAR AS checksum
  FROM ${from}`;

interface ChildResult {
  rows: number;
  seconds: number;
  cpuSeconds: number;
  baselineRssMb: number;
  peakRssDeltaMb: number;
  note?: string;
}

function option(name: string): string | undefined {
  const args = process.argv;
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

// ---------------------------------------------------------------------------------------------
// Input: enos.measurement as ColumnBatches, serialized once to a file every child streams from.
// ---------------------------------------------------------------------------------------------

const KIND_CODES = ['bool', 'int8', 'int16', 'int32', 'int64', 'double', 'string', 'binary'] as const;
const pad8 = (n: number) => (n + 7) & ~7;

function serializeBatch(batch: ColumnBatch): Buffer {
  const parts: Uint8Array[] = [];
  const push = (bytes: Uint8Array) => {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(bytes.byteLength, 0);
    parts.push(header, bytes, new Uint8Array(pad8(bytes.byteLength) - bytes.byteLength));
  };
  const head = Buffer.alloc(8);
  head.writeUInt32LE(batch.rowCount, 0);
  head.writeUInt32LE(batch.columns.length, 4);
  parts.push(head);
  for (const column of batch.columns) {
    const kind = Buffer.alloc(8);
    kind.writeUInt32LE(KIND_CODES.indexOf(column.kind), 0);
    parts.push(kind);
    if ('starts' in column) {
      push(column.data);
      push(new Uint8Array(column.starts.buffer, column.starts.byteOffset, column.starts.byteLength));
      push(new Uint8Array(column.lengths.buffer, column.lengths.byteOffset, column.lengths.byteLength));
    } else push(new Uint8Array(column.values.buffer, column.values.byteOffset, column.values.byteLength));
    push(column.nulls);
  }
  const body = Buffer.concat(parts);
  const frame = Buffer.alloc(8);
  frame.writeUInt32LE(body.length, 0);
  return Buffer.concat([frame, body]);
}

/**
 * Reads batches back one at a time into one reused buffer, as the Hive decoder reuses its frame
 * buffer (a batch is valid until the next one): the harness itself then holds one batch, not a
 * trail of garbage buffers that would count as the candidate's memory.
 */
function* readBatches(file: string): Generator<ColumnBatch> {
  const fd = openSync(file, 'r');
  const frame = Buffer.alloc(8);
  let buffer = new Uint8Array(0);
  let position = 0;
  try {
    while (readSync(fd, frame, 0, 8, position) === 8) {
      const length = frame.readUInt32LE(0);
      if (buffer.length < length) buffer = new Uint8Array(new ArrayBuffer(length * 2));
      const body = buffer.subarray(0, length);
      readSync(fd, body, 0, length, position + 8);
      position += 8 + length;
      const view = new DataView(body.buffer);
      let at = 8;
      const next = () => {
        const size = view.getUint32(at, true);
        const bytes = new Uint8Array(body.buffer, at + 8, size);
        at += 8 + pad8(size);
        return bytes;
      };
      const rowCount = view.getUint32(0, true);
      const columns: ColumnBatch['columns'] = [];
      for (let c = view.getUint32(4, true); c > 0; c--) {
        const kind = KIND_CODES[view.getUint32(at, true)]!;
        at += 8;
        if (kind === 'string' || kind === 'binary') {
          const data = next();
          const starts = next();
          const lengths = next();
          columns.push({ kind, data, starts: new Int32Array(starts.buffer, starts.byteOffset, rowCount), lengths: new Int32Array(lengths.buffer, lengths.byteOffset, rowCount), nulls: next() });
        } else {
          const raw = next();
          const Type = { bool: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array, double: Float64Array }[kind];
          columns.push({ kind, values: new Type(raw.buffer, raw.byteOffset, rowCount), nulls: next() } as FixedColumn);
        }
      }
      yield { rowCount, columns };
    }
  } finally {
    closeSync(fd);
  }
}

function bytesColumnOf(values: (string | null)[]): BytesColumn {
  const encoded = values.map((value) => Buffer.from(value ?? '', 'utf8'));
  const data = Buffer.concat(encoded);
  const starts = new Int32Array(values.length);
  const lengths = new Int32Array(values.length);
  const nulls = new Uint8Array(Math.ceil(values.length / 8));
  let at = 0;
  encoded.forEach((bytes, row) => {
    starts[row] = at;
    lengths[row] = bytes.length;
    at += bytes.length;
    if (values[row] === null) nulls[row >> 3]! |= 1 << (row & 7);
  });
  return { kind: 'string', data, starts, lengths, nulls };
}

function fixedColumnOf(kind: 'double' | 'int32', values: (number | null)[]): FixedColumn {
  const nulls = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((value, row) => {
    if (value === null) nulls[row >> 3]! |= 1 << (row & 7);
  });
  const typed = kind === 'double' ? Float64Array.from(values, (v) => v ?? 0) : Int32Array.from(values, (v) => v ?? 0);
  return { kind, values: typed, nulls };
}

async function prepareInput(db: DuckDBConnection, rows: number): Promise<string> {
  const file = path.join(BENCH_DIR, `parquet-input-${rows}.bin`);
  if (existsSync(file)) return file;
  process.stdout.write(`writing ${rows.toLocaleString('en')} measurement rows as ColumnBatches to ${path.relative(ROOT, file)} (once)...\n`);
  // Hive's TIMESTAMP text: `2024-01-01 00:00:00.123`, whole seconds without a fraction (Hive 3.1).
  const result = await db.stream('SELECT asset_id, CAST(ts AS VARCHAR) AS ts, point, value, quality FROM enos.measurement');
  const out = openSync(`${file}.partial`, 'w');
  let pending: unknown[][] = [[], [], [], [], []];
  const flush = () => {
    const [assetId, ts, point, value, quality] = pending as [(string | null)[], (string | null)[], (string | null)[], (number | null)[], (number | null)[]];
    if (assetId.length === 0) return;
    const batch: ColumnBatch = {
      rowCount: assetId.length,
      columns: [bytesColumnOf(assetId), bytesColumnOf(ts), bytesColumnOf(point), fixedColumnOf('double', value), fixedColumnOf('int32', quality)],
    };
    writeSync(out, serializeBatch(batch));
    pending = [[], [], [], [], []];
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const columns = chunk.getColumns();
    for (let row = 0; row < chunk.rowCount; row++) {
      for (let c = 0; c < 5; c++) pending[c]!.push(columns[c]![row] ?? null);
      if (pending[0]!.length === BATCH_ROWS) flush();
    }
  }
  flush();
  closeSync(out);
  execFileSync('mv', [`${file}.partial`, file]);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Candidates (run in the child). Each takes the batches and writes the file as it goes.
// ---------------------------------------------------------------------------------------------

type Write = (bytes: Uint8Array) => void;
/** What a candidate may add: a note, and for the CSV reference its encode-only time and CPU. */
interface CandidateOutcome {
  note?: string;
  seconds?: number;
  cpuSeconds?: number;
}
type Candidate = (batches: Iterable<ColumnBatch>, write: Write, output: string) => Promise<CandidateOutcome | void>;

const candidateRequire = () => createRequire(path.join(CANDIDATE_DIR, 'package.json'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the candidates are loaded at run time from .local/bench, without types
const importCandidate = async (specifier: string): Promise<any> => import(pathToFileURL(candidateRequire().resolve(specifier)).href);

const decoder = new TextDecoder();
const isNull = (nulls: Uint8Array, row: number) => ((nulls[row >> 3] ?? 0) & (1 << (row & 7))) !== 0;

/** The JS values a row-oriented or array-oriented library takes: strings, numbers, null. */
function jsStrings(column: BytesColumn, rows: number): (string | null)[] {
  const out = new Array<string | null>(rows);
  for (let r = 0; r < rows; r++) out[r] = isNull(column.nulls, r) ? null : decoder.decode(column.data.subarray(column.starts[r]!, column.starts[r]! + column.lengths[r]!));
  return out;
}

function jsNumbers(column: FixedColumn, rows: number): (number | null)[] {
  const out = new Array<number | null>(rows);
  for (let r = 0; r < rows; r++) out[r] = isNull(column.nulls, r) ? null : Number(column.values[r]);
  return out;
}

/** Hive's timestamp text → µs as a bigint (what the JS libraries take for TIMESTAMP(MICROS)). */
function micros(column: BytesColumn, rows: number): (bigint | null)[] {
  const words = { lo: 0, hi: 0 };
  const out = new Array<bigint | null>(rows);
  for (let r = 0; r < rows; r++) {
    if (isNull(column.nulls, r)) out[r] = null;
    else {
      parseTimestamp('ts', column.data, column.starts[r]!, column.lengths[r]!, words);
      out[r] = (BigInt(words.hi) << 32n) | BigInt(words.lo);
    }
  }
  return out;
}

function connector(options: ParquetEncoderOptions): Candidate {
  return async (batches, write) => {
    const encoder = createParquetEncoder(COLUMNS, options);
    for (const batch of batches) for (const bytes of encoder.push(batch)) write(bytes);
    for (const bytes of encoder.finish()) write(bytes);
  };
}

/** parquet-wasm (arrow-rs in WebAssembly): ColumnBatch → Arrow arrays → IPC → wasm, streamed. */
const parquetWasm: Candidate = async (batches, write) => {
  const arrow = await importCandidate('apache-arrow');
  const pw = await importCandidate('parquet-wasm/node');
  const fields = [
    new arrow.Field('asset_id', new arrow.Utf8(), true), new arrow.Field('ts', new arrow.TimestampMicrosecond(), true),
    new arrow.Field('point', new arrow.Utf8(), true), new arrow.Field('value', new arrow.Float64(), true), new arrow.Field('quality', new arrow.Int32(), true),
  ];
  const schema = new arrow.Schema(fields);
  /** Arrow validity is the inverse of Hive's null bitmap. */
  const validity = (nulls: Uint8Array, rows: number) => {
    const bits = new Uint8Array(Math.ceil(rows / 8));
    let nullCount = 0;
    for (let b = 0; b < bits.length; b++) bits[b] = ~(nulls[b] ?? 0) & 0xff;
    for (let r = 0; r < rows; r++) if (isNull(nulls, r)) nullCount++;
    return { bits, nullCount };
  };
  const utf8Data = (column: BytesColumn, rows: number) => {
    const offsets = new Int32Array(rows + 1);
    let total = 0;
    for (let r = 0; r < rows; r++) offsets[r + 1] = total += isNull(column.nulls, r) ? 0 : column.lengths[r]!;
    const data = new Uint8Array(total);
    for (let r = 0; r < rows; r++) if (!isNull(column.nulls, r)) data.set(column.data.subarray(column.starts[r]!, column.starts[r]! + column.lengths[r]!), offsets[r]!);
    const { bits, nullCount } = validity(column.nulls, rows);
    return arrow.makeData({ type: new arrow.Utf8(), length: rows, nullCount, nullBitmap: bits, valueOffsets: offsets, data });
  };
  const tsData = (column: BytesColumn, rows: number) => {
    const values = new BigInt64Array(rows);
    const words32 = new Int32Array(values.buffer);
    const words = { lo: 0, hi: 0 };
    for (let r = 0; r < rows; r++) {
      if (isNull(column.nulls, r)) continue;
      parseTimestamp('ts', column.data, column.starts[r]!, column.lengths[r]!, words);
      words32[2 * r] = words.lo | 0;
      words32[2 * r + 1] = words.hi;
    }
    const { bits, nullCount } = validity(column.nulls, rows);
    return arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: rows, nullCount, nullBitmap: bits, data: values });
  };
  const fixedData = (type: unknown, column: FixedColumn, rows: number) => {
    const { bits, nullCount } = validity(column.nulls, rows);
    return arrow.makeData({ type, length: rows, nullCount, nullBitmap: bits, data: column.values.slice(0, rows) });
  };
  const iterator = batches[Symbol.iterator]();
  const input = new ReadableStream({
    pull(controller) {
      const next = iterator.next();
      if (next.done) return controller.close();
      const batch = next.value;
      const rows = batch.rowCount;
      const [a, t, p, v, q] = batch.columns as [BytesColumn, BytesColumn, BytesColumn, FixedColumn, FixedColumn];
      const children = [utf8Data(a, rows), tsData(t, rows), utf8Data(p, rows), fixedData(new arrow.Float64(), v, rows), fixedData(new arrow.Int32(), q, rows)];
      const recordBatch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: rows, children }));
      const ipc = arrow.tableToIPC(new arrow.Table([recordBatch]), 'stream');
      for (const wasmBatch of pw.Table.fromIPCStream(ipc).recordBatches()) controller.enqueue(wasmBatch);
    },
  });
  const properties = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(GROUP_ROWS).build();
  const output: ReadableStream<Uint8Array> = await pw.transformParquetStream(input, properties);
  for await (const bytes of output as unknown as AsyncIterable<Uint8Array>) write(bytes);
  return { note: 'zstd (arrow-rs default level)' };
};

/** hyparquet-writer (pure JS): columns as JS arrays per row group; zstd through zstd-napi. */
const hyparquetWriter: Candidate = async (batches, write) => {
  const { ParquetWriter, ByteWriter } = await importCandidate('hyparquet-writer');
  const { compress } = await import('zstd-napi');
  const writer = new ByteWriter();
  const drain = () => {
    write(new Uint8Array(writer.buffer, 0, writer.index).slice());
    writer.index = 0;
  };
  writer.flush = drain;
  const schema = [
    { name: 'root', num_children: 5 },
    { name: 'asset_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'ts', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' }, repetition_type: 'OPTIONAL' },
    { name: 'point', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'value', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'quality', type: 'INT32', repetition_type: 'OPTIONAL' },
  ];
  const parquet = new ParquetWriter({ writer, schema, codec: 'ZSTD', compressors: { ZSTD: (bytes: Uint8Array) => compress(bytes, { compressionLevel: 1 }) } });
  let group: unknown[][] = [[], [], [], [], []];
  const flushGroup = () => {
    if (group[0]!.length === 0) return;
    const names = ['asset_id', 'ts', 'point', 'value', 'quality'];
    parquet.write({ columnData: names.map((name, i) => ({ name, data: group[i] })), rowGroupSize: group[0]!.length });
    group = [[], [], [], [], []];
    drain();
  };
  for (const batch of batches) {
    const rows = batch.rowCount;
    const [a, t, p, v, q] = batch.columns as [BytesColumn, BytesColumn, BytesColumn, FixedColumn, FixedColumn];
    const converted = [jsStrings(a, rows), micros(t, rows), jsStrings(p, rows), jsNumbers(v, rows), jsNumbers(q, rows)];
    converted.forEach((values, i) => {
      const target = group[i]!;
      for (const value of values) target.push(value);
    });
    if (group[0]!.length >= GROUP_ROWS) flushGroup();
  }
  flushGroup();
  parquet.finish();
  drain();
  return { note: 'zstd level 1 via zstd-napi' };
};

/** @dsnp/parquetjs (pure JS, row objects). No zstd in its codecs: snappy, its fastest. */
const dsnpParquetjs: Candidate = async (batches, write) => {
  const parquet = await importCandidate('@dsnp/parquetjs');
  const { ParquetSchema, ParquetWriter } = parquet.default ?? parquet;
  const schema = new ParquetSchema({
    asset_id: { type: 'UTF8', optional: true, compression: 'SNAPPY' },
    ts: { type: 'TIMESTAMP_MICROS', optional: true, compression: 'SNAPPY' },
    point: { type: 'UTF8', optional: true, compression: 'SNAPPY' },
    value: { type: 'DOUBLE', optional: true, compression: 'SNAPPY' },
    quality: { type: 'INT32', optional: true, compression: 'SNAPPY' },
  });
  const sink = { write: (chunk: Uint8Array, callback?: (error?: Error | null) => void) => { write(new Uint8Array(chunk)); callback?.(null); return true; }, close: (callback?: () => void) => callback?.(), end: (callback?: () => void) => callback?.() };
  const writer = await ParquetWriter.openStream(schema, sink, { rowGroupSize: GROUP_ROWS });
  for (const batch of batches) {
    const rows = batch.rowCount;
    const [a, t, p, v, q] = batch.columns as [BytesColumn, BytesColumn, BytesColumn, FixedColumn, FixedColumn];
    const asset = jsStrings(a, rows);
    const ts = micros(t, rows);
    const point = jsStrings(p, rows);
    const value = jsNumbers(v, rows);
    const quality = jsNumbers(q, rows);
    for (let r = 0; r < rows; r++) {
      const row: Record<string, unknown> = {};
      if (asset[r] !== null) row.asset_id = asset[r];
      if (ts[r] !== null) row.ts = ts[r];
      if (point[r] !== null) row.point = point[r];
      if (value[r] !== null) row.value = value[r];
      if (quality[r] !== null) row.quality = quality[r];
      await writer.appendRow(row);
    }
  }
  await writer.close();
  return { note: 'snappy (it has no zstd codec)' };
};

/** DuckDB's writer through @duckdb/node-api: data chunks into a table, then COPY … TO parquet. */
const duckdb: Candidate = async (batches, _write, output) => {
  const { DuckDBInstance: Instance, DuckDBDataChunk, VARCHAR, TIMESTAMP, DOUBLE, INTEGER, DuckDBTimestampValue } = await import('@duckdb/node-api');
  const instance = await Instance.create(':memory:');
  const db = await instance.connect();
  await db.run('CREATE TABLE m (asset_id VARCHAR, ts TIMESTAMP, point VARCHAR, value DOUBLE, quality INTEGER)');
  const appender = await db.createAppender('m');
  const types = [VARCHAR, TIMESTAMP, VARCHAR, DOUBLE, INTEGER];
  const CHUNK = 2048; // DuckDB's vector size
  for (const batch of batches) {
    const rows = batch.rowCount;
    const [a, t, p, v, q] = batch.columns as [BytesColumn, BytesColumn, BytesColumn, FixedColumn, FixedColumn];
    const values = [jsStrings(a, rows), micros(t, rows).map((m) => (m === null ? null : new DuckDBTimestampValue(m))), jsStrings(p, rows), jsNumbers(v, rows), jsNumbers(q, rows)];
    for (let from = 0; from < rows; from += CHUNK) {
      const to = Math.min(rows, from + CHUNK);
      const chunk = DuckDBDataChunk.create(types, to - from);
      chunk.setColumns(values.map((column) => column.slice(from, to)));
      appender.appendDataChunk(chunk);
    }
  }
  appender.closeSync();
  await db.run(`COPY m TO '${output}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${GROUP_ROWS})`);
  db.closeSync();
  return { note: 'zstd; holds the whole result in DuckDB, then COPY writes the file' };
};

/** For scale: the connector's CSV encoder over the same ColumnBatches (encode time only). */
const csvToday: Candidate = async (batches, write) => {
  let encodeNs = 0n;
  let encodeCpuUs = 0;
  const encoder = new CsvEncoder(COLUMNS, COLUMNS.map((column) => column.name));
  write(Buffer.concat(encoder.start()));
  for (const batch of batches) {
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const { chunks } = encoder.encode(batch);
    const used = process.cpuUsage(cpu);
    encodeCpuUs += used.user + used.system;
    encodeNs += process.hrtime.bigint() - start;
    for (const chunk of chunks) write(chunk);
  }
  return { note: 'CsvEncoder alone (encode time and CPU only)', seconds: Number(encodeNs) / 1e9, cpuSeconds: encodeCpuUs / 1e6 };
};

/** The harness alone: reading the input batches costs every candidate this much memory and time. */
const inputOnly: Candidate = async (batches) => {
  for (const batch of batches) void batch;
};

/** `--row-group-mb=N` sets the connector encoder's rowGroupBytes (default: the encoder's own). */
const rowGroupMb = Number(option('row-group-mb') ?? 0);
const rowGroup = rowGroupMb > 0 ? { rowGroupBytes: rowGroupMb * 2 ** 20 } : {};

const CANDIDATES: Record<string, { run: Candidate; parquet: boolean; label: string }> = {
  'input-only': { run: inputOnly, parquet: false, label: 'input only (the harness reading batches)' },
  'connector-zstd1': { run: connector({ ...rowGroup }), parquet: true, label: 'connector encoder, zstd 1 (default)' },
  'connector-zstd3': { run: connector({ compressionLevel: 3, ...rowGroup }), parquet: true, label: 'connector encoder, zstd 3' },
  'parquet-wasm': { run: parquetWasm, parquet: true, label: `parquet-wasm ${CANDIDATE_PACKAGES['parquet-wasm']} + apache-arrow ${CANDIDATE_PACKAGES['apache-arrow']}` },
  'hyparquet-writer': { run: hyparquetWriter, parquet: true, label: `hyparquet-writer ${CANDIDATE_PACKAGES['hyparquet-writer']}` },
  'dsnp-parquetjs': { run: dsnpParquetjs, parquet: true, label: `@dsnp/parquetjs ${CANDIDATE_PACKAGES['@dsnp/parquetjs']}` },
  duckdb: { run: duckdb, parquet: true, label: 'DuckDB COPY via @duckdb/node-api' },
  'csv-today': { run: csvToday, parquet: false, label: "the connector's CSV encoder (for scale)" },
};

const rssBytes = () => process.memoryUsage.rss();
/**
 * Peak RSS of this process from /proc (VmHWM, per address space). Not getrusage's maxRSS: Linux
 * carries that across fork + exec, so a child would report its parent's size.
 */
const peakRssBytes = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;

async function childMain(name: string, input: string, output: string): Promise<void> {
  const candidate = CANDIDATES[name];
  if (!candidate) throw new Error(`unknown candidate ${name}`);
  const fd = openSync(output, 'w');
  const write: Write = (bytes) => {
    writeSync(fd, bytes);
  };
  // Load the library before the baseline, so its code is not counted as the writer's memory.
  if (name === 'parquet-wasm') {
    await importCandidate('apache-arrow');
    await importCandidate('parquet-wasm/node');
  } else if (name === 'hyparquet-writer') await importCandidate('hyparquet-writer');
  else if (name === 'dsnp-parquetjs') await importCandidate('@dsnp/parquetjs');
  else if (name === 'duckdb') await (await DuckDBInstance.create(':memory:')).connect();
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = rssBytes();
  let rows = 0;
  const batches = (function* () {
    for (const batch of readBatches(input)) {
      rows += batch.rowCount;
      yield batch;
    }
  })();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const outcome = (await candidate.run(batches, write, output)) ?? {};
  closeSync(fd);
  const seconds = outcome.seconds ?? Number(process.hrtime.bigint() - start) / 1e9;
  const note = outcome.note;
  const used = process.cpuUsage(cpu);
  const peak = peakRssBytes();
  const result: ChildResult = {
    rows, seconds, cpuSeconds: outcome.cpuSeconds ?? (used.user + used.system) / 1e6, baselineRssMb: baseline / 2 ** 20, peakRssDeltaMb: Math.max(0, peak - baseline) / 2 ** 20,
    ...(note ? { note } : {}),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent: prepare, run each candidate in a child, check each file with DuckDB, print.
// ---------------------------------------------------------------------------------------------

function installCandidates(): void {
  const manifest = JSON.stringify({ name: 'parquet-bench-candidates', private: true, dependencies: CANDIDATE_PACKAGES }, null, 2);
  const manifestFile = path.join(CANDIDATE_DIR, 'package.json');
  if (existsSync(manifestFile) && readFileSync(manifestFile, 'utf8') === manifest && existsSync(path.join(CANDIDATE_DIR, 'node_modules'))) return;
  mkdirSync(CANDIDATE_DIR, { recursive: true });
  writeFileSync(manifestFile, manifest);
  process.stdout.write(`installing the candidates (${Object.entries(CANDIDATE_PACKAGES).map(([n, v]) => `${n}@${v}`).join(', ')}) into ${path.relative(ROOT, CANDIDATE_DIR)}...\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: CANDIDATE_DIR, stdio: 'inherit' });
}

function runChild(name: string, input: string, output: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', name, input, output, ...(rowGroupMb > 0 ? [`--row-group-mb=${rowGroupMb}`] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as ChildResult);
      else reject(new Error(`${name} failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

interface Readback {
  ok: boolean;
  detail: string;
  rowGroups: number;
}

async function readBack(db: DuckDBConnection, file: string, expected: Record<string, unknown>): Promise<Readback> {
  try {
    const from = `read_parquet('${file}')`;
    const [got] = (await db.runAndReadAll(CHECKSUM_SQL(from))).getRowObjectsJson();
    const types = (await db.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJson().map((row) => String(row.column_type));
    const [meta] = (await db.runAndReadAll(`SELECT count(DISTINCT row_group_id) AS groups FROM parquet_metadata('${file}')`)).getRowObjectsJson();
    const problems: string[] = [];
    for (const key of ['rows', 'values', 'qualities', 'checksum']) if (String(got?.[key]) !== String(expected[key])) problems.push(`${key} ${got?.[key]} ≠ ${expected[key]}`);
    if (types.join(',') !== EXPECTED_TYPES.join(',')) problems.push(`types ${types.join(',')}`);
    return { ok: problems.length === 0, detail: problems.length === 0 ? 'ok' : problems.join('; '), rowGroups: Number(meta?.groups ?? 0) };
  } catch (error) {
    return { ok: false, detail: `unreadable: ${(error as Error).message.split('\n')[0]}`, rowGroups: 0 };
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;


export default async function run(): Promise<void> {
  const rows = Number(option('rows') ?? 2_000_000);
  const runs = Number(option('runs') ?? 1);
  const only = option('only')?.split(',');
  const names = Object.keys(CANDIDATES).filter((name) => !only || only.includes(name));
  mkdirSync(BENCH_DIR, { recursive: true });
  installCandidates();

  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  for (const statement of seedStatements(rows)) await db.run(statement);
  const input = await prepareInput(db, rows);
  const [expected] = (await db.runAndReadAll(CHECKSUM_SQL('enos.measurement'))).getRowObjectsJson();

  process.stdout.write(`\n${rows.toLocaleString('en')} rows of enos.measurement, batches of ${BATCH_ROWS.toLocaleString('en')}, ${runs} run(s) each (median), each candidate in its own process:\n\n`);
  const header = ['candidate', 'rows/s', 'CPU s', 'rows/CPU-s', 'peak RSS Δ MB', 'file MB', 'bytes/row', 'row groups', 'read back by DuckDB', 'note'];
  const table: string[][] = [];
  const lines: string[] = [];
  for (const name of names) {
    const { parquet, label } = CANDIDATES[name]!;
    const output = path.join(BENCH_DIR, `parquet-out-${name}.${parquet ? 'parquet' : 'csv'}`);
    const results: ChildResult[] = [];
    let failure: string | undefined;
    for (let i = 0; i < runs && !failure; i++) {
      try {
        results.push(await runChild(name, input, output));
      } catch (error) {
        failure = (error as Error).message;
      }
    }
    if (failure || results.length === 0) {
      table.push([label, '–', '–', '–', '–', '–', '–', '–', 'failed', failure ?? '']);
      lines.push(`candidate=${name} failed=${JSON.stringify(failure)}`);
      continue;
    }
    const rate = median(results.map((r) => r.rows / r.seconds));
    const cpu = median(results.map((r) => r.cpuSeconds));
    const peak = median(results.map((r) => r.peakRssDeltaMb));
    const size = statSync(output).size;
    const check = parquet ? await readBack(db, output, expected!) : { ok: true, detail: 'n/a', rowGroups: 0 };
    table.push([label, Math.round(rate).toLocaleString('en'), cpu.toFixed(2), Math.round(rows / cpu).toLocaleString('en'), peak.toFixed(0), (size / 1e6).toFixed(1), (size / rows).toFixed(2), parquet ? String(check.rowGroups) : '–', check.detail, results[0]!.note ?? '']);
    lines.push(`candidate=${name} rows_per_s=${Math.round(rate)} cpu_s=${cpu.toFixed(2)} rows_per_cpu_s=${Math.round(rows / cpu)} peak_rss_delta_mb=${peak.toFixed(0)} file_bytes=${size} bytes_per_row=${(size / rows).toFixed(2)} row_groups=${check.rowGroups} correct=${check.ok}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const format = (row: string[]) => row.map((cell, i) => (i >= 1 && i <= 7 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(format).join('\n')}\n\n${lines.join('\n')}\n`);
  const ours = table.find((row) => row[0] === CANDIDATES['connector-zstd1']!.label);
  const csv = table.find((row) => row[0] === CANDIDATES['csv-today']!.label);
  const number = (cell: string) => Number(cell.replaceAll(',', ''));
  if (ours && csv && ours[1] !== '–' && csv[1] !== '–') {
    process.stdout.write(
      `parquet_vs_csv_encoder_ratio=${(number(ours[1]!) / number(csv[1]!)).toFixed(2)} parquet_vs_csv_encoder_cpu_ratio=${(number(ours[3]!) / number(csv[3]!)).toFixed(2)}` +
        " (connector zstd 1, encode + write, against today's CSV encoder, encode only, same rows: wall-clock rows/s and rows per CPU-second)\n",
    );
  }
  db.closeSync();
}

if (process.argv[2] === '--child') {
  await childMain(process.argv[3]!, process.argv[4]!, process.argv[5]!);
}
