/**
 * Starts and stops the HTTP(S) server. Port 0 is allowed (tests); the bound address is returned.
 * Stopping closes idle keep-alive sockets so shutdown is prompt.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from '../config/config.js';

export interface RunningServer {
  server: http.Server;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startServer(app: Express, config: Config['http']): Promise<RunningServer> {
  const server = config.tls
    ? https.createServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' }, app)
    : http.createServer(app);
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // downloads of large exports may legitimately take long
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    server,
    port,
    url: `${config.tls ? 'https' : 'http'}://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}
