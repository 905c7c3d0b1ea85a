/**
 * TLS to HiveServer2 (hive.server2.use.SSL): Node TLS options that verify the server for real.
 * hive-driver's own defaults do not: its TlsTransport and HttpConnection set
 * `rejectUnauthorized: false`, so every option here is spelled out and overrides them.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { HiveConfig, HiveTlsConfig } from '../config/config.js';

export function hiveTlsOptions(host: string, settings: HiveTlsConfig): tls.ConnectionOptions {
  const expectedName = settings.serverName ?? host;
  return {
    rejectUnauthorized: true,
    ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
    // SNI carries host names only (RFC 6066); an IP address is still checked against the certificate.
    ...(isIP(expectedName) === 0 ? { servername: expectedName } : {}),
    checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(expectedName, certificate),
    minVersion: 'TLSv1.2',
    // hive-driver's TlsTransport pins the legacy `secureProtocol`, which Node refuses next to minVersion.
    secureProtocol: undefined,
    secureOptions: undefined,
  };
}

/** The options hive-driver's TcpConnection hands to its TlsTransport (binary transport). */
export function binaryTransportOptions(config: HiveConfig): Record<string, unknown> {
  return config.tls ? { ssl: true, ...hiveTlsOptions(config.host, config.tls) } : {};
}
