/**
 * HTTP Negotiate (SPNEGO) credentials for HiveServer2's HTTP transport: a fresh token for every
 * request that needs one, as Hive's JDBC driver makes one per request
 * (HttpKerberosRequestInterceptor → HttpAuthUtils.getKerberosServiceTicket). hive-driver's
 * KerberosHttpAuthentication computes a single token and repeats it on every request, which a
 * server with a replay cache refuses from the second use on.
 */
import type { HttpCredentials } from '../http-connection.js';
import { loadKerberos, serviceName } from './gssapi.js';

export function spnegoCredentials(options: { service: string; host: string; principal: string; beforeEach?: () => Promise<void> }): HttpCredentials {
  return {
    async authorization() {
      await options.beforeEach?.();
      const kerberos = await loadKerberos();
      const client = await kerberos.initializeClient(serviceName(options.service, options.host), {
        principal: options.principal,
        mechOID: kerberos.GSS_MECH_OID_SPNEGO,
      });
      return `Negotiate ${await client.step('')}`;
    },
  };
}
