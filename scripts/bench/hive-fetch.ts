/**
 * Is the HiveServer2 stand-in fast enough not to be what the export benchmarks measure? In one
 * run, against one stand-in child process (its own core) seeded with 2,000,000 measurement rows:
 *  (a) the stand-in's FetchResults serving rate: a raw client over binary SASL PLAIN that sends a
 *      pre-built FetchResults request and only counts the reply frames' bytes, never decoding;
 *  (b) hive-driver's decode rate: its fetch loop over the same query (8 mixed columns) and the
 *      same batch size;
 * and the ratio a/b. `npm run bench hive-fetch` or `npx tsx scripts/bench/hive-fetch.ts`.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import hive from 'hive-driver';
import { parseReadyLine, startChildService, tsxArgs } from '../lib/child-service.js';
import { MessageType, TType, ThriftReader, ThriftStruct, ThriftWriter, framed, finishMessage } from '../hive-stand-in/thrift/binary-protocol.js';
import type { ListenerInfo } from '../hive-stand-in/index.js';

const SEED_ROWS = 2_000_000;
const BATCH_ROWS = 10_000;
const USER = 'bench';
const PASSWORD = 'bench-password';
/** string, timestamp, string, double, int, decimal, date, boolean. */
const QUERY =
  'SELECT asset_id, ts, point, value, quality, CAST(value AS DECIMAL(12, 3)) AS value_dec, CAST(ts AS DATE) AS day, quality = 0 AS good FROM enos.measurement';

interface Ready {
  listeners: ListenerInfo[];
  adminUrl: string;
}

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

  static async open(listener: ListenerInfo): Promise<RawConnection> {
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
    socket.write(Buffer.concat([sasl(1, 'PLAIN'), sasl(2, `\0${USER}\0${PASSWORD}`)]));
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

/** (a) FetchResults replies per second, counted in bytes and frames; rows from the frame count. */
async function serveRate(listener: ListenerInfo, expectedRows: number): Promise<{ rowsPerSecond: number; bytes: number; seconds: number }> {
  const raw = await RawConnection.open(listener);
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
      w.string(QUERY);
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
      w.i64(BigInt(BATCH_ROWS));
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
    if (fullBatches !== Math.ceil(expectedRows / BATCH_ROWS)) {
      throw new Error(`expected ${Math.ceil(expectedRows / BATCH_ROWS)} batches for ${expectedRows} rows, counted ${fullBatches}`);
    }
    return { rowsPerSecond: expectedRows / seconds, bytes, seconds };
  } finally {
    raw.close();
  }
}

/** (b) hive-driver's fetch loop: decode every batch into row set objects, count the rows. */
async function decodeRate(listener: ListenerInfo): Promise<{ rowsPerSecond: number; rows: number; seconds: number }> {
  const { TCLIService, TCLIService_types } = hive.thrift;
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  client.on('error', () => undefined);
  await client.connect({ host: listener.host, port: listener.port }, new hive.connections.TcpConnection(), new hive.auth.PlainTcpAuthentication({ username: USER, password: PASSWORD }));
  try {
    const session = await client.openSession({ client_protocol: TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 });
    const operation = await session.executeStatement(QUERY);
    await new hive.HiveUtils(TCLIService_types).waitUntilReady(operation, false, () => undefined);
    operation.setMaxRows(BATCH_ROWS);
    let rows = 0;
    const started = performance.now();
    do {
      await operation.fetch();
      for (const rowSet of operation.getData()) rows += (rowSet.columns?.[0]?.stringVal?.values.length ?? 0);
      operation.flush();
    } while (operation.hasMoreRows());
    const seconds = (performance.now() - started) / 1000;
    await operation.close();
    await session.close();
    return { rowsPerSecond: rows / seconds, rows, seconds };
  } finally {
    client.close();
  }
}

export default async function run(): Promise<void> {
  const standIn = await startChildService<Ready>({
    name: 'hive-stand-in',
    command: process.execPath,
    args: tsxArgs(fileURLToPath(new URL('../hive-stand-in/main.ts', import.meta.url)), '--port', '0', '--user', `${USER}:${PASSWORD}`, '--seed-rows', String(SEED_ROWS), '--admin-port', '0'),
    readyWhen: (line) => parseReadyLine<Ready>(line),
    timeoutMs: 300_000,
  });
  try {
    const listener = standIn.ready.listeners[0]!;
    const counted = (await (await fetch(`${standIn.ready.adminUrl}/query`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM enos.measurement' }) })).json()) as { rows: { n: number | string }[] };
    const rows = Number(counted.rows[0]!.n);
    await serveRate(listener, rows); // warm-up: JIT on both sides
    const served = await serveRate(listener, rows);
    const decoded = await decodeRate(listener);
    const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(58)} ${text}\n`);
    line(`query: 8 mixed columns, ${rows.toLocaleString('en')} rows, batches of ${BATCH_ROWS.toLocaleString('en')}`, '');
    line('(a) stand-in FetchResults serving rate (raw client)', `${served.rowsPerSecond.toFixed(0).padStart(9)} rows/s  ${(served.bytes / served.seconds / 1e6).toFixed(1)} MB/s`);
    line('(b) hive-driver fetch loop decode rate (binary PLAIN)', `${decoded.rowsPerSecond.toFixed(0).padStart(9)} rows/s`);
    line('a/b: how many times faster the stand-in serves than hive-driver decodes', `${(served.rowsPerSecond / decoded.rowsPerSecond).toFixed(1)}×`);
  } finally {
    await standIn.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}
