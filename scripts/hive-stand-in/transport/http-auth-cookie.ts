/**
 * HiveServer2's HTTP auth cookie, as ThriftHttpServlet and CookieSigner make and check it
 * (service/src/java/org/apache/hive/service/cli/thrift/ThriftHttpServlet.java,
 * service/src/java/org/apache/hive/service/CookieSigner.java, HttpAuthUtils.createCookieToken):
 *  - after a request authenticated by Basic or Negotiate (never NOSASL), the reply sets
 *    `hive.server2.auth=cu=<user>&rn=<random long>&s=<base64 SHA-512(token + secret)>`;
 *  - the secret is random per server start, so a restarted (or another) HiveServer2 refuses
 *    the cookies of the last one and the client must authenticate again;
 *  - the cookie carries no time: Max-Age (hive.server2.thrift.http.cookie.max.age, default
 *    86400 s) is only the client's to honour, the server accepts any correctly signed cookie;
 *  - `Secure` when SSL is on, `HttpOnly` by default (cookie.is.httponly), written as JAX-RS's
 *    NewCookie prints it plus "; HttpOnly";
 *  - a cookie that does not verify is ignored (logged), and the request must then carry
 *    credentials like a first one; a valid cookie means no new cookie is set.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const AUTH_COOKIE = 'hive.server2.auth';
const SIGNATURE = '&s=';

export interface CookieOptions {
  /** hive.server2.thrift.http.cookie.max.age in seconds. @default 86400 */
  maxAgeSeconds?: number;
  /** hive.server2.use.SSL: the cookie is marked Secure. */
  secure: boolean;
}

export class CookieSigner {
  private secret = randomBytes(8).readBigInt64BE().toString();

  constructor(private readonly options: CookieOptions) {}

  /** What a HiveServer2 restart does to the cookies it handed out: none verifies any more. */
  rotateSecret(): void {
    this.secret = randomBytes(8).readBigInt64BE().toString();
  }

  private signature(raw: string): string {
    return createHash('sha512').update(raw, 'utf8').update(this.secret, 'utf8').digest('base64');
  }

  /** The Set-Cookie header value for a freshly authenticated user. */
  setCookieHeader(user: string): string {
    const token = `cu=${user}&rn=${randomBytes(8).readBigInt64BE()}`;
    const value = token + SIGNATURE + this.signature(token);
    const maxAge = this.options.maxAgeSeconds ?? 86_400;
    return `${AUTH_COOKIE}=${value};Version=0;Max-Age=${maxAge}${this.options.secure ? ';Secure' : ''}; HttpOnly`;
  }

  /** The user named by the first `hive.server2.auth` cookie in `header` that verifies, if any. */
  userFrom(header: string | undefined): string | undefined {
    for (const part of (header ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== AUTH_COOKIE) continue;
      const signed = part.slice(eq + 1).trim();
      const at = signed.lastIndexOf(SIGNATURE);
      if (at < 0) continue;
      const raw = signed.slice(0, at);
      const given = Buffer.from(signed.slice(at + SIGNATURE.length));
      const expected = Buffer.from(this.signature(raw));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) continue;
      // HttpAuthUtils.getUserNameFromCookieToken: exactly the attributes cu and rn.
      const fields = new Map(raw.split('&').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const));
      if (fields.size !== 2 || !fields.has('cu') || !fields.has('rn')) continue;
      return fields.get('cu');
    }
    return undefined;
  }
}
