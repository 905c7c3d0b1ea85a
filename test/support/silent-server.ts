/**
 * A TCP server that accepts connections and never answers: what a storage endpoint that stopped
 * responding looks like to a client. For tests that prove every call has a deadline.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';

export async function withSilentServer<T>(use: (url: string) => Promise<T>): Promise<T> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await use(`http://127.0.0.1:${port}`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
