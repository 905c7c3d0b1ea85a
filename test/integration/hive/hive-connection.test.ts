/**
 * hive-driver connections on their failure paths: whatever goes wrong while connecting, the
 * socket must be closed, or every failed readiness probe and export leaks a file descriptor
 * (a HiveServer2 that accepts TCP but never answers is what a hung server or a SASL/NOSASL
 * mismatch looks like).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { AppError } from '../../../app/src/errors.js';
import { openHiveConnection } from '../../../app/src/hive/hive-connection.js';

/** A TCP server that accepts connections, reads, and never sends a byte. */
async function startSilentServer(): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined);
    socket.resume(); // read and drop what arrives, so the client's FIN is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, accepted };
}

const closed = (socket: Socket) => (socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve())));

function configFor(port: number, overrides: Partial<HiveConfig> = {}): HiveConfig {
  return {
    host: '127.0.0.1',
    port,
    transport: 'binary',
    httpPath: '/cliservice',
    auth: 'PLAIN',
    username: 'connector',
    password: 'secret',
    kerberosService: 'hive',
    impersonation: 'none',
    sessionConf: {},
    fetchSize: 1_000,
    pollIntervalMs: 50,
    callTimeoutMs: 300,
    queryTimeoutMs: 60_000,
    ...overrides,
  };
}

describe('openHiveConnection failure paths', () => {
  let silent: Awaited<ReturnType<typeof startSilentServer>> | undefined;
  afterEach(async () => {
    for (const socket of silent?.accepted ?? []) socket.destroy();
    await new Promise((resolve) => silent?.server.close(resolve) ?? resolve(undefined));
    silent = undefined;
  });

  it.each([
    ['binary', 'PLAIN'],
    ['binary', 'NOSASL'],
    ['http', 'PLAIN'],
  ] as const)('closes the socket when a silent server times out a %s %s connection', async (transport, auth) => {
    silent = await startSilentServer();
    const error = await openHiveConnection(configFor(silent.port, { transport, auth })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('hive_unavailable');
    expect((error as AppError).message).toMatch(/did not answer/);
    expect(silent.accepted).toHaveLength(1);
    // The server sees the connection go away: the connector did not leave it open.
    await closed(silent.accepted[0]!);
  });
});
