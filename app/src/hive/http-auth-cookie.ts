/**
 * The client's side of HiveServer2's `hive.server2.auth` cookie: keeps the one cookie, honours
 * its Max-Age/Expires (HiveServer2 puts no time in the cookie itself, so expiry is the
 * client's job) and never sends a `Secure` cookie over plain HTTP
 * (jdbc Utils.needToSendCredentials).
 */
const AUTH_COOKIE = 'hive.server2.auth';

interface StoredCookie {
  value: string;
  /** Epoch ms; undefined for a session cookie (no Max-Age/Expires). */
  expiresAt: number | undefined;
  secure: boolean;
}

export class AuthCookieJar {
  private cookie: StoredCookie | undefined;
  /** Requests that carried the cookie. */
  used = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes the auth cookie from a response's Set-Cookie lines, if it has one. */
  take(setCookie: string[] | undefined, overTls: boolean): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== AUTH_COOKIE) continue;
      const value = pair.slice(eq + 1).trim();
      let expiresAt: number | undefined;
      let secure = false;
      let maxAgeSeen = false;
      for (const attribute of attributes) {
        const [rawName = '', ...rest] = attribute.split('=');
        const name = rawName.trim().toLowerCase();
        const text = rest.join('=').trim();
        // RFC 6265 §5.3: Max-Age wins over Expires; zero or less means "already expired".
        if (name === 'max-age' && /^-?\d+$/.test(text)) {
          maxAgeSeen = true;
          expiresAt = this.now() + Number(text) * 1000;
        } else if (name === 'expires' && !maxAgeSeen) {
          const at = Date.parse(text);
          if (!Number.isNaN(at)) expiresAt = at;
        } else if (name === 'secure') secure = true;
      }
      if (secure && !overTls) continue;
      this.cookie = value ? { value, expiresAt, secure } : undefined;
    }
  }

  /** The Cookie header to send instead of credentials, or undefined when credentials are due. */
  header(overTls: boolean): string | undefined {
    const cookie = this.cookie;
    if (!cookie) return undefined;
    if (cookie.expiresAt !== undefined && cookie.expiresAt <= this.now()) {
      this.cookie = undefined;
      return undefined;
    }
    if (cookie.secure && !overTls) return undefined;
    this.used += 1;
    return `${AUTH_COOKIE}=${cookie.value}`;
  }

  clear(): void {
    this.cookie = undefined;
  }
}
