/**
 * The two places where thrift 0.20 spends an export's time, replaced inside hive-driver's own
 * connection (hive-driver keeps owning sessions, operations and auth):
 *
 *  - FastFramedTransport: thrift's TFramedTransport.receiver pushes every received byte into a JS
 *    array and copies it out again per frame (`framed_transport.js`); this one keeps the socket's
 *    Buffers and joins them once per frame. Plugged in through hive-driver's TcpConnection option
 *    `transport` (binary SASL: PLAIN and Kerberos).
 *  - installFastFetch: the generated `recv_FetchResults` builds a JS value per cell and a
 *    node-int64 per BIGINT; this reads the reply straight from the received bytes with
 *    rowset-decoder.ts, so `results` is a ColumnBatch. It works on every transport (framed,
 *    buffered NOSASL, HTTP), since each hands the protocol a transport over one Buffer.
 */
import thrift from 'thrift';
// The very module thrift's connections test `instanceof` against (bundled once with them).
import InputBufferUnderrunError from 'thrift/lib/nodejs/lib/thrift/input_buffer_underrun_error.js';
import type { ColumnBatch } from './column-batch.js';
import { RowSetDecodeError, decodeFetchResultsResult, type ReplyStatus } from './rowset-decoder.js';


/** TFramedTransport with a receiver that does not copy bytes one by one. */
export class FastFramedTransport extends thrift.TFramedTransport {
  static override receiver(callback: (transport: thrift.TFramedTransport, seqid: number) => void, seqid: number): (data: Buffer) => void {
    let chunks: Buffer[] = [];
    let length = 0;
    const take = (bytes: number): Buffer => {
      const joined = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      const taken = joined.subarray(0, bytes);
      const rest = joined.subarray(bytes);
      chunks = rest.length > 0 ? [rest] : [];
      length = rest.length;
      return taken;
    };
    const frameSize = (): number => {
      const first = chunks[0]!;
      if (first.length >= 4) return first.readInt32BE(0);
      return Buffer.concat(chunks, length).readInt32BE(0);
    };
    return (data: Buffer) => {
      chunks.push(data);
      length += data.length;
      while (length >= 4) {
        const size = frameSize();
        if (length < 4 + size) return;
        const frame = take(4 + size).subarray(4);
        callback(new FastFramedTransport(frame), seqid);
      }
    };
  }
}

/** What thrift's transports expose of the bytes a protocol reads. */
interface ReadableTransport {
  inBuf: Buffer;
  /** TFramedTransport */
  readPos?: number;
  /** TBufferedTransport */
  readCursor?: number;
  writeCursor?: number;
}

interface ThriftClientLike {
  _reqs: Record<number, (error: unknown, result?: unknown) => void>;
  recv_FetchResults(input: { trans: ReadableTransport }, mtype: number, rseqid: number): void;
}

/** What hive-driver receives as a FetchResults response. */
export interface FastFetchResponse {
  status: ReplyStatus;
  hasMoreRows: boolean;
  results: ColumnBatch | undefined;
}

const REPLY = 2;

/**
 * Replaces the client's FetchResults decoding. EXCEPTION replies still go the generated way.
 * A reply that cannot be decoded fails the call with the reason (never a shorter result).
 */
export function installFastFetch(client: unknown): void {
  const target = client as ThriftClientLike;
  const generated = target.recv_FetchResults.bind(target);
  target.recv_FetchResults = function (input, mtype, rseqid) {
    if (mtype !== REPLY) return generated(input, mtype, rseqid);
    const trans = input.trans;
    const framed = trans.readPos !== undefined;
    const start = framed ? trans.readPos! : trans.readCursor!;
    const end = framed ? trans.inBuf.length : trans.writeCursor!;
    const callback = target._reqs[rseqid];
    delete target._reqs[rseqid];
    let response: FastFetchResponse;
    try {
      const { reply, next } = decodeFetchResultsResult(trans.inBuf, start, end);
      if (framed) trans.readPos = next;
      else trans.readCursor = next;
      response = { status: reply.status, hasMoreRows: reply.hasMoreRows, results: reply.batch };
    } catch (error) {
      if (!framed && error instanceof RowSetDecodeError && error.truncated) {
        // A stream transport (NOSASL) has only part of the message yet: thrift rolls back and
        // calls again with more bytes.
        if (callback) target._reqs[rseqid] = callback;
        throw new InputBufferUnderrunError();
      }
      // Skip the rest of the message so the connection's read loop does not misread it.
      if (framed) trans.readPos = end;
      else trans.readCursor = end;
      callback?.(error);
      return;
    }
    callback?.(null, response);
  };
}
