/**
 * The client side of the SASL GSSAPI mechanism (RFC 4752) for hive-driver's
 * KerberosTcpAuthentication, which frames the SASL messages and asks this object for each
 * reply (its IKerberosAuthProcess contract). In place of hive-driver's MongoKerberosAuthProcess,
 * which speaks the callback API of `kerberos` 1.x/2.x (7.x returns promises only) and sends
 * `anonymous` as the authorization id unless told otherwise.
 *
 * The exchange HiveServer2's server side runs (Java's GssKrb5Server behind Thrift's
 * TSaslServerTransport):
 *  1. our AP-REQ → the server's AP-REP (mutual authentication);
 *  2. an empty reply → the server's security-layer offer, wrapped: one byte of QOP bits and a
 *     3-byte maximum buffer size;
 *  3. we pick "auth" (no security layer: Thrift frames stay unwrapped, which is all hive-driver
 *     can do; TLS is the way to protect the data) and send it wrapped, with our principal as
 *     the authorization id: Hadoop's SaslGssCallbackHandler only authorizes an id equal to the
 *     authenticated principal.
 * A server that insists on integrity or privacy (hive.server2.thrift.sasl.qop=auth-int or
 * auth-conf) is refused here with that reason rather than failing later on wrapped frames.
 */
import type { KerberosClient } from 'kerberos';
import { loadKerberos, serviceName } from './gssapi.js';

const QOP_AUTH = 1;

type Callback<T> = (error: Error | null, value?: T) => void;

export class GssapiSaslProcess {
  private client: KerberosClient | undefined;

  constructor(
    private readonly options: { service: string; host: string; principal: string },
  ) {}

  /** hive-driver's hook: create the GSSAPI context (the password/username it passes are unused). */
  init(_options: unknown, cb: Callback<KerberosClient>): void {
    void (async () => {
      const kerberos = await loadKerberos();
      this.client = await kerberos.initializeClient(serviceName(this.options.service, this.options.host), {
        principal: this.options.principal,
        mechOID: kerberos.GSS_MECH_OID_KRB5,
        gssFlag: kerberos.GSS_C_MUTUAL_FLAG | kerberos.GSS_C_SEQUENCE_FLAG,
      });
      return this.client;
    })().then(
      (client) => cb(null, client),
      (error: unknown) => cb(error as Error),
    );
  }

  /** hive-driver's hook: the server's payload (base64) in, our next payload (base64) out. */
  transition(payload: string, cb: Callback<string>): void {
    this.next(payload).then(
      (reply) => cb(null, reply),
      (error: unknown) => cb(error as Error),
    );
  }

  getQOP(): number {
    return QOP_AUTH;
  }

  private async next(payload: string): Promise<string> {
    const client = this.client;
    if (!client) throw new Error('the GSSAPI context was not initialised');
    if (!client.contextComplete) return (await client.step(payload)) ?? '';
    const offer = Buffer.from(await client.unwrap(payload), 'base64');
    if (offer.length !== 4) throw new Error(`the server's SASL security-layer offer has ${offer.length} bytes, expected 4`);
    if ((offer[0]! & QOP_AUTH) === 0) {
      throw new Error(`HiveServer2 requires a SASL security layer (QOP bits ${offer[0]}: hive.server2.thrift.sasl.qop is auth-int or auth-conf), which the connector does not support; use auth with TLS`);
    }
    // `kerberos` builds the reply from the offer: QOP byte "none" (auth), the buffer size, the id.
    return client.wrap(offer.toString('base64'), { user: this.options.principal });
  }
}
