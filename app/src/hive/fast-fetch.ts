/**
 * The two places where thrift 0.20 spends an export's time, replaced inside hive-driver's own
 * connection (hive-driver keeps owning sessions, operations and auth):
 *
 *  - FastFramedTransport: thrift's TFramedTransport.receiver pushes every received byte into a JS
 *    array and copies it out again per frame (`framed_transport.js`); this one keeps the socket's
 *    Buffers and joins them once per frame. Plugged in through hive-driver's TcpConnection option
 *    `transport` (binary SASL: PLAIN and Kerberos).
 *  - installFastFetch: the generated `recv_FetchResults` builds a JS value per cell and a
 *    node-int64 per BIGINT; this reads only the reply's headers and hands its bytes on, so
 *    `results` is a WireRowSet that the export decodes (rowset-decoder.ts) off the main thread.
 *    It works on every transport (framed, buffered NOSASL, HTTP), since each hands the protocol
 *    a transport over one Buffer.
 *  - WholeMessageTransport: the HTTP transport's receiver without its extra copy.
 */
import thrift from 'thrift';
// The very module thrift's connections test `instanceof` against (bundled once with them).
import InputBufferUnderrunError from 'thrift/lib/nodejs/lib/thrift/input_buffer_underrun_error.js';
import type { WireRowSet } from './column-batch.js';
import { RowSetDecodeError, decodeWireRowSet, fetchResultsEnd, peekFetchResults, type ReplyStatus } from './rowset-decoder.js';


/** Larger than any FetchResults reply of a sane fetch size; a bigger size is a broken stream, not a frame to allocate. */
const MAX_FRAME_BYTES = 1024 ** 3;

/**
 * TFramedTransport with a receiver that does not copy bytes one by one: each frame is gathered
 * into a buffer of its own, exactly its size, so a FetchResults reply in it can move to an
 * encode worker without a copy (`ownsFrame`).
 */
export class FastFramedTransport extends thrift.TFramedTransport {
  readonly ownsFrame = true;

  static override receiver(callback: (transport: thrift.TFramedTransport, seqid: number) => void, seqid: number): (data: Buffer) => void {
    const header = Buffer.alloc(4);
    let headerBytes = 0;
    let frame: Buffer | undefined;
    let filled = 0;
    let broken = false;
    return (data: Buffer) => {
      // After a frame size no server sends, the stream cannot be read further: the call waiting
      // for it ends at its deadline (hive-connection.ts) and the export fails.
      if (broken) return;
      let pos = 0;
      while (pos < data.length) {
        if (!frame) {
          const take = Math.min(4 - headerBytes, data.length - pos);
          data.copy(header, headerBytes, pos, pos + take);
          headerBytes += take;
          pos += take;
          if (headerBytes < 4) return;
          const size = header.readInt32BE(0);
          if (size < 0 || size > MAX_FRAME_BYTES) {
            broken = true;
            return;
          }
          frame = Buffer.allocUnsafeSlow(size);
          filled = 0;
          headerBytes = 0;
        }
        const take = Math.min(frame.length - filled, data.length - pos);
        data.copy(frame, filled, pos, pos + take);
        filled += take;
        pos += take;
        if (filled === frame.length) {
          const complete = frame;
          frame = undefined;
          callback(new FastFramedTransport(complete), seqid);
        }
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
  /** WholeMessageTransport: the bytes are exactly one reply. */
  wholeMessage?: boolean;
  /** FastFramedTransport: inBuf is this frame's alone, so a reply in it can be handed on as is. */
  ownsFrame?: boolean;
}

interface ThriftClientLike {
  _reqs: Record<number, (error: unknown, result?: unknown) => void>;
  recv_FetchResults(input: { trans: ReadableTransport }, mtype: number, rseqid: number): void;
}

/** What hive-driver receives as a FetchResults response. */
export interface FastFetchResponse {
  status: ReplyStatus;
  hasMoreRows: boolean;
  results: WireRowSet | undefined;
}

const REPLY = 2;

/**
 * thrift's TBufferedTransport for HTTP, where each response body is one whole reply: the body
 * is read where it lies (the stock receiver copies it into a growing buffer first), and the
 * fetch path knows where the reply ends without walking it.
 */
export class WholeMessageTransport extends thrift.TBufferedTransport {
  readonly wholeMessage = true;

  static override receiver(callback: (transport: thrift.TBufferedTransport, seqid: number) => void, seqid: number): (data: Buffer) => void {
    return (data: Buffer) => {
      const reader = new WholeMessageTransport() as unknown as ReadableTransport & thrift.TBufferedTransport;
      reader.inBuf = data;
      reader.readCursor = 0;
      reader.writeCursor = data.length;
      callback(reader, seqid);
    };
  }
}

/**
 * Replaces the client's FetchResults decoding: the reply's status and row count are read from
 * its headers (peekFetchResults), and its bytes are handed on undecoded as a WireRowSet, to be
 * decoded where they are encoded. EXCEPTION replies still go the generated way. A reply that
 * cannot be read fails the call with the reason (never a shorter result).
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
      const header = peekFetchResults(trans.inBuf, start, end);
      // A frame or an HTTP body is one reply; on a stream (NOSASL) the reply's end is found by walking it.
      const next = framed || trans.wholeMessage ? end : fetchResultsEnd(trans.inBuf, start, end);
      if (framed) trans.readPos = next;
      else trans.readCursor = next;
      let results: WireRowSet | undefined;
      if (header.rowSet) {
        // Bytes the row set owns, so they can move to a worker: the frame itself when it is this
        // reply's alone, else a copy (the other transports reuse their buffers).
        let reply: Uint8Array;
        if (trans.ownsFrame) reply = trans.inBuf.subarray(start, next);
        else {
          reply = new Uint8Array(next - start);
          reply.set(trans.inBuf.subarray(start, next));
        }
        results = { reply, ...header.rowSet };
        // An empty first column ends the result: make sure the others are empty too.
        if (results.rowCount === 0 && results.columnCount > 0) decodeWireRowSet(results, results.columnCount);
      }
      response = { status: header.status, hasMoreRows: header.hasMoreRows, results };
    } catch (error) {
      if (!framed && !trans.wholeMessage && error instanceof RowSetDecodeError && error.truncated) {
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
