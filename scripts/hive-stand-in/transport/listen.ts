/**
 * Starts a TCP or HTTP server on a loopback port (0 = any free one) and returns a close that
 * also ends open connections, so closing a stand-in never waits for clients to hang up.
 */
import type net from 'node:net';

export interface RunningListener {
  port: number;
  close(): Promise<void>;
}

export function listen(server: net.Server, host: string, port: number): Promise<RunningListener> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
