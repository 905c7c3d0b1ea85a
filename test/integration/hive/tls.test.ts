/**
 * TLS to HiveServer2 (hive.server2.use.SSL), binary and HTTP: the connector exports through a
 * TLS listener that it verifies against the configured CA and name, refuses a certificate from
 * another CA or for another name, and no longer puts the password on the wire in clear.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { AppError } from '../../../app/src/errors.js';
import { openHiveConnection } from '../../../app/src/hive/hive-connection.js';
import { startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import { generatedTlsIdentity } from '../../../scripts/hive-stand-in/transport/tls-identity.js';
import { HIVE_USER, startConnectorStack } from '../../support/connector-stack.js';
import { exportRows } from '../../support/hive-export.js';

let hive: HiveStandIn;
let enos: EnosStandIn;
let otherCa: string;

beforeAll(async () => {
  [hive, enos, otherCa] = await Promise.all([
    startHiveStandIn({
      users: { [HIVE_USER.name]: HIVE_USER.password },
      seedRows: 1_000,
      listeners: [
        { transport: 'binary', auth: 'PLAIN', tls: true },
        { transport: 'http', auth: 'PLAIN', tls: true },
        { transport: 'binary', auth: 'PLAIN' },
      ],
    }),
    startEnosStandIn(),
    generatedTlsIdentity().then((identity) => identity.ca),
  ]);
});
afterAll(async () => {
  await Promise.all([hive?.close(), enos?.close()]);
});

const listener = (transport: 'binary' | 'http', tls: boolean): ListenerInfo => hive.listeners.find((l) => l.transport === transport && l.tls === tls)!;

function configFor(l: ListenerInfo, tls: HiveConfig['tls']): HiveConfig {
  return {
    host: l.host,
    port: l.port,
    transport: l.transport,
    httpPath: '/cliservice',
    auth: 'PLAIN',
    username: HIVE_USER.name,
    password: HIVE_USER.password,
    kerberosService: 'hive',
    tls,
    sessionConf: {},
    fetchSize: 1_000,
    pollIntervalMs: 50,
    callTimeoutMs: 10_000,
    queryTimeoutMs: 60_000,
  };
}

async function connectError(config: HiveConfig): Promise<AppError> {
  const error = await openHiveConnection(config).then(
    async (connection) => {
      await connection.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe.each(['binary', 'http'] as const)('the %s transport over TLS', (transport) => {
  it('exports through the TLS listener, trusting the CA given inline', async () => {
    const l = listener(transport, true);
    const stack = await startConnectorStack({
      storage: 'local',
      hive,
      enos,
      env: { HIVE_PORT: String(l.port), HIVE_TRANSPORT: transport, HIVE_TLS: 'true', HIVE_TLS_CA_PEM: hive.tlsCa! },
    });
    try {
      const { job, records } = await exportRows(stack, 'SELECT asset_id, asset_type FROM enos.asset ORDER BY asset_id');
      expect(job.status).toBe('succeeded');
      const expected = (await hive.query('SELECT asset_id, asset_type FROM enos.asset ORDER BY asset_id')).rows;
      expect(records.slice(1)).toEqual(expected.map((row) => [row.asset_id, row.asset_type]));
    } finally {
      await stack.stop();
    }
  });

  it('refuses a certificate that another CA signed', async () => {
    const error = await connectError(configFor(listener(transport, true), { ca: otherCa }));
    expect(error.message).toMatch(/TLS verification failed \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
  });

  it('refuses a certificate that does not carry the configured server name', async () => {
    const error = await connectError(configFor(listener(transport, true), { ca: hive.tlsCa!, serverName: 'hive.other.example' }));
    expect(error.message).toMatch(/TLS verification failed \(ERR_TLS_CERT_ALTNAME_INVALID\)$/);
    // The names involved are the cluster's: in the cause (the log), not in the message.
    expect(String(error.cause)).toContain('hive.other.example');
    expect(error.message).not.toContain('hive.other.example');
  });

  it('verifies by the configured server name rather than the address it connects to', async () => {
    const connection = await openHiveConnection(configFor(listener(transport, true), { ca: hive.tlsCa!, serverName: 'localhost' }));
    await connection.close();
  });
});

/** A TCP relay that records what the client sends, as anyone on the path could. */
async function startTap(target: number): Promise<{ port: number; seen: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen: () => Buffer.concat(chunks),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('what crosses the network', () => {
  it.each([
    ['without TLS the password is on the wire', false],
    ['with TLS it is not', true],
  ])('%s', async (_, tls) => {
    const tap = await startTap(listener('binary', tls).port);
    try {
      const config = { ...configFor(listener('binary', tls), tls ? { ca: hive.tlsCa!, serverName: '127.0.0.1' } : undefined), port: tap.port };
      const connection = await openHiveConnection(config);
      await connection.close();
      expect(tap.seen().includes(Buffer.from(HIVE_USER.password))).toBe(!tls);
    } finally {
      await tap.close();
    }
  });
});
