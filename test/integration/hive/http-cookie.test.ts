/**
 * HiveServer2's HTTP auth cookie (ThriftHttpServlet, CookieSigner): the stand-in sets and checks
 * it as Hive does, and the connector sends the password once per connection, then only the
 * cookie; when the cookie stops working (HiveServer2 restarted) it authenticates again and the
 * call goes through.
 */
import { Agent, request } from 'node:https';
import hive from 'hive-driver';
import thrift from 'thrift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { openHiveConnection } from '../../../app/src/hive/hive-connection.js';
import { startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import { HIVE_USER, startConnectorStack } from '../../support/connector-stack.js';
import { exportRows } from '../../support/hive-export.js';

const { TCLIService, TCLIService_types } = hive.thrift;

let standIn: HiveStandIn;
let enos: EnosStandIn;

beforeAll(async () => {
  [standIn, enos] = await Promise.all([
    startHiveStandIn({
      users: { [HIVE_USER.name]: HIVE_USER.password },
      seedRows: 1_000,
      listeners: [
        { transport: 'http', auth: 'PLAIN', path: '/cliservice' },
        { transport: 'http', auth: 'PLAIN', tls: true, path: '/cliservice' },
        { transport: 'http', auth: 'PLAIN', path: '/short', cookieMaxAgeSeconds: 0 },
        { transport: 'http', auth: 'NOSASL', path: '/nosasl' },
      ],
    }),
    startEnosStandIn(),
  ]);
});
afterAll(async () => {
  await Promise.all([standIn?.close(), enos?.close()]);
});

const byPath = (path: string, tls = false): ListenerInfo => standIn.listeners.find((l) => l.path === path && l.tls === tls)!;
const basic = `Basic ${Buffer.from(`${HIVE_USER.name}:${HIVE_USER.password}`).toString('base64')}`;

/** A real OpenSession call as thrift's client writes it, for raw requests. */
function openSessionBody(): Promise<Buffer> {
  return new Promise((resolve) => {
    const transport = new thrift.TBufferedTransport(undefined, (bytes?: Buffer) => resolve(bytes ?? Buffer.alloc(0)));
    const client = new TCLIService.Client(transport, thrift.TBinaryProtocol);
    client.OpenSession(new TCLIService_types.TOpenSessionReq({ client_protocol: 9 }), () => undefined);
  });
}

async function post(l: ListenerInfo, headers: Record<string, string>): Promise<{ status: number; setCookie: string[]; body: string }> {
  const body = await openSessionBody();
  const scheme = l.tls ? 'https' : 'http';
  if (!l.tls) {
    const response = await fetch(`${scheme}://${l.host}:${l.port}${l.path}`, { method: 'POST', headers: { 'content-type': 'application/x-thrift', ...headers }, body: new Uint8Array(body) });
    return { status: response.status, setCookie: response.headers.getSetCookie(), body: await response.text() };
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: l.host, port: l.port, path: l.path, method: 'POST', ca: standIn.tlsCa, agent: new Agent(), headers: { 'content-type': 'application/x-thrift', ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, setCookie: response.headers['set-cookie'] ?? [], body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const cookieOf = (setCookie: string[]) => setCookie[0]!.split(';')[0]!;

describe('the stand-in sets and checks hive.server2.auth as ThriftHttpServlet does', () => {
  it('answers a Basic-authenticated request with a signed cookie: cu=<user>&rn=<n>&s=<SHA-512>, Max-Age 86400, HttpOnly', async () => {
    const first = await post(byPath('/cliservice'), { authorization: basic });
    expect(first.status).toBe(200);
    expect(first.setCookie).toHaveLength(1);
    expect(first.setCookie[0]).toMatch(/^hive\.server2\.auth=cu=connector&rn=-?\d+&s=[A-Za-z0-9+/]{86}==;Version=0;Max-Age=86400; HttpOnly$/);
  });

  it('marks the cookie Secure when the listener is TLS', async () => {
    const first = await post(byPath('/cliservice', true), { authorization: basic });
    expect(first.status).toBe(200);
    expect(first.setCookie[0]).toMatch(/;Max-Age=86400;Secure; HttpOnly$/);
  });

  it('lets a request in on the cookie alone and sets no new cookie', async () => {
    const first = await post(byPath('/cliservice'), { authorization: basic });
    const second = await post(byPath('/cliservice'), { cookie: cookieOf(first.setCookie) });
    expect(second.status).toBe(200);
    expect(second.setCookie).toEqual([]);
  });

  it('ignores a cookie whose signature does not verify and then wants credentials: 401', async () => {
    const first = await post(byPath('/cliservice'), { authorization: basic });
    const tampered = cookieOf(first.setCookie).replace('cu=connector', 'cu=admin');
    const refused = await post(byPath('/cliservice'), { cookie: tampered });
    expect(refused.status).toBe(401);
    expect(refused.body).toBe('Authentication Error: Authorization header received from the client is empty.\n');
    // With credentials as well, the request is let in and gets a fresh cookie.
    const again = await post(byPath('/cliservice'), { cookie: tampered, authorization: basic });
    expect(again.status).toBe(200);
    expect(again.setCookie[0]).toMatch(/^hive\.server2\.auth=cu=connector&/);
  });

  it('refuses every earlier cookie after a restart (a new signing secret)', async () => {
    const first = await post(byPath('/cliservice'), { authorization: basic });
    standIn.rotateCookieSecrets();
    expect((await post(byPath('/cliservice'), { cookie: cookieOf(first.setCookie) })).status).toBe(401);
  });

  it('sets no cookie with NOSASL', async () => {
    const response = await post(byPath('/nosasl'), {});
    expect(response.status).toBe(200);
    expect(response.setCookie).toEqual([]);
  });
});

function httpConfig(l: ListenerInfo, overrides: Partial<HiveConfig> = {}): HiveConfig {
  return {
    host: l.host,
    port: l.port,
    transport: 'http',
    httpPath: l.path!,
    auth: 'PLAIN',
    username: HIVE_USER.name,
    password: HIVE_USER.password,
    kerberosService: 'hive',
    sessionConf: {},
    fetchSize: 1_000,
    pollIntervalMs: 50,
    callTimeoutMs: 10_000,
    queryTimeoutMs: 60_000,
    ...overrides,
  };
}

/** Opens a connection, runs GetInfo `calls` times, closes; returns how each request got in. */
async function viaOf(config: HiveConfig, calls: number, between?: () => void): Promise<string[]> {
  const before = standIn.httpAuthentications().length;
  const connection = await openHiveConnection(config);
  for (let i = 0; i < calls; i++) {
    if (i === Math.floor(calls / 2)) between?.();
    await connection.call('GetInfo', () => connection.session.getInfo(TCLIService_types.TGetInfoType.CLI_DBMS_NAME as number));
  }
  await connection.close();
  // A cookie request that also carries credentials does not count as riding the cookie.
  return standIn.httpAuthentications().slice(before).map((entry) => (entry.via === 'cookie' && entry.credentialsSent ? 'cookie+credentials' : entry.via));
}

describe('the connector reuses the cookie', () => {
  it('sends the password on the first call only; every later call carries the cookie', async () => {
    const via = await viaOf(httpConfig(byPath('/cliservice')), 4);
    // OpenSession, 4 × GetInfo, CloseSession
    expect(via).toEqual(['basic', 'cookie', 'cookie', 'cookie', 'cookie', 'cookie']);
  });

  it('does the same over TLS, where the cookie is Secure', async () => {
    const via = await viaOf(httpConfig(byPath('/cliservice', true), { tls: { ca: standIn.tlsCa! } }), 2);
    expect(via).toEqual(['basic', 'cookie', 'cookie', 'cookie']);
  });

  it('authenticates again when the server no longer takes the cookie, and the call succeeds', async () => {
    const via = await viaOf(httpConfig(byPath('/cliservice')), 4, () => standIn.rotateCookieSecrets());
    // The refused cookie request is a 401 the stand-in does not count; its retry is Basic.
    expect(via).toEqual(['basic', 'cookie', 'cookie', 'basic', 'cookie', 'cookie']);
  });

  it('honours Max-Age: an expired cookie is not sent', async () => {
    const via = await viaOf(httpConfig(byPath('/short')), 2);
    expect(via).toEqual(['basic', 'basic', 'basic', 'basic']);
  });

  it('sends credentials every time when HIVE_HTTP_COOKIE_AUTH is off', async () => {
    const via = await viaOf(httpConfig(byPath('/cliservice'), { httpCookieAuth: false }), 2);
    expect(via).toEqual(['basic', 'basic', 'basic', 'basic']);
  });

  it('exports over HTTP with the cookie: one Basic authentication for the whole export', async () => {
    const l = byPath('/cliservice');
    // A known version spares the one-off GetInfo connection that would otherwise ask for it.
    const stack = await startConnectorStack({ storage: 'local', hive: standIn, enos, env: { HIVE_PORT: String(l.port), HIVE_TRANSPORT: 'http', HIVE_SERVER_VERSION: '3.1' } });
    try {
      const before = standIn.httpAuthentications().length;
      const { job, records } = await exportRows(stack, 'SELECT asset_id FROM enos.asset ORDER BY asset_id');
      expect(job.status).toBe('succeeded');
      expect(records).toHaveLength(1_001);
      const entries = standIn.httpAuthentications().slice(before);
      expect(entries.length).toBeGreaterThan(4);
      expect(entries.filter((entry) => entry.credentialsSent)).toHaveLength(1);
      expect(entries[0]).toEqual({ via: 'basic', user: HIVE_USER.name, credentialsSent: true });
      expect(entries.slice(1).every((entry) => entry.via === 'cookie')).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});
