/**
 * A loopback HTTP proxy in front of Azurite that can misbehave on purpose: answer with a status
 * of its choosing, hold a request until the client gives up, rewrite a response body, or run
 * a hook (a concurrent writer) before forwarding. The SDK under test talks real HTTP to it, so
 * what is exercised is the real retry and error path, not a mocked client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type ProxyAction =
  | { kind: 'forward'; rewriteBody?: (body: string) => string }
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  /** Never answer; the client's timeout has to end it. */
  | { kind: 'hang' };

export type Interceptor = (request: ProxiedRequest) => ProxyAction | Promise<ProxyAction>;

export interface StorageProxy {
  /** Same path layout as the target, e.g. http://127.0.0.1:<port>/devstoreaccount1 */
  url: (pathOnTarget: string) => string;
  /** Every request seen, in arrival order. */
  seen: ProxiedRequest[];
  intercept(interceptor: Interceptor | undefined): void;
  close(): Promise<void>;
}

export async function startStorageProxy(targetOrigin: string): Promise<StorageProxy> {
  const target = new URL(targetOrigin);
  const seen: ProxiedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  let interceptor: Interceptor | undefined;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
    seen.push(request);
    try {
      const action = (await interceptor?.(request)) ?? { kind: 'forward' };
      if (action.kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (action.kind === 'respond') {
        res.writeHead(action.status, { 'content-type': 'application/xml', ...action.headers });
        res.end(action.body ?? '');
        return;
      }
      await forward(target, request, res, action.rewriteBody);
    } catch (error) {
      res.writeHead(599);
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (pathOnTarget) => `http://127.0.0.1:${port}${pathOnTarget}`,
    seen,
    intercept(next) {
      interceptor = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function forward(target: URL, request: ProxiedRequest, res: http.ServerResponse, rewriteBody?: (body: string) => string): Promise<void> {
  const upstream = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const out = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: target.host } },
      resolve,
    );
    out.on('error', reject);
    out.end(request.body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of upstream) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  const headers = { ...upstream.headers };
  if (rewriteBody) {
    body = Buffer.from(rewriteBody(body.toString('utf8')), 'utf8');
    headers['content-length'] = String(body.length);
    delete headers['transfer-encoding'];
  }
  res.writeHead(upstream.statusCode ?? 502, headers);
  res.end(body);
}

/** Blob paths of the deletes inside a Blob Batch request body, decoded, without the account. */
export function batchDeletePaths(body: Buffer): string[] {
  return [...body.toString('utf8').matchAll(/^DELETE (\S+) HTTP\/1\.1/gm)].map((match) => {
    const path = decodeURIComponent(new URL(match[1]!, 'http://x').pathname);
    // /devstoreaccount1/<container>/<blob name>
    return path.split('/').slice(3).join('/');
  });
}

export const isBatch = (request: ProxiedRequest): boolean => request.method === 'POST' && request.url.includes('comp=batch');
export const isTagQuery = (request: ProxiedRequest): boolean => request.method === 'GET' && request.url.includes('where=');
export const isListing = (request: ProxiedRequest): boolean =>
  request.method === 'GET' && request.url.includes('comp=list') && request.url.includes('restype=container');
