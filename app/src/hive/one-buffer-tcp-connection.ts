/**
 * hive-driver's binary TCP connection (its TcpConnection, for PLAIN, Kerberos and NOSASL without
 * TLS), with one difference: the socket reads into one buffer of its own (net's `onread`)
 * instead of a new 64 KiB Buffer per read.
 *
 * Why: every read of a FetchResults reply was a fresh malloc'd Buffer, copied into its frame at
 * once (fast-fetch.ts) and then left for the main thread's garbage collector, which runs rarely
 * while the work is in the encode workers. At 10M rows of Parquet glibc's main arena held 17–30
 * MB of them at any moment (malloc_stats during `npm run bench -- export --only=big:parquet`);
 * with one reused buffer it stays at its idle 3 MB, and those Parquet exports ran ~10% faster.
 *
 * The contract that makes reuse safe: a 'data' listener must take what it needs from the Buffer
 * before it returns. thrift's receivers do (FastFramedTransport and TBufferedTransport copy each
 * read into their own buffer). SASL steps need not — hive-driver's Kerberos provider reads its
 * message after an await — so until authentication ends, listeners get a copy of each read.
 *
 * TLS keeps hive-driver's own TcpConnection (hive-transport.ts): its reads come out of the TLS
 * layer, not from a socket buffer of ours.
 */
import net from 'node:net';
import thrift from 'thrift';
import type { DriverAuth } from './hive-transport.js';

type SocketListener = Parameters<net.Socket['addListener']>[1];

/** What one read may bring: net's own default read size. */
const READ_BUFFER_BYTES = 64 * 1024;

/** hive-driver's TcpTransport (ITransport) over a socket that reads into one buffer. */
class OneBufferTcpTransport {
  private socket: net.Socket | undefined;
  private options: Record<string, unknown> = {};
  /** Whether listeners get a view of the shared buffer (after authentication) or a copy. */
  private lending = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** From now on each 'data' Buffer is valid only while its listeners run. */
  lendReads(): void {
    this.lending = true;
  }

  getTransport(): net.Socket | undefined {
    return this.socket;
  }

  setOptions(option: string, value: unknown): void {
    this.options = { ...this.options, [option]: value };
  }

  getOptions(): Record<string, unknown> {
    return this.options;
  }

  connect(): void {
    const buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    const socket = net.createConnection({
      host: this.host,
      port: this.port,
      onread: {
        buffer,
        callback: (bytes) => {
          const data = buffer.subarray(0, bytes);
          socket.emit('data', this.lending ? data : Buffer.from(data));
          return true; // keep reading
        },
      },
    });
    this.socket = socket;
  }

  addListener(event: string, listener: SocketListener): void {
    this.socket!.addListener(event, listener);
  }

  removeListener(event: string, listener: SocketListener): void {
    this.socket!.removeListener(event, listener);
  }

  write(data: Buffer | string): void {
    this.socket!.write(data);
  }

  end(): void {
    this.socket!.end();
  }

  emit(event: string): void {
    this.socket!.emit(event);
  }
}

/** A hive-driver connection provider (IConnectionProvider), as TcpConnection builds it. */
export class OneBufferTcpConnection {
  private connection: thrift.Connection | undefined;

  async connect(options: { host: string; port: number; options?: Record<string, unknown> }, authProvider: DriverAuth): Promise<this> {
    const transport = new OneBufferTcpTransport(options.host, options.port);
    const authenticated = (await authProvider.authenticate(transport)) as OneBufferTcpTransport;
    transport.lendReads();
    const connection = new thrift.Connection(authenticated.getTransport()!, {
      transport: thrift.TFramedTransport,
      protocol: thrift.TBinaryProtocol,
      ...options.options,
      ...authenticated.getOptions(),
    } as thrift.ConnectOptions);
    Object.assign(connection, { host: options.host, port: options.port });
    // thrift's Connection marks itself connected on the socket's 'connect', long past by now.
    authenticated.emit('connect');
    this.connection = connection;
    return this;
  }

  getConnection(): thrift.Connection | undefined {
    return this.connection;
  }

  isConnected(): boolean {
    return this.connection?.connected ?? false;
  }
}
