/**
 * The server side of the SASL handshake HiveServer2 runs on its binary port (Thrift's
 * TSaslServerTransport with the PLAIN mechanism). Every SASL message is one status byte
 * (START=1, OK=2, BAD=3, ERROR=4, COMPLETE=5), a 4-byte big-endian length and a payload. The
 * client sends START with the mechanism name, then OK (hive-driver) or COMPLETE (the Java client)
 * with "authzid\0authcid\0password". Success is answered with COMPLETE; a bad login with BAD and
 * the message HiveServer2 uses, "Error validating the login", after which the connection closes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const SaslStatus = { START: 1, OK: 2, BAD: 3, ERROR: 4, COMPLETE: 5 } as const;

/** SASL messages are tiny; anything bigger is not a SASL client. */
const MAX_SASL_PAYLOAD = 64 * 1024;

export interface SaslMessage {
  status: number;
  payload: Buffer;
}

export function encodeSasl(status: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(5);
  header[0] = status;
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** The first SASL message in `buffer` and its length in bytes, or undefined when incomplete. */
export function readSasl(buffer: Buffer): { message: SaslMessage; length: number } | undefined {
  if (buffer.length < 5) return undefined;
  const status = buffer[0]!;
  const length = buffer.readUInt32BE(1);
  if (status < SaslStatus.START || status > SaslStatus.COMPLETE) {
    throw new Error(`not a SASL message: status byte ${status}, expected 1-5 (is the client using NOSASL against a PLAIN port?)`);
  }
  if (length > MAX_SASL_PAYLOAD) throw new Error(`SASL payload of ${length} bytes, more than the ${MAX_SASL_PAYLOAD} allowed`);
  if (buffer.length < 5 + length) return undefined;
  return { message: { status, payload: buffer.subarray(5, 5 + length) }, length: 5 + length };
}

export type HandshakeStep =
  | { kind: 'continue'; reply?: Buffer }
  | { kind: 'authenticated'; user: string; reply: Buffer }
  | { kind: 'rejected'; reply: Buffer; reason: string };

/** One connection's handshake: feed it each SASL message in order. */
export class PlainSaslHandshake {
  private started = false;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  step(message: SaslMessage): HandshakeStep {
    const reject = (reason: string, text: string): HandshakeStep => ({ kind: 'rejected', reason, reply: encodeSasl(SaslStatus.BAD, text) });
    if (!this.started) {
      if (message.status !== SaslStatus.START) return reject(`first SASL message had status ${message.status}`, `Expecting START status, received ${message.status}`);
      const mechanism = message.payload.toString('utf8');
      if (mechanism !== 'PLAIN') return reject(`mechanism ${mechanism}`, `Unsupported mechanism type ${mechanism}`);
      this.started = true;
      // Some clients put the initial response in the START message itself; hive-driver sends it next.
      return { kind: 'continue' };
    }
    if (message.status !== SaslStatus.OK && message.status !== SaslStatus.COMPLETE) {
      return reject(`client sent SASL status ${message.status}`, `Expecting OK or COMPLETE status, received ${message.status}`);
    }
    const parts = message.payload.toString('utf8').split('\0');
    if (parts.length !== 3) return reject('malformed PLAIN response', 'Invalid message format');
    const [, user, password] = parts as [string, string, string];
    if (!checkPassword(this.users, user, password)) return reject(`bad login for user ${JSON.stringify(user)}`, 'Error validating the login');
    return { kind: 'authenticated', user, reply: encodeSasl(SaslStatus.COMPLETE) };
  }
}

/** Shared by SASL PLAIN and HTTP Basic; compares digests so timing says nothing about the password. */
export function checkPassword(users: ReadonlyMap<string, string>, user: string, password: string): boolean {
  const expected = users.get(user);
  if (expected === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(password));
}
