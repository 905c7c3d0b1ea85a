/**
 * The server side of SASL GSSAPI (RFC 4752) on HiveServer2's binary port with
 * hive.server2.authentication=KERBEROS: Thrift's TSaslServerTransport loop around Java's
 * GssKrb5Server, with Hadoop's SaslRpcServer.SaslGssCallbackHandler deciding authorization
 * (HadoopThriftAuthBridge.Server.createSaslServerTransportFactory). Fed the SASL messages after
 * START, one at a time:
 *  1. the client's AP-REQ → gss_accept_sec_context → OK with the AP-REP;
 *  2. the client's empty reply (GssKrb5Server insists it is empty) → OK with the wrapped
 *     security-layer offer: the QOP bit of hive.server2.thrift.sasl.qop (1 = auth, the default;
 *     2 = auth-int, 4 = auth-conf) and the 3-byte maximum buffer size (65536);
 *  3. the client's wrapped choice → unwrap; the QOP it picked must be one offered, and the
 *     authorization id (bytes after the first four) must be empty or equal the authenticated
 *     principal (SaslGssCallbackHandler: authid.equals(authzid)) → COMPLETE.
 * A failure answers BAD with GssKrb5Server's message and closes the connection, as
 * TSaslTransport.sendAndThrowMessage does. The session user is the principal's short name.
 */
import type { GssAcceptor, GssContext } from './gss-acceptor.js';
import { encodeSasl, SaslStatus, type HandshakeStep, type SaslMessage } from './sasl-plain.js';

/** hive.server2.thrift.sasl.qop → the QOP bit GssKrb5Server offers (auth 1, auth-int 2, auth-conf 4). */
export const QOP_BITS = { auth: 1, 'auth-int': 2, 'auth-conf': 4 } as const;
export type SaslQop = keyof typeof QOP_BITS;
const MAX_BUFFER = 65_536;

export class GssapiSaslHandshake {
  private stage: 'start' | 'context' | 'offer' | 'choice' = 'start';
  private context: GssContext | undefined;
  private peer = '';
  private shortName = '';

  constructor(
    private readonly acceptor: GssAcceptor,
    /** hive.server2.thrift.sasl.qop; only `auth` leaves the frames unwrapped, which is all the stand-in serves. */
    private readonly qop: SaslQop = 'auth',
  ) {}

  async step(message: SaslMessage): Promise<HandshakeStep> {
    try {
      return await this.next(message);
    } catch (error) {
      this.dispose();
      return { kind: 'rejected', reason: (error as Error).message, reply: encodeSasl(SaslStatus.BAD, (error as Error).message) };
    }
  }

  dispose(): void {
    this.context?.dispose();
    this.context = undefined;
  }

  private async next(message: SaslMessage): Promise<HandshakeStep> {
    if (this.stage === 'start') {
      if (message.status !== SaslStatus.START) throw new Error(`Expecting START status, received ${message.status}`);
      const mechanism = message.payload.toString('utf8');
      if (mechanism !== 'GSSAPI') throw new Error(`Unsupported mechanism type ${mechanism}`);
      this.context = this.acceptor.context();
      this.stage = 'context';
      return { kind: 'continue' };
    }
    if (message.status !== SaslStatus.OK && message.status !== SaslStatus.COMPLETE) throw new Error(`Expected COMPLETE or OK, got ${message.status}`);
    const context = this.context!;
    if (this.stage === 'context') {
      let result: Awaited<ReturnType<GssContext['step']>>;
      try {
        result = await context.step(message.payload);
      } catch (error) {
        throw new Error(`GSS initiate failed: ${(error as Error).message}`);
      }
      if (!result.accepted) return { kind: 'continue', reply: encodeSasl(SaslStatus.OK, result.output) };
      this.peer = result.accepted.principal;
      this.shortName = result.accepted.shortName;
      this.stage = 'offer';
      // Without a reply token (no mutual auth) GssKrb5Server goes straight on to its offer.
      if (result.output.length > 0) return { kind: 'continue', reply: encodeSasl(SaslStatus.OK, result.output) };
      return this.offer();
    }
    if (this.stage === 'offer') {
      if (message.payload.length > 0) throw new Error('Handshake expecting no response data from server');
      return this.offer();
    }
    const choice = await context.unwrap(message.payload);
    if (choice.length < 4) throw new Error('Final handshake response from client is too short');
    const qop = choice[0]!;
    if ((qop & QOP_BITS[this.qop]) === 0) throw new Error(`Client selected unsupported protection: ${qop}`);
    if (this.qop !== 'auth') throw new Error(`the stand-in cannot wrap frames for QOP ${this.qop}`);
    const authzid = choice.subarray(4).toString('utf8') || this.peer;
    if (authzid !== this.peer) throw new Error(`${this.peer} is not authorized to connect as ${authzid}`);
    return { kind: 'authenticated', user: this.shortName, reply: encodeSasl(SaslStatus.COMPLETE) };
  }

  private async offer(): Promise<HandshakeStep> {
    const offer = Buffer.alloc(4);
    offer.writeUInt32BE(MAX_BUFFER);
    offer[0] = QOP_BITS[this.qop];
    this.stage = 'choice';
    return { kind: 'continue', reply: encodeSasl(SaslStatus.OK, await this.context!.wrap(offer)) };
  }
}
