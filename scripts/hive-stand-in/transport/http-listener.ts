/**
 * HiveServer2's HTTP transport (hive.server2.transport.mode=http): each Thrift call is one POST
 * to the configured path (`/cliservice` by default) whose body is the binary-protocol message,
 * answered with the reply as the body. With PLAIN auth every request carries HTTP Basic
 * credentials, checked like HiveServer2's ThriftHttpServlet does: 401 and "Authentication Error"
 * when they are missing or wrong. Sessions are not tied to a connection in this mode.
 */
import http from 'node:http';
import { unframed } from '../thrift/binary-protocol.js';
import type { CliService } from '../service/cli-service.js';
import { dispatch } from './calls.js';
import { listen, type RunningListener } from './listen.js';
import { checkPassword } from './sasl-plain.js';

export interface HttpListenerOptions {
  auth: 'PLAIN' | 'NOSASL';
  host: string;
  port: number;
  path: string;
  users: ReadonlyMap<string, string>;
  maxMessageBytes: number;
  service: CliService;
  log: (line: string) => void;
}

function basicUser(header: string | undefined, users: ReadonlyMap<string, string>): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  return checkPassword(users, user, decoded.slice(colon + 1)) ? user : undefined;
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

export function startHttpListener(options: HttpListenerOptions): Promise<RunningListener> {
  const server = http.createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      options.log(`HTTP call failed: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
      response.end(`Bad Thrift request: ${(error as Error).message}`);
    });
  });

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
    let user: string | undefined;
    if (options.auth === 'PLAIN') {
      user = basicUser(request.headers.authorization, options.users);
      if (!user) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="HiveServer2"', 'content-type': 'text/plain' });
        response.end('Authentication Error: Error validating the login');
        return;
      }
    }
    const body = await readBody(request, options.maxMessageBytes);
    if (!body) {
      response.writeHead(413, { 'content-type': 'text/plain' }).end(`Request larger than ${options.maxMessageBytes} bytes`);
      return;
    }
    const outcome = await dispatch(options.service, body, { user, scope: undefined }, options.maxMessageBytes);
    const bytes = unframed(outcome.message);
    response.writeHead(200, { 'content-type': 'application/x-thrift', 'content-length': bytes.length });
    if (outcome.kind === 'reply') {
      response.end(bytes);
      return;
    }
    options.log('fault: dropping the connection in the middle of a FetchResults reply');
    response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => request.socket.resetAndDestroy());
  }

  return listen(server, options.host, options.port);
}
