/**
 * HiveServer2's HTTP transport (hive.server2.transport.mode=http): each Thrift call is one POST
 * to the configured path (`/cliservice` by default) whose body is the binary-protocol message,
 * answered with the reply as the body; over TLS when the listener has a TLS identity
 * (hive.server2.use.SSL). Sessions are not tied to a connection in this mode.
 *
 * Authentication follows ThriftHttpServlet.doPost
 * (service/src/java/org/apache/hive/service/cli/thrift/ThriftHttpServlet.java):
 *  1. with cookie auth on (hive.server2.thrift.http.cookie.auth.enabled, default true), a valid
 *     `hive.server2.auth` cookie authenticates the request and no credentials are looked at;
 *  2. otherwise the Authorization header must be there: Basic user:password (PLAIN, checked
 *     like LDAP/CUSTOM would) or Negotiate <SPNEGO token> (KERBEROS; the token is the header's
 *     last space-separated word, as getAuthHeader takes it); NOSASL checks nothing;
 *  3. a request that authenticated without a valid cookie gets a new cookie (not with NOSASL);
 *  4. a failure is 401 with "Authentication Error: <reason>", plus `WWW-Authenticate: Negotiate`
 *     in Kerberos mode.
 */
import http from 'node:http';
import https from 'node:https';
import { unframed } from '../thrift/binary-protocol.js';
import type { CliService } from '../service/cli-service.js';
import { dispatch } from './calls.js';
import { CookieSigner } from './http-auth-cookie.js';
import type { GssAcceptor } from './gss-acceptor.js';
import { listen, type RunningListener } from './listen.js';
import { checkPassword } from './sasl-plain.js';
import type { TlsIdentity } from './tls-identity.js';

export interface HttpListenerOptions {
  auth: 'PLAIN' | 'NOSASL' | 'KERBEROS';
  host: string;
  port: number;
  path: string;
  users: ReadonlyMap<string, string>;
  maxMessageBytes: number;
  service: CliService;
  log: (line: string) => void;
  tls?: TlsIdentity;
  /** hive.server2.thrift.http.cookie.auth.enabled. @default true */
  cookieAuth?: boolean;
  /** hive.server2.thrift.http.cookie.max.age in seconds. @default 86400 */
  cookieMaxAgeSeconds?: number;
  /** KERBEROS only: accepts SPNEGO tokens for the service principal. */
  gss?: GssAcceptor;
  /** Told how each authenticated request was let in, for tests. */
  onAuthenticated?: (entry: HttpAuthentication) => void;
}

export interface HttpAuthentication {
  via: 'cookie' | 'basic' | 'negotiate' | 'none';
  user: string | undefined;
  /** Whether the request carried an Authorization header (credentials), whatever let it in. */
  credentialsSent: boolean;
}

export interface RunningHttpListener extends RunningListener {
  /** What a HiveServer2 restart does to its cookies: every one handed out stops verifying. */
  rotateCookieSecret(): void;
}

class AuthenticationError extends Error {}

function basicUser(header: string, users: ReadonlyMap<string, string>): string {
  // ThriftHttpServlet.getUsername/getPassword: base64 of user:password, both non-empty.
  const decoded = Buffer.from(header.split(' ').at(-1) ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  if (!user) throw new AuthenticationError('Authorization header received from the client does not contain username.');
  if (colon < 0 || colon === decoded.length - 1) throw new AuthenticationError('Authorization header received from the client does not contain password.');
  if (!checkPassword(users, user, decoded.slice(colon + 1))) throw new AuthenticationError('Error validating the login');
  return user;
}

function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export function startHttpListener(options: HttpListenerOptions): Promise<RunningHttpListener> {
  if (options.auth === 'KERBEROS' && !options.gss) throw new Error('an HTTP listener with KERBEROS auth needs a GSSAPI acceptor');
  const cookieAuth = (options.cookieAuth ?? true) && options.auth !== 'NOSASL';
  const signer = new CookieSigner({ secure: options.tls !== undefined, ...(options.cookieMaxAgeSeconds !== undefined ? { maxAgeSeconds: options.cookieMaxAgeSeconds } : {}) });

  const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
    void handle(request, response).catch((error: unknown) => {
      options.log(`HTTP call failed: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
      response.end(`Bad Thrift request: ${(error as Error).message}`);
    });
  };
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : http.createServer(onRequest);

  /** Who the request is, and how it got in; throws AuthenticationError for a 401. */
  async function authenticate(request: http.IncomingMessage): Promise<HttpAuthentication> {
    const credentialsSent = request.headers.authorization !== undefined;
    if (options.auth === 'NOSASL') return { via: 'none', user: undefined, credentialsSent };
    if (cookieAuth) {
      const user = signer.userFrom(request.headers.cookie);
      if (user !== undefined) return { via: 'cookie', user, credentialsSent };
      if (request.headers.cookie?.includes('hive.server2.auth=')) options.log('Could not validate cookie sent, will try to generate a new cookie');
    }
    const header = request.headers.authorization;
    if (!header) throw new AuthenticationError('Authorization header received from the client is empty.');
    if (options.auth === 'PLAIN') return { via: 'basic', user: basicUser(header, options.users), credentialsSent };
    const token = header.split(' ').at(-1) ?? '';
    try {
      const accepted = await options.gss!.acceptOnce(token);
      return { via: 'negotiate', user: accepted.shortName, credentialsSent };
    } catch (error) {
      throw new AuthenticationError(`Kerberos authentication failed: ${(error as Error).message}`);
    }
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    if (path !== options.path) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: the Thrift endpoint is ${options.path}`);
      return;
    }
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('Thrift calls are POST requests');
      return;
    }
    let who: HttpAuthentication;
    try {
      who = await authenticate(request);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      options.log(`HTTP authentication refused: ${error.message}`);
      request.resume(); // "Wait until all the data is received and then respond with 401"
      const challenge = options.auth === 'KERBEROS' ? { 'www-authenticate': 'Negotiate' } : { 'www-authenticate': 'Basic realm="HiveServer2"' };
      response.writeHead(401, { ...challenge, 'content-type': 'text/plain' });
      response.end(`Authentication Error: ${error.message}\n`);
      return;
    }
    options.onAuthenticated?.(who);
    const body = await readBody(request, options.maxMessageBytes);
    if (!body) {
      response.writeHead(413, { 'content-type': 'text/plain' }).end(`Request larger than ${options.maxMessageBytes} bytes`);
      return;
    }
    const outcome = await dispatch(options.service, body, { user: who.user, scope: undefined }, options.maxMessageBytes);
    const bytes = unframed(outcome.message);
    const cookie = cookieAuth && who.via !== 'cookie' && who.user !== undefined ? { 'set-cookie': signer.setCookieHeader(who.user) } : {};
    response.writeHead(200, { 'content-type': 'application/x-thrift', 'content-length': bytes.length, ...cookie });
    if (outcome.kind === 'reply') {
      response.end(bytes);
      return;
    }
    options.log('fault: dropping the connection in the middle of a FetchResults reply');
    // A TLS socket cannot send a TCP reset; closing it mid-reply is the nearest thing.
    response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => (options.tls ? request.socket.destroy() : request.socket.resetAndDestroy()));
  }

  return listen(server, options.host, options.port).then((running) => ({ ...running, rotateCookieSecret: () => signer.rotateSecret() }));
}
