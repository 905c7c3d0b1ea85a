/**
 * Thrift over HTTP to HiveServer2 the way Hive's own JDBC driver does it, in place of
 * hive-driver's HttpConnection (which puts the same Authorization header on every request,
 * folds every Set-Cookie line, attributes included, into one ever-growing Cookie header, and
 * turns certificate checks off for HTTPS):
 *  - each Thrift call is one POST to the path, over HTTPS when TLS is configured;
 *  - HiveServer2 answers a request it authenticated with a `hive.server2.auth` cookie
 *    (ThriftHttpServlet, hive.server2.thrift.http.cookie.auth.enabled); while that cookie is
 *    valid the next requests carry only the cookie, not the password or a new Kerberos token;
 *  - a 401 to a request that carried a cookie (HiveServer2 restarted, another instance behind a
 *    load balancer) drops the cookie and sends the same call once more with credentials.
 * That is jdbc/src/java/org/apache/hive/jdbc/HttpRequestInterceptorBase.java with
 * Utils.needToSendCredentials, and HiveConnection's retry on 401 for cookie-authenticated calls.
 */
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import thrift from 'thrift';
import { AuthCookieJar } from './http-auth-cookie.js';
import { WholeMessageTransport } from './fast-fetch.js';

/** Produces the Authorization header for a request that has no usable cookie. */
export interface HttpCredentials {
  authorization(): Promise<string>;
}

export interface HiveHttpOptions {
  host: string;
  port: number;
  path: string;
  /** HTTPS with these options; absent means plain HTTP. */
  tls?: tls.ConnectionOptions;
  credentials?: HttpCredentials;
  cookieAuth: boolean;
  agent: http.Agent;
}

type ThriftHttpConnection = thrift.HttpConnection & { responseCallback(response: http.IncomingMessage): void };

/** A connection provider for hive-driver's HiveClient.connect (it ignores the auth provider it is given). */
export class HiveHttpConnection {
  private readonly jar = new AuthCookieJar();
  private readonly connection: ThriftHttpConnection;

  constructor(private readonly options: HiveHttpOptions) {
    this.connection = thrift.createHttpConnection(options.host, options.port, {
      transport: WholeMessageTransport,
      protocol: thrift.TBinaryProtocol,
      path: options.path,
      https: options.tls !== undefined,
    }) as ThriftHttpConnection;
    // thrift's client calls `connection.write` for every flushed call; this is where auth goes.
    this.connection.write = (data: Buffer) => this.send(data, false);
  }

  connect(): Promise<this> {
    return Promise.resolve(this);
  }

  getConnection(): thrift.HttpConnection {
    return this.connection;
  }

  isConnected(): boolean {
    return true;
  }

  /** How many requests went out with the cookie instead of credentials (for tests and logs). */
  get cookieRequests(): number {
    return this.jar.used;
  }

  private send(data: Buffer, isRetry: boolean): void {
    void this.headers(isRetry).then(
      (auth) => {
        const request = (this.options.tls ? https : http).request(
          {
            host: this.options.host,
            port: this.options.port,
            path: this.options.path,
            method: 'POST',
            agent: this.options.agent,
            ...(this.options.tls ?? {}),
            headers: { 'content-type': 'application/x-thrift', 'content-length': data.length, ...auth.headers },
          },
          (response) => {
            if (response.statusCode === 401 && auth.sentCookie && !isRetry) {
              this.jar.clear();
              response.resume();
              this.send(data, true);
              return;
            }
            if (this.options.cookieAuth) this.jar.take(response.headers['set-cookie'], this.options.tls !== undefined);
            this.connection.responseCallback(response);
          },
        );
        request.on('error', (error) => this.connection.emit('error', error));
        request.end(data);
      },
      (error: unknown) => this.connection.emit('error', error),
    );
  }

  private async headers(isRetry: boolean): Promise<{ headers: Record<string, string>; sentCookie: boolean }> {
    const cookie = this.options.cookieAuth && !isRetry ? this.jar.header(this.options.tls !== undefined) : undefined;
    if (cookie !== undefined) return { headers: { cookie }, sentCookie: true };
    const credentials = this.options.credentials;
    return { headers: credentials ? { authorization: await credentials.authorization() } : {}, sentCookie: false };
  }
}

/** HTTP Basic for PLAIN auth (LDAP/CUSTOM on the server). */
export function basicCredentials(username: string, password: string): HttpCredentials {
  const header = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  return { authorization: () => Promise.resolve(header) };
}
