/**
 * How one connection reaches HiveServer2, from the configuration: the transport (binary TCP,
 * optionally TLS; or HTTP/HTTPS) and the authentication on it (SASL PLAIN / HTTP Basic, NOSASL,
 * Kerberos as SASL GSSAPI / SPNEGO), in the shapes hive-driver's HiveClient.connect takes.
 */
import http from 'node:http';
import https from 'node:https';
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { FastFramedTransport } from './fast-fetch.js';
import { binaryTransportOptions, hiveTlsOptions } from './hive-tls.js';
import { basicCredentials, HiveHttpConnection, type HttpCredentials } from './http-connection.js';
import { GssapiSaslProcess } from './kerberos/sasl-gssapi.js';
import { spnegoCredentials } from './kerberos/spnego.js';
import { ticketCacheFor } from './kerberos/ticket-cache.js';
import { OneBufferTcpConnection } from './one-buffer-tcp-connection.js';

/** hive-driver's transport as its auth providers see it: TcpTransport hands out its net.Socket. */
export interface DriverTransport {
  getTransport(): unknown;
}
export interface DriverAuth {
  authenticate(transport: DriverTransport): Promise<DriverTransport>;
}

export interface HiveTransport {
  connectionProvider: unknown;
  authProvider: DriverAuth;
  options: { host: string; port: number; options?: Record<string, unknown> };
  /** Work before connecting: a fresh Kerberos ticket. */
  prepare(): Promise<void>;
}

/** The agent HTTP calls of one connection go through (so they can all be closed with it). */
export function httpAgentFor(config: HiveConfig): http.Agent | undefined {
  if (config.transport !== 'http') return undefined;
  return config.tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
}

export function hiveTransport(config: HiveConfig, agent: http.Agent | undefined): HiveTransport {
  const kerberos = config.auth === 'KERBEROS' ? config.kerberos : undefined;
  if (config.auth === 'KERBEROS' && !kerberos) throw new Error('HIVE_AUTH is KERBEROS but no Kerberos settings were given');
  const tickets = kerberos ? ticketCacheFor(kerberos) : undefined;
  const prepare = async () => tickets?.ensureFresh();
  const service = { service: config.kerberosService, host: kerberos?.serviceHost ?? config.host, principal: kerberos?.principal ?? '' };

  if (config.transport === 'http') {
    const credentials: HttpCredentials | undefined =
      config.auth === 'PLAIN'
        ? basicCredentials(config.username ?? '', config.password ?? '')
        : kerberos
          ? spnegoCredentials({ ...service, beforeEach: prepare })
          : undefined;
    const connection = new HiveHttpConnection({
      host: config.host,
      port: config.port,
      path: config.httpPath,
      ...(config.tls ? { tls: hiveTlsOptions(config.host, config.tls) } : {}),
      ...(credentials ? { credentials } : {}),
      cookieAuth: config.httpCookieAuth ?? true,
      agent: agent ?? new http.Agent(),
    });
    // The HTTP connection authenticates every request itself; hive-driver's provider is a no-op here.
    return { connectionProvider: connection, authProvider: { authenticate: (t) => Promise.resolve(t) }, options: { host: config.host, port: config.port }, prepare };
  }

  const authProvider: DriverAuth =
    config.auth === 'NOSASL'
      ? new hive.auth.NoSaslAuthentication()
      : config.auth === 'PLAIN'
        ? new hive.auth.PlainTcpAuthentication({ username: config.username, password: config.password })
        : new hive.auth.KerberosTcpAuthentication({ username: service.principal }, new GssapiSaslProcess(service) as never);
  return {
    // Without TLS the socket reads into one buffer of ours (one-buffer-tcp-connection.ts).
    connectionProvider: config.tls ? new hive.connections.TcpConnection() : new OneBufferTcpConnection(),
    authProvider,
    // NOSASL's provider names its own (buffered) transport, which wins over this one.
    options: { host: config.host, port: config.port, options: { ...binaryTransportOptions(config), transport: FastFramedTransport } },
    prepare,
  };
}
