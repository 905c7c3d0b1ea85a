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

export interface ServerLimits {
  /**
   * Time a client has to send a whole request, headers and body (Node's `requestTimeout`); it
   * does not limit the answer, so long downloads are unaffected. Without it a client could hold a
   * socket open forever by trickling a request body. @default 60 s (tests shorten it)
   */
  requestTimeoutMs?: number;
}

export async function startServer(app: Express, config: Config['http'], limits: ServerLimits = {}): Promise<RunningServer> {
  const requestTimeout = limits.requestTimeoutMs ?? 60_000;
  // Node enforces the request timeout when it sweeps its connections, every 30 s by default.
  const serverOptions = { connectionsCheckingInterval: Math.min(30_000, requestTimeout) };
  const server = config.tls
    ? https.createServer({ ...serverOptions, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' }, app)
    : http.createServer(serverOptions, app);
  server.requestTimeout = requestTimeout;
  server.headersTimeout = Math.min(30_000, requestTimeout);
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
