/**
 * Row sets as bytes on the wire, written by thrift's own generated code (TCLIService_types) and
 * protocols: what HiveServer2 would send for a given set of columns. Tests feed these bytes to the
 * fast decoder and compare with what the generated decoder reads from the same bytes.
 */
import hive from 'hive-driver';
import thrift from 'thrift';
import type { ColumnBatch, WireRowSet } from '../../app/src/hive/column-batch.js';
import type { ThriftColumn, ThriftRowSet } from './reference-csv.js';
import { decodeFetchResultsResult, peekFetchResults } from '../../app/src/hive/rowset-decoder.js';

const { TCLIService_types: T } = hive.thrift;

/** A column as tests write it: i64 values as bigint or {buffer, offset}, like thrift decodes them. */
export type TestColumn = ThriftColumn;

function int64Of(value: unknown): InstanceType<typeof thrift.Int64> {
  if (typeof value === 'bigint') {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64BE(value);
    return new thrift.Int64(buffer);
  }
  if (typeof value === 'number') return new thrift.Int64(value);
  const { buffer, offset = 0 } = value as { buffer: Buffer; offset?: number };
  return new thrift.Int64(buffer.subarray(offset, offset + 8));
}

/** The generated TColumn for a test column. */
export function thriftColumn(column: TestColumn): unknown {
  const [member, data] = Object.entries(column).find(([, value]) => value) as [string, { values: unknown[]; nulls: Buffer }];
  const values = member === 'i64Val' ? data.values.map(int64Of) : data.values;
  const typeName = { boolVal: 'TBoolColumn', byteVal: 'TByteColumn', i16Val: 'TI16Column', i32Val: 'TI32Column', i64Val: 'TI64Column', doubleVal: 'TDoubleColumn', stringVal: 'TStringColumn', binaryVal: 'TBinaryColumn' }[member]!;
  const Column = (T as Record<string, new (args: unknown) => unknown>)[typeName]!;
  return new T.TColumn({ [member]: new Column({ values, nulls: data.nulls }) });
}

function capture(write: (protocol: thrift.TProtocol) => void, Protocol: new (transport: thrift.TTransport) => thrift.TProtocol = thrift.TBinaryProtocol): Buffer {
  const chunks: Buffer[] = [];
  const transport = new thrift.TBufferedTransport(undefined, (bytes?: Buffer) => {
    if (bytes) chunks.push(bytes);
  });
  write(new Protocol(transport));
  transport.flush();
  return Buffer.concat(chunks);
}

/** TColumns back to back in the compact protocol: a serialized result's `binaryColumns`. */
export function compactColumns(columns: readonly TestColumn[]): Buffer {
  return capture((protocol) => {
    for (const column of columns) (thriftColumn(column) as { write(p: thrift.TProtocol): void }).write(protocol);
  }, thrift.TCompactProtocol);
}

/** `FetchResults_result { 0: TFetchResultsResp }` in the binary protocol, as after the message header. */
export function fetchResultBytes(rowSet: { columns?: readonly TestColumn[]; binaryColumns?: Buffer; columnCount?: number }, hasMoreRows = false): Buffer {
  const results = new T.TRowSet({
    startRowOffset: new thrift.Int64(0),
    rows: [],
    ...(rowSet.columns ? { columns: rowSet.columns.map(thriftColumn) } : {}),
    ...(rowSet.binaryColumns ? { binaryColumns: rowSet.binaryColumns, columnCount: rowSet.columnCount } : {}),
  });
  const response = new T.TFetchResultsResp({ status: new T.TStatus({ statusCode: 0 }), hasMoreRows, results });
  return capture((protocol) => {
    protocol.writeStructBegin('FetchResults_result');
    protocol.writeFieldBegin('success', thrift.Thrift.Type.STRUCT, 0);
    (response as { write(p: thrift.TProtocol): void }).write(protocol);
    protocol.writeFieldEnd();
    protocol.writeFieldStop();
    protocol.writeStructEnd();
  });
}

/** What thrift's generated decoder reads from those bytes: the reference. */
export function generatedRowSet(bytes: Buffer): ThriftRowSet {
  const protocol = new thrift.TBinaryProtocol(new thrift.TFramedTransport(bytes));
  protocol.readStructBegin();
  protocol.readFieldBegin(); // 0: success
  const response = new T.TFetchResultsResp();
  (response as { read(p: thrift.TProtocol): void }).read(protocol);
  return (response as unknown as { results: ThriftRowSet }).results;
}

/** What the fast decoder reads from those bytes. */
export function fastBatch(bytes: Buffer, width?: number): ColumnBatch {
  const { reply } = decodeFetchResultsResult(bytes, 0, bytes.length, width);
  return reply.batch!;
}

/** A row set as the fast-fetch path hands it on: the reply's bytes (a copy it owns) and its header counts. */
export function wireRowSet(columns: readonly TestColumn[]): WireRowSet {
  const bytes = fetchResultBytes({ columns });
  const header = peekFetchResults(bytes, 0, bytes.length).rowSet!;
  return { reply: new Uint8Array(bytes), ...header };
}
