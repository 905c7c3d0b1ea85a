/**
 * The binary TCP connection whose socket reads into one reused buffer
 * (app/src/hive/one-buffer-tcp-connection.ts), against a real socket: what a SASL step keeps
 * past an await must stay intact while later reads land in the shared buffer, and after
 * authentication thrift's receiver gets each read as it arrived.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriverAuth, DriverTransport } from '../../../app/src/hive/hive-transport.js';
import { OneBufferTcpConnection } from '../../../app/src/hive/one-buffer-tcp-connection.js';

interface TestTransport extends DriverTransport {
  connect(): void;
  addListener(event: string, listener: (data: Buffer) => void): void;
  removeListener(event: string, listener: (data: Buffer) => void): void;
}

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server on 127.0.0.1 that hands each accepted socket to `onClient`. */
async function serverSaying(onClient: (socket: Socket) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onClient(socket);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition(); await tick(5)) {
    if (Date.now() - started > 10_000) throw new Error('timed out waiting for the socket');
  }
}

describe('OneBufferTcpConnection', () => {
  it('hands a SASL step copies it may read after an await, then lends reads to thrift once authenticated', async () => {
    const port = await serverSaying((socket) => {
      socket.write('A'.repeat(1000));
      // Sent once the first message was read: lands in the same read buffer.
      socket.once('data', () => socket.write('B'.repeat(1000)));
    });
    const kept: Buffer[] = [];
    // Like hive-driver's Kerberos provider: keeps each message and reads it later.
    const auth: DriverAuth = {
      authenticate: (candidate) =>
        new Promise((resolve) => {
          const transport = candidate as TestTransport;
          transport.connect();
          const onData = (data: Buffer) => {
            kept.push(data);
            if (kept.length === 1) (transport.getTransport() as Socket).write('next');
            else {
              transport.removeListener('data', onData);
              resolve(transport);
            }
          };
          transport.addListener('data', onData);
        }),
    };
    const provider = await new OneBufferTcpConnection().connect({ host: '127.0.0.1', port }, auth);
    expect(kept.map((data) => data.toString())).toEqual(['A'.repeat(1000), 'B'.repeat(1000)]);
    expect(provider.isConnected()).toBe(true);

    // Authenticated: reads are views of one buffer, valid while the listeners run.
    const socket = provider.getConnection()!.connection;
    const seen: { text: string; buffer: ArrayBufferLike }[] = [];
    socket.on('data', (data: Buffer) => seen.push({ text: data.toString(), buffer: data.buffer }));
    // Each sent once the last was read, so each is a read of its own (a busy machine would join them).
    sockets[0]!.write('C'.repeat(500));
    await until(() => seen.length === 1);
    sockets[0]!.write('D'.repeat(500));
    await until(() => seen.length === 2);
    expect(seen.map((read) => read.text)).toEqual(['C'.repeat(500), 'D'.repeat(500)]);
    expect(seen[0]!.buffer).toBe(seen[1]!.buffer);
  });

  it('fails the connection when authentication fails', async () => {
    const port = await serverSaying((socket) => socket.end());
    const auth: DriverAuth = {
      authenticate: (candidate) =>
        new Promise((_, reject) => {
          const transport = candidate as TestTransport;
          transport.connect();
          transport.addListener('end', () => reject(new Error('Authentication error: closed')));
        }),
    };
    await expect(new OneBufferTcpConnection().connect({ host: '127.0.0.1', port }, auth)).rejects.toThrow('Authentication error');
  });
});
