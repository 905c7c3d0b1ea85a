/**
 * A HiveServer2 client that never decodes: for measuring how fast the stand-in serves, so the
 * benchmarks can tell which side of a measurement was the bottleneck. Binary SASL PLAIN only.
 */
import net from 'node:net';
import type { ListenerInfo } from '../../hive-stand-in/index.js';
import { MessageType, TType, ThriftReader, ThriftStruct, ThriftWriter, framed, finishMessage } from '../../hive-stand-in/thrift/binary-protocol.js';

/** Reads SASL messages and Thrift frames off a socket without decoding them. */
class RawConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => {
      this.chunks.push(data);
      this.buffered += data.length;
      this.waiting?.();
    });
    const fail = (error: Error) => {
      this.failure = error;
      this.waiting?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the stand-in closed the connection')));
  }

  static async open(listener: ListenerInfo, user: string, password: string): Promise<RawConnection> {
    const socket = net.createConnection(listener.port, listener.host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    const connection = new RawConnection(socket);
    const sasl = (status: number, payload: string) => {
      const body = Buffer.from(payload, 'utf8');
      const header = Buffer.alloc(5);
      header[0] = status;
      header.writeUInt32BE(body.length, 1);
      return Buffer.concat([header, body]);
    };
    socket.write(Buffer.concat([sasl(1, 'PLAIN'), sasl(2, `\0${user}\0${password}`)]));
    const answer = await connection.read(5);
    if (answer[0] !== 5) throw new Error(`SASL handshake failed with status ${answer[0]}`);
    await connection.read(answer.readUInt32BE(1));
    return connection;
  }

  /** Exactly `length` bytes, gathered from as many chunks as they arrived in. */
  async read(length: number): Promise<Buffer> {
    while (this.buffered < length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > length ? [all.subarray(length)] : [];
    this.buffered -= length;
    return all.subarray(0, length);
  }

  /** Sends a framed request and returns the reply frame's length, reading but not decoding it. */
  async roundTrip(request: Buffer): Promise<Buffer> {
    this.socket.write(request);
    const length = (await this.read(4)).readUInt32BE(0);
    return this.read(length);
  }

  close(): void {
    this.socket.destroy();
  }
}

function call(method: string, writeRequest: (w: ThriftWriter) => void): Buffer {
  const w = new ThriftWriter();
  const seqidOffset = w.messageHeader(method, MessageType.CALL, 1);
  w.field(TType.STRUCT, 1);
  writeRequest(w);
  w.stop(); // request struct
  w.stop(); // args struct
  return framed(finishMessage(w, seqidOffset));
}

function successOf(reply: Buffer): ThriftStruct {
  const reader = new ThriftReader(reply);
  reader.readMessageHeader();
  const success = reader.readStruct().fields.get(0);
  if (!(success instanceof ThriftStruct)) throw new Error('the reply has no success struct');
  const status = success.fields.get(1) as ThriftStruct;
  if (status.fields.get(1) !== 0) throw new Error(`call failed: ${String((status.fields.get(5) as Buffer | undefined)?.toString())}`);
  return success;
}

function writeHandle(w: ThriftWriter, handle: ThriftStruct): void {
  w.field(TType.STRUCT, 1);
  w.field(TType.STRING, 1);
  w.binary(handle.fields.get(1) as Buffer);
  w.field(TType.STRING, 2);
  w.binary(handle.fields.get(2) as Buffer);
  w.stop();
}

/**
 * The stand-in's FetchResults serving rate for `query`: a raw client sends pre-built requests and
 * only counts the reply frames, never decoding them. Rows from the number of full batches.
 */
export async function serveRate(
  listener: ListenerInfo,
  credentials: { user: string; password: string },
  query: string,
  batchRows: number,
  expectedRows: number,
): Promise<{ rowsPerSecond: number; bytes: number; seconds: number }> {
  const raw = await RawConnection.open(listener, credentials.user, credentials.password);
  try {
    const session = successOf(await raw.roundTrip(call('OpenSession', (w) => {
      w.field(TType.I32, 1);
      w.i32(9);
    })));
    const sessionId = (session.fields.get(3) as ThriftStruct).fields.get(1) as ThriftStruct;
    const executed = successOf(await raw.roundTrip(call('ExecuteStatement', (w) => {
      w.field(TType.STRUCT, 1);
      writeHandle(w, sessionId);
      w.stop();
      w.field(TType.STRING, 2);
      w.string(query);
    })));
    const operationId = (executed.fields.get(2) as ThriftStruct).fields.get(1) as ThriftStruct;
    const fetch = call('FetchResults', (w) => {
      w.field(TType.STRUCT, 1);
      writeHandle(w, operationId);
      w.field(TType.I32, 2);
      w.i32(0);
      w.field(TType.BOOL, 3);
      w.bool(true);
      w.stop();
      w.field(TType.I32, 2);
      w.i32(0); // FETCH_NEXT
      w.field(TType.I64, 3);
      w.i64(BigInt(batchRows));
    });
    let bytes = 0;
    let fullBatches = 0;
    const started = performance.now();
    for (;;) {
      const reply = await raw.roundTrip(fetch);
      bytes += reply.length + 4;
      // The final, empty row set is a few hundred bytes; a batch of rows is megabytes.
      if (reply.length < 2_048) break;
      fullBatches++;
    }
    const seconds = (performance.now() - started) / 1000;
    if (fullBatches !== Math.ceil(expectedRows / batchRows)) {
      throw new Error(`expected ${Math.ceil(expectedRows / batchRows)} batches for ${expectedRows} rows, counted ${fullBatches}`);
    }
    return { rowsPerSecond: expectedRows / seconds, bytes, seconds };
  } finally {
    raw.close();
  }
}

