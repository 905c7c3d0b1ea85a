/**
 * The connector's jar for HiveServer2's `hive.server2.auth` cookie: which Set-Cookie lines it
 * keeps, when it stops sending the cookie (Max-Age over Expires, RFC 6265 §5.3), and that a
 * Secure cookie never goes over plain HTTP (jdbc Utils.needToSendCredentials).
 */
import { describe, expect, it } from 'vitest';
import { AuthCookieJar } from '../../../app/src/hive/http-auth-cookie.js';

const VALUE = 'cu=svc&rn=42&s=abc+/=';

describe('AuthCookieJar', () => {
  it("keeps only HiveServer2's auth cookie, value as sent (with its = and &), and sends just name=value", () => {
    const jar = new AuthCookieJar(() => 0);
    jar.take(['JSESSIONID=x; Path=/', `hive.server2.auth=${VALUE};Version=0;Max-Age=86400; HttpOnly`], false);
    expect(jar.header(false)).toBe(`hive.server2.auth=${VALUE}`);
    expect(jar.used).toBe(1);
  });

  it('stops sending the cookie once Max-Age has passed, and Max-Age wins over Expires', () => {
    let now = 1_000_000;
    const jar = new AuthCookieJar(() => now);
    jar.take([`hive.server2.auth=${VALUE}; Expires=Wed, 01 Jan 2100 00:00:00 GMT; Max-Age=10`], false);
    now += 9_999;
    expect(jar.header(false)).toBeDefined();
    now += 1;
    expect(jar.header(false)).toBeUndefined();
  });

  it('honours Expires when there is no Max-Age, and treats Max-Age=0 as already expired', () => {
    const jar = new AuthCookieJar(() => Date.parse('2030-01-01T00:00:00Z'));
    jar.take([`hive.server2.auth=${VALUE}; Expires=Tue, 01 Jan 2030 00:00:01 GMT`], false);
    expect(jar.header(false)).toBeDefined();
    jar.take([`hive.server2.auth=${VALUE}; Expires=Mon, 31 Dec 2029 23:59:59 GMT`], false);
    expect(jar.header(false)).toBeUndefined();
    jar.take([`hive.server2.auth=${VALUE};Max-Age=0`], false);
    expect(jar.header(false)).toBeUndefined();
  });

  it('never sends a Secure cookie over plain HTTP', () => {
    const jar = new AuthCookieJar(() => 0);
    jar.take([`hive.server2.auth=${VALUE};Max-Age=60;Secure; HttpOnly`], false);
    expect(jar.header(false)).toBeUndefined();
    jar.take([`hive.server2.auth=${VALUE};Max-Age=60;Secure; HttpOnly`], true);
    expect(jar.header(false)).toBeUndefined();
    expect(jar.header(true)).toBe(`hive.server2.auth=${VALUE}`);
  });

  it('forgets the cookie when told (after a 401), so the next request carries credentials', () => {
    const jar = new AuthCookieJar(() => 0);
    jar.take([`hive.server2.auth=${VALUE}`], false);
    jar.clear();
    expect(jar.header(false)).toBeUndefined();
  });
});
