/**
 * HiveServer2's binary transport on a TCP port (over TLS when the listener has a TLS identity:
 * hive.server2.use.SSL), in one of its modes:
 *  - PLAIN: the SASL PLAIN handshake, then every message in a frame with a 4-byte length (SASL
 *    with auth-only QOP frames exactly like Thrift's TFramedTransport);
 *  - KERBEROS: the SASL GSSAPI handshake (sasl-gssapi.ts), then the same frames;
 *  - NOSASL: bare Thrift binary messages back to back, as TBufferedTransport sends them.
 * Calls on one connection are answered one at a time, in order, as HiveServer2's
 * thread-per-connection server does. When the connection goes, its sessions are closed and their
 * queries cancelled.
 */
import net from 'node:net';
import tls from 'node:tls';
import { framed, unframed, type EncodedMessage } from '../thrift/binary-protocol.js';
import { ConnectionScope, type CallOutcome, type CliService } from '../service/cli-service.js';
import { dispatch, messageLength } from './calls.js';
import { listen, type RunningListener } from './listen.js';
import type { GssAcceptor } from './gss-acceptor.js';
import { GssapiSaslHandshake, type SaslQop } from './sasl-gssapi.js';
import { PlainSaslHandshake, readSasl, type HandshakeStep, type SaslMessage } from './sasl-plain.js';
import type { TlsIdentity } from './tls-identity.js';

export interface BinaryListenerOptions {
  auth: 'PLAIN' | 'NOSASL' | 'KERBEROS';
  host: string;
  port: number;
  users: ReadonlyMap<string, string>;
  maxMessageBytes: number;
  service: CliService;
  log: (line: string) => void;
  tls?: TlsIdentity;
  /** KERBEROS only: accepts the connector's Kerberos tokens for the service principal. */
  gss?: GssAcceptor;
  /** KERBEROS only: hive.server2.thrift.sasl.qop. @default 'auth' */
  saslQop?: SaslQop;
}

interface SaslHandshake {
  step(message: SaslMessage): HandshakeStep | Promise<HandshakeStep>;
  dispose?(): void;
}

class BinaryConnection {
  private pending: Buffer = Buffer.alloc(0);
  private readonly queue: Buffer[] = [];
  private busy = false;
  private phase: 'sasl' | 'framed' | 'unframed';
  private user: string | undefined;
  private readonly handshake: SaslHandshake;
  /** A SASL step is being worked out (GSSAPI is asynchronous); input waits until it is sent. */
  private stepping = false;
  private readonly scope = new ConnectionScope();

  constructor(
    private readonly socket: net.Socket,
    private readonly options: BinaryListenerOptions,
  ) {
    this.phase = options.auth === 'NOSASL' ? 'unframed' : 'sasl';
    this.handshake = options.auth === 'KERBEROS' ? new GssapiSaslHandshake(options.gss!, options.saslQop) : new PlainSaslHandshake(options.users);
    socket.setNoDelay(true);
    socket.on('data', (data) => this.receive(data));
    socket.on('error', () => undefined); // resets from clients are normal; 'close' follows
    socket.on('close', () => {
      this.handshake.dispose?.();
      options.service.closeScope(this.scope);
    });
  }

  private fail(reason: string): void {
    this.options.log(`closing connection from ${this.socket.remoteAddress}:${this.socket.remotePort}: ${reason}`);
    this.socket.destroy();
  }

  private receive(data: Buffer): void {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    try {
      this.split();
    } catch (error) {
      this.fail((error as Error).message);
    }
  }

  /** Cuts complete SASL messages or Thrift messages off the front of the input. */
  private split(): void {
    for (;;) {
      if (this.socket.destroyed || this.stepping) return;
      if (this.phase === 'sasl') {
        const read = readSasl(this.pending);
        if (!read) return;
        this.pending = this.pending.subarray(read.length);
        const step = this.handshake.step(read.message);
        if (step instanceof Promise) {
          this.stepping = true;
          void step.then((done) => {
            this.stepping = false;
            if (this.apply(done)) this.receive(Buffer.alloc(0));
          });
          return;
        }
        if (!this.apply(step)) return;
      } else if (this.phase === 'framed') {
        if (this.pending.length < 4) return;
        const length = this.pending.readUInt32BE(0);
        if (length > this.options.maxMessageBytes) throw new Error(`frame of ${length} bytes exceeds the ${this.options.maxMessageBytes} byte limit`);
        if (this.pending.length < 4 + length) return;
        this.enqueue(this.pending.subarray(4, 4 + length));
        this.pending = this.pending.subarray(4 + length);
      } else {
        const length = messageLength(this.pending, this.options.maxMessageBytes);
        if (length === undefined) return;
        this.enqueue(this.pending.subarray(0, length));
        this.pending = this.pending.subarray(length);
      }
    }
  }

  /** Sends a SASL step's reply; false when the handshake failed and the connection is closing. */
  private apply(step: HandshakeStep): boolean {
    if (this.socket.destroyed) return false;
    if (step.kind === 'rejected') {
      this.options.log(`SASL ${this.options.auth} rejected: ${step.reason}`);
      this.socket.end(step.reply);
      return false;
    }
    if (step.reply) this.socket.write(step.reply);
    if (step.kind === 'authenticated') {
      this.user = step.user;
      this.phase = 'framed';
    }
    return true;
  }

  private enqueue(message: Buffer): void {
    this.queue.push(message);
    if (!this.busy) void this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.socket.destroyed) {
        const message = this.queue.shift()!;
        const outcome = await dispatch(this.options.service, message, { user: this.user, scope: this.scope }, this.options.maxMessageBytes);
        this.send(outcome);
      }
    } catch (error) {
      this.fail(`bad request: ${(error as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private bytes(message: EncodedMessage): Buffer {
    return this.phase === 'framed' ? framed(message) : unframed(message);
  }

  private send(outcome: CallOutcome): void {
    if (this.socket.destroyed) return;
    const bytes = this.bytes(outcome.message);
    if (outcome.kind === 'reply') {
      this.socket.write(bytes);
      return;
    }
    // A dropped connection mid-fetch: half the reply, then a reset.
    this.options.log('fault: dropping the connection in the middle of a FetchResults reply');
    // A TLS socket cannot send a TCP reset; closing it mid-reply is the nearest thing.
    const drop = () => (this.options.tls ? this.socket.destroy() : this.socket.resetAndDestroy());
    this.socket.write(bytes.subarray(0, Math.floor(bytes.length / 2)), drop);
  }
}

export function startBinaryListener(options: BinaryListenerOptions): Promise<RunningListener> {
  if (options.auth === 'KERBEROS' && !options.gss) throw new Error('a binary listener with KERBEROS auth needs a GSSAPI acceptor');
  const accept = (socket: net.Socket) => new BinaryConnection(socket, options);
  const server = options.tls ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, accept) : net.createServer(accept);
  // A client that fails certificate verification hangs up mid-handshake; nothing to do but log.
  server.on('tlsClientError', (error: Error) => options.log(`TLS handshake failed: ${error.message}`));
  return listen(server, options.host, options.port);
}
