/**
 * A small JSON API on loopback for tests that run the stand-in as a child process: the same
 * fault hooks, operation inspection and direct DuckDB queries the in-process API offers.
 *   GET    /faults            → [{id, spec, hits}]
 *   POST   /faults            {kind, match?, flags?, ms?, during?, message?, sqlState?, errorCode?, afterFetches?, times?} → 201 {id}
 *   DELETE /faults/{id}       → 204 (404 if unknown)
 *   DELETE /faults            → 204, all removed
 *   GET    /operations        → recent operations with state and what DuckDB is doing
 *   GET    /commands          → [{command, statement, user}]: statements routed to a command processor
 *   POST   /query             {sql} → {columns, rows}, straight on DuckDB
 * Errors are {error: {code, message}} with a 4xx status.
 */
import http from 'node:http';
import type { HiveDatabase } from './engine/hive-database.js';
import type { CliService } from './service/cli-service.js';
import type { FaultRegistry, FaultSpec } from './service/faults.js';
import { listen, type RunningListener } from './transport/listen.js';

class BadRequest extends Error {}

async function jsonBody(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('the body must be a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw error instanceof BadRequest ? error : new BadRequest(`the body is not JSON: ${(error as Error).message}`);
  }
}

/** A fault spec from JSON: `match` is a regex source, with optional `flags` (default "i"). */
function faultFromJson(body: Record<string, unknown>): FaultSpec {
  const { match, flags, ...rest } = body;
  if (match !== undefined && typeof match !== 'string') throw new BadRequest(`match must be a regex source string, got ${typeof match}`);
  if (flags !== undefined && typeof flags !== 'string') throw new BadRequest(`flags must be a string, got ${typeof flags}`);
  let pattern: RegExp | undefined;
  try {
    pattern = match === undefined ? undefined : new RegExp(match, flags ?? 'i');
  } catch (error) {
    throw new BadRequest(`match is not a valid regex: ${(error as Error).message}`);
  }
  return { ...rest, ...(pattern ? { match: pattern } : {}) } as FaultSpec;
}

function describeFault(fault: { id: string; spec: FaultSpec; hits: number }) {
  const { match, ...spec } = fault.spec;
  return { id: fault.id, spec: { ...spec, ...(match !== undefined ? { match: match instanceof RegExp ? match.source : match } : {}) }, hits: fault.hits };
}

export function startAdminListener(options: {
  host: string;
  port: number;
  faults: FaultRegistry;
  service: CliService;
  database: HiveDatabase;
}): Promise<RunningListener> {
  const { faults, service, database } = options;
  const send = (response: http.ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) response.writeHead(status).end();
    else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  async function route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://admin').pathname;
    const method = request.method ?? 'GET';
    if (path === '/faults' && method === 'GET') return send(response, 200, faults.list().map(describeFault));
    if (path === '/faults' && method === 'POST') {
      let handle;
      try {
        handle = faults.add(faultFromJson(await jsonBody(request)));
      } catch (error) {
        throw error instanceof BadRequest ? error : new BadRequest((error as Error).message);
      }
      return send(response, 201, { id: handle.id });
    }
    if (path === '/faults' && method === 'DELETE') {
      faults.clear();
      return send(response, 204);
    }
    const faultId = /^\/faults\/([\w-]+)$/.exec(path)?.[1];
    if (faultId && method === 'DELETE') {
      return faults.remove(faultId) ? send(response, 204) : send(response, 404, { error: { code: 'not_found', message: `no fault with id ${faultId}` } });
    }
    if (path === '/operations' && method === 'GET') return send(response, 200, service.inspect());
    if (path === '/commands' && method === 'GET') return send(response, 200, service.commands());
    if (path === '/query' && method === 'POST') {
      const { sql } = await jsonBody(request);
      if (typeof sql !== 'string') throw new BadRequest(`sql must be a string, got ${typeof sql}`);
      try {
        return send(response, 200, await database.query(sql));
      } catch (error) {
        throw new BadRequest((error as Error).message);
      }
    }
    return send(response, 404, { error: { code: 'not_found', message: `no route ${method} ${path}` } });
  }

  const server = http.createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      const bad = error instanceof BadRequest;
      send(response, bad ? 400 : 500, { error: { code: bad ? 'bad_request' : 'internal', message: (error as Error).message } });
    });
  });
  return listen(server, options.host, options.port);
}
