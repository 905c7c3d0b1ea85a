/**
 * Kerberos for real: Debian's MIT KDC in its own realm on 127.0.0.1, principals and keytabs
 * made with kadmin.local, the stand-in accepting SASL GSSAPI on its binary port and SPNEGO on
 * HTTP with the service keytab (MIT GSSAPI), and the connector exporting with its own keytab
 * through a private ticket cache. Plus what real HiveServer2 refuses: an authorization id other
 * than the authenticated principal, a replayed SPNEGO token, a ticket for a principal that
 * does not exist.
 */
import { connect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import hive from 'hive-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { AppError } from '../../../app/src/errors.js';
import { openHiveConnection } from '../../../app/src/hive/hive-connection.js';
import { ticketCacheFor } from '../../../app/src/hive/kerberos/ticket-cache.js';
import { startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import { fileURLToPath } from 'node:url';
import { parseReadyLine, startChildService, tsxArgs } from '../../../scripts/lib/child-service.js';
import { startConnectorStack } from '../../support/connector-stack.js';
import { exportRows } from '../../support/hive-export.js';
import { startMitKdc, type MitKdc } from '../../support/mit-kdc.js';

const { TCLIService_types } = hive.thrift;

let kdc: MitKdc;
let standIn: HiveStandIn;
let enos: EnosStandIn;
let connectorKeytab: string;
let serviceKeytab: string;
let principal: string;

beforeAll(async () => {
  kdc = await startMitKdc();
  principal = `connector@${kdc.realm}`;
  serviceKeytab = await kdc.addPrincipal('hive/127.0.0.1');
  connectorKeytab = await kdc.addPrincipal('connector');
  [standIn, enos] = await Promise.all([
    startHiveStandIn({
      seedRows: 1_000,
      listeners: [
        { transport: 'binary', auth: 'KERBEROS' },
        { transport: 'http', auth: 'KERBEROS' },
        { transport: 'binary', auth: 'KERBEROS', tls: true },
        { transport: 'binary', auth: 'KERBEROS', saslQop: 'auth-conf' },
      ],
      kerberos: { principal: `hive/127.0.0.1@${kdc.realm}`, keytab: serviceKeytab, krb5Conf: kdc.krb5Conf },
    }),
    startEnosStandIn(),
  ]);
});
afterAll(async () => {
  await Promise.all([standIn?.close(), enos?.close()]);
  await kdc?.stop();
});

const listener = (transport: 'binary' | 'http', tls = false): ListenerInfo => standIn.listeners.find((l) => l.transport === transport && l.tls === tls)!;

function kerberosConfig(l: ListenerInfo, overrides: Partial<HiveConfig> = {}): HiveConfig {
  return {
    host: l.host,
    port: l.port,
    transport: l.transport,
    httpPath: '/cliservice',
    auth: 'KERBEROS',
    kerberosService: 'hive',
    kerberos: { principal, keytab: { kind: 'file', file: connectorKeytab }, serviceHost: '127.0.0.1', krb5Conf: kdc.krb5Conf },
    sessionConf: {},
    fetchSize: 1_000,
    pollIntervalMs: 50,
    callTimeoutMs: 10_000,
    queryTimeoutMs: 60_000,
    ...overrides,
  };
}

describe.each([
  ['binary', 'SASL GSSAPI', false],
  ['http', 'SPNEGO', false],
  ['binary', 'SASL GSSAPI over TLS', true],
] as const)('the connector exports over %s with %s', (transport, _, tls) => {
  it('runs the export as the connector principal, its keytab given as base64 (as Key Vault hands it over)', async () => {
    const l = listener(transport, tls);
    const keytab = (await readFile(connectorKeytab)).toString('base64');
    const stack = await startConnectorStack({
      storage: 'local',
      hive: standIn,
      enos,
      env: {
        HIVE_PORT: String(l.port),
        HIVE_TRANSPORT: transport,
        HIVE_AUTH: 'KERBEROS',
        HIVE_KERBEROS_PRINCIPAL: principal,
        HIVE_KERBEROS_KEYTAB: keytab,
        HIVE_KRB5_CONF: kdc.krb5Conf,
        ...(tls ? { HIVE_TLS: 'true', HIVE_TLS_CA_PEM: standIn.tlsCa! } : {}),
      },
    });
    try {
      const sql = 'SELECT asset_id, site_id FROM enos.asset ORDER BY asset_id';
      const { job, records } = await exportRows(stack, sql);
      expect(job.status).toBe('succeeded');
      const expected = (await standIn.query(sql)).rows;
      expect(records.slice(1)).toEqual(expected.map((row) => [row.asset_id, row.site_id]));
      // HiveServer2 runs it as the principal's short name.
      const users = standIn.operations().filter((op) => op.statement === sql).map((op) => op.user);
      expect(users.length).toBeGreaterThan(0);
      expect(new Set(users)).toEqual(new Set(['connector']));
    } finally {
      await stack.stop();
    }
  });
});

describe('SPNEGO over HTTP', () => {
  it('negotiates once, then rides the cookie; after a restart it negotiates with a fresh token', async () => {
    const before = standIn.httpAuthentications().length;
    const connection = await openHiveConnection(kerberosConfig(listener('http')));
    const getInfo = () => connection.call('GetInfo', () => connection.session.getInfo(TCLIService_types.TGetInfoType.CLI_DBMS_NAME as number));
    await getInfo();
    standIn.rotateCookieSecrets();
    await getInfo();
    await getInfo();
    await connection.close();
    expect(standIn.httpAuthentications().slice(before).map((entry) => `${entry.via}:${entry.user}:${entry.credentialsSent}`)).toEqual([
      'negotiate:connector:true',
      'cookie:connector:false',
      'negotiate:connector:true',
      'cookie:connector:false',
      'cookie:connector:false',
    ]);
  });

  it('refuses a replayed Negotiate token, as a server with a replay cache does', async () => {
    await ticketCacheFor(kerberosConfig(listener('http')).kerberos!).ensureFresh();
    const kerberos = (await import('kerberos')).default;
    const client = await kerberos.initializeClient('hive@127.0.0.1', { principal, mechOID: kerberos.GSS_MECH_OID_SPNEGO });
    const header = `Negotiate ${await client.step('')}`;
    const l = listener('http');
    const send = () => fetch(`http://${l.host}:${l.port}/cliservice`, { method: 'POST', headers: { authorization: header, 'content-type': 'application/x-thrift' }, body: 'x' });
    const first = await send();
    expect(first.status).not.toBe(401); // authenticated (the body is no Thrift call: 400)
    const replay = await send();
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toBe('Negotiate');
    expect(await replay.text()).toMatch(/^Authentication Error: Kerberos authentication failed: .*replay/i);
  });
});

/** Reads SASL messages (status byte, 4-byte length, payload) off a socket in order. */
function saslReader(socket: Socket): () => Promise<{ status: number; payload: Buffer }> {
  let buffer = Buffer.alloc(0);
  const waiting: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    waiting.splice(0).forEach((wake) => wake());
  });
  return async () => {
    while (buffer.length < 5 || buffer.length < 5 + buffer.readUInt32BE(1)) await new Promise<void>((resolve) => waiting.push(resolve));
    const length = buffer.readUInt32BE(1);
    const message = { status: buffer[0]!, payload: buffer.subarray(5, 5 + length) };
    buffer = buffer.subarray(5 + length);
    return message;
  };
}
function sasl(status: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header[0] = status;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

describe('SASL GSSAPI on the binary port', () => {
  it('refuses an authorization id other than the authenticated principal (Hadoop SaslGssCallbackHandler)', async () => {
    await ticketCacheFor(kerberosConfig(listener('binary')).kerberos!).ensureFresh();
    const kerberos = (await import('kerberos')).default;
    const client = await kerberos.initializeClient('hive@127.0.0.1', { principal, mechOID: kerberos.GSS_MECH_OID_KRB5, gssFlag: kerberos.GSS_C_MUTUAL_FLAG | kerberos.GSS_C_SEQUENCE_FLAG });
    const l = listener('binary');
    const socket = connect(l.port, l.host);
    const next = saslReader(socket);
    try {
      socket.write(sasl(1, Buffer.from('GSSAPI')));
      socket.write(sasl(2, Buffer.from(await client.step(''), 'base64')));
      const apRep = await next();
      expect(apRep.status).toBe(2);
      socket.write(sasl(2, Buffer.from((await client.step(apRep.payload.toString('base64'))) ?? '', 'base64')));
      const offer = await next();
      expect(offer.status).toBe(2);
      const unwrapped = Buffer.from(await client.unwrap(offer.payload.toString('base64')), 'base64');
      expect([...unwrapped]).toEqual([1, 1, 0, 0]); // auth only, 65536-byte buffer
      socket.write(sasl(2, Buffer.from(await client.wrap(unwrapped.toString('base64'), { user: `intruder@${kdc.realm}` }), 'base64')));
      const verdict = await next();
      expect(verdict.status).toBe(3); // BAD
      expect(verdict.payload.toString()).toBe(`${principal} is not authorized to connect as intruder@${kdc.realm}`);
    } finally {
      socket.destroy();
    }
  });

  it('fails the connection when the service principal does not exist, with the KDC\'s reason', async () => {
    const config = kerberosConfig(listener('binary'));
    const error = await openHiveConnection({ ...config, kerberos: { ...config.kerberos!, serviceHost: 'hive-nowhere.example' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toBe('Could not connect to Hive: Kerberos authentication failed');
    expect(String((error as AppError).cause)).toMatch(/Server .*not found in Kerberos database/i);
  });
});

describe('what the connector cannot do, refused with the reason', () => {
  it('a cluster that requires a SASL security layer (hive.server2.thrift.sasl.qop=auth-conf)', async () => {
    const error = await openHiveConnection(kerberosConfig(standIn.listeners[3]!)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(String((error as AppError).cause)).toMatch(/requires a SASL security layer \(QOP bits 4: hive\.server2\.thrift\.sasl\.qop is auth-int or auth-conf\)/);
  });
});

describe('the stand-in CLI with Kerberos', () => {
  it('serves SASL GSSAPI and SPNEGO given the service principal, keytab and krb5.conf', async () => {
    const main = fileURLToPath(new URL('../../../scripts/hive-stand-in/main.ts', import.meta.url));
    const child = await startChildService<{ listeners: ListenerInfo[] }>({
      name: 'hive-stand-in',
      command: process.execPath,
      args: tsxArgs(main, '--auth', 'KERBEROS', '--port', '0', '--http-port', '0', '--http-auth', 'KERBEROS', '--seed-rows', '100',
        '--kerberos-principal', `hive/127.0.0.1@${kdc.realm}`, '--kerberos-keytab', serviceKeytab, '--krb5-conf', kdc.krb5Conf),
      readyWhen: (line) => parseReadyLine(line),
      timeoutMs: 120_000,
    });
    try {
      expect(child.ready.listeners.map((l) => [l.transport, l.auth])).toEqual([['binary', 'KERBEROS'], ['http', 'KERBEROS']]);
      for (const l of child.ready.listeners) {
        const connection = await openHiveConnection(kerberosConfig(l));
        await connection.call('GetInfo', () => connection.session.getInfo(TCLIService_types.TGetInfoType.CLI_DBMS_NAME as number));
        await connection.close();
      }
    } finally {
      await child.stop();
    }
  });
});
